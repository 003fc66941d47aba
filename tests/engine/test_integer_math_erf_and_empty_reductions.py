"""Edge semantics against PyTorch: the vectorized full-precision erf, integer powers, // and % (floor_divide,
remainder), and the logsumexp, max and min of empty tensors. PyTorch (float64) is the oracle, as in the other
engine tests."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.torch_compare import arrays, broadcast_pair, compare, compare_second_order

# ----- erf ----------------------------------------------------------------------------------------


def _erf_grid() -> np.ndarray:
    """Every range of the approximation and their boundaries (0.5, 4, 6), tails and tiny values, both signs."""
    rng = np.random.default_rng(0)
    positive = np.concatenate(
        [
            np.linspace(0.0, 10.0, 20001),
            np.geomspace(1e-300, 30.0, 4000),
            np.nextafter([0.5, 4.0, 6.0], 0.0),
            np.nextafter([0.5, 4.0, 6.0], np.inf),
            np.abs(rng.standard_normal(4000)) * 3,
            rng.uniform(0.0, 7.0, 4000),
        ]
    )
    return np.concatenate([positive, -positive])


def test_erf_matches_math_erf_to_float64_precision():
    x = _erf_grid()
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(engine.erf(engine.tensor(x, dtype="float64")).data, expected, rtol=1e-14, atol=1e-300)


def test_erf_matches_torch_to_float64_precision():
    x = _erf_grid()
    np.testing.assert_allclose(engine.erf(x).data, torch.erf(torch.from_numpy(x)).numpy(), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("copies", [1, 100], ids=["few elements, math.erf", "many elements, vectorized"])
def test_erf_special_values_like_torch(copies):
    x = np.tile([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324], copies)
    out = engine.erf(x).data
    expected = torch.erf(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, expected)
    assert np.signbit(out[4]) and not np.signbit(out[3]), "erf(±0) is ±0"


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 4), (30, 20)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erf_keeps_shape_and_dtype(shape, dtype):
    x = np.asarray(np.random.default_rng(1).standard_normal(shape) * 2, dtype=dtype)
    out = engine.erf(engine.tensor(x, dtype=dtype))
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    expected = torch.erf(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out.data, expected, rtol=1e-6 if dtype == "float32" else 1e-14, atol=1e-300)


def test_erf_of_a_non_contiguous_view():
    x = np.linspace(-7.0, 7.0, 60).reshape(6, 10)[::2, ::3]
    np.testing.assert_allclose(engine.erf(x).data, torch.erf(torch.from_numpy(x)).numpy(), rtol=1e-14, atol=1e-300)


def test_erf_is_vectorized(monkeypatch):
    """No per-element Python call: math.erf and np.frompyfunc are not used (a 1e6-element erf still works)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("erf must not compute element by element")

    monkeypatch.setattr(math, "erf", forbidden)
    monkeypatch.setattr(np, "frompyfunc", forbidden)
    x = np.random.default_rng(2).standard_normal(1_000_003) * 3  # not a multiple of the block size
    out = engine.gelu(engine.Tensor(x)).data
    monkeypatch.undo()
    some = np.random.default_rng(3).integers(0, x.size, 200)
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x[some]])
    np.testing.assert_allclose(out[some], expected, rtol=1e-13, atol=1e-300)


@given(x=arrays(st.integers(0, 40).map(lambda n: (n,)), -8.0, 8.0))
def test_erf_and_exact_gelu_match_torch(x):
    compare(engine.erf, torch.erf, x)
    compare(engine.gelu, F.gelu, x * 4)  # GELU's interesting range is wider: x·Φ(x) flattens near -30


def test_erf_and_exact_gelu_second_order_match_torch():
    x = np.linspace(-6.0, 6.0, 49)
    compare_second_order(engine.erf, torch.erf, x)
    compare_second_order(engine.gelu, F.gelu, x)


# ----- int ** negative int ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("exponent", [-1, -3, np.int64(-2)])
def test_integer_tensor_to_a_negative_integer_power_raises_like_torch(dtype, exponent):
    """A number exponent raises in torch (a tensor exponent computes: see the tests below)."""
    values = np.array([1, 2, 0, 1]).astype(dtype)
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        torch.from_numpy(values) ** exponent
    with pytest.raises(ValueError, match=rf"pow: {dtype} tensor .* negative integer power .* cast to float"):
        engine.tensor(values) ** exponent
    with pytest.raises(ValueError, match="pow"):
        engine.pow(engine.tensor(values), exponent)


