"""Elementwise ops (engine/ops/elementwise.py): forward and gradients equal PyTorch's in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.op_cases import BINARY, UNARY
from tests.engine.torch_compare import arrays, assert_close, broadcast_pair, compare, shapes


@pytest.mark.parametrize("case", UNARY, ids=repr)
@given(data=st.data())
def test_unary_matches_torch(case, data):
    x = data.draw(arrays(shapes(), case.low, case.high))
    compare(case.mine, case.theirs, x)


@pytest.mark.parametrize("case", UNARY, ids=repr)
def test_unary_at_kinks_matches_torch(case):
    """At a kink (relu at 0, clamp at its bounds...) dagrad picks the same subgradient as torch."""
    values = np.array([case.low, case.high, 0.5 * (case.low + case.high), *case.kinks])
    compare(case.mine, case.theirs, values)


@pytest.mark.parametrize("case", BINARY, ids=repr)
@given(data=st.data())
def test_binary_broadcasting_matches_torch(case, data):
    x_shape, y_shape = data.draw(broadcast_pair())
    x = data.draw(arrays(x_shape, *case.x_domain))
    y = data.draw(arrays(y_shape, *case.y_domain))
    compare(case.mine, case.theirs, x, y)


@pytest.mark.parametrize("case", [c for c in BINARY if c.kink_on_ties], ids=repr)
def test_binary_ties_share_like_torch(case):
    """maximum/minimum of equal values split the gradient in half, as torch does."""
    x = np.array([[1.0, 2.0, -1.0], [0.5, 0.5, 3.0]])
    y = np.array([1.0, 0.0, -1.0])
    compare(case.mine, case.theirs, x, y)


@given(x=arrays((3, 2), 0.5, 2.0), exponent=arrays((2,), -2.0, 2.0))
def test_tensor_exponent_gets_gradient(x, exponent):
    compare(lambda a, b: a**b, lambda a, b: a**b, x, exponent)
    compare(lambda b: 3.0**b, lambda b: 3.0**b, exponent)
    compare(lambda b: engine.pow(2.0, b), lambda b: torch.pow(2.0, b), exponent)


def test_pow_gradient_of_exponent_at_zero_base_is_zero_like_torch():
    compare(lambda a, b: a**b, lambda a, b: a**b, np.array([0.0, 0.0, 2.0]), np.array([2.0, 0.0, 1.5]))


def test_abs_method_and_operator():
    compare(lambda x: abs(x), lambda x: abs(x), np.array([-2.0, 0.0, 3.0]))
    compare(lambda x: x.abs(), lambda x: x.abs(), np.array([-2.0, 0.0, 3.0]))


@pytest.mark.parametrize(
    "method",
    ["log1p", "expm1", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "silu", "erf", "softplus", "gelu", "log"],
)
def test_tensor_methods_equal_functions(method):
    x = np.array([[0.3, 1.2], [2.0, 0.7]])
    functional = {"silu": F.silu, "softplus": F.softplus, "gelu": F.gelu}
    theirs = functional.get(method, lambda t: getattr(t, method)())
    compare(lambda t: getattr(t, method)(), theirs, x)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        (lambda x, y: x == y, lambda x, y: x == y),
        (lambda x, y: x != y, lambda x, y: x != y),
        (lambda x, y: x < y, lambda x, y: x < y),
        (lambda x, y: x <= y, lambda x, y: x <= y),
        (lambda x, y: x > y, lambda x, y: x > y),
        (lambda x, y: x >= y, lambda x, y: x >= y),
        (lambda x, y: engine.eq(x, 1.0), lambda x, y: torch.eq(x, 1.0)),
        (lambda x, y: engine.ge(0.0, y), lambda x, y: torch.ge(torch.tensor(0.0, dtype=torch.float64), y)),
    ],
)
def test_comparisons_give_bool_tensors_without_grad(mine, theirs):
    x = np.array([[1.0, 2.0, 0.0], [-1.0, 1.0, 3.0]])
    y = np.array([1.0, 0.0, 3.0])
    a, b = engine.tensor(x, requires_grad=True), engine.tensor(y, requires_grad=True)
    out = mine(a, b)
    expected = theirs(torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True))
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_where_broadcasts_condition_and_branches():
    cond = np.array([[True], [False]])
    compare(
        lambda x, y: engine.where(engine.tensor(cond), x, y),
        lambda x, y: torch.where(torch.tensor(cond), x, y),
        np.arange(3.0),
        np.array([[5.0, 6.0, 7.0]]),
    )
    compare(lambda x: engine.where(cond, x, 0.0), lambda x: torch.where(torch.tensor(cond), x, 0.0), np.arange(3.0))


def test_where_rejects_a_non_bool_condition():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        engine.where(engine.tensor([1.0, 0.0]), engine.tensor([1.0, 2.0]), 0.0)


def test_cast_between_float_dtypes_is_differentiable():
    x = np.array([1.5, -2.25, 3.0])
    mine = engine.tensor(x, requires_grad=True)
    out = mine.astype("float32")
    assert out.dtype == np.float32
    (out * 2).sum().backward()
    assert mine.grad.dtype == np.float64
    np.testing.assert_array_equal(mine.grad.data, [2.0, 2.0, 2.0])


def test_cast_to_integer_has_no_gradient():
    mine = engine.tensor([1.5, 2.5], dtype="float64", requires_grad=True)
    out = mine.astype("int64")
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, [1, 2])


def test_softplus_is_linear_above_threshold():
    compare(lambda x: engine.softplus(x), torch.nn.functional.softplus, np.array([19.0, 20.0, 21.0, 30.0]))


def test_sigmoid_is_finite_for_huge_inputs():
    compare(engine.sigmoid, torch.sigmoid, np.array([-800.0, -50.0, 0.0, 50.0, 800.0]))


def test_integer_inputs_to_float_functions_give_float32_like_torch():
    for name in ["exp", "log", "sqrt", "sin", "tanh", "sigmoid"]:
        mine = getattr(engine, name)(engine.tensor([1, 2, 3]))
        expected = getattr(torch, name)(torch.tensor([1, 2, 3]))
        assert_close(mine, expected, rtol=1e-6, atol=1e-7, what=name)


def test_integer_true_division_gives_float32():
    out = engine.tensor([1, 2, 3]) / engine.tensor([2, 2, 2])
    assert_close(out, torch.tensor([1, 2, 3]) / torch.tensor([2, 2, 2]), what="int / int")


@pytest.mark.parametrize("path", ["fresh gradient, masked in place", "caller's gradient, copied"])
def test_relu_passes_the_gradient_at_nan_like_torch(path):
    """relu(NaN) is NaN and its gradient passes (torch's threshold_backward masks only x <= 0)."""
    values = np.array([np.nan, -1.0, 0.0, 2.0, -np.inf, np.inf])
    upstream = np.arange(1.0, 7.0)
    mine = engine.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    seed = engine.tensor(upstream)
    if path.startswith("fresh"):  # Mul's backward hands ReLU a new array that nobody else holds
        (mine.relu() * seed).sum().backward()
    else:  # the caller still holds the seed, so ReLU must not write into it
        mine.relu().backward(seed)
    theirs.relu().backward(torch.tensor(upstream))
    np.testing.assert_array_equal(mine.relu().data, theirs.relu().detach().numpy())
    np.testing.assert_array_equal(mine.grad.data, theirs.grad.numpy())  # [1, 0, 0, 4, 0, 6]
    np.testing.assert_array_equal(seed.data, upstream)


def test_relu_second_derivative_at_nan_matches_torch():
    values = np.array([np.nan, -1.0, 3.0])
    mine = engine.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    (g_mine,) = engine.grad((mine.relu() ** 2).sum(), [mine], create_graph=True)
    (g_theirs,) = torch.autograd.grad((theirs.relu() ** 2).sum(), [theirs], create_graph=True)
    np.testing.assert_array_equal(g_mine.data, g_theirs.detach().numpy())
    g_mine.sum().backward()
    g_theirs.sum().backward()
    np.testing.assert_array_equal(mine.grad.data, theirs.grad.numpy())
