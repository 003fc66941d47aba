"""Gradient utilities: `clip_grad_norm_`, `clip_grad_value_` (torch.nn.utils)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

import engine
from engine import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so their global norm is at most `max_norm`; returns the norm before.

    As PyTorch: coefficient = min(max_norm / (norm + 1e-6), 1). Each gradient is replaced by a new
    scaled tensor (never modified in place, in case its array is shared).
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    grads = [p.grad.data for p in params]
    dtype = grads[0].dtype
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = np.array([np.linalg.norm(g.reshape(-1), ord=norm_type) for g in grads], dtype=dtype)
        total = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; pass "
            "error_if_nonfinite=False to clip anyway"
        )
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    for p in params:
        p.grad = engine.from_numpy(p.grad.data * coefficient)
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters):
        p.grad = engine.from_numpy(np.clip(p.grad.data, -clip_value, clip_value))
