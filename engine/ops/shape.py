"""Shape ops: reshape/view, transpose/permute, expand, squeeze/unsqueeze, flatten, indexing (x[i] and
x[i] = v), cat, stack, gather. They move values, never change them, so each backward moves the gradient
back the same way.

Every shape op returns a new Tensor, also when nothing changes (`x.reshape(x.shape)`): hooks and
retain_grad on the result then act on the result, not on x. Results that share x's memory (views) share
its version counter, so an in-place change through either is seen by graphs that saved the other.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.dims import normalize_dim, normalize_dims
from engine.errors import DimError, DtypeError, ShapeError
from engine.function import Function, call_label
from engine.operands import as_tensor, promote
from engine.ops.elementwise import Clone
from engine.registry import op, tensor_property
from engine.tensor import Tensor

# ----- reshape, view, flatten, squeeze, unsqueeze -------------------------------------------------


class Reshape(Function):
    """reshape moves values only: the gradient is reshaped back"""

    symbol = "reshape"

    @property
    def label(self) -> str:
        return self.shown or call_label(self.symbol, *self.shape)

    def forward(ctx, x, shape, shown=None):
        ctx.in_shape, ctx.shape, ctx.shown = x.shape, shape, shown
        return x.reshape(shape)

    def backward(ctx, grad):
        return (grad.reshape(ctx.in_shape),)


def _sizes(op_name: str, sizes: tuple[Any, ...]) -> tuple[int, ...]:
    """reshape(2, 3) and reshape((2, 3)) alike; sizes are ints."""
    if len(sizes) == 1 and not isinstance(sizes[0], int | np.integer):
        sizes = tuple(sizes[0])
    if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in sizes):
        raise TypeError(f"{op_name}: sizes must be ints, got {sizes!r}")
    return tuple(int(s) for s in sizes)


def _resolve(op_name: str, x: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with its -1 (if any) filled in, or a ShapeError."""
    inferred = -1 in shape
    known = math.prod(s for s in shape if s != -1)
    # with a 0 among the given sizes the -1 could be anything: ambiguous (PyTorch refuses it too)
    fits = known > 0 and x.data.size % known == 0 if inferred else known == x.data.size
    if not fits or min(shape, default=0) < -1 or shape.count(-1) > 1:
        raise ShapeError(
            f"{op_name}: cannot reshape a tensor of shape {x.shape} ({x.data.size} elements) into {shape}"
            + ("" if inferred else f" ({known} elements)")
            + ("; the -1 is ambiguous next to a size 0" if inferred and known == 0 else "")
        )
    return tuple(x.data.size // known if s == -1 else s for s in shape)


def _reshaped(x: Tensor, shape: tuple[int, ...], shown: str | None = None) -> Tensor:
    return Reshape.apply(x, shape, shown)._share_version_with(x, (Reshape, (shape, shown)))


@op()
def reshape(input: Any, *shape: Any) -> Tensor:
    """The same values in a new shape; one size may be -1 (inferred). A view when the memory allows it."""
    input = as_tensor(input)
    return _reshaped(input, _resolve("reshape", input, _sizes("reshape", shape)))


@op(export_as=False)
def view(x: Tensor, *shape: Any) -> Tensor:
    """reshape that never copies (PyTorch's view): an error when the memory layout does not allow it."""
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer | tuple | list):
        raise TypeError(f"view: dagrad views shapes only, got {shape[0]!r}; use .to(dtype) to convert")
    target = _resolve("view", x, _sizes("view", shape))
    try:
        np.reshape(x.data, target, copy=False)
    except ValueError:
        raise ShapeError(
            f"view: a tensor of shape {x.shape} with strides {x.data.strides} cannot be viewed as {target} without "
            "copying (its elements are not laid out in that order, e.g. after a transpose); use .reshape(...) "
            "instead, which copies when it must (or .contiguous().view(...))"
        ) from None
    return _reshaped(x, target, call_label("view", *target))


@op(export_as=False)
def contiguous(x: Tensor) -> Tensor:
    """x with its elements laid out in row-major order: x itself when they already are, else a copy."""
    return x if x.data.flags.c_contiguous else Clone.apply(x)


@op(export_as=False)
def is_contiguous(input: Tensor) -> bool:
    """Whether the elements are laid out in row-major order, so .view() can reshape without a copy."""
    return bool(input.data.flags.c_contiguous)


