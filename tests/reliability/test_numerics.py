"""Numerical robustness against PyTorch: the stable ops stay finite at |x| = 1e4, and sqrt/log at 0 follow torch.

exp(1e4) overflows even float64, so a naive log(sum(exp(x))) or log(1 + exp(x)) gives inf/nan there; the
stable forms (max-shifted log-sum-exp, log1p(exp(-|x|))) must not. Values AND gradients are compared with
torch in the same dtype, for float32 and float64, with a random upstream gradient so every entry counts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
import nn.functional as F

# Relative tolerances at the dtype's precision (observed worst: ~3e-7 in float32, ~6e-16 in float64).
TOLERANCE = {np.float32: {"rtol": 2e-5, "atol": 2e-5}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
DTYPES = [np.float32, np.float64]
EXTREMES = [1e4, -1e4, 5e3, -5e3, 9999.5, 0.0, 1.0, -1.0, 88.8, -103.9, 709.8, -745.2]


def _class_targets(x: np.ndarray) -> np.ndarray:
    """Deterministic class indices derived from the logits (Hypothesis shrinks the logits only)."""
    return np.arange(x.shape[0]) % x.shape[1]


def _probabilities(x: np.ndarray) -> np.ndarray:
    return (np.arange(x.size).reshape(x.shape) % 5 / 4.0).astype(x.dtype)  # 0, 0.25, ..., 1


# name -> (dagrad function, torch function); both take the logits (N, C)
STABLE_OPS: dict[str, tuple[Callable, Callable]] = {
    "log_softmax": (lambda x, a: a.log_softmax(axis=1), lambda x, t: t.log_softmax(1)),
    "logsumexp": (lambda x, a: a.logsumexp(axis=1), lambda x, t: t.logsumexp(1)),
    "sigmoid": (lambda x, a: a.sigmoid(), lambda x, t: t.sigmoid()),
    "softplus": (lambda x, a: a.softplus(), lambda x, t: TF.softplus(t)),
    "cross_entropy": (
        lambda x, a: F.cross_entropy(a, _class_targets(x)),
        lambda x, t: TF.cross_entropy(t, torch.from_numpy(_class_targets(x))),
    ),
    "cross_entropy probabilities": (
        lambda x, a: F.cross_entropy(a, _probabilities(x)),
        lambda x, t: TF.cross_entropy(t, torch.from_numpy(_probabilities(x))),
    ),
    "binary_cross_entropy_with_logits": (
        lambda x, a: F.binary_cross_entropy_with_logits(a, _probabilities(x)),
        lambda x, t: TF.binary_cross_entropy_with_logits(t, torch.from_numpy(_probabilities(x))),
    ),
}


def assert_matches_torch(op: str, x: np.ndarray) -> None:
    ours, theirs = STABLE_OPS[op]
    leaf = engine.tensor(x, requires_grad=True)
    out = ours(x, leaf)
    reference = torch.tensor(x, requires_grad=True)
    expected = theirs(x, reference)
    upstream = np.random.default_rng(x.size).standard_normal(out.shape).astype(x.dtype)
    out.backward(engine.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    assert out.dtype == x.dtype and leaf.grad.dtype == x.dtype
    assert np.isfinite(out.data).all(), f"{op} forward not finite for {x}"
    assert np.isfinite(leaf.grad.data).all(), f"{op} gradient not finite for {x}"
    tolerance = TOLERANCE[x.dtype.type]
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tolerance, err_msg=f"{op} value")
    np.testing.assert_allclose(leaf.grad.data, reference.grad.numpy(), **tolerance, err_msg=f"{op} gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op", list(STABLE_OPS))
def test_stable_ops_at_magnitude_1e4(op: str, dtype: type) -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4], [1e4, 1e4 - 1.0, -2.5]], dtype=dtype)
    assert_matches_torch(op, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op", list(STABLE_OPS))
def test_stable_ops_match_torch_on_random_large_inputs(op: str, dtype: type) -> None:
    elements = st.one_of(st.sampled_from(EXTREMES), st.floats(-1e4, 1e4, width=32))
    logits = hnp.arrays(dtype, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5), elements=elements)

    @given(logits)
    def check(x: np.ndarray) -> None:
        assert_matches_torch(op, x)

    check()


# ----- sqrt and log at the edge of their domain -----------------------------------------------------------
EDGE = [0.0, -0.0, -1.0, 1.0, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op", ["sqrt", "log"])
def test_sqrt_and_log_follow_torch_at_zero_and_outside_the_domain(op: str, dtype: type) -> None:
    x = np.array(EDGE, dtype=dtype)
    leaf = engine.tensor(x, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # NumPy warns where torch is silent; values are what count
        out = getattr(leaf, op)()
        out.sum().backward()
    reference = torch.tensor(x, requires_grad=True)
    expected = getattr(reference, op)()
    expected.sum().backward()
    for ours, theirs in ((out.data, expected.detach().numpy()), (leaf.grad.data, reference.grad.numpy())):
        np.testing.assert_array_equal(ours, theirs)  # NaN where torch has NaN, inf with torch's sign
        zeros = theirs == 0
        np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(theirs[zeros]))  # sqrt(-0.0) = -0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_the_conventions_spelled_out(dtype: type) -> None:
    """What a learner should expect (the same as torch): sqrt'(0) = inf, log(0) = -inf with log'(0) = inf,
    log(-1) = NaN."""
    zero = engine.tensor(np.array(0.0, dtype=dtype), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = zero.sqrt()
        root.backward()
        assert root.item() == 0.0 and zero.grad.item() == np.inf
        zero.grad = None
        logarithm = zero.log()
        logarithm.backward()
        assert logarithm.item() == -np.inf and zero.grad.item() == np.inf
        assert np.isnan(engine.tensor(np.array(-1.0, dtype=dtype)).log().item())
