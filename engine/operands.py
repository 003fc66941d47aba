"""Turning what a user passes to an op into the Tensors it computes on: numbers and lists become constant
Tensors, and operands of different dtypes are brought to the one PyTorch's rule gives (engine.dtypes).

A Python number becomes a 0-d constant Tensor of the result dtype (so `a * 2` draws the 2 as a constant
node, micrograd-style). A Tensor of another dtype is converted; when it requires grad the conversion is
a recorded op, so its gradient flows back in its own dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.dtypes import DEFAULT_FLOAT, is_number, result_type
from engine.errors import ShapeError
from engine.tensor import Tensor, _to_array


def as_tensor(value: Any) -> Tensor:
    """A Tensor as is; anything else becomes a constant Tensor (Python floats become float32)."""
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(_to_array(value))


def converted(tensor: Tensor, dtype: np.dtype) -> Tensor:
    """`tensor` in `dtype`: a recorded conversion when it requires grad, a plain copy otherwise."""
    if tensor.data.dtype == dtype:
        return tensor
    if tensor.requires_grad and dtype.kind == "f":
        copy = tensor.to(dtype)
    else:
        copy = Tensor._wrap(tensor.data.astype(dtype))
    return copy._count_versions_with(tensor if tensor._base is None else tensor._base)


def promote(op: str, *values: Any) -> list[Tensor]:
    """The operands as Tensors of one dtype (PyTorch's promotion), or a clear error."""
    first = values[0]
    if isinstance(first, Tensor):  # the commonest case, checked first: Tensors that already share a dtype
        dtype = first.data.dtype
        for value in values:
            if not isinstance(value, Tensor) or value.data.dtype is not dtype:
                break
        else:
            return list(values)
    dtype = result_type(*values)
    return [Tensor._wrap(np.asarray(v, dtype)) if is_number(v) else converted(as_tensor(v), dtype) for v in values]


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
    a, b = promote(op, a, b)
    if a.data.shape != b.data.shape:
        broadcast_shape(op, a.data.shape, b.data.shape)
    return a, b


def broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the operands broadcast to, or a ShapeError that says how to fix it."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(
            f"{op}: shapes {listed} cannot be broadcast together (trailing dimensions must be equal or 1); "
            "reshape or unsqueeze an operand"
        ) from None


def float_input(x: Any) -> Tensor:
    """A Tensor for ops defined on floats (exp, log, mean...): integers and bools become float32, as in PyTorch."""
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        return converted(x, DEFAULT_FLOAT)
    return x
