"""The ReLU MLP shared by cases 1, 2 and 5, built from one set of weights for PyTorch and for NumPy.

Weights are [(weight (out, in), bias (out,)), ...]; every layer but the last is followed by ReLU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Weights = list[tuple[np.ndarray, np.ndarray]]


def torch_model(torch: Any, weights: Weights) -> Any:
    """torch.nn.Sequential(Linear, ReLU, ..., Linear) holding copies of `weights`."""
    layers = []
    for k, (weight, bias) in enumerate(weights):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def numpy_forward(params: Weights, inputs: np.ndarray) -> list[np.ndarray]:
    """Hand-written forward: [inputs, hidden activations..., output scores] (ReLU applied in place)."""
    activations = [inputs]
    for k, (w, b) in enumerate(params):
        h = activations[-1] @ w.T
        h += b
        if k < len(params) - 1:
            np.maximum(h, 0, out=h)
        activations.append(h)
    return activations
