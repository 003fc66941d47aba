"""`Linear`: a dense layer y = x @ weight.T + bias, computed by the fused `engine.linear` op."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import engine
from engine import Tensor
from nn import init
from nn.module import Module
from nn.parameter import Parameter, factory_dtype


class Linear(Module):
    """y = x Wᵀ + b with weight (out_features, in_features) and bias (out_features,), as torch.nn.Linear.

    PyTorch's default initialisation: weight ~ kaiming_uniform(a=√5), i.e. U(-1/√in, 1/√in), and
    bias ~ U(-1/√in, 1/√in). nn.MLP re-initialises the weights for its activation.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        dtype = factory_dtype("Linear", device, dtype)
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear: in_features and out_features must be positive, got ({in_features}, {out_features})"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return engine.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
