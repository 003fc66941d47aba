"""Everyday math and reductions (issue 19, part 3) against PyTorch in float64: rounding, rsqrt, NaN tests, lerp,
all/any, prod, cumsum, var_mean/std_mean, norm, sort/argsort/topk, median/mode and einsum.

Each op's forward values and dtype, its gradient, and where PyTorch has them its second derivatives (create_graph)
are compared with torch's; ties, zeros, NaN and bad input too. Where PyTorch's result is its implementation's
choice (the order of tied values in topk, in an unstable sort or a large mode), the test says so and checks what
both libraries promise instead. rsqrt and the rounding ops are also in op_cases.py (fuzzers, gradchecks).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from tests.engine.torch_compare import arrays, assert_close, broadcast_pair, compare, compare_second_order, shapes

NAN, INF = float("nan"), float("inf")


def small_values(*values: float) -> st.SearchStrategy[float]:
    """A few values, repeated: ties and zeros on purpose."""
    return st.sampled_from(values)


@st.composite
def tensor_and_dim(draw, elements=None, min_dims=1, low=-3.0, high=3.0):
    shape = draw(shapes(min_dims=min_dims))
    strategy = hnp.arrays(np.float64, shape, elements=elements) if elements is not None else arrays(shape, low, high)
    x = draw(strategy)
    dim = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    return x, dim


# ----- rounding, rsqrt, NaN tests -------------------------------------------------------------------------------

ROUNDING = ["floor", "ceil", "trunc", "round"]


@pytest.mark.parametrize("name", ROUNDING)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16"])
def test_rounding_returns_integers_unchanged_in_their_dtype(name, dtype):
    values = np.array([0, 3, 7, 100], dtype=dtype)
    out = getattr(engine, name)(engine.tensor(values))
    expected = getattr(torch, name)(torch.tensor(values))
    assert out.dtype == values.dtype and str(expected.dtype) == f"torch.{dtype}"
    np.testing.assert_array_equal(out.data, expected.numpy())
    assert not np.shares_memory(out.data, values)  # a new tensor, as torch's


@pytest.mark.parametrize("name", ROUNDING)
def test_rounding_a_bool_tensor_is_refused_as_in_torch(name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([True]))
    with pytest.raises(engine.DtypeError, match=rf"{name}: not defined for a bool tensor.*x\.float\(\)"):
        getattr(engine, name)(engine.tensor([True, False]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("name", ROUNDING)
def test_rounding_keeps_the_float_dtype_and_rounds_halves_to_even(name, dtype):
    values = np.array([-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 2.49, -7.51, INF, -INF, NAN], dtype=dtype)
    out = getattr(engine, name)(engine.tensor(values))
    expected = getattr(torch, name)(torch.tensor(values))
    assert out.dtype == values.dtype
    np.testing.assert_array_equal(out.data, expected.numpy())
    np.testing.assert_array_equal(np.signbit(out.data), np.signbit(expected.numpy()))  # -0.0 stays -0.0


@given(tensor_and_dim(low=-1000.0, high=1000.0), st.integers(-3, 4))
def test_round_with_decimals_matches_torch(case, decimals):
    x, _ = case
    compare(lambda t: engine.round(t, decimals=decimals), lambda t: torch.round(t, decimals=decimals), x)


def test_round_decimals_is_keyword_only_and_refused_for_integers_as_in_torch():
    with pytest.raises(TypeError):
        engine.round(engine.tensor([1.25]), 1)
    with pytest.raises(NotImplementedError):
        torch.round(torch.tensor([15]), decimals=-1)
    with pytest.raises(engine.DtypeError, match=r"round: decimals=-1 is not supported for a int64 tensor"):
        engine.round(engine.tensor([15]), decimals=-1)
    assert engine.round(engine.tensor([15]), decimals=0).tolist() == [15]
    assert engine.tensor([1.25, 2.35], dtype="float64").round(decimals=1).tolist() == [1.2, 2.4]
    assert engine.round(engine.tensor([1.25]), decimals=1).grad_fn is None  # nothing requires grad: not recorded


@pytest.mark.parametrize("name", ROUNDING)
def test_rounding_gradient_is_zero_and_constant_under_create_graph_as_in_torch(name):
    x = engine.tensor([0.3, 1.7, -2.2], dtype="float64", requires_grad=True)
    t = torch.tensor([0.3, 1.7, -2.2], dtype=torch.float64, requires_grad=True)
    (grad,) = engine.grad((getattr(engine, name)(x) * x).sum(), [x], create_graph=True)
    (expected,) = torch.autograd.grad((getattr(torch, name)(t) * t).sum(), [t], create_graph=True)
    assert_close(grad, expected)  # d(round(x)·x)/dx = round(x): the step's own slope counts as 0
    (second,) = engine.grad(grad.sum(), [x], allow_unused=True)
    (expected_second,) = torch.autograd.grad(expected.sum(), [t], allow_unused=True)
    assert_close(second, expected_second)


def test_rounding_gradient_is_zero_even_where_the_upstream_gradient_is_not_finite():
    x = engine.tensor([0.5, 1.5], requires_grad=True)
    x.floor().backward(engine.tensor([INF, NAN]))
    assert x.grad.tolist() == [0.0, 0.0]  # zeros, not inf·0 = nan (PyTorch's zeros too)


@pytest.mark.parametrize(
    ("name", "args"),
    [("floor_", ()), ("ceil_", ()), ("trunc_", ()), ("round_", ()), ("rsqrt_", ())],
)
def test_in_place_forms_match_torch(name, args):
    values = np.array([0.3, 1.7, 2.5, 4.2])

    def run(lib, leaf):
        y = leaf * 2.0
        out = getattr(y, name)(*args)
        assert out is y
        return y * leaf

    compare(lambda t: run(engine, t), lambda t: run(torch, t), values)


def test_round_in_place_with_decimals_and_on_integers():
    y = engine.tensor([1.26, -3.14159], dtype="float64")
    assert y.round_(decimals=2) is y and y.tolist() == [1.26, -3.14]
    ints = engine.tensor([1, 2, 3], dtype="int32")
    ints.floor_()
    assert ints.dtype == np.int32 and ints.tolist() == [1, 2, 3]


def test_rsqrt_of_integers_is_float32_and_of_zero_and_negatives_inf_and_nan_without_warnings():
    out = engine.rsqrt(engine.tensor([1, 4]))
    assert out.dtype == np.float32 and out.tolist() == [1.0, 0.5]
    with np.errstate(all="raise"):
        special = engine.rsqrt(engine.tensor([0.0, -1.0, INF]))
    np.testing.assert_array_equal(special.data, torch.rsqrt(torch.tensor([0.0, -1.0, INF])).numpy())


@given(tensor_and_dim(low=0.1, high=10.0, min_dims=0))
def test_rsqrt_second_derivative_matches_torch(case):
    x, _ = case
    compare_second_order(engine.rsqrt, torch.rsqrt, x)


CHECKS = ["isnan", "isinf", "isfinite"]


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_and_infinity_tests_match_torch(name, dtype):
    values = np.array([[0.0, -1.5, NAN], [INF, -INF, 6e4]], dtype=dtype)
    x = engine.tensor(values, requires_grad=True)
    out = getattr(engine, name)(x)
    method = getattr(x, name)()
    expected = getattr(torch, name)(torch.tensor(values))
    assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expected.numpy())
    np.testing.assert_array_equal(method.data, expected.numpy())


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("values", [[1, -2, 3], [True, False], 7])
def test_nan_and_infinity_tests_of_integers_and_bools_match_torch(name, values):
    out = getattr(engine, name)(engine.tensor(values))
    expected = getattr(torch, name)(torch.tensor(values))
    assert out.dtype == np.bool_ and out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.data, expected.numpy())


# ----- lerp -----------------------------------------------------------------------------------------------------


@given(st.data())
def test_lerp_with_a_tensor_weight_broadcasts_and_differentiates_all_three_like_torch(data):
    start_shape, end_shape = data.draw(broadcast_pair())
    weight_shape = data.draw(st.sampled_from([start_shape, end_shape, (), (1,)]))
    start, end = data.draw(arrays(start_shape)), data.draw(arrays(end_shape))
    weight = data.draw(arrays(weight_shape, -1.0, 2.0))
    compare(engine.lerp, torch.lerp, start, end, weight)
    compare_second_order(engine.lerp, torch.lerp, start, end, weight)


@given(st.data(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5]))
def test_lerp_with_a_number_weight_matches_torch(data, weight):
    start_shape, end_shape = data.draw(broadcast_pair())
    start, end = data.draw(arrays(start_shape)), data.draw(arrays(end_shape))
    compare(lambda a, b: a.lerp(b, weight), lambda a, b: a.lerp(b, weight), start, end)


def test_lerp_ends_are_exact_as_in_torch():
    start, end = np.array([1e10, 0.1, -3.3]), np.array([0.3, 1e-8, 7.7])
    assert engine.lerp(engine.tensor(start), engine.tensor(end), 1.0).tolist() == end.tolist()
    assert engine.lerp(engine.tensor(start), engine.tensor(end), 0.0).tolist() == start.tolist()


def test_lerp_dtypes_as_in_torch():
    a32, b32 = engine.tensor([1.0, 2.0]), engine.tensor([3.0, 5.0])
    assert engine.lerp(a32, b32, 0.5).dtype == np.float32
    # a 0-d weight tensor of another dtype is accepted (as torch does); the result keeps start's dtype
    assert engine.lerp(a32, b32, engine.tensor(0.5, dtype="float64")).dtype == np.float32
    with pytest.raises(RuntimeError):
        torch.lerp(torch.ones(2), torch.ones(2, dtype=torch.float64), 0.5)
    with pytest.raises(engine.DtypeError, match=r"lerp: start and end must be float tensors of the same dtype"):
        engine.lerp(a32, b32.double(), 0.5)
    with pytest.raises(engine.DtypeError, match=r"lerp: .*got int64 and int64"):
        engine.lerp(engine.tensor([1, 2]), engine.tensor([3, 4]), 0.5)
    with pytest.raises(RuntimeError):
        torch.lerp(torch.ones(2), torch.ones(2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(engine.DtypeError, match=r"lerp: a weight tensor \(shape \(2,\)\) must have the dtype"):
        engine.lerp(a32, b32, engine.tensor([0.5, 0.1], dtype="float64"))
    with pytest.raises(engine.ShapeError, match=r"lerp: shapes \(2,\) and \(3,\) cannot be broadcast"):
        engine.lerp(a32, engine.ones(3), 0.5)
    with pytest.raises(TypeError, match=r"lerp: weight must be a number or a Tensor"):
        engine.lerp(a32, b32, "half")


def test_lerp_in_place_matches_torch():
    def run(leaf, end):
        y = leaf * 1.0
        assert y.lerp_(end, 0.3) is y
        return y

    compare(run, run, np.array([1.0, -2.0, 4.0]), np.array([0.5, 0.5, 2.0]))


# ----- all and any -----------------------------------------------------------------------------------------------


@given(st.data())
def test_all_and_any_match_torch(data):
    x = data.draw(hnp.arrays(np.float64, shapes(min_dims=0), elements=small_values(0.0, 1.0, -2.0, NAN)))
    choices = [None] + ([data.draw(st.integers(-x.ndim, x.ndim - 1))] if x.ndim else [])
    if x.ndim >= 2:
        choices.append((0, -1))
    dim = data.draw(st.sampled_from(choices))
    keepdim = data.draw(st.booleans())
    for name in ("all", "any"):
        mine = getattr(engine, name)(engine.tensor(x), dim, keepdim)
        expected = getattr(torch, name)(torch.tensor(x), dim, keepdim) if dim is not None else None
        if dim is None:
            expected = getattr(torch, name)(torch.tensor(x))
            if keepdim:
                expected = expected.reshape((1,) * x.ndim)
        assert mine.dtype == np.bool_
        np.testing.assert_array_equal(mine.data, expected.numpy())


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool", "float32"])
def test_all_and_any_dtypes_as_in_torch(dtype):
    values = np.array([[0, 1, 2], [3, 4, 5]]).astype(dtype)
    for name in ("all", "any"):
        mine = getattr(engine.tensor(values), name)(dim=1)
        expected = getattr(torch.tensor(values), name)(dim=1)
        assert str(expected.dtype) == f"torch.{mine.dtype}"  # uint8 gives uint8 (PyTorch's old convention)
        np.testing.assert_array_equal(mine.data, expected.numpy())


def test_all_and_any_of_empty_tensors_and_numpy_aliases():
    assert engine.all(engine.zeros(2, 0)).item() is True and engine.any(engine.zeros(2, 0)).item() is False
    assert engine.any(engine.zeros(2, 0), 1).tolist() == [False, False]
    assert engine.tensor([[1, 0]]).all(axis=0, keepdims=True).tolist() == [[True, False]]
    assert not engine.tensor([1.0, 2.0], requires_grad=True).all().requires_grad


# ----- prod ------------------------------------------------------------------------------------------------------

WITH_ZEROS = small_values(0.0, 0.0, 0.5, -1.5, 2.0, 1.0, -0.75)


@given(tensor_and_dim(elements=WITH_ZEROS, min_dims=0), st.booleans())
def test_prod_along_a_dim_with_zeros_matches_torch(case, keepdim):
    x, dim = case
    compare(lambda t: engine.prod(t, dim, keepdim), lambda t: torch.prod(t, dim, keepdim), x)


@given(tensor_and_dim(elements=WITH_ZEROS, min_dims=0))
def test_prod_of_everything_with_zeros_matches_torch(case):
    x, _ = case
    compare(lambda t: t.prod(), lambda t: t.prod(), x)


@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_second_derivative_with_zeros_matches_torch(zeros, dim):
    x = np.array([[1.5, -2.0, 0.5, 3.0], [0.7, 1.1, -0.4, 2.0], [2.5, 0.3, 1.2, -1.0]])
    x.flat[[5, 2, 11][:zeros]] = 0.0  # one zero in a row, then two in one row and column...
    mine = (lambda t: t.prod()) if dim is None else (lambda t: engine.prod(t, dim))
    theirs = (lambda t: t.prod()) if dim is None else (lambda t: torch.prod(t, dim))
    compare(mine, theirs, x)
    compare_second_order(mine, theirs, x)


def test_prod_gradient_in_the_three_zero_cases():
    x = engine.tensor([[2.0, 3.0, 4.0], [2.0, 0.0, 4.0], [0.0, 3.0, 0.0]], dtype="float64", requires_grad=True)
    x.prod(1).sum().backward()
    # no zero: out / xᵢ; one zero: only the zero's gradient (the product of the others) is nonzero; two: all zero
    assert x.grad.tolist() == [[12.0, 8.0, 6.0], [0.0, 8.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("dtype", "expected"), [("int32", "int64"), ("uint8", "int64"), ("bool", "int64"), ("float32", "float32")]
)
def test_prod_dtypes_as_in_torch(dtype, expected):
    values = np.array([[1, 2, 3], [1, 1, 2]]).astype(dtype)
    for out, theirs in [
        (engine.prod(engine.tensor(values)), torch.prod(torch.tensor(values))),
        (engine.tensor(values).prod(1), torch.tensor(values).prod(1)),
    ]:
        assert out.dtype == np.dtype(expected) and str(theirs.dtype) == f"torch.{expected}"
        np.testing.assert_array_equal(out.data, theirs.numpy())
    out = engine.prod(engine.tensor(values), dtype=engine.float64)
    assert out.dtype == np.float64 and out.item() == torch.prod(torch.tensor(values), dtype=torch.float64).item()


def test_prod_takes_one_dim_as_in_torch():
    with pytest.raises(TypeError):
        torch.prod(torch.ones(2, 3), dim=(0, 1))
    with pytest.raises(TypeError, match=r"prod: takes one dim \(an int\)"):
        engine.prod(engine.ones(2, 3), dim=(0, 1))
    with pytest.raises(engine.DimError, match=r"prod: dimension 2 is out of range"):
        engine.prod(engine.ones(2, 3), 2)
    assert engine.prod(engine.tensor(2.0), 0, keepdim=True).shape == torch.prod(torch.tensor(2.0), 0, True).shape
    assert engine.prod(engine.zeros(0)).item() == 1.0


def test_prod_label_and_rule():
    node = engine.prod(engine.ones(2, 3, requires_grad=True), 1).grad_fn
    assert node.label == "prod(dim=1)" and node.rule.startswith("d(Π x)/dxᵢ = Π_{j≠i} xⱼ")


# ----- cumsum ----------------------------------------------------------------------------------------------------


@given(tensor_and_dim(min_dims=0))
def test_cumsum_matches_torch_to_second_order(case):
    x, dim = case
    compare(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x)
    compare_second_order(lambda t: engine.cumsum(t * t, dim), lambda t: torch.cumsum(t * t, dim), x)


@pytest.mark.parametrize(("dtype", "expected"), [("int32", "int64"), ("uint8", "int64"), ("bool", "int64")])
def test_cumsum_of_integers_and_bools_is_int64_as_in_torch(dtype, expected):
    values = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    out, theirs = engine.cumsum(engine.tensor(values), 1), torch.cumsum(torch.tensor(values), 1)
    assert out.dtype == np.dtype(expected) and str(theirs.dtype) == f"torch.{expected}"
    np.testing.assert_array_equal(out.data, theirs.numpy())


def test_cumsum_dtype_argument_and_in_place_form():
    compare(
        lambda t: engine.cumsum(t, 0, dtype=engine.float32),
        lambda t: torch.cumsum(t, 0, dtype=torch.float32),
        np.array([1.5, 2.25, -1.0]),
        rtol=1e-6,  # float32 values and gradients
    )
    assert engine.cumsum(engine.tensor([1, 2, 3]), 0, dtype="float64").tolist() == [1.0, 3.0, 6.0]

    def run(leaf):
        y = leaf * 1.0
        assert y.cumsum_(0) is y
        return y * leaf

    compare(run, run, np.array([[1.0, 2.0], [3.0, -4.0]]))


def test_cumsum_needs_a_dim_as_in_torch():
    with pytest.raises(TypeError):
        torch.cumsum(torch.ones(3))
    with pytest.raises(TypeError):
        engine.cumsum(engine.ones(3))
    with pytest.raises(engine.DimError, match=r"cumsum: dimension 1 is out of range"):
        engine.cumsum(engine.ones(3), 1)


# ----- var_mean, std_mean ------------------------------------------------------------------------------------------


@given(tensor_and_dim(min_dims=1), st.sampled_from([0, 1]), st.booleans(), st.sampled_from(["var", "std"]))
def test_var_mean_and_std_mean_match_torch(case, correction, keepdim, which):
    x, dim = case
    if x.shape[dim] <= correction or np.ptp(x, axis=dim).min() < 1e-3:  # std's slope is infinite at 0
        return
    mine_fn, torch_fn = getattr(engine, f"{which}_mean"), getattr(torch, f"{which}_mean")
    mine, theirs = engine.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = mine_fn(mine, dim, correction=correction, keepdim=keepdim)
    expected = torch_fn(theirs, dim, correction=correction, keepdim=keepdim)
    assert type(out) is tuple and type(expected) is tuple and len(out) == 2
    for a, b in zip(out, expected):
        assert_close(a, b, rtol=1e-9)
    weights = [np.random.default_rng(k).standard_normal(b.shape) for k, b in enumerate(expected)]
    (out[0] * engine.tensor(weights[0]) + out[1] * engine.tensor(weights[1])).sum().backward()
    (expected[0] * torch.tensor(weights[0]) + expected[1] * torch.tensor(weights[1])).sum().backward()
    assert_close(mine.grad, theirs.grad, rtol=1e-9)


def test_var_mean_forms_as_in_torch():
    x = np.array([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]])
    for mine, theirs in [
        (engine.var_mean(engine.tensor(x)), torch.var_mean(torch.tensor(x))),
        (engine.var_mean(engine.tensor(x), True), torch.var_mean(torch.tensor(x), True)),
        (engine.var_mean(engine.tensor(x), False), torch.var_mean(torch.tensor(x), False)),
        (engine.var_mean(engine.tensor(x), 1, False), torch.var_mean(torch.tensor(x), 1, False)),
        (
            engine.std_mean(engine.tensor(x), (0, 1), correction=0),
            torch.std_mean(torch.tensor(x), (0, 1), correction=0),
        ),
        (engine.var_mean(engine.tensor(x), dim=0, keepdim=True), torch.var_mean(torch.tensor(x), dim=0, keepdim=True)),
    ]:
        for a, b in zip(mine, theirs, strict=True):
            assert_close(a, b)


# ----- norm --------------------------------------------------------------------------------------------------------

P_VALUES = [2, 1, INF, -INF, 0, 3, 0.5, 1.5, -1.0, "fro", None]


@pytest.mark.parametrize("p", P_VALUES, ids=str)
@given(st.data())
def test_norm_matches_torch(p, data):
    x = data.draw(arrays(shapes(min_dims=0), -3.0, 3.0))
    x = np.where(np.abs(x) < 0.05, 0.5, x)  # |x|^(p-1) for p < 1 is steep near 0
    dim_choices = [None] + ([data.draw(st.integers(-x.ndim, x.ndim - 1))] if x.ndim else [])
    if x.ndim >= 2:
        dim_choices.append((0, 1))
    dim = data.draw(st.sampled_from(dim_choices))
    keepdim = data.draw(st.booleans())
    if isinstance(p, float) and math.isinf(p):  # max |x|: make it unique, so the gradient is defined
        x = x + np.arange(x.size).reshape(x.shape) * 1e-3
    compare(
        lambda t: engine.norm(t, p, dim, keepdim),
        lambda t: torch.norm(t, p, dim, keepdim),
        x,
        rtol=1e-9,
    )


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, INF, "fro"], ids=str)
def test_norm_second_derivative_matches_torch(p):
    x = np.array([[0.7, -1.2, 2.0], [1.5, 0.3, -0.4]])
    compare_second_order(lambda t: t.norm(p), lambda t: t.norm(p), x)
    compare_second_order(lambda t: t.norm(p, dim=1), lambda t: t.norm(p, dim=1), x)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, INF, 0, "fro"], ids=str)
def test_norm_gradient_of_zeros_is_zero_as_in_torch(p):
    x = np.array([[0.0, 0.0], [0.0, 2.0]])
    compare(lambda t: t.norm(p, dim=1), lambda t: t.norm(p, dim=1), x)
    compare(lambda t: t.norm(p), lambda t: t.norm(p), np.zeros(3))


def test_norm_of_infinity_shares_the_gradient_among_ties_as_in_torch():
    compare(lambda t: t.norm(INF), lambda t: t.norm(INF), np.array([3.0, -3.0, 1.0, 3.0]))
    compare(lambda t: t.norm(-INF, dim=0), lambda t: t.norm(-INF, dim=0), np.array([[1.0, -2.0], [-1.0, 2.0]]))


def test_norm_dtypes_and_errors_as_in_torch():
    x32 = engine.tensor([3.0, 4.0])
    assert x32.norm().dtype == np.float32 and x32.norm().item() == 5.0
    assert x32.norm(dtype=engine.float64).dtype == np.float64
    for bad_call in (
        lambda m: m.norm(m.tensor([3, 4])),
        lambda m: m.norm(m.tensor([3.0], dtype=m.float64), dtype=m.float32),
    ):
        with pytest.raises(RuntimeError):
            bad_call(torch)
        with pytest.raises(engine.DtypeError, match=r"norm: "):
            bad_call(engine)
    with pytest.raises(engine.DtypeError, match=r"norm: expects a float tensor, got int64 .*x\.float\(\)"):
        engine.norm(engine.tensor([3, 4]))
    with pytest.raises(ValueError, match=r"norm: p='nuc' is not supported.*singular values"):
        engine.norm(engine.ones(2, 2), "nuc")
    with pytest.raises(engine.DimError, match=r"norm: p='fro' takes at most 2 dims"):
        engine.norm(engine.ones(2, 2, 2), "fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError):
        torch.norm(torch.zeros(0), INF)
    with pytest.raises(engine.ShapeError, match=r"norm: cannot reduce an empty tensor"):
        engine.norm(engine.zeros(0), INF)
    assert engine.norm(engine.zeros(0)).item() == 0.0 and engine.norm(engine.zeros(0, 3), dim=1).shape == (0,)
    assert engine.ones(2, 3, requires_grad=True).norm(3, dim=1).grad_fn.label == "norm(p=3, dim=1)"


# ----- sort, argsort, topk -------------------------------------------------------------------------------------------

TIES = small_values(-1.0, 0.0, 0.0, 1.0, 2.0)


@given(tensor_and_dim(elements=TIES, min_dims=0), st.booleans())
def test_stable_sort_with_ties_matches_torch(case, descending):
    x, dim = case
    mine, theirs = compare(
        lambda t: engine.sort(t, dim, descending, stable=True).values,
        lambda t: torch.sort(t, dim=dim, descending=descending, stable=True).values,
        x,
    )
    indices = engine.sort(mine[0], dim, descending).indices
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, torch.sort(theirs[0], dim=dim, descending=descending, stable=True)[1])
    argsort = engine.argsort(mine[0], dim, descending, stable=True)
    np.testing.assert_array_equal(
        argsort.data, torch.argsort(theirs[0], dim=dim, descending=descending, stable=True).numpy()
    )


def test_unstable_sort_gives_torch_values_and_stable_indices():
    """Deliberate difference: dagrad's sort is always stable. With stable=False PyTorch may order ties otherwise
    (it does from a few dozen elements on): the values are the same, the indices may differ among equal values."""
    x = np.random.default_rng(0).integers(0, 3, 200).astype(np.float64)
    mine, theirs = engine.sort(engine.tensor(x)), torch.sort(torch.tensor(x))
    np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(mine.indices.data, torch.sort(torch.tensor(x), stable=True).indices.numpy())
    np.testing.assert_array_equal(x[mine.indices.data], mine.values.data)


def test_sort_puts_nan_last_ascending_and_first_descending_as_in_torch():
    x = np.array([NAN, 1.0, NAN, 0.0, -INF])
    for descending in (False, True):
        mine = engine.sort(engine.tensor(x), descending=descending)
        theirs = torch.sort(torch.tensor(x), descending=descending, stable=True)
        np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.data, theirs.indices.numpy())


def test_sort_result_is_a_named_tuple_and_records_its_node():
    x = engine.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    result = x.sort(dim=1, descending=True)
    values, indices = result
    assert type(result).__name__ == "sort" and result.values is values and result.indices is indices
    assert values.grad_fn.label == "sort(dim=1)" and indices.tolist() == [[0, 2, 1]]
    zero_d = engine.sort(engine.tensor(2.5))
    assert zero_d.values.item() == 2.5 and zero_d.indices.shape == () and zero_d.indices.item() == 0
    assert engine.sort(engine.tensor([True, False])).values.tolist() == [False, True]
    with pytest.raises(TypeError):
        engine.sort(x, 1, True, True)  # stable is keyword-only, as in torch
    with pytest.raises(engine.DimError, match=r"sort: dimension 2 is out of range"):
        x.sort(2)


def test_sort_second_derivative_matches_torch():
    x = np.array([[0.3, -1.2, 2.0], [1.5, 0.2, -0.4]])
    compare_second_order(lambda t: (t * t).sort(dim=1).values, lambda t: (t * t).sort(dim=1).values, x)


@given(st.data())
def test_topk_without_ties_matches_torch(data):
    shape = data.draw(shapes(min_dims=1))
    x = np.random.default_rng(data.draw(st.integers(0, 1000))).permutation(int(np.prod(shape))).reshape(shape) * 0.5
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[dim]))
    largest = data.draw(st.booleans())
    mine, theirs = compare(
        lambda t: engine.topk(t, k, dim, largest).values, lambda t: torch.topk(t, k, dim, largest).values, x
    )
    np.testing.assert_array_equal(
        engine.topk(mine[0], k, dim, largest)[1].data, torch.topk(theirs[0], k, dim, largest)[1]
    )


def test_topk_with_ties_gives_torch_values_and_indices_in_order():
    """Deliberate difference: among equal values PyTorch's topk picks positions by its selection algorithm (here
    [4, 7, 0] for the three 3s); dagrad takes them in their order in x. The values agree, and the gradient goes to
    the positions returned."""
    x = np.array([3.0, 1.0, 2.0, 1.0, 3.0, 2.0, 1.0, 3.0])
    for largest in (True, False):
        leaf = engine.tensor(x, requires_grad=True)
        mine = engine.topk(leaf, 4, largest=largest)
        theirs = torch.topk(torch.tensor(x), 4, largest=largest)
        np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(x[mine.indices.data], mine.values.data)
        assert mine.indices.tolist() == ([0, 4, 7, 2] if largest else [1, 3, 6, 2])
        mine.values.backward(engine.tensor([1.0, 2.0, 3.0, 4.0]))
        expected = np.zeros(8)
        expected[mine.indices.data] = [1.0, 2.0, 3.0, 4.0]
        np.testing.assert_array_equal(leaf.grad.data, expected)


def test_topk_with_nan_and_errors_as_in_torch():
    x = np.array([NAN, 1.0, NAN, 0.0])
    for largest in (True, False):
        mine, theirs = (
            engine.topk(engine.tensor(x), 2, largest=largest),
            torch.topk(torch.tensor(x), 2, largest=largest),
        )
        np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.data, theirs.indices.numpy())
    for k in (5, -1):
        with pytest.raises(RuntimeError):
            torch.topk(torch.tensor(x), k)
        with pytest.raises(engine.ShapeError, match=rf"topk: k={k} is out of range for dimension 0 of size 4"):
            engine.topk(engine.tensor(x), k)
    result = engine.tensor(x).topk(2, sorted=False)
    assert type(result).__name__ == "topk" and result.values.shape == (2,)
    assert engine.topk(engine.tensor(2.0), 1).values.item() == 2.0
    assert engine.topk(engine.ones(3), 0).values.shape == (0,)


# ----- median, mode --------------------------------------------------------------------------------------------------


@given(tensor_and_dim(elements=TIES, min_dims=0))
def test_median_of_everything_shares_the_gradient_among_ties_as_in_torch(case):
    x, _ = case
    compare(lambda t: t.median(), lambda t: t.median(), x)


def test_median_is_the_lower_middle_value_and_nan_wins_as_in_torch():
    for values in ([1.0, 2.0, 3.0, 4.0], [4.0, 1.0], [NAN, 1.0, 2.0], [1.0, NAN, 2.0, NAN], [5.0]):
        compare(lambda t: engine.median(t), lambda t: torch.median(t), np.array(values))
    assert math.isnan(engine.median(engine.zeros(0)).item())  # as torch.median of an empty tensor
    out = engine.median(engine.tensor([4, 1, 3, 2]))
    assert out.dtype == np.int64 and out.item() == 2


@given(tensor_and_dim(elements=TIES, min_dims=0), st.booleans())
def test_median_along_a_dim_with_ties_matches_torch(case, keepdim):
    """Among equal values torch.median returns the index a stable sort puts in the middle, as dagrad does."""
    x, dim = case
    mine, theirs = compare(
        lambda t: engine.median(t, dim, keepdim).values, lambda t: torch.median(t, dim, keepdim).values, x
    )
    np.testing.assert_array_equal(mine[0].median(dim, keepdim).indices.data, theirs[0].median(dim, keepdim).indices)


def test_median_along_a_dim_with_nan_and_errors_as_in_torch():
    x = np.array([[1.0, NAN, 2.0, NAN], [3.0, 1.0, 2.0, 0.0]])
    mine, theirs = engine.median(engine.tensor(x), 1), torch.median(torch.tensor(x), 1)
    assert type(mine).__name__ == "median"
    np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(mine.indices.data, theirs.indices.numpy())
    with pytest.raises(IndexError):
        torch.median(torch.zeros(0, 3), 0)
    with pytest.raises(engine.DimError, match=r"median: cannot reduce dimension 0 of a tensor of shape \(0, 3\)"):
        engine.median(engine.zeros(0, 3), 0)
    assert engine.median(engine.zeros(0, 3), 1).values.shape == (0,)
    with pytest.raises(NotImplementedError):
        torch.median(torch.tensor([True]))
    with pytest.raises(engine.DtypeError, match=r"median: not defined for a bool tensor"):
        engine.median(engine.tensor([True]))
    with pytest.raises(TypeError, match=r"median: keepdim= needs dim="):
        engine.median(engine.ones(3), keepdim=True)


@given(st.data())
def test_mode_matches_torch_on_small_slices(data):
    """torch.mode: the smallest of the most frequent values, at its last occurrence (for slices of up to 16
    elements; on longer ones PyTorch's index among equal values is its algorithm's, so they are not compared)."""
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=6))
    x = data.draw(hnp.arrays(np.float64, shape, elements=TIES))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    keepdim = data.draw(st.booleans())
    mine, theirs = compare(lambda t: t.mode(dim, keepdim).values, lambda t: t.mode(dim, keepdim).values, x)
    np.testing.assert_array_equal(mine[0].mode(dim, keepdim).indices.data, theirs[0].mode(dim, keepdim).indices)


def test_mode_defaults_and_dtypes_as_in_torch():
    for values in ([1, 1, 2, 2, 0], [True, False, False], [[3.0, 1.0, 2.0], [2.0, 2.0, 5.0]]):
        mine, theirs = engine.mode(engine.tensor(values)), torch.mode(torch.tensor(values))
        assert type(mine).__name__ == "mode" and str(theirs.values.dtype) == f"torch.{mine.values.dtype}"
        np.testing.assert_array_equal(mine.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.data, theirs.indices.numpy())
    with pytest.raises(engine.DimError, match=r"mode: cannot reduce dimension 0"):
        engine.mode(engine.zeros(0))


# ----- einsum --------------------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # matrix product
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),  # a batch of them
    ("i,j->ij", [(3,), (2,)]),  # outer product
    ("i,i->", [(4,), (4,)]),  # dot product
    ("ii", [(3, 3)]),  # trace (implicit output: nothing)
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij->ij", [(2, 2, 3)]),  # a diagonal in a 3-d tensor
    ("ii,i->i", [(3, 3), (3,)]),  # a repeated letter that also appears elsewhere
    ("ij->ji", [(2, 3)]),  # transpose
    ("ij->", [(2, 3)]),  # sum
    ("ij,k->i", [(2, 3), (4,)]),  # letters only one operand has, summed
    ("ba", [(2, 3)]),  # implicit output: sorted letters (a transpose)
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit matrix product
    ("Ab,bC->CA", [(2, 3), (3, 4)]),  # uppercase letters
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),  # spaces are ignored
    ("i,ij,j->", [(2,), (2, 3), (3,)]),  # a bilinear form, three operands
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 4)]),  # a chain
    (",i->i", [(), (3,)]),  # a 0-d operand
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),  # broadcast batch dimensions, size 1 included
    ("...i,...i->...", [(1, 3), (4, 3)]),
    ("...i->i", [(2, 3)]),  # '...' left out of the output: summed, as in PyTorch
    ("...ij", [(2, 3, 4)]),  # implicit with '...': the broadcast dims first
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a size-1 dimension broadcasts for plain letters too
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # ... also where it is summed
    ("ij,jk->ik", [(0, 3), (3, 2)]),  # empty
]


@pytest.mark.parametrize(("equation", "shapes_"), EINSUM_CASES, ids=[c[0].strip() for c in EINSUM_CASES])
def test_einsum_matches_torch_to_second_order(equation, shapes_):
    rng = np.random.default_rng(len(equation))
    values = [rng.standard_normal(shape) for shape in shapes_]
    compare(lambda *t: engine.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *values)
    compare_second_order(
        lambda *t: engine.einsum(equation, *t) ** 2, lambda *t: torch.einsum(equation, *t) ** 2, *values
    )


@st.composite
def einsum_program(draw):
    """A random equation over the letters a-d (each with one size; repeats and summed letters included), and
    values for its operands."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    terms = draw(st.lists(st.text("abcd", min_size=0, max_size=3), min_size=1, max_size=3))
    used = sorted(set("".join(terms)))
    output = draw(st.permutations(used).map(lambda letters: letters[: draw(st.integers(0, len(letters)))]))
    equation = ",".join(terms) + "->" + "".join(output)
    values = [draw(arrays(tuple(sizes[c] for c in term))) for term in terms]
    return equation, values