@op()
def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one (all of them by default); with nothing to merge (a 1-d x),
    x itself, as in PyTorch."""
    input = as_tensor(input)
    if input.ndim == 0:
        return _reshaped(input, (1,), "flatten")
    start, end = normalize_dim("flatten", start_dim, input.ndim), normalize_dim("flatten", end_dim, input.ndim)
    if start > end:
        raise DimError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {input.shape}")
    if start == end:
        return input  # no dimension to merge: the tensor itself, as torch.flatten documents (not a new view)
    merged = math.prod(input.shape[start : end + 1])  # spelled out, not -1: ambiguous for an empty tensor
    return _reshaped(
        input, input.shape[:start] + (merged,) + input.shape[end + 1 :], call_label("flatten", start_dim or None)
    )


@op()
def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension `dim` into `sizes` (one may be -1): the inverse of flatten."""
    input = as_tensor(input)
    d = normalize_dim("unflatten", dim, input.ndim)
    sizes = _sizes("unflatten", (sizes,))
    known = math.prod(s for s in sizes if s != -1)
    if (
        sizes.count(-1) > 1
        or (-1 not in sizes and known != input.shape[d])
        or (-1 in sizes and (known == 0 or input.shape[d] % known))
    ):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to dimension {dim}'s length {input.shape[d]}")
    sizes = tuple(input.shape[d] // known if s == -1 else s for s in sizes)
    return _reshaped(input, input.shape[:d] + sizes + input.shape[d + 1 :], call_label("unflatten", dim, sizes))


@op()
def squeeze(input: Any, dim: Any = None, *, axis: Any = None) -> Tensor:
    """Drop dimensions of size 1 (all of them, or those given; a given one of another size stays, as PyTorch)."""
    input = as_tensor(input)
    dims = normalize_dims("squeeze", dim if axis is None else axis, input.ndim)
    drop = set(range(input.ndim)) if dims is None else set(dims)
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in drop and s == 1))
    return _reshaped(input, shape, call_label("squeeze", dim))


@op(aliases=["expand_dims"])
def unsqueeze(input: Any, dim: int) -> Tensor:
    """Insert a dimension of size 1 at `dim` (negative counts from the end of the result)."""
    input = as_tensor(input)
    if not isinstance(dim, int | np.integer) or not -(input.ndim + 1) <= dim <= input.ndim:
        raise DimError(
            f"unsqueeze: dim {dim} is out of range for a result with {input.ndim + 1} dimensions "
            f"(expected to be in range [{-(input.ndim + 1)}, {input.ndim}])"
        )
    d = int(dim) % (input.ndim + 1)
    return _reshaped(input, input.shape[:d] + (1,) + input.shape[d:], call_label("unsqueeze", dim))


# ----- transpose, permute --------------------------------------------------------------------------


class Transpose(Function):
    """a permutation of dimensions: the gradient gets the inverse permutation"""

    symbol = "permute"

    @property
    def label(self) -> str:
        return "T" if self.dims is None else call_label(self.symbol, *self.dims)

    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    def backward(ctx, grad):
        inverse = None if ctx.dims is None else tuple(np.argsort(ctx.dims))
        return (Transpose.call(grad, inverse),)


def _permuted(x: Tensor, dims: tuple[int, ...] | None) -> Tensor:
    return Transpose.apply(x, dims)._share_version_with(x, (Transpose, (dims,)))


@op()
def permute(input: Any, *dims: Any) -> Tensor:
    """The dimensions in the order `dims` (a permutation of 0..ndim-1; negative ones count from the end)."""
    input = as_tensor(input)
    if not dims:
        raise TypeError("permute: give the new order of the dims, e.g. x.permute(1, 0) (x.permute(()) for a 0-d x)")
    dims = _sizes("permute", dims)
    normalized = tuple(normalize_dim("permute", d, input.ndim) for d in dims)
    if sorted(normalized) != list(range(input.ndim)):
        raise DimError(
            f"permute: dims {dims} are not a permutation of the {input.ndim} dimensions of shape {input.shape}"
        )
    return _permuted(input, normalized)