@pytest.mark.parametrize(
    ("dtype", "exponent"),
    [
        ("int64", 2),
        ("int64", 0),
        ("int64", 1),
        ("int64", np.int64(3)),
        ("int64", 2.0),
        ("int64", -1.0),
        ("int64", 0.5),
        ("int64", np.float64(0.5)),
        ("int64", True),
        ("int32", 3),
        ("int32", -2.0),
        ("uint8", 2),
        ("bool", 2),
        ("bool", 0),
        ("bool", 2.0),
    ],
    ids=repr,
)
def test_integer_tensor_powers_have_torchs_dtype_and_values(dtype, exponent):
    values = np.array([[1, 2, 3], [0, 1, 4]]).astype(dtype)
    expected = (torch.from_numpy(values) ** exponent).numpy()
    with np.errstate(divide="ignore"):  # 0 ** -1.0 = inf: NumPy warns where torch is silent (as for x / 0)
        out = engine.tensor(values) ** exponent
    assert out.dtype == expected.dtype, f"{dtype} ** {exponent!r}: {out.dtype} != torch's {expected.dtype}"
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


_INT_POW_DTYPES = [
    ("int64", "int64"),
    ("int32", "int32"),
    ("int16", "int16"),
    ("int8", "int8"),
    ("uint8", "uint8"),
    ("uint8", "int8"),
    ("int8", "int64"),
    ("int64", "int32"),
    ("int64", "uint8"),
    ("bool", "int64"),
    ("bool", "int8"),
]


def _with_extremes(values: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([False, True])
    info = np.iinfo(dtype)
    extremes = [info.min, info.min + 1, info.max - 1, info.max]
    return np.unique(np.concatenate([np.clip(values, info.min, info.max), extremes])).astype(dtype)


@pytest.mark.parametrize(("x_dtype", "y_dtype"), _INT_POW_DTYPES, ids=lambda d: d)
def test_integer_tensor_to_integer_tensor_powers_bit_for_bit_like_torch(x_dtype, y_dtype):
    """A negative exponent gives torch's truncated integer: 1 ** -n = 1, (-1) ** -n = ±1, any other x ** -n = 0
    (0 ** -n too); non-negative powers wrap around as in torch. Result dtypes are torch's."""
    x, y = np.meshgrid(_with_extremes(np.arange(-4, 5), x_dtype), _with_extremes(np.arange(-6, 7), y_dtype))
    expected = (torch.from_numpy(x) ** torch.from_numpy(y)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = engine.tensor(x) ** engine.tensor(y)
    assert out.dtype == expected.dtype and not out.requires_grad
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        (lambda t: 2**t, lambda t: 2**t),
        (lambda t: (-1) ** t, lambda t: (-1) ** t),
        (lambda t: 0**t, lambda t: 0**t),
        (lambda t: engine.pow(-2, t), lambda t: torch.pow(-2, t)),
        (lambda t: engine.pow(t.T, engine.tensor(-1)), lambda t: torch.pow(t.T, torch.tensor(-1))),
        (lambda t: engine.tensor(3) ** t, lambda t: torch.tensor(3) ** t),
        (lambda t: t[:, :1] ** t[0], lambda t: t[:, :1] ** t[0]),
        (lambda t: (t > 0) ** t, lambda t: (t > 0) ** t),
        (lambda t: t.astype("int32") ** t[1].astype("int32"), lambda t: t.int() ** t[1].int()),
    ],
    ids=["2 ** t", "(-1) ** t", "0 ** t", "pow(-2, t)", "t ** 0-d", "0-d ** t", "broadcast", "bool ** t", "int32"],
)
def test_integer_powers_with_numbers_0d_tensors_and_broadcasting_like_torch(mine, theirs):
    t = np.array([[-3, -1, 0, 2], [1, -2, 3, -4], [2, 0, -1, 1]])
    expected = theirs(torch.from_numpy(t)).numpy()
    out = mine(engine.tensor(t))
    assert out.dtype == expected.dtype, f"{out.dtype} != torch's {expected.dtype}"
    np.testing.assert_array_equal(out.data, expected)


def test_integer_power_next_to_a_float_tensor_is_a_float_power_with_gradients():
    """An integer tensor with a float one is a float power (as in torch): a negative exponent divides."""
    compare(
        lambda a: engine.tensor([1, 2, 4]) ** a, lambda a: torch.tensor([1, 2, 4]) ** a, np.array([-1.0, -2.0, 0.5])
    )
    compare(
        lambda a: a ** engine.tensor([-1, 2, -3]), lambda a: a ** torch.tensor([-1, 2, -3]), np.array([2.0, -3.0, 0.5])
    )


