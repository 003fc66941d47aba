"""`Parameter`: a leaf Tensor that requires grad and that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

from engine import Tensor


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
