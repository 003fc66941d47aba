"""Ops that pick or place values by an index or a mask: gather, scatter, scatter_add, masked_fill, tril, triu.

gather and scatter work along one dimension with an index tensor of the input's number of dimensions: for
dim=1, gather reads out[i][j] = input[i][index[i][j]] and scatter writes out[i][index[i][j]] = src[i][j].
Each one's gradient is the other's move backwards (GatherAlong and ScatterAlong, in shape.py, are the pair).
An index is int64 (int32 is accepted too, as in PyTorch), and its values are in [0, size): PyTorch does not
count negative ones from the end here, so dagrad does not either.

Every result is a new tensor (a copy); each op has an in-place form (scatter_, scatter_add_, masked_fill_,
tril_, triu_).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.dims import normalize_dim
from engine.dtypes import is_number
from engine.errors import DtypeError, ShapeError
from engine.function import Function, call_label
from engine.operands import as_tensor, broadcast_shape
from engine.ops.shape import GatherAlong, _along
from engine.registry import op
from engine.tensor import Tensor

# ----- gather ------------------------------------------------------------------------------------------


@op()
def gather(input: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """Pick one element per index entry along `dim`: out[i][j] = input[i][index[i][j]] for dim=1. The result
    has the index's shape; the gradient goes back to the picked places (summed where an index repeats)."""
    x = as_tensor(input)
    if sparse_grad:
        raise ValueError("gather: dagrad has no sparse gradients; leave sparse_grad=False")
    indices = _index_array("gather", index)
    d = normalize_dim("gather", dim, x.ndim)
    _check_along("gather", x.shape, d, indices)
    if x.ndim == 0 or indices.ndim == 0:  # PyTorch reads a 0-d tensor as a 1-d one of one element here
        return gather(x.reshape(-1), 0, indices.reshape(-1)).reshape(indices.shape)
    return GatherAlong.apply(x, indices, d)


def _index_array(op_name: str, index: Any) -> np.ndarray:
    """The index's array; it must hold int64 (or int32) values, as in PyTorch."""
    indices = index.data if isinstance(index, Tensor) else np.asarray(index)
    if indices.dtype not in (np.int64, np.int32):
        raise DtypeError(
            f"{op_name}: index must be an int64 tensor (int32 is accepted too, as in PyTorch), got {indices.dtype} "
            f"of shape {indices.shape}; convert it with index.long()"
        )
    return indices


def _check_along(
    op_name: str, shape: tuple[int, ...], dim: int, indices: np.ndarray, src_shape: tuple[int, ...] | None = None
) -> None:
    """PyTorch's rules for an index along `dim`: as many dimensions as the input (0-d counting as 1-d), no
    larger than the input outside dim (nor than src anywhere, for scatter), values in [0, size of dim).
    An empty index does nothing, and is not checked."""
    if indices.size == 0:
        return
    shape, index_shape = shape or (1,), indices.shape or (1,)
    src_shape = None if src_shape is None else src_shape or (1,)
    if len(index_shape) != len(shape) or (src_shape is not None and len(src_shape) != len(shape)):
        src = "" if src_shape is None else f" and src has {len(src_shape)} (shape {src_shape})"
        raise ShapeError(
            f"{op_name}: index has {indices.ndim} dimensions (shape {indices.shape}) but input has {len(shape)} "
            f"(shape {shape}){src}; they must have as many (unsqueeze the index)"
        )
    for d, (n, size) in enumerate(zip(index_shape, shape)):
        too_large_for = "input" if d != dim and n > size else "src" if src_shape and n > src_shape[d] else None
        if too_large_for:
            larger = f"input {shape}" if too_large_for == "input" else f"src {src_shape}"
            src = "" if src_shape is None else ", nor than src anywhere"
            raise ShapeError(
                f"{op_name}: index of shape {indices.shape} is larger than {larger} in dimension {d}; it may be no "
                f"larger than input outside dimension {dim}{src}"
            )
    size = shape[dim]
    outside = (indices < 0) | (indices >= size)
    if outside.any():
        raise IndexError(
            f"{op_name}: index {indices[outside].flat[0]} is out of bounds for dimension {dim} with size {size} "
            f"(input shape {shape}); indices must be in [0, {size}) (negative ones do not count from the end)"
        )


