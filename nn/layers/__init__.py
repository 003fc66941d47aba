"""Layers: Linear, activations, Dropout, LayerNorm, BatchNorm1d, Identity, Flatten and the MLP."""

from nn.layers.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from nn.layers.dropout import Dropout
from nn.layers.linear import Linear
from nn.layers.mlp import MLP
from nn.layers.normalization import BatchNorm1d, LayerNorm
from nn.layers.shape import Flatten, Identity

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "MLP",
    "SELU",
    "BatchNorm1d",
    "Dropout",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "Mish",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softsign",
    "Tanh",
]
