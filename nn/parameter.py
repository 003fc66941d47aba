"""`Parameter`: a leaf Tensor that requires grad and that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

import engine
from engine import Tensor
from engine.dtypes import DEFAULT_FLOAT, to_dtype


class Parameter(Tensor):
    """A learnable tensor: assigning one to a Module attribute registers it in `parameters()`.

    It is an ordinary leaf `Tensor` (same ops, same autograd) that requires grad by default.
    Python floats become float32, as for `engine.tensor`.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def factory_dtype(layer: str, device: Any, dtype: Any) -> np.dtype:
    """The dtype of a new layer's parameters from PyTorch's factory arguments (Linear(..., device=None,
    dtype=None)): device must be the CPU (engine.device says so otherwise), dtype None is float32."""
    if device is not None:
        engine.device(device)
    return DEFAULT_FLOAT if dtype is None else to_dtype(layer, dtype)
