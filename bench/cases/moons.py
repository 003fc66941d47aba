"""Case 2: micrograd's moons demo, a 2-16-16-1 ReLU net on 100 points, one full-batch training step.

The step is the one of micrograd's demo notebook: max-margin loss mean(relu(1 - y·score)) plus an L2
penalty 1e-4·Σp², backward, then p -= lr·grad. Four implementations from the same weights: dagrad
(nn.Linear, nn.optim.SGD), PyTorch, hand-written NumPy, and the micrograd package itself (scalar
Values, so it is timed over fewer repeats).

Two rows, because the penalty is most of the graph (6 parameters of a 5-layer net):
- the target row: dagrad writes the penalty as `engine.sum_of_squares(params)`, one node whose rule is
  2·p per parameter, the rule hand-written NumPy applies directly; PyTorch builds it op by op ((p*p).sum()
  and a running +: 20 nodes), as its total-norm helper (torch.nn.utils.get_total_norm) runs under no_grad;
- an "op by op" row where both engines record the same 29-node graph, which shows dagrad's per-op cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import engine
import nn
from bench.cases.mlp import dagrad_model, initial_weights
from bench.cases.relu_mlp import Weights, numpy_forward, torch_model
from bench.harness import Row, Settings, Target, interleaved, ratio

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4
LEARNING_RATE = 0.05


def moons_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """100 points of two interleaving half-moons and labels in {-1, +1} (as micrograd's demo)."""
    data = nn.datasets.moons(100, noise=0.1, seed=seed)
    return data.X.astype(np.float32), (data.y * 2 - 1).astype(np.float32)


def dagrad_step(weights: Weights, X: np.ndarray, y: np.ndarray, fused: bool = True) -> Callable[[], float]:
    """The penalty as one fused node (fused=True) or op by op, as micrograd and PyTorch write it."""
    model = dagrad_model(weights)
    params = list(model.parameters())
    optimizer = nn.optim.SGD(params, lr=LEARNING_RATE)
    inputs, labels = engine.Tensor(X), engine.Tensor(y.reshape(-1, 1))

    def step() -> float:
        scores = model(inputs)
        data_loss = (1 - labels * scores).relu().mean()
        if fused:
            reg_loss = ALPHA * engine.sum_of_squares(params)
        else:
            reg_loss = ALPHA * sum((p * p).sum() for p in params)
        loss = data_loss + reg_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_step(torch: Any, weights: Weights, X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    model = torch_model(torch, weights)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y.reshape(-1, 1))

    def step() -> float:
        scores = model(inputs)
        data_loss = (1 - labels * scores).relu().mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in params)
        loss = data_loss + reg_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def numpy_step(weights: Weights, X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """Manual forward/backward of the same net and loss; the gradient of the penalty is 2·alpha·p."""
    params = [(w.copy(), b.copy()) for w, b in weights]
    labels = y.reshape(-1, 1)
    n = len(y)

    def step() -> float:
        activations = numpy_forward(params, X)
        margins = 1 - labels * activations.pop()
        active = margins > 0
        penalty = sum(float(np.sum(w * w)) + float(np.sum(b * b)) for w, b in params)
        loss = float(np.sum(margins * active)) / n + ALPHA * penalty
        grad = np.where(active, -labels / n, np.float32(0)).astype(np.float32)
        for k in range(len(params) - 1, -1, -1):
            w, b = params[k]
            inputs = activations[k]
            grad_w = grad.T @ inputs
            grad_b = grad.sum(axis=0)
            if k > 0:
                grad = grad @ w
                grad *= inputs > 0
            w -= LEARNING_RATE * (grad_w + (2 * ALPHA) * w)
            b -= LEARNING_RATE * (grad_b + (2 * ALPHA) * b)
        return loss

    return step


def micrograd_step(weights: Weights, X: np.ndarray, y: np.ndarray) -> Callable[[], float] | None:
    """The micrograd package's own MLP, Value by Value, with the weights copied in."""
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        return None
    model = MLP(SIZES[0], list(SIZES[1:]))
    for layer, (w, b) in zip(model.layers, weights):
        for j, neuron in enumerate(layer.neurons):
            for i, wi in enumerate(neuron.w):
                wi.data = float(w[j, i])
            neuron.b.data = float(b[j])
    rows = [[float(v) for v in row] for row in X]
    labels = [float(v) for v in y]

    def step() -> float:
        inputs = [[Value(v) for v in row] for row in rows]
        scores = [model(row) for row in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= LEARNING_RATE * p.grad
        return total.data

    return step


def run(settings: Settings) -> list[Row]:
    torch = settings.torch
    weights = initial_weights(SIZES, seed=2)
    X, y = moons_data()
    rows = []
    for fused in (True, False):
        implementations: dict[str, Callable[[], float]] = {
            "dagrad": dagrad_step(weights, X, y, fused=fused),
            "numpy": numpy_step(weights, X, y),
        }
        if torch is not None:
            implementations["torch"] = torch_step(torch, weights, X, y)
        # micrograd takes seconds per step here: skipped in a quick run, a few repeats in the target row.
        micrograd = None if settings.quick or not fused else micrograd_step(weights, X, y)
        if micrograd is not None:
            implementations["micrograd"] = micrograd
        first_losses = {name: step() for name, step in implementations.items()}
        spread = max(first_losses.values()) - min(first_losses.values())
        if spread > 1e-4 * max(1.0, abs(first_losses["numpy"])):
            raise AssertionError(f"case 2: the implementations disagree on the first loss: {first_losses}")
        repeats = settings.repeats(20, 2)
        timings = interleaved(
            implementations,
            repeats=repeats,
            warmup=5,
            block=20,
            slow={"micrograd": 3},
            budget=30,
            settle=settings.settle,
        )
        if fused:
            config = "2-16-16-1, 100 points, full-batch step; dagrad's L2 penalty as one engine.sum_of_squares node"
        else:
            config = "the same step with the L2 penalty op by op in both engines (29 recorded ops)"
        row = Row("2 moons (micrograd demo)", config, "ms", dict(timings))
        row.ratios["dagrad/numpy"] = ratio(timings, "dagrad", "numpy")
        if torch is not None:
            row.ratios["dagrad/torch"] = ratio(timings, "dagrad", "torch")
        if fused:  # the targets; the op-by-op row is there to show the per-op cost, not to be judged
            row.targets.append(Target("dagrad/numpy", row.ratios["dagrad/numpy"], 3.0))
            if torch is not None:
                row.targets.append(Target("dagrad/torch", row.ratios["dagrad/torch"], 1.0))
        if micrograd is not None:
            row.ratios["micrograd/dagrad"] = ratio(timings, "micrograd", "dagrad")
            row.targets.append(Target("micrograd/dagrad", row.ratios["micrograd/dagrad"], 1000, at_most=False))
        rows.append(row)
    return rows
