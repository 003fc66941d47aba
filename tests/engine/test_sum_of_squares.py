"""engine.sum_of_squares (engine/ops/reduce.py): the fused Σ_k Σ x_k² against PyTorch's composite
`sum((t * t).sum() for t in ts)`, first and second order, dtypes, partial requires_grad, iterables, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from engine.graph import saved_values, walk
from tests.engine.torch_compare import arrays, assert_close, compare, compare_second_order, upstream


def torch_sum_of_squares(*ts):
    """The oracle: what the fused op replaces, three torch ops per tensor."""
    return sum((t * t).sum() for t in ts)


def shapes_with_empty():
    """0-d, ordinary and empty shapes (a side of 0)."""
    return hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def tensor_lists(draw, min_size=1, max_size=6):
    count = draw(st.integers(min_size, max_size))
    return [draw(arrays(shapes_with_empty())) for _ in range(count)]


@given(tensor_lists())
def test_value_and_gradients_match_torch(xs):
    compare(lambda *ts: engine.sum_of_squares(ts), torch_sum_of_squares, *xs)
    compare(lambda *ts: engine.sum_of_squares(list(ts)), torch_sum_of_squares, *xs, seed=1)


@given(tensor_lists())
def test_second_derivatives_match_torch(xs):
    compare_second_order(lambda *ts: engine.sum_of_squares(ts), torch_sum_of_squares, *xs)


@given(tensor_lists(min_size=2), st.data())
def test_only_inputs_that_require_grad_get_a_gradient(xs, data):
    flags = data.draw(st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)))
    mine = [engine.tensor(x, requires_grad=f) for x, f in zip(xs, flags)]
    theirs = [torch.tensor(x, requires_grad=f) for x, f in zip(xs, flags)]
    out, expected = engine.sum_of_squares(mine), torch_sum_of_squares(*theirs)
    assert_close(out, expected, what="forward")
    assert out.requires_grad == any(flags)
    if not any(flags):
        assert out.grad_fn is None
        return
    assert out.grad_fn.needs_input_grad == tuple(flags)
    weight = upstream((), np.float64, seed=3)
    out.backward(engine.tensor(weight))
    expected.backward(torch.tensor(weight))
    for i, (m, t, f) in enumerate(zip(mine, theirs, flags)):
        if f:
            assert_close(m.grad, t.grad, what=f"gradient of input {i}")
        else:
            assert m.grad is None, f"input {i} does not require grad but got one"


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    inputs = [engine.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2), (), (4,)]]
    fn = lambda *ts: engine.sum_of_squares(ts)  # noqa: E731
    assert engine.gradcheck(fn, inputs)
    assert engine.gradgradcheck(fn, inputs)
    # Constants among differentiable inputs, and empty inputs with and without grad.
    constants = [engine.tensor(rng.standard_normal(5)), engine.zeros(0, 2, dtype="float64")]
    empty = engine.zeros(0, 3, dtype="float64", requires_grad=True)
    assert engine.gradcheck(fn, [inputs[0], constants[0], inputs[2], constants[1], empty])
    assert engine.gradgradcheck(fn, [inputs[0], constants[0], inputs[2], constants[1], empty])


def test_the_gradient_is_twice_the_input_times_the_upstream_gradient():
    a = engine.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    b = engine.tensor(-4.0, requires_grad=True)
    out = engine.sum_of_squares([a, b])
    assert out.shape == () and out.item() == 1 + 4 + 9 + 0.25 + 16
    (3 * out).backward()
    np.testing.assert_array_equal(a.grad.data, 6 * a.data)
    assert b.grad.shape == () and isinstance(b.grad.data, np.ndarray) and b.grad.item() == -24.0


def test_float32_stays_float32_end_to_end():
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(s).astype(np.float32) for s in [(2, 16), (16,), (16, 16), (16,), (16, 1), (1,), ()]]
    mine = [engine.tensor(x, requires_grad=True) for x in xs]
    theirs = [torch.tensor(x, requires_grad=True) for x in xs]
    out, expected = engine.sum_of_squares(mine), torch_sum_of_squares(*theirs)
    assert out.dtype == np.float32
    assert_close(out, expected, rtol=1e-6, atol=0, what="forward")
    out.backward()
    expected.backward()
    for i, (m, t) in enumerate(zip(mine, theirs)):
        assert m.grad.dtype == np.float32, i
        assert_close(m.grad, t.grad, rtol=1e-6, atol=0, what=f"gradient of input {i}")
    # and under create_graph: the first derivatives and the second-order graph stay float32 too
    out = engine.sum_of_squares(mine)
    first = engine.grad(out, mine, create_graph=True)
    assert all(g.dtype == np.float32 for g in first)
    second = engine.grad(engine.sum_of_squares(first), mine)  # Σ (2x)² -> 8x
    for m, s in zip(mine, second):
        assert s.dtype == np.float32
        np.testing.assert_allclose(s.data, 8 * m.data, rtol=1e-6)


def test_mixed_float32_and_float64_computes_in_float64():
    """Like cat: the inputs are converted to their common dtype first, then squared."""
    rng = np.random.default_rng(2)
    x32, x64 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5)
    mine = [engine.tensor(x32, requires_grad=True), engine.tensor(x64, requires_grad=True)]
    theirs = [torch.tensor(x32, requires_grad=True), torch.tensor(x64, requires_grad=True)]
    out = engine.sum_of_squares(mine)
    expected = torch_sum_of_squares(theirs[0].double(), theirs[1])
    assert out.dtype == np.float64
    assert_close(out, expected, what="forward")
    out.backward()
    expected.backward()
    assert mine[0].grad.dtype == np.float32 and mine[1].grad.dtype == np.float64
    assert_close(mine[0].grad, theirs[0].grad, rtol=1e-6, atol=0, what="float32 gradient")
    assert_close(mine[1].grad, theirs[1].grad, what="float64 gradient")


def test_float16_accumulates_in_float32_and_returns_float16():
    # 3000 squares of 1: a float16 running sum sticks at 2048 (2048 + 1 rounds back to 2048)
    x = np.ones(3000, np.float16)
    y = np.full((7, 3), 1.5, np.float16)
    mine = [engine.tensor(x, requires_grad=True), engine.tensor(y, requires_grad=True)]
    out = engine.sum_of_squares(mine)
    assert out.dtype == np.float16
    assert out.item() == np.float16(3000 + 21 * 2.25)
    expected = torch_sum_of_squares(torch.tensor(x), torch.tensor(y))
    assert expected.dtype == torch.float16 and out.item() == expected.item()
    out.backward()
    assert mine[0].grad.dtype == np.float16 and mine[1].grad.dtype == np.float16
    np.testing.assert_array_equal(mine[1].grad.data, np.full((7, 3), 3.0, np.float16))


def test_empty_tensors_contribute_zero():
    empty = engine.zeros(0, 3, requires_grad=True)
    out = engine.sum_of_squares([empty])
    assert out.shape == () and out.item() == 0.0 and out.dtype == np.float32
    out.backward()
    assert empty.grad.shape == (0, 3)
    assert engine.sum_of_squares([empty, engine.tensor([3.0])]).item() == 9.0


def test_a_generator_such_as_model_parameters_is_one_node_over_all_of_them():
    rng = np.random.default_rng(3)
    params = [engine.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 16), (16,), (16, 1), (1,)]]

    def parameters():  # what nn.Module.parameters() is: a generator
        yield from params

    penalty = 0.5 * engine.sum_of_squares(parameters())
    node = penalty.grad_fn.inputs[1].grad_fn
    assert node.name == "SumOfSquares"
    assert node.inputs == tuple(params) and len(node.inputs) == len(params)
    assert [v.label for v in saved_values(node)] == [f"input {k}" for k in range(len(params))]
    order = walk(penalty)
    assert all(any(t is p for t in order) for p in params)
    assert sum(t.grad_fn is not None for t in order) == 2  # the SumOfSquares node and the Mul by 0.5
    penalty.backward()
    for p in params:
        np.testing.assert_allclose(p.grad.data, p.data, rtol=1e-15)  # 0.5 · 2p


def test_a_repeated_tensor_counts_twice_like_torch():
    compare(
        lambda a, b: engine.sum_of_squares([a, b, a]),
        lambda a, b: torch_sum_of_squares(a, b, a),
        np.array([1.0, -2.0]),
        np.array(0.5),
    )


def test_a_single_tensor_counts_as_one_tensor():
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = engine.sum_of_squares(x)
    assert out.item() == 30.0 and out.grad_fn.inputs == (x,)
    assert engine.sum_of_squares(engine.tensor(3.0)).item() == 9.0  # a 0-d tensor cannot be iterated


def test_array_likes_are_converted_and_share_a_dtype_like_cat():
    out = engine.sum_of_squares([[1.0, 2.0], np.array([3.0]), 2, engine.tensor([1.0], dtype="float32")])
    assert out.dtype == np.float64 and out.item() == 1 + 4 + 9 + 4 + 1 and not out.requires_grad
    out = engine.sum_of_squares([np.array([1, 2]), engine.tensor([0.5], requires_grad=True)])
    assert out.dtype == np.float32 and out.item() == 5.25  # int64 with float32 is float32, as in cat


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_integer_and_bool_inputs_give_what_the_composite_gives(dtype):
    xs = [np.array([[1, 0], [1, 1]]).astype(dtype), np.array([1, 1, 0]).astype(dtype)]
    out = engine.sum_of_squares(xs)
    t0, t1 = engine.tensor(xs[0]), engine.tensor(xs[1])
    composite = (t0 * t0).sum() + (t1 * t1).sum()
    expected = torch_sum_of_squares(*(torch.tensor(x) for x in xs))
    assert out.dtype == composite.dtype == np.int64 and not out.requires_grad
    assert out.item() == composite.item() == expected.item() == 5
    assert expected.dtype == torch.int64


def test_unsigned_integers_give_what_the_composite_gives():
    x = np.array([200, 3], np.uint8)  # 200² overflows uint8 in x * x, in the composite and here alike
    out, composite = engine.sum_of_squares([x]), (engine.tensor(x) * engine.tensor(x)).sum()
    assert out.dtype == composite.dtype and out.item() == composite.item()


def test_non_numeric_inputs_are_refused_by_the_conversion():
    with pytest.raises(TypeError, match="unsupported dtype <U1"):
        engine.sum_of_squares([engine.ones(2), np.array(["a"])])


@pytest.mark.parametrize("empty", [[], (), (p for p in [])], ids=["list", "tuple", "generator"])
def test_an_empty_sequence_is_a_clear_error(empty):
    with pytest.raises(ValueError, match=r"sum_of_squares: expects a non-empty sequence of tensors, e\.g\. model"):
        engine.sum_of_squares(empty)


def test_gradients_accumulate_into_leaf_grad_across_backward_calls():
    a = engine.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = engine.tensor(2.0, requires_grad=True)
    engine.sum_of_squares([a, b]).backward()
    first = a.grad.data.copy()
    out = engine.sum_of_squares([a, b])
    out.backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad.data, 4 * a.data)
    np.testing.assert_array_equal(first, 2 * a.data)  # the first .grad array was not aliased and overwritten
    out.backward()  # the same graph a second time (retained)
    np.testing.assert_array_equal(a.grad.data, 6 * a.data)
    assert b.grad.item() == 12.0


def test_no_grad_records_nothing():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.no_grad():
        out = engine.sum_of_squares([a])
    assert out.item() == 5.0 and not out.requires_grad and out.grad_fn is None


def test_an_input_modified_in_place_after_use_is_caught():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.tensor([3.0], requires_grad=True)
    out = engine.sum_of_squares([b, a])
    with engine.no_grad():  # as an optimizer step does
        a.add_(1.0)
    with pytest.raises(RuntimeError, match="SumOfSquares: one of the tensors needed for gradient computation"):
        out.backward()
