"""Helpers shared by the ops: operand conversion, broadcasting and axis handling."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.tensor import DEFAULT_FLOAT, Tensor, _to_array


def as_tensor(value: Any) -> Tensor:
    """A Tensor as is; anything else becomes a constant Tensor (Python floats become float32)."""
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(_to_array(value))


def _is_weak_scalar(value: Any) -> bool:
    """Python and NumPy scalars adopt the other operand's dtype, as in PyTorch."""
    return isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, np.ndarray)


def _scalar_operand(value: Any, other: Tensor) -> tuple[Tensor, Tensor]:
    kind = other.dtype.kind
    if isinstance(value, (float, np.floating)) and kind != "f":
        # int tensor * 2.5 -> float32, like PyTorch's default dtype
        return Tensor._wrap(np.asarray(value, DEFAULT_FLOAT)), Tensor._wrap(other.data.astype(DEFAULT_FLOAT))
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and kind == "b":
        return Tensor._wrap(np.asarray(value, np.int64)), other
    return Tensor._wrap(np.asarray(value, other.dtype)), other


def binary_operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two Tensors with a common dtype and broadcast-compatible shapes, or a clear error."""
    # Fast paths for the two commonest cases, each checked in a few attribute reads (every binary op
    # pays this): Tensor with Tensor of the same dtype and shape, and float tensor with a Python number.
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype == b.data.dtype and a.data.shape == b.data.shape:
                return a, b
        elif (type(b) is float or type(b) is int) and a.data.dtype.kind == "f":
            return a, Tensor._wrap(np.asarray(b, a.data.dtype))
    elif (type(a) is float or type(a) is int) and isinstance(b, Tensor) and b.data.dtype.kind == "f":
        return Tensor._wrap(np.asarray(a, b.data.dtype)), b
    a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_tensor and not b_tensor and _is_weak_scalar(b):
        b, a = _scalar_operand(b, a)
        return a, b
    if b_tensor and not a_tensor and _is_weak_scalar(a):
        return _scalar_operand(a, b)
    if not a_tensor:
        a = as_tensor(a)
    if not b_tensor:
        b = as_tensor(b)
    if a.data.dtype != b.data.dtype:
        a, b = _promote(a, b)
    if a.data.shape != b.data.shape:
        try:
            np.broadcast_shapes(a.data.shape, b.data.shape)
        except ValueError:
            raise ValueError(
                f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together (NumPy rules: "
                "trailing dimensions must be equal or 1); reshape or unsqueeze one operand"
            ) from None
    return a, b


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """A float operand decides the dtype of a mixed float/integer pair (NumPy would pick float64)."""
    a_float, b_float = a.dtype.kind == "f", b.dtype.kind == "f"
    if a_float and not b_float:
        return a, Tensor._wrap(b.data.astype(a.dtype))
    if b_float and not a_float:
        return Tensor._wrap(a.data.astype(b.dtype)), b
    return a, b


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back to the input's shape (works on arrays and on Tensors)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, size in enumerate(shape) if size == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def normalize_axes(op: str, axis: Any, ndim: int, dim: Any = None) -> tuple[int, ...] | None:
    """Axes as a sorted tuple of non-negative ints (None = all); `dim=` is PyTorch's name for `axis=`."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give either axis= or dim= (its PyTorch alias), not both")
        axis = dim
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis!r} repeats a dimension")
    if ndim == 0:
        return None  # a 0-d tensor has one element; PyTorch accepts dim 0 / -1 for it
    return tuple(sorted(result))


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over `axes` has with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over `axes` has with keepdims=False."""
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)