@given(einsum_program())
def test_einsum_of_random_equations_matches_torch(program):
    equation, values = program
    compare(lambda *t: engine.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *values)


def test_einsum_takes_a_list_of_operands_and_records_one_node():
    a, b = engine.ones(2, 3, requires_grad=True), engine.ones(3, 4)
    out = engine.einsum("ij,jk", [a, b])
    assert out.shape == (2, 4) and out.grad_fn.label == "einsum('ij,jk->ik')"
    assert out.grad_fn.rule.startswith("d einsum('ij,jk->ik', A, B)/dA = einsum('ik,jk->ij', G, B)")
    assert engine.einsum("ij,jk", (a, b)).shape == (2, 4)


def test_einsum_dtypes_as_in_torch():
    ints = engine.einsum("i,i", engine.tensor([1, 2]), engine.tensor([3, 4]))
    assert ints.dtype == np.int64 and ints.item() == 11
    assert engine.einsum("i,i", engine.tensor([True]), engine.tensor([True])).item() is True
    assert engine.einsum("ij->ji", engine.ones(2, 3)).dtype == np.float32
    with pytest.raises(RuntimeError):
        torch.einsum("i,i", torch.ones(2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(engine.DtypeError, match=r"einsum: operands must have the same dtype, got float32 and float64"):
        engine.einsum("i,i", engine.ones(2), engine.ones(2, dtype="float64"))


@pytest.mark.parametrize(
    ("equation", "shapes_", "error", "message"),
    [
        ("ij,jk", [(2, 3)], engine.ShapeError, r"has subscripts for 2 operand\(s\) but 1 were given"),
        (
            "ij,jk",
            [(2, 3), (4, 4)],
            engine.ShapeError,
            r"subscript 'j' .* has size 4 in operand 1 .* but 3 in operand 0",
        ),
        (
            "ijk",
            [(2, 3)],
            engine.ShapeError,
            r"operand 0 has 2 dimension\(s\) \(shape \(2, 3\)\) but its subscripts 'ijk'",
        ),
        ("ij->k", [(2, 3)], ValueError, r"output subscript 'k' .* does not appear in any operand"),
        ("ij->ii", [(2, 3)], ValueError, r"output subscript 'i' appears more than once"),
        ("i1", [(2, 3)], ValueError, r"invalid subscript '1'"),
        ("ii->i", [(2, 3)], engine.ShapeError, r"subscript 'i' is repeated in operand 0 .* sizes 2 and 3"),
    ],
)
def test_einsum_errors_name_the_problem_where_torch_raises_too(equation, shapes_, error, message):
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(s) for s in shapes_])
    with pytest.raises(error, match=rf"einsum: .*{message}"):
        engine.einsum(equation, *[engine.ones(*s) for s in shapes_])