# ----- scatter, scatter_add ------------------------------------------------------------------------


class Scatter(Function):
    """d/dinput = 1 except where src was written (0 there),  d/dsrc = the gradient gathered at the index"""

    symbol = "scatter"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, src, indices, dim):
        ctx.dim, ctx.src_shape = dim, src.shape
        ctx.save_for_backward(indices)
        out = x.copy()
        if indices.size:
            # src has the index's shape, or is 0-d (a value); where the index repeats, one of the writes wins
            out[_along(indices, dim)] = src
        return out

    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        indices = indices.data if isinstance(indices, Tensor) else indices
        grad_x = grad_src = None
        if ctx.needs_input_grad[0]:  # the gradient with zeros where src overwrote the input
            grad_x = Scatter.call(grad, _zeros((), grad), indices, ctx.dim)
        if ctx.needs_input_grad[1]:
            grad_src = _gathered(grad, indices, ctx.dim, ctx.src_shape)
        return grad_x, grad_src


def _zeros(shape: tuple[int, ...], like: Any) -> Any:
    """Zeros in like's dtype: an array, or a constant Tensor when like is one (under create_graph)."""
    zeros = np.zeros(shape, like.dtype)
    return Tensor._wrap(zeros) if isinstance(like, Tensor) else zeros


def _gathered(grad: Any, indices: np.ndarray, dim: int, src_shape: tuple[int, ...]) -> Any:
    """src's gradient: the gradient gathered at the index (zeros when the index is empty: nothing was read)."""
    return GatherAlong.call(grad, indices, dim) if indices.size else _zeros(src_shape, grad)


def _scatter(op_name: str, function: type[Function], input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """input with src written (or added) at index along dim, after PyTorch's checks."""
    x = as_tensor(input)
    indices = _index_array(op_name, index)
    d = normalize_dim(op_name, dim, x.ndim)
    if is_number(src):  # a value: written at every index, in the input's dtype
        _check_along(op_name, x.shape, d, indices)
        src = Tensor._wrap(np.asarray(src).astype(x.dtype))
    else:
        src = as_tensor(src)
        _check_along(op_name, x.shape, d, indices, src.shape)
        if src.dtype != x.dtype:
            raise DtypeError(
                f"{op_name}: src is {src.dtype} but input is {x.dtype}; they must have the same dtype (as in "
                f"PyTorch): convert src with src.to({str(x.dtype)!r})"
            )
        if src.ndim and src.shape != indices.shape and indices.size:
            # only src's first index.shape elements are read: a view of them, whose gradient is zero elsewhere
            # (PyTorch's backward fails on a larger src that requires grad)
            src = src[tuple(slice(n) for n in indices.shape)]
    if x.ndim == 0 or indices.ndim == 0:  # PyTorch reads a 0-d tensor as a 1-d one of one element here
        return function.apply(x.reshape(-1), src.reshape(-1), indices.reshape(-1), 0).reshape(x.shape)
    return function.apply(x, src, indices, d)


@op(inplace="scatter_")
def scatter(input: Any, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: Any = None) -> Tensor:
    """A copy of input with src[i][j] written at [i][index[i][j]] for dim=1 (or `value` at every index); where
    the index repeats, which write wins is not defined (PyTorch's is not either)."""
    if reduce is not None:
        raise ValueError(
            f"scatter: reduce={reduce!r} is not supported (PyTorch deprecates it); use scatter_add for reduce='add'"
        )
    if (src is None) == (value is None):
        raise TypeError("scatter: give src (a tensor, or a number) or value= (a number), not both")
    if value is not None and not is_number(value):
        raise TypeError(f"scatter: value must be a number, got {type(value).__name__}; pass a tensor as src")
    return _scatter("scatter", Scatter, input, dim, index, value if src is None else src)


class ScatterAdd(Function):
    """d/dinput = 1,  d/dsrc = the gradient gathered at the index (each src element was added to one place)"""

    symbol = "scatter_add"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, src, indices, dim):
        ctx.dim, ctx.src_shape = dim, src.shape
        ctx.save_for_backward(indices if ctx.needs_input_grad[1] else None)
        out = x.copy()
        if indices.size:
            np.add.at(out, _along(indices, dim), src)  # repeated indices accumulate
        return out

    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[1]:
            indices = indices.data if isinstance(indices, Tensor) else indices
            grad_src = _gathered(grad, indices, ctx.dim, ctx.src_shape)
        return (grad if ctx.needs_input_grad[0] else None), grad_src