def test_float_tensor_to_a_negative_integer_power_still_works():
    compare(lambda x: x**-2, lambda x: x**-2, np.array([0.5, -2.0, 3.0]))


# ----- floor_divide and remainder -----------------------------------------------------------------

_SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 1e-3, -1e3, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("mine", "theirs"), [(engine.floor_divide, torch.floor_divide), (engine.remainder, torch.remainder)]
)
def test_floor_divide_and_remainder_special_values_bit_for_bit_like_torch(mine, theirs, dtype):
    """Zero, infinite and nan operands on either side, and the sign of zero results, as PyTorch."""
    x, y = (a.astype(dtype) for a in np.meshgrid(_SPECIAL, _SPECIAL))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch is silent about x // 0.0; so is dagrad
        out = mine(engine.tensor(x, dtype=dtype), engine.tensor(y, dtype=dtype)).data
    expected = theirs(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(out[numbers]), np.signbit(expected[numbers]))


def _nonzero(y: np.ndarray) -> np.ndarray:
    """Divisors kept at least 0.25 away from 0 (the gradient -floor(x/y) is huge there)."""
    return np.where(np.abs(y) < 0.25, 0.25 + np.abs(y), y)


@given(data=st.data())
def test_remainder_matches_torch_with_broadcasting(data):
    x_shape, y_shape = data.draw(broadcast_pair())
    x = data.draw(arrays(x_shape, -10.0, 10.0))
    y = _nonzero(data.draw(arrays(y_shape, -3.0, 3.0)))
    compare(lambda a, b: a % b, lambda a, b: a % b, x, y)
    compare(engine.remainder, torch.remainder, x, y)


@given(data=st.data())
def test_floor_divide_matches_torch_with_broadcasting(data):
    x_shape, y_shape = data.draw(broadcast_pair())
    x = data.draw(arrays(x_shape, -10.0, 10.0))
    y = data.draw(arrays(y_shape, -3.0, 3.0))
    mine = engine.tensor(x, dtype="float64") // engine.tensor(y, dtype="float64")
    expected = torch.from_numpy(x) // torch.from_numpy(y)
    np.testing.assert_array_equal(mine.data, expected.numpy())
    expected = torch.floor_divide(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    np.testing.assert_array_equal(engine.floor_divide(x, y).data, expected)


def test_remainder_gradient_at_exact_multiples_and_zero_dividend_like_torch():
    x = np.array([[4.0, -4.0, 0.0, 6.0], [3.0, -3.0, -0.0, 1.5]])
    y = np.array([2.0, 2.0, -3.0, -1.5])
    compare(lambda a, b: a % b, lambda a, b: a % b, x, y)


def test_remainder_second_order_matches_torch():
    """floor(x/y) in d/dy counts as a constant: torch's second derivatives are 0."""
    x = np.array([[5.5, -7.25, 0.3], [2.0, 9.0, -1.0]])
    y = np.array([2.0, -1.5, 0.7])
    compare_second_order(lambda a, b: a % b, lambda a, b: a % b, x, y)
    compare_second_order(lambda a, b: (a % b) * a * b, lambda a, b: (a % b) * a * b, x, y)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        (lambda x: x % 2, lambda x: x % 2),
        (lambda x: x % -1.5, lambda x: x % -1.5),
        (lambda x: engine.remainder(x, 0.75), lambda x: torch.remainder(x, 0.75)),
        (lambda x: (x % 2.0) * x, lambda x: (x % 2.0) * x),
    ],
)
def test_remainder_by_a_number_matches_torch(mine, theirs):
    x = np.array([[5.5, -7.25, 0.3], [2.0, 9.0, -1.0]])
    compare(mine, theirs, x)
    compare_second_order(mine, theirs, x)


