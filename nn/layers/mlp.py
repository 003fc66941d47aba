"""`MLP`: a multilayer perceptron that IS an `nn.Sequential`, so its weights move to and from torch.

`MLP(2, [16, 16], 1)` holds Linear, ReLU, Linear, ReLU, Linear at indices 0..4, so `state_dict()` keys
are '0.weight', '0.bias', '2.weight', ... exactly those of the equivalent `torch.nn.Sequential`. With
batch_norm / dropout each hidden block is Linear, BatchNorm1d, activation, Dropout (in that order).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nn import init
from nn.containers import Sequential
from nn.layers.activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softplus, Tanh
from nn.layers.dropout import Dropout
from nn.layers.linear import Linear
from nn.layers.normalization import BatchNorm1d
from nn.module import Module

ACTIVATIONS: dict[str, Callable[[], Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "gelu": GELU,
    "silu": SiLU,
    "softplus": Softplus,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}
# Kaiming (He) suits the ReLU family, Xavier (Glorot) the saturating tanh and sigmoid.
_KAIMING = {"relu", "leaky_relu", "gelu", "silu", "softplus"}


class MLP(Sequential):
    """Linear layers with `activation` between them and none after the last.

    Initialisation by activation: Kaiming-uniform (gain of the activation, fan_in) for the ReLU family,
    Xavier-uniform (gain 5/3 for tanh, 1 for sigmoid) for tanh/sigmoid; the output layer uses gain 1
    (it feeds no activation); biases start at zero. Draws use engine.manual_seed's generator.
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int] | int,
        out_features: int,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        dtype: Any = np.float32,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        hidden = [hidden_sizes] if isinstance(hidden_sizes, int) else list(hidden_sizes)
        if any(int(h) <= 0 for h in hidden):
            raise ValueError(f"MLP: hidden sizes must be positive, got {hidden}")
        sizes = [int(in_features), *[int(h) for h in hidden], int(out_features)]
        layers: list[Module] = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(fan_in, fan_out, dtype=dtype))
            if index == len(sizes) - 2:
                break
            if batch_norm:
                layers.append(BatchNorm1d(fan_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.activation = activation
        self.reset_parameters()

    @property
    def linears(self) -> list[Linear]:
        return [m for m in self if isinstance(m, Linear)]

    def reset_parameters(self) -> None:
        linears = self.linears
        for index, layer in enumerate(linears):
            last = index == len(linears) - 1
            if self.activation in _KAIMING:
                nonlinearity = "linear" if last else ("leaky_relu" if self.activation == "leaky_relu" else "relu")
                init.kaiming_uniform_(
                    layer.weight, a=0.01 if nonlinearity == "leaky_relu" else 0.0, nonlinearity=nonlinearity
                )
            else:
                gain = 1.0 if last else init.calculate_gain(self.activation)
                init.xavier_uniform_(layer.weight, gain=gain)
            if layer.bias is not None:
                init.zeros_(layer.bias)
