"""Shape ops: reshape, transpose, expand, indexing, cat and stack. They move values, never change them,
so each backward moves the gradient back the same way."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.function import Function, call_label
from engine.ops._util import as_tensor, normalize_axes, unbroadcast
from engine.tensor import Tensor, _index_arrays


class Reshape(Function):
    """reshape moves values only: the gradient is reshaped back"""

    symbol = "reshape"

    @property
    def label(self) -> str:
        return call_label(self.symbol, *self.shape)

    def forward(ctx, x, shape):
        ctx.in_shape, ctx.shape = x.shape, shape
        return x.reshape(shape)

    def backward(ctx, grad):
        return (grad.reshape(ctx.in_shape),)


class Transpose(Function):
    """a permutation of axes: the gradient gets the inverse permutation"""

    symbol = "permute"

    @property
    def label(self) -> str:
        return "T" if self.axes is None else call_label(self.symbol, *self.axes)

    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    def backward(ctx, grad):
        inverse = None if ctx.axes is None else tuple(np.argsort(ctx.axes))
        return (Transpose.call(grad, inverse),)


class Expand(Function):
    """broadcasting copies values: the gradient of each copy is summed back"""

    symbol = "expand"

    @property
    def label(self) -> str:
        return call_label(self.symbol, *self.shape)

    def forward(ctx, x, shape):
        ctx.in_shape, ctx.shape = x.shape, shape
        return np.broadcast_to(x, shape)

    def backward(ctx, grad):
        return (unbroadcast(grad, ctx.in_shape),)


class GetItem(Function):
    """x[index] picks elements: the gradient goes back to the picked positions (summed where repeated)"""

    symbol = "[]"

    @property
    def label(self) -> str:
        index = self.__dict__.get("index")  # released with the node when it held index arrays
        return "[…]" if index is None else format_index(index)

    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        try:
            return x[index]
        except (IndexError, ValueError) as error:  # ValueError: a slice step of 0
            raise type(error)(f"getitem: {error} (tensor shape {x.shape}, index {index!r})") from None

    def backward(ctx, grad):
        return (IndexAdd.call(grad, ctx.index, ctx.in_shape),)


class IndexAdd(Function):
    """zeros(shape) with `values` added at `index`: the gradient is grad[index] (the inverse of GetItem)"""

    symbol = "index_add"

    def forward(ctx, values, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        if _has_integer_array(index):
            np.add.at(out, index, values)  # repeated indices accumulate
        else:
            out[index] = values
        return out

    def backward(ctx, grad):
        return (GetItem.call(grad, ctx.index),)


class Cat(Function):
    """concatenation: each input's gradient is its slice of the output gradient"""

    symbol = "cat"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.axis)

    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [a.shape[axis] for a in arrays])
        return np.concatenate(arrays, axis=axis)

    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[(*lead, slice(lo, hi))] for lo, hi in zip(ctx.bounds[:-1], ctx.bounds[1:]))


class Stack(Function):
    """stacking: input i's gradient is the output gradient at position i along the new axis"""

    symbol = "stack"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.axis)

    def forward(ctx, *arrays, axis):
        ctx.axis, ctx.count = axis, len(arrays)
        return np.stack(arrays, axis=axis)

    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[(*lead, i)] for i in range(ctx.count))


