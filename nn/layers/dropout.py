"""`Dropout`: inverted dropout, active in training mode only."""

from __future__ import annotations

from engine import Tensor
from nn import functional as F
from nn.module import Module


class Dropout(Module):
    """Zero each element with probability p and scale the survivors by 1/(1-p) (training); identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")
