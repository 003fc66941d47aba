"""Layers: Linear, activations, Dropout, LayerNorm, BatchNorm1d, Identity, Flatten and the MLP."""

from nn.layers.activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from nn.layers.dropout import Dropout
from nn.layers.linear import Linear
from nn.layers.mlp import MLP
from nn.layers.normalization import BatchNorm1d, LayerNorm
from nn.layers.shape import Flatten, Identity

__all__ = [
    "GELU",
    "MLP",
    "BatchNorm1d",
    "Dropout",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]
