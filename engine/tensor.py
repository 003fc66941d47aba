"""`Tensor`: a NumPy array plus what autograd needs (grad, requires_grad, grad_fn, a version counter).

Every operator and method delegates to an op in `engine.ops`; this file holds no derivative.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.grad_mode import state

DEFAULT_FLOAT = np.float32


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data following PyTorch: Python floats -> float32, ints -> int64, arrays keep dtype."""
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except ValueError as error:
            raise ValueError(f"Tensor: cannot build a tensor from {type(data).__name__}: {error}") from None
        if array.dtype == np.float64 and dtype is None:  # an explicit dtype keeps full float64 precision
            array = array.astype(DEFAULT_FLOAT)
        elif array.dtype.kind == "i":
            array = array.astype(np.int64)
        elif array.dtype == object:
            raise TypeError(
                f"Tensor: cannot build a tensor from {type(data).__name__} holding non-numeric values "
                "(or ragged nested lists); pass numbers, equal-length nested lists or a NumPy array"
            )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: unsupported dtype {array.dtype}; dagrad supports bool, integer and float tensors")
    if dtype is not None:
        array = array.astype(_dtype("Tensor", dtype), copy=False)
    return array


def _dtype(op: str, dtype: Any) -> np.dtype:
    """np.dtype(dtype), restricted to what dagrad supports, with an error naming the op."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}; use e.g. 'float32', 'float64', 'int64' or 'bool'") from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {result}; dagrad supports bool, integer and float tensors")
    return result


class _HookHandle:
    """Returned by register_hook; `.remove()` unregisters the hook."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """An n-dimensional array that records the ops applied to it so gradients can flow back."""

    __slots__ = (
        "__weakref__",
        "_base",
        "_hooks",
        "_retains_grad",
        "_version",
        "_views",
        "data",
        "grad",
        "grad_fn",
        "name",
        "requires_grad",
    )

    # Let NumPy hand `array * tensor` to Tensor.__rmul__ instead of treating the Tensor as an object.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        array = _to_array(data, dtype)
        if isinstance(data, Tensor) or array is data:
            array = array.copy()  # a Tensor owns its data, as torch.tensor(array) copies
        self.data = array
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        self.name = name
        self._version = 0
        self._base = None
        self._views = None
        self._hooks = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Fast constructor for op results: no conversion, no copy."""
        t = object.__new__(cls)
        t.data = array
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        t.name = None
        t._version = 0
        t._base = None
        t._views = None
        t._hooks = None
        t._retains_grad = False
        return t

    def _share_version_with(self, source: Tensor) -> Tensor:
        """Record that self's data is a view of source's (reshape, transpose, indexing, detach...).

        An in-place change through any view then bumps the versions of all tensors sharing that
        memory, so a graph that saved one of them refuses to backward (as PyTorch's shared counter).
        """
        root = source if source._base is None else source._base
        if np.may_share_memory(self.data, root.data):
            self._base = root
            # Plain weak references: no callbacks (they would form cycles) and no set (a set compares
            # Tensors with ==, which is elementwise). Dead entries are pruned as the list doubles.
            views = root._views
            if views is None:
                root._views = [weakref.ref(self)]
            else:
                views.append(weakref.ref(self))
                if len(views) >= 16 and len(views) & (len(views) - 1) == 0:
                    views[:] = [view for view in views if view() is not None]
        return self

    # ----- attributes ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """Leaves are tensors not produced by a recorded op: their .grad is filled by backward."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return transpose(self)

    @property
    def mT(self) -> Tensor:
        return swapaxes(self, -1, -2)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # Hash by identity (== is elementwise, so equal-valued tensors are still distinct keys). The C-level
    # object.__hash__ rather than a Python `return id(self)`: optimizer state and other dicts keyed by
    # tensors look them up every step (dict lookup 156 -> 64 ns).
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.size != 1:
            raise RuntimeError(
                f"bool(): the truth value of a tensor with {self.size} elements (shape {self.shape}) is "
                "ambiguous; use .any() / .all() on .numpy(), or compare .item()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iub" or self.size != 1:
            raise TypeError(
                f"only integer tensors of one element can be used as an index, not {self.dtype} {self.shape}"
            )
        return int(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20, edgeitems=3, prefix="tensor(")
        extras = []
        if (self.dtype != DEFAULT_FLOAT and self.dtype.kind == "f") or self.dtype.kind != "f":
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----- conversion ------------------------------------------------------------------------
    def item(self) -> float | int | bool:
        if self.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), like torch's .numpy() on CPU."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another dtype; differentiable between float dtypes."""
        return cast(self, dtype)

    def to(self, dtype: Any) -> Tensor:
        return cast(self, dtype)

    def float(self) -> Tensor:
        return cast(self, np.float32)

    def double(self) -> Tensor:
        return cast(self, np.float64)

    def detach(self) -> Tensor:
        """Same data (shared), cut from the graph."""
        return Tensor._wrap(self.data)._share_version_with(self)

    def clone(self) -> Tensor:
        """A differentiable copy with its own data."""
        return clone(self)

    def copy(self) -> Tensor:
        return clone(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, got {self.dtype} "
                f"(shape {self.shape}); convert first, e.g. x.astype('float32')"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach() to cut it from the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see engine.autograd.backward)."""
        from engine.autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    # ----- in place (only allowed where no recorded graph could be corrupted) -----------------
    def _check_inplace(self, op: str) -> None:
        if state.grad_enabled and self.requires_grad:
            kind = "a leaf tensor that requires grad" if self.grad_fn is None else "a tensor that is part of a graph"
            raise RuntimeError(
                f"{op}: in-place modification of {kind} (shape {self.shape}) would corrupt the recorded "
                f"graph. Use the out-of-place form (x = x + y), or do it under engine.no_grad() "
                "(as optimizers do)."
            )

    def _bump_version(self) -> None:
        """Mark the data as modified in place, so graphs that saved it (or a view of it) refuse to backward."""
        state.inplace_count += 1
        root = self if self._base is None else self._base
        root._version += 1
        if root.grad_fn is not None:
            root.grad_fn._output_version = root._version
        for view in root._views or ():
            tensor = view()
            if tensor is not None:
                tensor._version += 1
                if tensor.grad_fn is not None:
                    tensor.grad_fn._output_version = tensor._version

    def _inplace(self, op: str, value: Any, ufunc: Callable) -> Tensor:
        self._check_inplace(op)
        other = value.data if isinstance(value, Tensor) else value
        try:
            ufunc(self.data, other, out=self.data, casting="same_kind")
        except (ValueError, TypeError) as error:
            shape = np.shape(other)
            raise ValueError(
                f"{op}: cannot update a tensor of shape {self.shape} ({self.dtype}) in place with a "
                f"value of shape {shape}: {error}"
            ) from None
        self._bump_version()
        return self

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._inplace("add_", other if alpha == 1.0 else _scaled(other, alpha), np.add)

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._inplace("sub_", other if alpha == 1.0 else _scaled(other, alpha), np.subtract)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", other, np.multiply)

    def div_(self, other: Any) -> Tensor:
        return self._inplace("div_", other, np.divide)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: float) -> Tensor:
        self._check_inplace("fill_")
        self.data.fill(value)
        self._bump_version()
        return self

    def copy_(self, source: Any) -> Tensor:
        self._check_inplace("copy_")
        array = source.data if isinstance(source, Tensor) else np.asarray(source)
        try:
            np.copyto(self.data, np.broadcast_to(array, self.shape), casting="unsafe")
        except ValueError:
            raise ValueError(
                f"copy_: cannot copy a value of shape {array.shape} into a tensor of shape {self.shape}"
            ) from None
        self._bump_version()
        return self

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        array = value.data if isinstance(value, Tensor) else value
        index = _index_arrays(index)
        try:
            self.data[index] = array
        except (IndexError, ValueError) as error:
            raise type(error)(f"__setitem__: tensor of shape {self.shape}: {error}") from None
        self._bump_version()

    # ----- arithmetic --------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return remainder(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return pow(other, self)

    def __neg__(self) -> Tensor:
        return neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return abs(self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    # Comparisons give bool tensors without gradient.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ge(self, other)

    # ----- elementwise -------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return exp(self)

    def log(self) -> Tensor:
        return log(self)

    def log1p(self) -> Tensor:
        return log1p(self)

    def expm1(self) -> Tensor:
        return expm1(self)

    def sqrt(self) -> Tensor:
        return sqrt(self)

    def abs(self) -> Tensor:
        return abs(self)

    def sin(self) -> Tensor:
        return sin(self)

    def cos(self) -> Tensor:
        return cos(self)

    def tanh(self) -> Tensor:
        return tanh(self)

    def sigmoid(self) -> Tensor:
        return sigmoid(self)

    def relu(self) -> Tensor:
        return relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return leaky_relu(self, negative_slope)

    def gelu(self, approximate: str = "none") -> Tensor:
        return gelu(self, approximate)

    def silu(self) -> Tensor:
        return silu(self)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return softplus(self, beta, threshold)

    def erf(self) -> Tensor:
        return erf(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return minimum(self, other)

    # ----- reductions --------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return sum(self, axis, keepdims, dim=dim)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return mean(self, axis, keepdims, dim=dim)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return max(self, axis, keepdims, dim=dim)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return min(self, axis, keepdims, dim=dim)

    def var(self, axis: Any = None, correction: int = 1, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return var(self, axis, correction, keepdims, dim=dim)

    def std(self, axis: Any = None, correction: int = 1, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return std(self, axis, correction, keepdims, dim=dim)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
        return logsumexp(self, axis, keepdims, dim=dim)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return softmax(self, axis, dim=dim)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return log_softmax(self, axis, dim=dim)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return argmax(self, axis, keepdims, dim=dim)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return argmin(self, axis, keepdims, dim=dim)

    # ----- shape -------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    view = reshape

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return flatten(self, start_axis, end_axis)

    def transpose(self, *axes: Any) -> Tensor:
        """No axes: reverse them (NumPy). Two ints: swap those (PyTorch). A full permutation: permute."""
        if len(axes) == 2:
            # transpose(0, 1) swaps even on a 2-D tensor (NumPy would read it as the identity permutation)
            return swapaxes(self, axes[0], axes[1])
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def permute(self, *axes: Any) -> Tensor:
        return transpose(self, tuple(axes[0]) if len(axes) == 1 and not isinstance(axes[0], int) else axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Tensor:
        return squeeze(self, axis, dim=dim)

    def unsqueeze(self, axis: int) -> Tensor:
        return unsqueeze(self, axis)

    def expand(self, *shape: Any) -> Tensor:
        return expand(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return expand(self, shape)

    def __getitem__(self, index: Any) -> Tensor:
        return getitem(self, index)


def _scaled(value: Any, alpha: float) -> Any:
    return (value.data if isinstance(value, Tensor) else np.asarray(value)) * alpha


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays (lists become integer/bool arrays)."""
    if isinstance(index, tuple):
        return tuple(_index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


# The ops import Tensor, so they are imported after it is defined.
from engine.ops.elementwise import (  # noqa: E402
    abs,
    add,
    cast,
    clamp,
    clone,
    cos,
    div,
    eq,
    erf,
    exp,
    expm1,
    floor_divide,
    ge,
    gelu,
    gt,
    le,
    leaky_relu,
    log,
    log1p,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    remainder,
    sigmoid,
    silu,
    sin,
    softplus,
    sqrt,
    sub,
    tanh,
)
from engine.ops.linalg import matmul  # noqa: E402
from engine.ops.reduce import (  # noqa: E402
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from engine.ops.shape import expand, flatten, getitem, reshape, squeeze, swapaxes, transpose, unsqueeze  # noqa: E402
