"""Gradient utilities (torch.nn.utils): `clip_grad_norm_` = `get_total_norm` + `clip_grads_with_norm_`, and
`clip_grad_value_`.

`foreach=` is accepted for PyTorch's signatures and changes nothing: NumPy has no fused multi-tensor kernels.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable

import numpy as np

import engine
from engine import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """‖(‖t₁‖_p, ‖t₂‖_p, ...)‖_p: the p-norm of all `tensors` taken as one vector (max |t| for norm_type=inf).

    Returns a 0-d tensor of the tensors' (promoted) dtype, or float32 0 when there are none.
    """
    arrays = [t.data for t in ([tensors] if isinstance(tensors, Tensor) else list(tensors))]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*arrays)
    norms = np.array([np.linalg.norm(a.reshape(-1), ord=norm_type) if a.size else 0.0 for a in arrays], dtype=dtype)
    total = np.asarray(np.linalg.norm(norms, ord=norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"get_total_norm: the total norm of order {norm_type} of the gradients is {float(total)}, so they "
            "cannot be clipped; pass error_if_nonfinite=False to scale them by it anyway"
        )
    return Tensor(total)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor | float, foreach: bool | None = None
) -> None:
    """Scale every gradient by min(max_norm / (total_norm + 1e-6), 1), as PyTorch.

    Each gradient is replaced by a new scaled tensor rather than changed in place (PyTorch multiplies in
    place): a gradient array may be shared, and it would then be scaled twice.
    """
    params = _with_grads(parameters)
    if not params:
        return
    total = total_norm.item() if isinstance(total_norm, Tensor) else float(total_norm)
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)  # NaN stays NaN, as PyTorch's clamp leaves it
    for p in params:
        # asarray: NumPy returns a scalar, not an array, for a 0-d parameter's gradient
        p.grad = engine.from_numpy(np.asarray(p.grad.data * np.asarray(coefficient, dtype=p.grad.dtype)))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so their global norm is at most `max_norm`; returns the total norm before
    clipping (a 0-d tensor), as torch.nn.utils.clip_grad_norm_.

    coefficient = min(max_norm / (norm + 1e-6), 1): gradients below the limit are left as they are.
    """
    if not isinstance(parameters, Tensor):
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:  # e.g. model.parameters() already used up by an earlier loop
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    params = _with_grads(parameters)
    total_norm = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters):
        p.grad = engine.from_numpy(np.asarray(np.clip(p.grad.data, -clip_value, clip_value)))
