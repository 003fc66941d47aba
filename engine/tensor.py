"""`Tensor`: a NumPy array plus what autograd needs: requires_grad, grad, grad_fn (the op that made it) and a
version counter that in-place changes bump.

This file is the core only. The ops (`+`, `exp`, `sum`, `reshape`...) are declared once each in engine/ops,
beside their backward rules; `engine.registry` turns each declaration into the Tensor method and operator.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from engine.dims import normalize_dim
from engine.dtypes import DEFAULT_FLOAT, to_dtype
from engine.errors import DtypeError, ShapeError
from engine.grad_mode import state


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data following PyTorch: Python floats -> float32, ints -> int64, arrays keep their dtype."""
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
            raise ValueError(f"tensor: cannot build a tensor from {type(data).__name__}: {error}") from None
        if array.dtype == np.float64 and dtype is None:  # an explicit dtype keeps full float64 precision
            array = array.astype(DEFAULT_FLOAT)
        elif array.dtype.kind == "i":
            array = array.astype(np.int64)
        elif array.dtype == object:
            raise TypeError(
                f"tensor: cannot build a tensor from {type(data).__name__} holding non-numeric values "
                "(or ragged nested lists); pass numbers, equal-length nested lists or a NumPy array"
            )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor: unsupported dtype {array.dtype}; dagrad supports bool, integer and float tensors")
    if dtype is not None:
        array = array.astype(to_dtype("tensor", dtype), copy=False)
    return array


def _derived_from(array: np.ndarray, root: np.ndarray) -> bool:
    """Whether `array` is a NumPy view made from `root` (what may_share_memory cannot tell for empty arrays)."""
    origin = root if root.base is None else root.base
    while array is not None:
        if array is root or array is origin:
            return True
        array = getattr(array, "base", None)  # an ndarray's, or as_strided's DummyArray's (it has one too)
    return False


# The `_replay` of a view made under no_grad: PyTorch forbids using it in the graph once its base changed in
# place with grad mode on (which of the two values it stands for is ambiguous), and so does dagrad.
MADE_UNDER_NO_GRAD = "made under no_grad"


class Size(tuple):
    """A tensor's shape as `size()` returns it (PyTorch's torch.Size): a tuple of ints with numel()."""

    def numel(self) -> int:
        count = 1
        for n in self:
            count *= n
        return count

    def __repr__(self) -> str:
        return f"engine.Size({list(self)})"


class device:
    """Where a tensor lives. dagrad runs on the CPU only, so there is one device: engine.device("cpu")."""

    __slots__ = ()
    type = "cpu"
    index = None

    def __new__(cls, name: Any = "cpu") -> device:
        if isinstance(name, device):
            return name
        if not isinstance(name, str) or name.split(":")[0] != "cpu":
            raise RuntimeError(
                f"device: dagrad runs on the CPU only, got {name!r}; use 'cpu' (or leave device= out). "
                "There is no GPU support: NumPy computes on the CPU."
            )
        return CPU

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) or other == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")


CPU = object.__new__(device)


class _HookHandle:
    """Returned by register_hook; `.remove()` unregisters the hook."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class RetainGrad:
    """The hook retain_grad() puts on a tensor's op: it stores the gradient in the tensor's .grad.

    It holds the tensor weakly (the op must not keep its output alive) and always runs after the user's
    hooks, as in PyTorch. An in-place change moves it to the tensor's new op: .grad is then the gradient of
    the latest version.
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = weakref.ref(tensor)