def test_number_dividend_forward_matches_torch():
    y = np.array([2.0, -1.5, 0.7, -4.0])
    for number in (7, -7.5, 0.0):
        np.testing.assert_array_equal((number % engine.tensor(y)).data, (number % torch.from_numpy(y)).numpy())
        np.testing.assert_array_equal((number // engine.tensor(y)).data, (number // torch.from_numpy(y)).numpy())
        out = engine.remainder(number, engine.tensor(y))
        np.testing.assert_array_equal(out.data, torch.remainder(number, torch.from_numpy(y)).numpy())


def test_number_dividend_remainder_has_the_derivative_torch_lacks():
    """7.0 % y is torch's remainder(Scalar, Tensor), which implements no derivative; dagrad gives the one a 0-d
    tensor dividend gets in torch, -floor(7/y)."""
    y_t = torch.tensor([2.0, -1.5], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::remainder is not implemented"):
        (7.0 % y_t).sum().backward()
    y = engine.tensor([2.0, -1.5], dtype="float64", requires_grad=True)
    (7.0 % y).sum().backward()
    y_t.grad = None
    (torch.tensor(7.0, dtype=torch.float64) % y_t).sum().backward()
    np.testing.assert_array_equal(y.grad.data, y_t.grad.numpy())
    compare(
        lambda b: engine.tensor(7.0, dtype="float64") % b,
        lambda b: torch.tensor(7.0, dtype=torch.float64) % b,
        np.array([2.0, -1.5]),
    )
    compare(lambda a: a % 2.0, lambda a: a % 2.0, np.array([7.0, -7.0]))  # a number divisor: d/dx = 1


@pytest.mark.parametrize("requires", ["x", "y", "both"])
def test_floor_divide_backward_raises_like_torch(requires):
    """torch records floor_divide and raises when a backward reaches it; dagrad does the same."""
    x_np, y_np = np.array([7.0, -7.0, 2.5]), np.array([2.0, 2.0, -1.0])
    x_t, y_t = torch.from_numpy(x_np), torch.from_numpy(y_np)
    x, y = engine.tensor(x_np), engine.tensor(y_np)
    if requires in ("x", "both"):
        x_t.requires_grad_(True)
        x.requires_grad = True
    if requires in ("y", "both"):
        y_t.requires_grad_(True)
        y.requires_grad = True
    out_t, out = x_t // y_t, x // y
    assert out.requires_grad == out_t.requires_grad
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        (out_t * 2).sum().backward()
    with pytest.raises(RuntimeError, match=r"floor_divide: has no derivative.*detach"):
        (out * 2).sum().backward()
    leaf = x if requires != "y" else y
    with pytest.raises(RuntimeError, match="floor_divide"):
        engine.grad((x // y).sum(), leaf)
    # detached operands: a constant quotient, as in torch
    compare(lambda a: a * (a.detach() // 2.0), lambda a: a * (a.detach() // 2.0), x_np)


def test_floor_divide_with_numbers_on_either_side_matches_torch():
    x = np.array([[5.5, -7.25, 0.3], [2.0, 9.0, -1.0]])
    for mine, theirs in [
        (lambda a: a // 2, lambda a: a // 2),
        (lambda a: a // -0.75, lambda a: a // -0.75),
        (lambda a: 7 // a, lambda a: 7 // a),
        (lambda a: -2.5 // a, lambda a: -2.5 // a),
        (lambda a: engine.floor_divide(a, 3), lambda a: torch.floor_divide(a, 3)),
    ]:
        np.testing.assert_array_equal(mine(engine.tensor(x, dtype="float64")).data, theirs(torch.from_numpy(x)).numpy())
    f32 = engine.tensor(x, dtype="float32") // 2
    assert f32.dtype == np.float32


_INT_CASES = [
    ("int64 // int64", lambda a, b: a // b),
    ("int64 % int64", lambda a, b: a % b),
    ("int // 2", lambda a, b: a // 2),
    ("int % -3", lambda a, b: a % -3),
    ("7 // int", lambda a, b: 7 // b),
    ("-7 % int", lambda a, b: -7 % b),
    ("int // 2.5", lambda a, b: a // 2.5),
    ("int % 2.5", lambda a, b: a % 2.5),
    ("7.5 % int", lambda a, b: 7.5 % b),
    ("int32 // int64", lambda a, b: a.to(torch.int32) // b if isinstance(a, torch.Tensor) else a.astype("int32") // b),
    ("int32 % 4", lambda a, b: a.to(torch.int32) % 4 if isinstance(a, torch.Tensor) else a.astype("int32") % 4),
    ("bool // int", lambda a, b: (a > 0) // b),
    ("bool % 2", lambda a, b: (a > 0) % 2),
    ("int // bool", lambda a, b: a // (b != 0)),
    ("int // float tensor", lambda a, b: a // (b * 1.5)),
]


@pytest.mark.parametrize(("name", "fn"), _INT_CASES, ids=[name for name, _ in _INT_CASES])
def test_integer_floor_divide_and_remainder_match_torch(name, fn):
    """Python semantics for integers (floor, sign of the divisor) and torch's result dtypes."""
    a = np.array([[7, -7, 0, 9], [-1, 5, -9, 3]])
    b = np.array([2, -2, 3, -4])
    expected = fn(torch.from_numpy(a), torch.from_numpy(b))
    out = fn(engine.tensor(a), engine.tensor(b))
    assert out.dtype == expected.numpy().dtype, f"{name}: {out.dtype} != torch's {expected.dtype}"
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_integer_extremes_wrap_silently_like_torch():
    a = np.array([np.iinfo(np.int64).min, 5])
    for op in (lambda u, v: u // v, lambda u, v: u % v):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = op(engine.tensor(a), -1)
        np.testing.assert_array_equal(out.data, op(torch.from_numpy(a), -1).numpy())


@pytest.mark.parametrize("op", ["floor_divide", "remainder"])
def test_integer_division_by_zero_raises_like_torch(op):
    a, b = np.array([7, -7, 3]), np.array([2, 0, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b))
    with pytest.raises(ZeroDivisionError, match=rf"{op}: integer division by zero .*int64.*\(3,\).*float"):
        getattr(engine, op)(engine.tensor(a), engine.tensor(b))
    with pytest.raises(ZeroDivisionError, match=op):
        getattr(engine, op)(engine.tensor(a), 0)
    # a float zero divisor gives inf / nan instead, silently, as in torch
    out = getattr(engine, op)(engine.tensor(a, dtype="float64"), 0.0)
    np.testing.assert_array_equal(out.data, getattr(torch, op)(torch.from_numpy(a).double(), 0.0).numpy())


@pytest.mark.parametrize("op", ["floor_divide", "remainder"])
def test_bool_with_bool_raises_like_torch(op):
    a = np.array([True, False])
    with pytest.raises(NotImplementedError):
        getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(a))
    with pytest.raises(TypeError, match=rf"{op}: not defined for two bool tensors"):
        getattr(engine, op)(engine.tensor(a), engine.tensor(a))


def test_floor_divide_and_remainder_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"floor_divide: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        engine.ones(2, 3) // engine.ones(4)
    with pytest.raises(ValueError, match=r"remainder: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        engine.ones(2, 3) % engine.ones(4)


def test_floor_division_identity_holds():
    """x == (x // y)·y + x % y, for floats and integers."""
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-50, 50, 200), _nonzero(rng.uniform(-5, 5, 200))
    np.testing.assert_allclose(((x // engine.tensor(y)) * y + x % engine.tensor(y)).data, x, rtol=1e-12, atol=1e-12)
    xi, yi = rng.integers(-50, 50, 200), rng.choice([-7, -3, -1, 1, 2, 5], 200)
    np.testing.assert_array_equal(((engine.tensor(xi) // yi) * yi + engine.tensor(xi) % yi).data, xi)


# ----- logsumexp of empty tensors -----------------------------------------------------------------

_EMPTY_CASES = [
    ((0,), 0, False),
    ((0,), 0, True),
    ((0,), None, False),
    ((2, 0), 1, False),
    ((2, 0), 1, True),
    ((2, 0), 0, False),
    ((2, 0), 0, True),
    ((2, 0), (0, 1), False),
    ((2, 0), None, True),
    ((0, 3), 1, False),
    ((0, 3), -1, True),
    ((2, 0, 3), (1, 2), True),
    ((2, 0, 3), (0, 2), False),
]


@pytest.mark.parametrize(("shape", "axis", "keepdims"), _EMPTY_CASES, ids=repr)
def test_logsumexp_of_empty_tensors_matches_torch(shape, axis, keepdims):
    """-inf (log 0) for an empty reduction, an empty result for an empty kept axis; gradients are empty."""
    dims = tuple(range(len(shape))) if axis is None else axis  # torch.logsumexp needs dim; () would also do
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning (max of an empty array, log of 0)
        mine, _ = compare(
            lambda t: t.logsumexp(axis, keepdims),
            lambda t: torch.logsumexp(t, dims, keepdim=keepdims),
            np.empty(shape),
        )
        assert mine[0].grad is not None and mine[0].grad.shape == shape
        compare_second_order(
            lambda t: engine.logsumexp(t, axis, keepdims),
            lambda t: torch.logsumexp(t, dims, keepdim=keepdims),
            np.empty(shape),
        )


def test_logsumexp_of_empty_integer_and_float32_tensors():
    for dtype in ("int64", "float32"):
        out = engine.logsumexp(engine.tensor(np.empty(0, dtype=dtype)), axis=0)
        expected = torch.logsumexp(torch.empty(0, dtype=getattr(torch, dtype)), 0)
        assert out.dtype == np.float32 and expected.dtype == torch.float32
        assert out.shape == () and out.item() == -np.inf == expected.item()


# ----- max/min of empty tensors -------------------------------------------------------------------

# (shape, axis, keepdims) where every reduced axis has nonzero length: torch.amax/amin give an empty result
_EMPTY_EXTREMUM_CASES = [
    ((0, 3), 1, False),
    ((0, 3), 1, True),
    ((0, 3), -1, False),
    ((3, 0), 0, False),
    ((3, 0), 0, True),
    ((2, 0, 3), (0, 2), False),
    ((2, 0, 3), (0, 2), True),
    ((2, 0, 3), 2, False),
    ((0, 0, 2), (2,), True),
]


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize(("shape", "axis", "keepdims"), _EMPTY_EXTREMUM_CASES, ids=repr)
def test_max_min_over_nonempty_axes_of_an_empty_tensor_match_torch(op, shape, axis, keepdims):
    """An empty axis that is kept gives an empty result, and an empty gradient of the input's shape."""
    theirs = getattr(torch, "a" + op)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine, _ = compare(
            lambda t: getattr(engine, "a" + op)(t, axis, keepdims), lambda t: theirs(t, axis, keepdims), np.empty(shape)
        )
        assert mine[0].grad is not None and mine[0].grad.shape == shape
        compare(
            lambda t: getattr(t, "a" + op)(dim=axis, keepdims=keepdims),
            lambda t: theirs(t, axis, keepdims),
            np.empty(shape),
        )
        compare_second_order(
            lambda t: getattr(engine, "a" + op)(t * t, axis, keepdims),
            lambda t: theirs(t * t, axis, keepdims),
            np.empty(shape),
        )
    x = engine.tensor(np.empty(shape, dtype="float64"), requires_grad=True)
    (grad,) = engine.grad(getattr(engine, "a" + op)(x, axis, keepdims).sum(), x, create_graph=True)
    assert grad.shape == shape and grad.dtype == np.float64


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
def test_max_min_of_empty_integer_and_bool_tensors_keep_their_dtype_like_torch(dtype):
    values = np.empty((0, 3), dtype=dtype)
    for op in ("max", "min"):
        expected = getattr(torch, "a" + op)(torch.from_numpy(values), 1, keepdim=True).numpy()
        out = getattr(engine, "a" + op)(engine.tensor(values), 1, keepdims=True)
        assert out.dtype == expected.dtype and out.shape == expected.shape == (0, 1)


# (shape, axis, the axis the message names): torch raises for these, and so does dagrad
_EMPTY_EXTREMUM_ERRORS = [
    ((0, 3), 0, 0),
    ((0, 3), (0, 1), 0),
    ((0,), 0, 0),
    ((0,), -1, 0),
    ((3, 0), -1, 1),
    ((2, 0, 3), (0, 1), 1),
    ((2, 0, 3), (1, 2), 1),
]


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize(("shape", "axis", "named"), _EMPTY_EXTREMUM_ERRORS, ids=repr)
def test_max_min_over_an_empty_axis_raise_like_torch(op, shape, axis, named):
    with pytest.raises(IndexError, match=r"Expected reduction dim .* to have non-zero size"):
        getattr(torch, "a" + op)(torch.empty(shape), axis)
    message = rf"a{op}: cannot reduce dimension {named} of a tensor of shape {re.escape(str(shape))}: it has length 0"
    with pytest.raises(ValueError, match=message):
        getattr(engine, "a" + op)(engine.zeros(*shape), axis)
    with pytest.raises(ValueError, match=message):
        getattr(engine.zeros(*shape), "a" + op)(dim=axis, keepdims=True)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3)], ids=repr)
def test_max_min_of_a_whole_empty_tensor_raise_like_torch(op, shape):
    """Without a dim every dimension is reduced, the empty one too: torch and dagrad ask for dim=."""
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        getattr(torch, "a" + op)(torch.empty(shape))
    message = rf"a{op}: cannot reduce an empty tensor \(shape {re.escape(str(shape))}\) over all its dimensions.*dim="
    with pytest.raises(ValueError, match=message):
        getattr(engine, "a" + op)(engine.zeros(*shape))
    with pytest.raises(ValueError, match=message):
        getattr(engine.zeros(*shape), "a" + op)()