# ----- the public functions -----------------------------------------------------------------------


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def reshape(x: Any, shape: Any) -> Tensor:
    """Same values in a new shape; one dimension may be -1 (inferred)."""
    x = as_tensor(x)
    shape = _shape_tuple(shape)
    if shape == x.shape:
        return x
    inferred = -1 in shape
    known = math.prod(shape) if not inferred else math.prod(s for s in shape if s != -1)
    # with a 0 among the given sizes the -1 could be anything: ambiguous (PyTorch refuses it too)
    fits = known > 0 and x.size % known == 0 if inferred else known == x.size
    if not fits or min(shape, default=0) < -1 or (inferred and shape.count(-1) > 1):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
            + ("" if -1 in shape else f" ({known} elements)")
            + ("; the -1 is ambiguous next to a size 0" if -1 in shape and known == 0 else "")
        )
    return Reshape.apply(x, shape)._share_version_with(x)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes start_axis..end_axis into one (all of them by default)."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_axes("flatten", a, x.ndim)[0] for a in (start_axis, end_axis))  # type: ignore[index]
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {x.shape}")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1 :])


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when axes is None), like np.transpose."""
    x = as_tensor(x)
    if axes is not None:
        axes = tuple(int(a) for a in axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        axes = tuple(a % x.ndim for a in axes)
    if x.ndim < 2:
        return x
    return Transpose.apply(x, axes)._share_version_with(x)


permute = transpose


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (PyTorch's two-argument transpose)."""
    x = as_tensor(x)
    a, b = (normalize_axes("swapaxes", axis, x.ndim)[0] for axis in (axis1, axis2))  # type: ignore[index]
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def squeeze(x: Any, axis: Any = None, *, dim: Any = None) -> Tensor:
    """Drop axes of size 1 (all of them, or those given; a given axis of other size is left, as PyTorch)."""
    x = as_tensor(x)
    axes = normalize_axes("squeeze", axis, x.ndim, dim)
    drop = set(range(x.ndim)) if axes is None else set(axes)
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in drop and s == 1)))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert an axis of size 1 at `axis` (negative counts from the end of the result)."""
    x = as_tensor(x)
    if not -(x.ndim + 1) <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a result with {x.ndim + 1} dimensions")
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


expand_dims = unsqueeze


def expand(x: Any, shape: Any) -> Tensor:
    """Broadcast to `shape` without copying; -1 keeps a dimension (PyTorch's expand)."""
    x = as_tensor(x)
    shape = _shape_tuple(shape)
    offset = len(shape) - x.ndim
    if offset >= 0:
        shape = tuple(x.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(shape))
    try:
        np.broadcast_shapes(x.shape, shape)
        if offset < 0 or np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"expand: cannot broadcast a tensor of shape {x.shape} to {shape}; only dimensions of size 1 "
            "can be expanded (and new ones added in front)"
        ) from None
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)._share_version_with(x)


broadcast_to = expand


def _has_integer_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def getitem(x: Any, index: Any) -> Tensor:
    """NumPy indexing: ints, slices (with steps), None, Ellipsis, integer arrays and boolean masks."""
    x = as_tensor(x)
    index = _index_arrays(index)
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype.kind not in "iub":
            raise IndexError(f"getitem: index arrays must be integer or bool, got {part.dtype}")
    return GetItem.apply(x, index)._share_version_with(x)


def cat(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis; all other dimensions must match."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expects a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    (axis,) = normalize_axes("cat", axis if dim is None else None, ndim, dim) or (0,)
    for t in tensors[1:]:
        if (
            t.ndim != ndim
            or t.shape[:axis] + t.shape[axis + 1 :] != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            raise ValueError(
                f"cat: shapes {[tuple(t.shape) for t in tensors]} differ outside axis {axis}; all dimensions "
                "except the concatenation axis must match"
            )
    tensors = _common_dtype(tensors)
    return Cat.apply(*tensors, axis=axis)


concatenate = cat


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expects a non-empty sequence of tensors")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: all tensors must have the same shape, got {[tuple(t.shape) for t in tensors]}")
    if dim is not None:
        axis = dim
    ndim = tensors[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for a result with {ndim} dimensions")
    return Stack.apply(*_common_dtype(tensors), axis=axis % ndim)


def _common_dtype(tensors: list[Tensor]) -> list[Tensor]:
    """The dtype all inputs are cast to: the float inputs decide when there are any (int64 with float32 is
    float32, as PyTorch, where NumPy would pick float64)."""
    dtypes = [t.dtype for t in tensors]
    floats = [d for d in dtypes if d.kind == "f"]
    dtype = np.result_type(*(floats or dtypes))
    return [t if t.dtype == dtype else t.astype(dtype) for t in tensors]


def format_index(index: Any) -> str:
    """An index as written in code: '[0, :, 1:3]', '[..., None]', '[mask]' (arrays are not spelled out)."""
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_index_part(p) for p in parts) + "]"


def _index_part(part: Any) -> str:
    if part is None:
        return "None"
    if part is Ellipsis:
        return "..."
    if isinstance(part, slice):
        text = ":".join("" if v is None else str(v) for v in (part.start, part.stop))
        return text + (f":{part.step}" if part.step is not None else "")
    if isinstance(part, np.ndarray):
        if part.dtype == bool:
            return "mask"
        return str(part.tolist()) if part.size <= 4 else f"<{part.size} indices>"
    return str(part)
