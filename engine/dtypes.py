"""dtypes: their names (NumPy's and PyTorch's) and PyTorch's type-promotion rule, in one place.

Every op that combines operands asks `result_type` which dtype the result has. The rule is PyTorch's,
which differs from NumPy's where a learner would notice:

- categories rank bool < integer < float;
- a Python number (or NumPy scalar) takes part by its category only: `float32 tensor * 2.5` stays float32,
  `int64 tensor * 2.5` becomes float32 (the default float dtype), `int32 tensor + 2**40` stays int32;
- a 0-d tensor takes part like a Python number of its dtype's category: `float32 tensor + 0-d float64`
  stays float32, but `int64 tensor + 0-d float64` becomes float64;
- tensors with dimensions promote among themselves as NumPy does, except that a float always wins
  (`int64 + float16` is float16, where NumPy picks float64).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)  # what Python floats become, as torch.get_default_dtype()

# The names a user writes: NumPy's and PyTorch's (engine.long, engine.float, engine.double...).
float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

NAMES = {
    "float16": float16, "half": half, "float32": float32, "float": float, "float64": float64, "double": double,
    "int8": int8, "int16": int16, "short": short, "int32": int32, "int": int, "int64": int64, "long": long,
    "uint8": uint8, "bool": bool,
}  # fmt: skip

# Python's own types mean what they mean to PyTorch: float -> float64, int -> int64, bool -> bool.
_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}


def to_dtype(op: str, dtype: Any) -> np.dtype:
    """The np.dtype a user means by `dtype` ('float32', engine.long, np.float64, float...), or a clear error."""
    if isinstance(dtype, np.dtype):
        result = dtype
    elif dtype in _PYTHON_TYPES:
        result = _PYTHON_TYPES[dtype]
    else:
        try:
            result = NAMES[dtype] if isinstance(dtype, str) and dtype in NAMES else np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"{op}: unknown dtype {dtype!r}; use e.g. engine.float32, engine.float64, engine.long or 'bool'"
            ) from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {result}; dagrad supports bool, integer and float tensors")
    return result


def category(dtype: np.dtype) -> builtins.int:
    """0 for bool, 1 for integers, 2 for floats: the ranks of PyTorch's promotion categories."""
    return {"b": 0, "i": 1, "u": 1, "f": 2}[dtype.kind]


def promote_types(type1: np.dtype | None, type2: np.dtype | None) -> np.dtype | None:
    """The smallest dtype both fit in (None means 'no operand of this kind'); type1 float beats any integer."""
    if type1 is None or type1 is type2 or type1 == type2:
        return type2 if type1 is None else type1
    if type2 is None:
        return type1
    if type1.kind == "f" and type2.kind != "f":
        return type1
    if type2.kind == "f" and type1.kind != "f":
        return type2
    return np.promote_types(type1, type2)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A higher-priority group's dtype, moved up only when the lower group has a higher category
    (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value: Any) -> np.dtype | None:
    """The dtype a Python or NumPy number stands for in promotion (None: not a number)."""
    if isinstance(value, builtins.bool | np.bool_):
        return bool
    if isinstance(value, builtins.int | np.integer):
        return int64
    if isinstance(value, builtins.float | np.floating):
        return DEFAULT_FLOAT
    return None


def result_type(*operands: Any) -> np.dtype:
    """The dtype of an op's result on `operands` (Tensors, arrays, Python/NumPy numbers), by PyTorch's rule."""
    dimensioned = zero_dim = numbers = None
    for value in operands:
        if (dtype := scalar_dtype(value)) is not None:
            numbers = promote_types(numbers, dtype)
            continue
        # A Tensor (its .data is the array) or anything NumPy makes an array of (a list, an array)
        array = value.data if isinstance(getattr(value, "data", None), np.ndarray) else np.asarray(value)
        if array.ndim:
            dimensioned = promote_types(dimensioned, array.dtype)
        else:
            zero_dim = promote_types(zero_dim, array.dtype)
    result = _combine(dimensioned, _combine(zero_dim, numbers))
    if result is None:
        raise TypeError("result_type: needs at least one operand")
    return result


def is_number(value: Any) -> builtins.bool:
    """A Python or NumPy number (not an array, not a Tensor): it adopts the other operand's dtype."""
    return scalar_dtype(value) is not None and not isinstance(value, np.ndarray)
