"""Dimensions: reading the `dim=` arguments of reductions and shape ops, and the shapes reductions give.

PyTorch's names come first (`dim=`, `keepdim=`); NumPy's (`axis=`, `keepdims=`) are accepted as aliases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import DimError


def normalize_dim(op: str, dim: Any, ndim: int) -> int:
    """One dimension as a non-negative int; negative counts from the end; a 0-d tensor accepts 0 and -1."""
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise DimError(
            f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected to be in range [{-size}, {size - 1}])"
        )
    return int(dim) % size


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Dimensions as a sorted tuple of non-negative ints, or None for all of them."""
    if dim is None:
        return None
    if isinstance(dim, int | np.integer) and not isinstance(dim, bool):
        dims = (dim,)
    elif isinstance(dim, tuple | list):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    result = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(result)) != len(result):
        raise DimError(f"{op}: dim {dim!r} repeats a dimension")
    if ndim == 0:
        return None  # a 0-d tensor has one element; PyTorch accepts dim 0 / -1 for it
    return tuple(sorted(result))


def pick(op: str, torch_name: str, torch_value: Any, numpy_name: str, numpy_value: Any, default: Any = None) -> Any:
    """The value of an argument that has a PyTorch name and a NumPy alias (dim/axis, keepdim/keepdims)."""
    if numpy_value is None:
        return default if torch_value is None else torch_value
    if torch_value is not None and torch_value is not default:
        raise TypeError(f"{op}: give {torch_name}= or its NumPy alias {numpy_name}=, not both")
    return numpy_value


def kept_shape(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over `dims` has with keepdim=True."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def reduced_shape(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over `dims` has with keepdim=False."""
    if dims is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in dims)