class Tensor:
    """An n-dimensional array that records the ops applied to it so gradients can flow back."""

    __slots__ = (
        "__weakref__",
        "_base",
        "_grad",
        "_history",
        "_hooks",
        "_replay",
        "_version",
        "_views",
        "data",
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
        self._grad = None
        self.grad_fn = None
        self.requires_grad = False
        self.name = name
        self._version = 0
        self._base = None
        self._replay = None
        self._views = None
        self._hooks = None
        self._history = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Fast constructor for op results: no conversion, no copy (engine.from_numpy is the public form)."""
        t = object.__new__(cls)
        t.data = array
        t._grad = None
        t.grad_fn = None
        t.requires_grad = False
        t.name = None
        t._version = 0
        t._base = None
        t._replay = None
        t._views = None
        t._hooks = None
        t._history = None
        return t

    # ----- attributes ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_leaf(self) -> bool:
        """Leaves are tensors not produced by a recorded op: their .grad is filled by backward."""
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Size | int:
        """The shape as engine.Size (PyTorch), or the length of one dimension; numel() counts elements."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[normalize_dim("size", dim, self.data.ndim)]

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ndim)."""
        return self.data.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements (NumPy's .size)."""
        return self.data.size

    nelement = numel

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors (the dtypes that can require grad)."""
        return self.data.dtype.kind == "f"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # Hash by identity (== is elementwise, so equal-valued tensors are still distinct keys). The C-level
    # object.__hash__ rather than a Python `return id(self)`: optimizer state and other dicts keyed by
    # tensors look them up every step (dict lookup 156 -> 64 ns).
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"bool(): the truth value of a tensor with {self.data.size} elements (shape {self.shape}) is "
                "ambiguous; use .any() / .all(), or compare .item()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError(
                f"only integer tensors of one element can be used as an index, not {self.dtype} {self.shape}"
            )
        return int(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20, edgeitems=3, prefix="tensor(")
        extras = []
        if self.dtype != DEFAULT_FLOAT and self.dtype.kind != "b" and self.dtype != np.int64:  # torch's defaults
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def _repr_html_(self) -> str:
        """How Jupyter shows a tensor: its name, shape, dtype, the op that made it, values and gradient."""
        from engine.display import tensor_html

        return tensor_html(self)

    # ----- gradient --------------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """d(loss)/d(self) after backward(): filled for leaves that require grad (and retain_grad() tensors)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a Tensor or None, got {type(value).__name__}; a gradient for this "
                    f"tensor is a {self.dtype} Tensor of shape {self.shape}, e.g. engine.zeros_like(t)"
                )
            if value.data.shape != self.data.shape:
                raise ShapeError(
                    f"assigned grad has shape {value.shape} but the tensor has shape {self.shape}; "
                    "a gradient has its tensor's shape"
                )
            if value.data.dtype != self.data.dtype:
                raise DtypeError(
                    f"assigned grad is {value.dtype} but the tensor is {self.dtype}; convert it first "
                    f"(grad.to({str(self.dtype)!r}))"
                )
        self._grad = value

    # ----- conversion ------------------------------------------------------------------------
    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (shared, not copied), like torch's .numpy() on CPU (force= changes nothing:
        there is no device to copy from, and the array is always readable)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def cpu(self) -> Tensor:
        """This tensor: dagrad tensors always live on the CPU."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        raise RuntimeError("cuda(): dagrad runs on the CPU only (NumPy); remove .cuda() or use .to('cpu')")

    def detach(self) -> Tensor:
        """Same data (shared), cut from the graph."""
        return Tensor._wrap(self.data)._share_version_with(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, got {self.dtype} "
                f"(shape {self.shape}); convert first, e.g. x.float() (NumPy's spelling: x.astype('float32'))"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach() to cut it from the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (a leaf always keeps it: then this does nothing)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None and not self.retains_grad:
            self.grad_fn.add_hook(RetainGrad(self))

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose .grad backward fills (retain_grad() was called)."""
        hooks = self.grad_fn.hooks if self.grad_fn is not None else None
        return bool(hooks) and any(type(h) is RetainGrad and h.tensor() is self for h in hooks)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it.

        On a non-leaf the hook belongs to the op that made the tensor's current value: after an in-place
        change it still sees the gradient of the value it was registered on, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            return self.grad_fn.add_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False, inputs: Any = None
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see engine.autograd.backward)."""
        from engine.autograd import backward  # the one edge from the core to the walk: backward needs Tensor

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # ----- versions: in-place changes are counted, so stale saved values are detected ------------
    def _share_version_with(self, source: Tensor, step: tuple | None = None) -> Tensor:
        """Record that self's data is a view of source's (reshape, transpose, indexing, detach...).

        An in-place change through any view then bumps the versions of all tensors sharing that
        memory, so a graph that saved one of them refuses to backward (as PyTorch's shared counter).
        `step` is how the view was made from source, (op class, its arguments): with the steps from the
        root tensor (`_replay`) a recorded in-place change of the root can remake the view's grad_fn on
        the root's new value (engine.inplace.refresh_views). detach() passes none: it is no view in the graph.
        """
        root = source if source._base is None else source._base
        if np.may_share_memory(self.data, root.data) or _derived_from(self.data, root.data):
            if step is not None:
                if not state.grad_enabled:
                    self._replay = MADE_UNDER_NO_GRAD
                elif source._base is None:
                    self._replay = (step,)
                elif type(source._replay) is tuple:
                    self._replay = (*source._replay, step)
                else:
                    self._replay = source._replay
            self._count_versions_with(root)
        return self

    def _count_versions_with(self, root: Tensor) -> Tensor:
        """Share root's version counter: an in-place change of root then counts as a change of self. Views
        do; so do the copies an op makes of its operand to convert its dtype (a * b with b of another dtype),
        so that changing b in place still stops a backward that read it, as in PyTorch (which converts
        inside the op and saves b itself)."""
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

    def _grad_fn_at(self, sequence_number: int) -> Any:
        """The op that made this tensor's value as an op recorded at `sequence_number` saw it.

        After an in-place change the tensor's grad_fn is the in-place op, but an op recorded before the
        change used the old value: its gradient must go to the old grad_fn (`_history` keeps it).
        """
        for changed_at, previous in self._history:
            if changed_at >= sequence_number:  # >=: the in-place op itself read the old value (h += h)
                return previous
        return self.grad_fn


def is_tensor(obj: Any) -> bool:
    """True for a dagrad Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of `input` (torch.numel)."""
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    """True for a float16/32/64 tensor (torch.is_floating_point)."""
    return input.is_floating_point()
