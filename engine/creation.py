"""Factories: tensor, zeros, ones, full, arange, linspace, eye, rand, randn and the *_like forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.random import generator
from engine.tensor import DEFAULT_FLOAT, Tensor

Shape = int | Sequence[int]


def _shape(shape: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """Accept zeros(2, 3) and zeros((2, 3)) alike."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        try:
            shape = tuple(shape[0])
        except TypeError:  # randn(2.5): not a size, not a sequence of sizes
            raise TypeError(f"{op}: a shape is made of ints, got {shape[0]!r}") from None
    if not all(isinstance(s, (int, np.integer)) for s in shape):
        raise TypeError(f"{op}: a shape is made of ints, got {shape!r}")
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in shape {shape}")
    return tuple(int(s) for s in shape)


def _make(array: np.ndarray, requires_grad: bool, name: str | None = None) -> Tensor:
    t = Tensor._wrap(array)
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """A new Tensor (copying `data`); Python floats become float32, ints int64, arrays keep their dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor that shares `array`'s memory (no copy), as torch.from_numpy: a change to one shows in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}; use engine.tensor(data)")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}; dagrad supports bool, integer and float arrays")
    return Tensor._wrap(array)


def zeros(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(shape, "zeros"), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(shape, "ones"), dtype=dtype), requires_grad)


def full(shape: Shape, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = DEFAULT_FLOAT if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    return _make(np.full(_shape((shape,), "full"), fill_value, dtype=dtype), requires_grad)


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Like np.arange; integer arguments give int64, any float argument gives float32."""
    if step == 0:
        raise ValueError(f"arange: step must not be zero (start={start}, stop={stop})")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, stop, step))
        dtype = DEFAULT_FLOAT if is_float else np.int64
    array = np.arange(start, stop, step) if stop is not None else np.arange(start, step=step)
    return _make(array.astype(dtype), requires_grad)


def linspace(
    start: float, stop: float, num: int = 50, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False
) -> Tensor:
    return _make(np.linspace(start, stop, num).astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: the number of rows and columns must be >= 0, got n={n}, m={m}")
    return _make(np.eye(n, m, dtype=dtype), requires_grad)


def rand(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), drawn from dagrad's generator (see manual_seed)."""
    return _make(generator().random(_shape(shape, "rand")).astype(dtype), requires_grad)


def randn(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """Standard normal, drawn from dagrad's generator (see manual_seed)."""
    return _make(generator().standard_normal(_shape(shape, "randn")).astype(dtype), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
