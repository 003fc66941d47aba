"""Run the same computation in dagrad and in PyTorch (float64) and compare values and gradients.

`compare(engine_fn, torch_fn, *arrays)` builds one leaf per array in each library (float arrays require
grad), runs both functions, checks the outputs agree (values, shape, dtype), backpropagates the same
random upstream gradient through both and checks every leaf's gradient. `compare_second_order` does the
same for the gradient of (upstream · first gradient), i.e. Hessian-vector products.

Also: Hypothesis strategies for float64 arrays in a chosen domain and for broadcastable shape pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine

RTOL = 1e-10
ATOL = 1e-12

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_dtype(dtype: Any) -> torch.dtype:
    return _TORCH_DTYPES[np.dtype(dtype)]


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL, what: str = "") -> None:
    """Values, shape and (for arrays) dtype agree; `actual` is dagrad's, `expected` torch's."""
    if isinstance(actual, engine.Tensor):
        actual = actual.data
    if isinstance(expected, torch.Tensor):
        expected = as_numpy(expected)
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != torch's {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def as_numpy(t: torch.Tensor) -> np.ndarray:
    """torch's values as an array; a ZeroTensor (what some of torch's second derivatives are) as zeros."""
    t = t.detach()
    if t._is_zerotensor():
        return np.zeros(tuple(t.shape), dtype=torch.empty((), dtype=t.dtype).numpy().dtype)
    return t.numpy()


def leaves(arrays: Sequence[np.ndarray]) -> tuple[list[engine.Tensor], list[torch.Tensor]]:
    """One leaf per array in each library; float arrays require grad, integer/bool ones do not."""
    mine, theirs = [], []
    for a in arrays:
        a = np.asarray(a)
        differentiable = a.dtype.kind == "f"
        mine.append(engine.Tensor(a, requires_grad=differentiable))
        theirs.append(torch.tensor(a, requires_grad=differentiable))
    return mine, theirs


def upstream(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    """A random upstream gradient: weights every output element differently, so a wrong routing shows."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare(
    engine_fn: Callable[..., engine.Tensor],
    torch_fn: Callable[..., torch.Tensor],
    *arrays: np.ndarray,
    rtol: float = RTOL,
    atol: float = ATOL,
    seed: int = 0,
) -> tuple[list[engine.Tensor], list[torch.Tensor]]:
    """Outputs and every leaf gradient of engine_fn and torch_fn agree on the same inputs."""
    mine, theirs = leaves(arrays)
    out = engine_fn(*mine)
    expected = torch_fn(*theirs)
    assert_close(out, expected, rtol, atol, "forward")
    if not expected.requires_grad:
        assert not out.requires_grad, "torch's output has no gradient but dagrad's requires grad"
        return mine, theirs
    weights = upstream(tuple(expected.shape), out.dtype, seed)
    out.backward(engine.Tensor(weights))
    expected.backward(torch.tensor(weights))
    for i, (m, t) in enumerate(zip(mine, theirs)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert m.grad is None or not np.any(m.grad.data), f"input {i}: torch has no gradient, dagrad does"
            continue
        assert m.grad is not None, f"input {i}: dagrad produced no gradient"
        assert_close(m.grad, t.grad, rtol, atol, f"gradient of input {i}")
    return mine, theirs


def compare_second_order(
    engine_fn: Callable[..., engine.Tensor],
    torch_fn: Callable[..., torch.Tensor],
    *arrays: np.ndarray,
    rtol: float = 1e-9,
    atol: float = 1e-10,
    seed: int = 0,
) -> None:
    """d/dx [ Σ v·(d out/dx · w) ]: the second derivatives (Hessian-vector products) agree with torch."""
    mine, theirs = leaves(arrays)
    wrt_mine = [m for m in mine if m.requires_grad]
    wrt_theirs = [t for t in theirs if t.requires_grad]
    out, expected = engine_fn(*mine), torch_fn(*theirs)
    weights = upstream(tuple(expected.shape), out.dtype, seed)
    first = engine.grad(out, wrt_mine, engine.Tensor(weights, requires_grad=True), create_graph=True)
    first_t = torch.autograd.grad(expected, wrt_theirs, torch.tensor(weights, requires_grad=True), create_graph=True)
    for i, (g, gt) in enumerate(zip(first, first_t)):
        assert_close(g, gt, rtol, atol, f"first derivative {i}")
    directions = [upstream(m.shape, m.dtype, seed + 1 + i) for i, m in enumerate(wrt_mine)]
    inner = sum(((g * engine.Tensor(d)).sum() for g, d in zip(first, directions)), engine.tensor(0.0, dtype="float64"))
    inner_t = sum((gt * torch.tensor(d)).sum() for gt, d in zip(first_t, directions))
    # A first derivative that does not depend on anything differentiable has a zero second derivative.
    second = engine.grad(inner, wrt_mine, allow_unused=True) if inner.requires_grad else [None] * len(wrt_mine)
    second_t = (
        torch.autograd.grad(inner_t, wrt_theirs, allow_unused=True)
        if inner_t.requires_grad
        else [None] * len(wrt_theirs)
    )
    for i, (h, ht) in enumerate(zip(second, second_t)):
        if ht is None:
            assert h is None or not np.any(h.data), f"second derivative {i}: torch has none, dagrad's is nonzero"
        elif h is None:
            assert not ht.any(), f"second derivative {i}: dagrad has none, torch's is nonzero"
        else:
            assert_close(h, ht, rtol, atol, f"second derivative {i}")


# ----- Hypothesis strategies ------------------------------------------------------------------------


def floats_in(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def arrays(shape: Any, low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of `shape` (a tuple or a shape strategy) with values in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=floats_in(low, high))


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def broadcast_pair(max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Two shapes that broadcast together (size-1 axes and missing leading axes included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=max_side).map(
        lambda result: result.input_shapes
    )


def away_from(values: np.ndarray, points: Sequence[float], margin: float = 1e-3) -> np.ndarray:
    """Nudge values that sit within `margin` of a kink (e.g. 0 for relu) to point + margin."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + margin
    return values
