"""Gaps closed against PyTorch: a vectorized full-precision erf and int ** negative int. PyTorch (float64) is
the oracle, as in the other engine tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import engine
from tests.engine.torch_compare import arrays, compare, compare_second_order

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


def test_erf_special_values_like_torch():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324])
    out = engine.erf(x).data
    expected = torch.erf(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, expected)
    assert np.signbit(out[4]) and not np.signbit(out[3]), "erf(±0) is ±0"


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 4)])
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
    values = np.array([1, 2, 0, 1]).astype(dtype)
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        torch.from_numpy(values) ** exponent
    with pytest.raises(ValueError, match=rf"pow: a {dtype} tensor .* negative integer power .* cast to float"):
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


def test_float_tensor_to_a_negative_integer_power_still_works():
    compare(lambda x: x**-2, lambda x: x**-2, np.array([0.5, -2.0, 3.0]))