@op()
def transpose(input: Any, dim0: Any = None, dim1: Any = None) -> Tensor:
    """transpose(x, dim0, dim1) swaps two dimensions (PyTorch); transpose(x) reverses them all (NumPy), and
    transpose(x, (2, 0, 1)) permutes them (NumPy's axes)."""
    input = as_tensor(input)
    if dim0 is None and dim1 is None:
        return _permuted(input, None)
    if dim1 is None:
        if not isinstance(dim0, tuple | list):
            raise TypeError(f"transpose: give two dims to swap (transpose(0, 1)) or a whole permutation, got {dim0!r}")
        return permute(input, *dim0)
    a, b = normalize_dim("transpose", dim0, input.ndim), normalize_dim("transpose", dim1, input.ndim)
    dims = list(range(input.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return _permuted(input, tuple(dims))


@op()
def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:
    """Exchange two dimensions (NumPy's name for PyTorch's two-argument transpose)."""
    return transpose(input, axis0, axis1)


@op()
def swapdims(input: Any, dim0: int, dim1: int) -> Tensor:
    """Exchange two dimensions: transpose(input, dim0, dim1) under PyTorch's other name."""
    return transpose(input, dim0, dim1)


@op()
def t(input: Any) -> Tensor:
    """The transpose of a matrix (a 0-d or 1-d tensor is returned as a view of itself), as PyTorch's t()."""
    input = as_tensor(input)
    if input.ndim > 2:
        raise DimError(f"t: expects a tensor with at most 2 dimensions, got shape {input.shape}; use transpose(d0, d1)")
    return _permuted(input, None)


@op(aliases=["moveaxis"])
def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """Move the dimension(s) `source` to the position(s) `destination`; the others keep their order (a view)."""
    x = as_tensor(input)
    source = (source,) if isinstance(source, int | np.integer) else tuple(source)
    destination = (destination,) if isinstance(destination, int | np.integer) else tuple(destination)
    if len(source) != len(destination):
        raise DimError(
            f"movedim: source {list(source)} and destination {list(destination)} must name as many dims "
            f"({len(source)} vs {len(destination)})"
        )
    moved = [normalize_dim("movedim", d, x.ndim) for d in source]
    places = [normalize_dim("movedim", d, x.ndim) for d in destination]
    for name, dims, given in (("source", moved, source), ("destination", places, destination)):
        if len(set(dims)) != len(dims):
            raise DimError(f"movedim: {name} {list(given)} repeats a dimension (shape {x.shape})")
    if x.ndim == 0:
        return _permuted(x, ())
    order: list[int | None] = [None] * x.ndim
    for d, place in zip(moved, places):
        order[place] = d
    staying = iter(d for d in range(x.ndim) if d not in moved)
    return _permuted(x, tuple(next(staying) if d is None else d for d in order))


@tensor_property("T")
def _reversed_dims(x: Tensor) -> Tensor:
    """The dimensions reversed (x.T)."""
    return _permuted(x, None)


@tensor_property("mT")
def _matrix_transpose(x: Tensor) -> Tensor:
    """The last two dimensions swapped (a batch of matrices transposed)."""
    if x.ndim < 2:
        raise DimError(f"mT: needs at least 2 dimensions, got shape {x.shape}")
    return transpose(x, -2, -1)


# ----- expand ------------------------------------------------------------------------------------


class Expand(Function):
    """broadcasting copies values: the gradient of each copy is summed back"""

    symbol = "expand"

    @property
    def label(self) -> str:
        return call_label(self.symbol, *self.shape)

    def forward(ctx, x, shape):
        ctx.shape = shape
        # A view that writes through to x (np.broadcast_to's is read-only): fill_ and x[i] = v on an expanded
        # tensor change x, as in PyTorch; arithmetic in place on it is refused (engine.inplace).
        strides = (0,) * (len(shape) - x.ndim) + tuple(0 if n == 1 else s for n, s in zip(x.shape, x.strides))
        strides = tuple(0 if size == 1 else s for size, s in zip(shape, strides)) if x.size else strides
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable)

    def backward(ctx, grad):
        return (grad,)  # summed back to the input's shape by the walk (engine.autograd.fit_gradient)


@op(aliases=["broadcast_to"])
def expand(input: Any, *sizes: Any) -> Tensor:
    """Broadcast to `sizes` without copying; -1 keeps a dimension, new ones go in front (PyTorch's expand)."""
    input = as_tensor(input)
    shape = _sizes("expand", sizes)
    offset = len(shape) - input.ndim
    if offset >= 0:
        shape = tuple(input.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(shape))
    try:
        if offset < 0 or np.broadcast_shapes(input.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(
            f"expand: cannot broadcast a tensor of shape {input.shape} to {shape}; only dimensions of size 1 "
            "can be expanded (and new ones added in front)"
        ) from None
    return Expand.apply(input, shape)._share_version_with(input, (Expand, (shape,)))


@op(export_as=False)
def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x expanded to other's shape."""
    return expand(x, other.shape)


# ----- indexing ------------------------------------------------------------------------------------


def split_index(index: Any) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """An index as PyTorch applies it: first the basic part (ints select, slices, None, ...), giving a view,
    then the advanced part (integer arrays and masks) on that view, or None when there is none.

    It differs from NumPy's single step where ints and arrays mix: for x of shape (2, 3, 4), x[0, :, [1, 2]]
    has shape (3, 2) in PyTorch (the 0 selects first) and (2, 3) in NumPy (the 0 counts as an array).
    """
    parts = index if isinstance(index, tuple) else (index,)
    basic: list[Any] = []
    advanced: list[Any] = []
    any_advanced = False
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
            part = int(part)  # a 0-d integer tensor selects, like an int (PyTorch)
        if part is None or isinstance(part, slice):
            basic.append(part)
            advanced.append(slice(None))
        elif part is Ellipsis:
            basic.append(part)
            advanced.append(part)
        elif isinstance(part, int | np.integer) and not isinstance(part, bool | np.bool_):
            basic.append(int(part))
        else:
            array = np.asarray(part)
            if array.dtype.kind not in "iub":
                shown = repr(part) if array.ndim == 0 else f"an array of {array.dtype}"
                raise IndexError(
                    f"getitem: an index must be an int, a slice, None, ... or an integer or bool array, got {shown} "
                    "(index arrays must be integer or bool); convert it (idx.long())"
                )
            basic.extend([slice(None)] * (array.ndim if array.dtype == bool and array.ndim else 1))
            if array.dtype == bool and array.ndim == 0:
                basic.pop()  # x[True] adds a dimension, it consumes none
            advanced.append(array)
            any_advanced = True
    if Ellipsis not in basic:
        basic.append(Ellipsis)  # x[1, 0] is then a 0-d view, not a copied NumPy scalar
    return tuple(basic), (tuple(advanced) if any_advanced else None)


def _index(array: np.ndarray, basic: tuple[Any, ...], advanced: tuple[Any, ...] | None) -> np.ndarray:
    view = array[basic]
    if advanced is None:
        return view
    if view.size == 0:
        _check_masks(view.shape, advanced)
    out = view[advanced]
    # PyTorch's index result is a new C-contiguous tensor; NumPy lays out some results transposed (an index
    # after a slice), and a later .view() would then be allowed where PyTorch refuses it (the fuzzer found it)
    return out if out.flags.c_contiguous else out.copy(order="C")


def _check_masks(shape: tuple[int, ...], advanced: tuple[Any, ...]) -> None:
    """A mask must have the shape of the dimensions it indexes: NumPy does not check it on an empty array,
    PyTorch does (and so does dagrad)."""
    consumed = [(p.ndim if p.dtype == bool else 1) if isinstance(p, np.ndarray) else 1 for p in advanced]
    rest = len(shape) - sum(c for p, c in zip(advanced, consumed) if p is not Ellipsis)
    d = 0
    for part, count in zip(advanced, consumed):
        if part is Ellipsis:
            d += rest
            continue
        if isinstance(part, np.ndarray) and part.dtype == bool and part.shape != shape[d : d + count]:
            raise IndexError(
                f"getitem: the mask of shape {part.shape} does not match the indexed dimensions "
                f"{shape[d : d + count]} (dimension {d} on) of shape {shape}"
            )
        d += count


def format_index(index: Any) -> str:
    """An index as written in code: '[0, :, 1:3]', '[..., None]', '[mask]' (long arrays are not spelled out)."""
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
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, np.ndarray | list):
        array = np.asarray(part)
        if array.dtype == bool:
            return "mask"
        return str(array.tolist()) if array.size <= 4 else f"<{array.size} indices>"
    return str(part)


class GetItem(Function):
    """x[index] picks elements: the gradient goes back to the picked positions (summed where repeated)"""

    symbol = "[]"

    @property
    def label(self) -> str:
        return self.shown

    def forward(ctx, x, basic, advanced, shown):
        ctx.in_shape, ctx.basic, ctx.shown, ctx.has_advanced = x.shape, basic, shown, advanced is not None
        if advanced is not None:
            ctx.save_for_backward(advanced)  # index arrays are saved values: freed by backward, as PyTorch's
        try:
            return _index(x, basic, advanced)
        except (IndexError, ValueError) as error:  # ValueError: a slice step of 0
            raise type(error)(f"getitem: {error} (tensor shape {x.shape}, index {shown})") from None

    def backward(ctx, grad):
        advanced = ctx.saved_tensors[0] if ctx.has_advanced else None
        return (IndexAdd.call(grad, ctx.basic, advanced, ctx.in_shape),)


class IndexAdd(Function):
    """zeros(shape) with `values` added at the index: the gradient is grad[index] (the inverse of GetItem)"""

    symbol = "index_add"

    def forward(ctx, values, basic, advanced, shape):
        ctx.basic, ctx.has_advanced = basic, advanced is not None
        if advanced is not None:
            ctx.save_for_backward(advanced)
        out = np.zeros(shape, dtype=values.dtype)
        view = out[basic]
        if advanced is None:
            view[...] = values
        else:
            np.add.at(view, advanced, values)  # repeated indices accumulate
        return out

    def backward(ctx, grad):
        advanced = ctx.saved_tensors[0] if ctx.has_advanced else None
        return (GetItem.call(grad, ctx.basic, advanced, "[…]"),)


@op(method="__getitem__")
def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with PyTorch's rules: ints, slices (with steps), None, Ellipsis, integer arrays and masks."""
    x = as_tensor(x)
    return _picked(x, *split_index(index), format_index(index))


def _picked(x: Tensor, basic: tuple[Any, ...], advanced: tuple[Any, ...] | None, shown: str) -> Tensor:
    """x[index] as GetItem records it; with a basic index it is a view of x, remade when x changes in place."""
    return GetItem.apply(x, basic, advanced, shown)._share_version_with(x, (GetItem, (basic, advanced, shown)))


# ----- narrow, split, chunk: slices along one dimension (views) -----------------------------------


def _slice_along(x: Tensor, dim: int, start: int, stop: int, shown: str | None = None) -> Tensor:
    """x[:, ..., start:stop] with the slice at `dim`: a view, recorded as the GetItem x[index] would be."""
    index = (slice(None),) * dim + (slice(start, stop),)
    return _picked(x, *split_index(index), shown or format_index(index))


def _sliced_dim(op_name: str, x: Tensor, dim: Any) -> int:
    if x.ndim == 0:
        raise ShapeError(f"{op_name}: expects a tensor with at least 1 dimension, got a 0-d tensor; reshape it first")
    return normalize_dim(op_name, dim, x.ndim)


@op()
def narrow(input: Any, dim: int, start: Any, length: int) -> Tensor:
    """The `length` elements of dimension `dim` from `start` on (a negative start counts from the end): a view."""
    x = as_tensor(input)
    d = _sliced_dim("narrow", x, dim)
    start, length, size = operator.index(start), operator.index(length), x.shape[d]  # a 0-d int tensor too
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start {start} is out of range for dimension {dim} of size {size} (shape {x.shape}); "
            f"expected in [{-size}, {size}]"
        )
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise ShapeError(
            f"narrow: start ({start}) + length ({length}) "
            + ("is negative" if length < 0 else f"exceeds the size ({size}) of dimension {dim} of shape {x.shape}")
            + "; the length must be in [0, size - start]"
        )
    return _slice_along(x, d, start, start + length, call_label("narrow", dim, start, length))


