"""dagrad's neural-network library on the engine: modules, layers, losses, optimizers, data and training.

Names and semantics follow PyTorch:

    import nn
    from nn import functional as F
    model = nn.MLP(2, [16, 16], 2)
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    history = nn.fit(model, F.cross_entropy, opt, loader, epochs=20)
"""

from nn import data, datasets, functional, init, optim, utils
from nn import functional as F
from nn.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from nn.containers import ModuleList, Sequential
from nn.history import History
from nn.layers import (
    CELU,
    ELU,
    GELU,
    MLP,
    SELU,
    BatchNorm1d,
    Dropout,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
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
from nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from nn.module import Module
from nn.parameter import Parameter
from nn.serialization import load, save
from nn.summary import ModelSummary, summary
from nn.training import accuracy, evaluate, fit

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "MLP",
    "SELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "F",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HingeEmbeddingLoss",
    "HingeLoss",
    "History",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "MSELoss",
    "Mish",
    "ModelSummary",
    "Module",
    "ModuleList",
    "MultiMarginLoss",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softsign",
    "Tanh",
    "accuracy",
    "data",
    "datasets",
    "evaluate",
    "fit",
    "functional",
    "init",
    "latest_checkpoint",
    "load",
    "load_checkpoint",
    "optim",
    "save",
    "save_checkpoint",
    "summary",
    "utils",
]
