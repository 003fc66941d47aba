"""Making tensors: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye, rand, randn,
randint, the *_like forms and the x.new_* methods, with PyTorch's signatures (dtype=, device=, requires_grad=).

device= is accepted for PyTorch code and must be the CPU (engine.device); dagrad computes with NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.dtypes import DEFAULT_FLOAT, int64, to_dtype
from engine.random import generator
from engine.registry import export
from engine.tensor import Tensor, device

Shape = int | Sequence[int]


def _shape(shape: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """Accept zeros(2, 3) and zeros((2, 3)) alike."""
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        try:
            shape = tuple(shape[0])
        except TypeError:  # randn(2.5): not a size, not a sequence of sizes
            raise TypeError(f"{op}: a shape is made of ints, got {shape[0]!r}") from None
    if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{op}: a shape is made of ints, got {shape!r}")
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in shape {shape}")
    return tuple(int(s) for s in shape)


def _make(op: str, array: np.ndarray, requires_grad: bool, where: Any = None) -> Tensor:
    _check_device(where)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(op: str, dtype: Any, default: Any = DEFAULT_FLOAT) -> np.dtype:
    return np.dtype(default) if dtype is None else to_dtype(op, dtype)


def _check_device(where: Any) -> None:
    if where is not None:
        device(where)  # the CPU, or a clear error


@export
def tensor(
    data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A new Tensor (copying `data`); Python floats become float32, ints int64, arrays keep their dtype."""
    _check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


@export
def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """data as a Tensor, without copying when it already is one (or a NumPy array) of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or to_dtype("as_tensor", dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or to_dtype("as_tensor", dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


@export
def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor that shares `array`'s memory (no copy), as torch.from_numpy: a change to one shows in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}; use engine.tensor(data)")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}; dagrad supports bool, integer and float arrays")
    return Tensor._wrap(array)


@export
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make("zeros", np.zeros(_shape(size, "zeros"), dtype=_dtype("zeros", dtype)), requires_grad, device)


@export
def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make("ones", np.ones(_shape(size, "ones"), dtype=_dtype("ones", dtype)), requires_grad, device)


@export
def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever memory held (zeros here: NumPy's empty is not worth the surprise)."""
    return _make("empty", np.zeros(_shape(size, "empty"), dtype=_dtype("empty", dtype)), requires_grad, device)


@export
def full(size: Shape, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value` (a float gives float32, an int int64, a bool bool)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = DEFAULT_FLOAT if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    array = np.full(_shape((size,), "full"), fill_value, dtype=_dtype("full", dtype, default))
    return _make("full", array, requires_grad, device)


@export
def arange(
    start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """start, start + step, ... below end (one argument: 0..start-1); ints give int64, any float float32."""
    if step == 0:
        raise ValueError(f"arange: step must not be zero (start={start}, end={end})")
    is_float = any(isinstance(v, float) for v in (start, end, step))
    array = np.arange(start, end, step) if end is not None else np.arange(start, step=step)
    dtype = _dtype("arange", dtype, DEFAULT_FLOAT if is_float else np.int64)
    return _make("arange", array.astype(dtype), requires_grad, device)


@export
def linspace(
    start: float, end: float, steps: int = 50, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (float32 by default)."""
    dtype = _dtype("linspace", dtype)
    if dtype.kind == "b":
        raise TypeError(
            "linspace: bool is not a dtype linspace can produce (as in PyTorch); use a float or integer dtype"
        )
    return _make("linspace", np.linspace(start, end, steps).astype(dtype), requires_grad, device)


@export
def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The n×m identity matrix (square by default)."""
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: the number of rows and columns must be >= 0, got n={n}, m={m}")
    return _make("eye", np.eye(n, m, dtype=_dtype("eye", dtype)), requires_grad, device)


@export
def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), drawn from dagrad's generator (see manual_seed)."""
    array = generator().random(_shape(size, "rand")).astype(_dtype("rand", dtype))
    return _make("rand", array, requires_grad, device)


@export
def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, drawn from dagrad's generator (see manual_seed)."""
    array = generator().standard_normal(_shape(size, "randn")).astype(_dtype("randn", dtype))
    return _make("randn", array, requires_grad, device)


@export
def randint(
    low: int, high: int | None = None, size: Shape = (), *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Random integers in [low, high) (one bound: [0, low)), int64 by default, as torch.randint(low, high, size)."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    array = generator().integers(low, high, _shape((size,), "randint")).astype(_dtype("randint", dtype, np.int64))
    return _make("randint", array, requires_grad, device)


@export
def randperm(n: int, *, dtype: Any = int64, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype= says otherwise)."""
    array = generator().permutation(n).astype(_dtype("randperm", dtype, np.int64))
    return _make("randperm", array, requires_grad, device)


def _like(op: str, t: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(t, Tensor):
        t = Tensor(t)
    return t.shape, t.dtype if dtype is None else to_dtype(op, dtype)


@export
def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("zeros_like", input, dtype)
    return _make("zeros_like", np.zeros(shape, dtype), requires_grad, device)


@export
def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("ones_like", input, dtype)
    return _make("ones_like", np.ones(shape, dtype), requires_grad, device)


@export
def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("empty_like", input, dtype)
    return _make("empty_like", np.zeros(shape, dtype), requires_grad, device)


@export
def full_like(
    input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, dtype = _like("full_like", input, dtype)
    return _make("full_like", np.full(shape, fill_value, dtype), requires_grad, device)


@export
def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("randn_like", input, dtype)
    return randn(shape, dtype=dtype, device=device, requires_grad=requires_grad)


@export
def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("rand_like", input, dtype)
    return rand(shape, dtype=dtype, device=device, requires_grad=requires_grad)


# ----- x.new_*: a new tensor with x's dtype (and device) unless told otherwise, as PyTorch's methods -----------


def _new_method(name: str, make: Any) -> None:
    def method(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return make(*args, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    method.__name__ = name
    method.__doc__ = f"{make.__name__}(...) with this tensor's dtype unless dtype= is given (PyTorch's x.{name})."
    setattr(Tensor, name, method)


_new_method("new_tensor", tensor)
_new_method("new_zeros", zeros)
_new_method("new_ones", ones)
_new_method("new_empty", empty)
_new_method("new_full", full)