@op(method=False)
def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut `tensor` along `dim` into pieces of split_size elements (the last one may be smaller) or, given a
    list, of those sizes: a tuple of views."""
    x = as_tensor(tensor)
    d = _sliced_dim("split", x, dim)
    size = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and size != 0):
            raise ShapeError(
                f"split: split_size must be positive (0 only for a dimension of size 0), got {step} for "
                f"dimension {dim} of size {size}"
            )
        sizes = [min(step, size - start) for start in range(0, size, step)] if size else [0]
    else:
        sizes = list(_sizes("split", (split_size_or_sections,)))
        if sum(sizes) != size or min(sizes, default=0) < 0:
            raise ShapeError(
                f"split: sizes {sizes} must be non-negative and sum to the size {size} of dimension {dim} "
                f"(shape {x.shape})"
            )
    bounds = np.cumsum([0, *sizes]).tolist()
    return tuple(_slice_along(x, d, start, stop) for start, stop in itertools.pairwise(bounds))


@op(method="split", export_as=False)
def split_method(self: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """x.split(split_size, dim=0): engine.split as a method (PyTorch names its size argument split_size here)."""
    return split(self, split_size, dim)


@op()
def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut `input` along `dim` into pieces of ceil(size / chunks) elements: at most `chunks` views (fewer when
    they cannot be equal, as in PyTorch: 6 elements in 4 chunks give 3 pieces of 2)."""
    x = as_tensor(input)
    d = _sliced_dim("chunk", x, dim)
    if not isinstance(chunks, int | np.integer) or chunks <= 0:
        raise ShapeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    size = x.shape[d]
    if size == 0:  # any number of empty pieces adds up to 0: PyTorch gives `chunks` of them
        return tuple(_slice_along(x, d, 0, 0) for _ in range(chunks))
    return split(x, -(-size // chunks), d)


class IndexPut(Function):
    """x with x[index] = v:  d/dx = 1 outside the index (0 inside),  d/dv = the gradient at the index"""

    symbol = "[]="

    @property
    def label(self) -> str:
        return f"{self.shown} ="

    def forward(ctx, x, value, basic, advanced, shown):
        ctx.basic, ctx.shown, ctx.has_advanced = basic, shown, advanced is not None
        if advanced is not None:
            ctx.save_for_backward(advanced)
        out = np.array(x)  # a copy, and an array even when x is a NumPy scalar (0-d arithmetic gives those)
        try:
            view = out[basic]
            if advanced is None:
                view[...] = value
            else:
                if view.size == 0:
                    _check_masks(view.shape, advanced)
                view[advanced] = value
        except (IndexError, ValueError) as error:
            raise type(error)(f"__setitem__: {error} (tensor shape {x.shape}, index {shown})") from None
        return out

    def backward(ctx, grad):
        advanced = ctx.saved_tensors[0] if ctx.has_advanced else None
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:  # the gradient with zeros where the index overwrote x
            zero = np.zeros((), grad.dtype)
            zero = Tensor._wrap(zero) if isinstance(grad, Tensor) else zero
            grad_x = IndexPut.call(grad, zero, ctx.basic, advanced, ctx.shown)
        if ctx.needs_input_grad[1]:
            grad_value = GetItem.call(grad, ctx.basic, advanced, ctx.shown)
        return grad_x, grad_value


def _set_in_place(array: np.ndarray, index: Any, value: Any) -> None:
    basic, advanced = split_index(index)
    value = value.data if isinstance(value, Tensor) else value
    try:
        view = array[basic]
        if advanced is None:
            view[...] = value
        else:
            if view.size == 0:
                _check_masks(view.shape, advanced)
            view[advanced] = value
    except (IndexError, ValueError) as error:
        raise type(error)(f"__setitem__: {error} (tensor shape {array.shape}, index {format_index(index)})") from None


@op(method=False, export_as=False, inplace="__setitem__", inplace_fast=_set_in_place)
def index_put(x: Any, index: Any, value: Any) -> Tensor:
    """A copy of x with x[index] = value (the out-of-place form of `x[index] = value`), differentiable in both."""
    x = as_tensor(x)
    basic, advanced = split_index(index)
    value = as_tensor(value)
    if value.dtype != x.dtype:
        value = value.to(x.dtype)
    return IndexPut.apply(x, value, basic, advanced, format_index(index))


# ----- gather ------------------------------------------------------------------------------------


def _along(indices: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The full index of `indices` placed along `dim` (every other dimension counts up): x[_along(i, d)] is
    torch.gather(x, d, i)."""
    grid = list(np.ix_(*[np.arange(n) for n in indices.shape]))
    grid[dim] = indices
    return tuple(grid)


class GatherAlong(Function):
    """out[i][j] = x[i][index[i][j]] (along dim): the gradient goes back to the gathered positions, summed"""

    symbol = "gather"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, x, indices, dim):
        ctx.in_shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(indices)
        return x[_along(indices, dim)]

    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        indices = indices.data if isinstance(indices, Tensor) else indices
        return (ScatterAlong.call(grad, indices, ctx.dim, ctx.in_shape),)


class ScatterAlong(Function):
    """zeros(shape) with `values` added at index along dim: the gradient is gathered back (inverse of gather)"""

    symbol = "scatter_add"

    def forward(ctx, values, indices, dim, shape):
        ctx.dim = dim
        ctx.save_for_backward(indices)
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, _along(indices, dim), values)
        return out

    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        indices = indices.data if isinstance(indices, Tensor) else indices
        return (GatherAlong.call(grad, indices, ctx.dim),)


# ----- cat, stack --------------------------------------------------------------------------------


def _row_major(array: np.ndarray) -> np.ndarray:
    """A result laid out in row-major order, as PyTorch's cat and stack give: NumPy lays out the result of
    joining expanded or transposed arrays in their order, and .view() would then refuse what PyTorch allows."""
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


class Cat(Function):
    """concatenation: each input's gradient is its slice of the output gradient"""

    symbol = "cat"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.bounds = tuple(np.cumsum([0] + [a.shape[dim] for a in arrays]).tolist())
        return _row_major(np.concatenate(arrays, axis=dim))

    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return tuple(grad[(*lead, slice(lo, hi))] for lo, hi in zip(ctx.bounds[:-1], ctx.bounds[1:]))


@op(method=False, aliases=["concatenate", "concat"])
def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension; all other dimensions must match."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expects a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_dim("cat", dim if axis is None else axis, ndim)
    for t in tensors[1:]:
        if t.ndim != ndim or t.shape[:d] + t.shape[d + 1 :] != tensors[0].shape[:d] + tensors[0].shape[d + 1 :]:
            raise ShapeError(
                f"cat: shapes {[tuple(t.shape) for t in tensors]} differ outside dim {d}; all dimensions "
                "except the concatenation dimension must match"
            )
    return Cat.apply(*promote("cat", *tensors), dim=d)


class Stack(Function):
    """stacking: input i's gradient is the output gradient at position i along the new dimension"""

    symbol = "stack"

    @property
    def label(self) -> str:
        return call_label(self.symbol, dim=self.dim)

    def forward(ctx, *arrays, dim):
        ctx.dim, ctx.count = dim, len(arrays)
        return _row_major(np.stack(arrays, axis=dim))

    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return tuple(grad[(*lead, i)] for i in range(ctx.count))


@op(method=False)
def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join equally shaped tensors along a new dimension."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expects a non-empty sequence of tensors")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ShapeError(f"stack: all tensors must have the same shape, got {[tuple(t.shape) for t in tensors]}")
    ndim = tensors[0].ndim + 1
    d = dim if axis is None else axis
    if not isinstance(d, int | np.integer) or not -ndim <= d < ndim:
        raise DimError(f"stack: dim {d} is out of range for a result with {ndim} dimensions")
    return Stack.apply(*promote("stack", *tensors), dim=int(d) % ndim)


# ----- flip, roll, repeat, repeat_interleave: copies that move values -----------------------------


class Flip(Function):
    """flipping moves values only: the gradient is flipped back"""

    symbol = "flip"

    @property
    def label(self) -> str:
        return call_label(self.symbol, *self.dims)

    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()  # a copy, as PyTorch's flip (np.flip gives a view)

    def backward(ctx, grad):
        return (Flip.call(grad, ctx.dims),)


@op()
def flip(input: Any, dims: Any, *more_dims: int) -> Tensor:
    """The order of the elements reversed along each of `dims` (flip(x, (0, 1)) or x.flip(0, 1)): a copy."""
    x = as_tensor(input)
    dims = _sizes("flip", (dims, *more_dims))
    normalized = tuple(normalize_dim("flip", d, x.ndim) for d in dims)
    if len(set(normalized)) != len(normalized):
        raise DimError(f"flip: dims {dims} name a dimension more than once (shape {x.shape})")
    return Flip.apply(x, normalized if x.ndim else ())


class Roll(Function):
    """rolling moves values only: the gradient is rolled back (by -shifts)"""

    symbol = "roll"

    @property
    def label(self) -> str:
        return call_label(self.symbol, self.shifts, dims=self.dims)

    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    def backward(ctx, grad):
        back = -ctx.shifts if ctx.dims is None else tuple(-s for s in ctx.shifts)
        return (Roll.call(grad, back, ctx.dims),)


@op()
def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:
    """Shift the elements by `shifts` along `dims`, those pushed off one end coming back at the other; without
    dims the tensor is rolled as if flattened. A copy."""
    x = as_tensor(input)
    shifts = _sizes("roll", (shifts,))
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: without dims, give one shift (the tensor is rolled flat), got shifts {shifts}")
        return Roll.apply(x, shifts[0], None)
    dims = _sizes("roll", (dims,))
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: give one shift per dim, got shifts {shifts} and dims {dims}")
    if x.ndim == 0:
        raise DimError(f"roll: dims {dims} given, but the tensor is 0-d (it has no dimension to roll along)")
    return Roll.apply(x, shifts, tuple(normalize_dim("roll", d, x.ndim) for d in dims))


class Repeat(Function):
    """each copy's gradient is summed back: the gradient cut into its copies and summed over them"""

    symbol = "repeat"

    @property
    def label(self) -> str:
        return call_label(self.symbol, *self.repeats)

    def forward(ctx, x, repeats):
        ctx.repeats = repeats
        ctx.shape = (1,) * (len(repeats) - x.ndim) + x.shape  # x with a size-1 dimension per extra repeat
        ctx.in_shape = x.shape
        return np.tile(x.reshape(ctx.shape), repeats)

    def backward(ctx, grad):
        # Dimension d of the output holds repeats[d] copies of x's dimension d: split it into (copy, element)
        # and sum over the copies.
        pairs = tuple(n for r, s in zip(ctx.repeats, ctx.shape) for n in (r, s))
        copies = tuple(range(0, len(pairs), 2))
        return (grad.reshape(pairs).sum(axis=copies).reshape(ctx.in_shape),)


@op(export_as=False)
def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """The tensor tiled `repeats[d]` times along each dimension d (PyTorch's repeat is NumPy's tile, not
    NumPy's repeat, which is repeat_interleave); extra repeats add dimensions in front. A copy."""
    x = as_tensor(input)
    repeats = _sizes("repeat", repeats)
    if len(repeats) < x.ndim:
        raise ShapeError(
            f"repeat: {len(repeats)} repeats for a tensor with {x.ndim} dimensions (shape {x.shape}); give one "
            "per dimension (more add dimensions in front)"
        )
    if min(repeats, default=0) < 0:
        raise ShapeError(f"repeat: repeats must be non-negative, got {repeats}")
    return Repeat.apply(x, repeats)


@op()
def repeat_interleave(input: Any, repeats: Any = None, dim: Any = None, *, output_size: int | None = None) -> Tensor:
    """Each element repeated `repeats` times in place along `dim` (NumPy's repeat; the flattened tensor without
    dim): [a, b] -> [a, a, b, b]. repeats is an int or an integer tensor with one count per element. A copy.

    With one argument, repeat_interleave(counts) gives the indices 0, 1, ... each repeated counts[i] times.
    """
    if repeats is None:
        counts = _repeat_counts(as_tensor(input), None)
        return Tensor._wrap(np.repeat(np.arange(counts.size), counts))
    x = as_tensor(input)
    if dim is None or x.ndim == 0:
        x, dim = reshape(x, -1), 0
    d = normalize_dim("repeat_interleave", dim, x.ndim)
    counts = _repeat_counts(repeats, x.shape[d])
    picks = np.repeat(np.arange(x.shape[d]), counts)
    if output_size is not None and output_size != picks.size:
        raise ShapeError(f"repeat_interleave: output_size is {output_size}, but the repeats give {picks.size}")
    shown = call_label("repeat_interleave", repeats if isinstance(repeats, int | np.integer) else "…", dim=dim)
    # An advanced index along dim: recorded as a GetItem, whose gradient sums each element's copies back.
    return _picked(x, (Ellipsis,), (slice(None),) * d + (picks,), shown)


def _repeat_counts(repeats: Any, size: int | None) -> np.ndarray:
    """The count of copies of each element: an int for all, or an int tensor with one per element (or one)."""
    if isinstance(repeats, int | np.integer) and not isinstance(repeats, bool):
        counts = np.full(size, int(repeats))
    else:
        counts = repeats.data if isinstance(repeats, Tensor) else np.asarray(repeats)
        if counts.dtype not in (np.int64, np.int32) or counts.ndim > 1:
            raise DtypeError(
                f"repeat_interleave: repeats must be an int or a 0-d/1-d int64 tensor, got {counts.dtype} of shape "
                f"{counts.shape}; convert it with repeats.long()"
            )
        if size is not None and counts.size == 1:
            counts = np.full(size, int(counts.reshape(())))
        elif size is not None and counts.size != size:
            raise ShapeError(
                f"repeat_interleave: repeats has {counts.size} counts but the dimension has {size} elements; give "
                "one count per element (or a single one)"
            )
    if counts.size and counts.min() < 0:
        raise ShapeError(f"repeat_interleave: repeats must be non-negative, got {counts.min()}")
    return counts.reshape(-1)