@op(inplace="scatter_add_")
def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of input with src[i][j] added at [i][index[i][j]] for dim=1; repeated indices add up."""
    if is_number(src):
        raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__} (as in PyTorch)")
    return _scatter("scatter_add", ScatterAdd, input, dim, index, src)


# ----- masked_fill -----------------------------------------------------------------------------------


class MaskedFill(Function):
    """d/dx = 1 where the mask is False (0 where filled),  d/dvalue = the sum of the gradient over the filled places"""

    symbol = "masked_fill"

    def forward(ctx, x, value, mask):
        ctx.save_for_backward(mask)
        return np.where(mask, value.astype(x.dtype), x)  # the shape of x and mask broadcast together

    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        mask = mask.data if isinstance(mask, Tensor) else mask
        zero = _zeros((), grad)
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = MaskedFill.call(grad, zero, mask)
        if ctx.needs_input_grad[1]:
            grad_value = MaskedFill.call(grad, zero, ~mask).sum()
        return grad_x, grad_value


@op(inplace="masked_fill_")
def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """A copy of input with `value` (a number or a 0-d tensor) where the bool `mask` is True; mask broadcasts.
    The gradient reaches input where the mask is False and a tensor value from every filled place."""
    x = as_tensor(input)
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise DtypeError(f"masked_fill: mask must be a bool tensor (e.g. x > 0), got {mask.dtype}; use mask.bool()")
    if is_number(value):
        value = Tensor._wrap(np.asarray(value).astype(x.dtype))
    elif not isinstance(value, Tensor) or value.ndim != 0:
        shown = f"a tensor of shape {value.shape}" if isinstance(value, Tensor) else type(value).__name__
        raise ShapeError(
            f"masked_fill: value must be a number or a 0-d tensor, got {shown}; to fill from a tensor of values "
            "use engine.where(mask, values, input)"
        )
    broadcast_shape("masked_fill", x.shape, mask.shape)
    return MaskedFill.apply(x, value, mask)


# ----- tril, triu ------------------------------------------------------------------------------------


class Tril(Function):
    """d tril(x)/dx = 1 on and below the diagonal, 0 above it: the gradient is tril(grad)"""

    symbol = "tril"
    keep = staticmethod(np.tril)  # what stays: the lower triangle

    @property
    def label(self) -> str:
        return call_label(self.symbol, self.diagonal) if self.diagonal else self.symbol

    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return ctx.keep(x, diagonal)

    def backward(ctx, grad):
        return (type(ctx).call(grad, ctx.diagonal),)


class Triu(Tril):
    """d triu(x)/dx = 1 on and above the diagonal, 0 below it: the gradient is triu(grad)"""

    symbol = "triu"
    keep = staticmethod(np.triu)


def _triangle(op_name: str, function: type[Tril], input: Any, diagonal: Any) -> Tensor:
    x = as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"{op_name}: expects a matrix or a batch of them (at least 2 dimensions), got shape {x.shape}")
    if not isinstance(diagonal, int | np.integer) or isinstance(diagonal, bool):
        raise TypeError(f"{op_name}: diagonal must be an int, got {diagonal!r}")
    return function.apply(x, int(diagonal))


@op(inplace="tril_")
def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (diagonal=k keeps k diagonals above the main one too;
    a negative k drops some below it); the rest is zero."""
    return _triangle("tril", Tril, input, diagonal)


@op(inplace="triu_")
def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (diagonal=k drops k diagonals above the main one too;
    a negative k keeps some below it); the rest is zero."""
    return _triangle("triu", Triu, input, diagonal)