def test_einsum_needs_an_equation_and_an_operand():
    with pytest.raises(TypeError, match=r"einsum: the first argument is the equation"):
        engine.einsum(engine.ones(2, 3), [0, 1])
    with pytest.raises(ValueError, match=r"einsum: 'ii' needs at least one operand"):
        engine.einsum("ii")


# ----- the engine's own finite-difference checks ---------------------------------------------------------------------

GRADCHECKED = {
    "prod_with_a_zero": lambda t: (t * (t.data > -0.3)).prod(1),
    "prod_all": lambda t: t.prod(),
    "cumsum": lambda t: t.cumsum(-1),
    "norm_2": lambda t: t.norm(dim=1),
    "norm_3": lambda t: t.norm(3),
    "norm_inf": lambda t: t.norm(INF, dim=0),
    "lerp": lambda t: engine.lerp(t, t.exp(), t[0].sigmoid()),
    "sort": lambda t: (t * t).sort(dim=0, descending=True).values,
    "topk": lambda t: t.topk(2, dim=1).values,
    "median_dim": lambda t: t.median(1).values,
    "median": lambda t: t.median(),
    "mode": lambda t: t.mode(0).values,
    "einsum": lambda t: engine.einsum("ij,kj,ii->ik", t[:, :2], t[:, 1:], t[:, :2]),
    "rsqrt": lambda t: (t * t + 1).rsqrt(),
}


@pytest.mark.parametrize("name", list(GRADCHECKED))
def test_gradcheck_and_gradgradcheck(name):
    x = engine.tensor(np.random.default_rng(5).standard_normal((2, 3)), requires_grad=True)
    assert engine.gradcheck(GRADCHECKED[name], [x])
    assert engine.gradgradcheck(GRADCHECKED[name], [x])
