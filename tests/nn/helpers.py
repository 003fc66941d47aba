"""Shared helpers for the nn tests: copying weights between dagrad and torch, float64 comparisons."""

from __future__ import annotations

import numpy as np
import torch

import nn
from engine import Tensor

RTOL = 1e-9  # the parity bar: float64 results agree to 1e-9 relative
ATOL = 1e-12  # for values that are (nearly) zero, where a relative bar is meaningless


def assert_close(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    actual = actual.data if isinstance(actual, Tensor) else actual
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def torch_sequential_like(model: nn.Sequential) -> torch.nn.Sequential:
    """The torch.nn.Sequential with the same layers (float64) and the same weights as a dagrad Sequential."""
    layers = []
    for module in model:
        if isinstance(module, nn.Linear):
            layers.append(torch.nn.Linear(module.in_features, module.out_features, bias=module.bias is not None))
        elif isinstance(module, nn.BatchNorm1d):
            layers.append(torch.nn.BatchNorm1d(module.num_features, eps=module.eps, momentum=module.momentum))
        elif isinstance(module, nn.LeakyReLU):
            layers.append(torch.nn.LeakyReLU(module.negative_slope))
        elif isinstance(module, nn.Dropout):
            layers.append(torch.nn.Dropout(module.p))
        else:
            layers.append(getattr(torch.nn, type(module).__name__)())
    torch_model = torch.nn.Sequential(*layers).double()
    torch_model.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in model.state_dict().items()})
    return torch_model
