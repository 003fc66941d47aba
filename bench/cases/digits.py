"""Case 5: scikit-learn's digits, an MLP 64-128-64-10 trained until 97% test accuracy: wall time.

All three implementations see the same split, the same initial weights and the same mini-batches
(dagrad through nn.data.DataLoader with a seed; PyTorch and NumPy replay that loader's permutations),
and train with SGD + momentum; the test accuracy is checked after every epoch. Reported: the wall
time to reach the target and the number of epochs it took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import engine
import nn
from bench.cases.mlp import dagrad_model, initial_weights
from bench.cases.relu_mlp import Weights, numpy_forward, torch_model
from bench.harness import Row, Settings, Target, Timing
from nn import functional as F

SIZES = (64, 128, 64, 10)
TARGET_ACCURACY = 0.97
BATCH = 32
LEARNING_RATE = 0.05
MOMENTUM = 0.9
MAX_EPOCHS = 60
SEED = 0

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def digits_split(seed: int = SEED) -> Split:
    """80/20 train/test split, pixels scaled from 0..16 to 0..1."""
    data = nn.datasets.digits()
    order = np.random.default_rng(seed).permutation(len(data.y))
    X, y = data.X[order] / np.float32(16), data.y[order]
    cut = int(0.8 * len(y))
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _epoch_orders(n: int, seed: int) -> Iterator[np.ndarray]:
    """The permutations nn.data.DataLoader(shuffle=True, seed=seed) draws, one per epoch."""
    rng = np.random.default_rng(seed)
    while True:
        yield rng.permutation(n)


def _batches(order: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(order), BATCH):
        yield order[start : start + BATCH]


def train_dagrad(weights: Weights, split: Split) -> tuple[int, float]:
    X, y, X_test, y_test = split
    model = dagrad_model(weights)
    optimizer = nn.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=BATCH, shuffle=True, seed=SEED)
    test_inputs = engine.Tensor(X_test)
    for epoch in range(1, MAX_EPOCHS + 1):
        for inputs, targets in loader:
            loss = F.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with engine.no_grad():
            accuracy = float((model(test_inputs).data.argmax(axis=1) == y_test).mean())
        if accuracy >= TARGET_ACCURACY:
            return epoch, accuracy
    return MAX_EPOCHS, accuracy


def train_torch(torch: Any, weights: Weights, split: Split) -> tuple[int, float]:
    X, y, X_test, y_test = (torch.from_numpy(a) for a in split)
    model = torch_model(torch, weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    orders = _epoch_orders(len(y), SEED)
    for epoch in range(1, MAX_EPOCHS + 1):
        for batch in _batches(torch.from_numpy(next(orders))):
            loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = float((model(X_test).argmax(dim=1) == y_test).float().mean())
        if accuracy >= TARGET_ACCURACY:
            return epoch, accuracy
    return MAX_EPOCHS, accuracy


def train_numpy(weights: Weights, split: Split) -> tuple[int, float]:
    """Hand-written forward/backward, SGD with momentum as torch.optim.SGD (buf = m·buf + g)."""
    X, y, X_test, y_test = split
    params = [(w.copy(), b.copy()) for w, b in weights]
    buffers = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    orders = _epoch_orders(len(y), SEED)

    for epoch in range(1, MAX_EPOCHS + 1):
        for batch in _batches(next(orders)):
            activations = numpy_forward(params, X[batch])
            targets, rows = y[batch], np.arange(len(batch))
            grad = activations.pop()
            grad -= grad.max(axis=1, keepdims=True)
            np.exp(grad, out=grad)
            grad /= grad.sum(axis=1, keepdims=True)
            grad[rows, targets] -= 1
            grad /= len(batch)
            for k in range(len(params) - 1, -1, -1):
                (w, b), (w_buf, b_buf) = params[k], buffers[k]
                inputs = activations[k]
                grad_w, grad_b = grad.T @ inputs, grad.sum(axis=0)
                if k > 0:
                    grad = grad @ w
                    grad *= inputs > 0
                w_buf *= MOMENTUM
                w_buf += grad_w
                b_buf *= MOMENTUM
                b_buf += grad_b
                w -= LEARNING_RATE * w_buf
                b -= LEARNING_RATE * b_buf
        accuracy = float((numpy_forward(params, X_test)[-1].argmax(axis=1) == y_test).mean())
        if accuracy >= TARGET_ACCURACY:
            return epoch, accuracy
    return MAX_EPOCHS, accuracy


def run(settings: Settings) -> list[Row]:
    torch = settings.torch
    weights = initial_weights(SIZES, seed=3)
    split = digits_split()
    trainers: dict[str, Callable[[], tuple[int, float]]] = {
        "dagrad": lambda: train_dagrad(weights, split),
        "numpy": lambda: train_numpy(weights, split),
    }
    if torch is not None:
        trainers["torch"] = lambda: train_torch(torch, weights, split)
    samples: dict[str, list[float]] = {name: [] for name in trainers}
    outcomes: dict[str, tuple[int, float]] = {}
    if not settings.quick:
        for train in trainers.values():
            train()  # warm-up: PyTorch's first run pays seconds of one-time initialisation
    for _ in range(settings.repeats(3, 1)):
        for name, train in trainers.items():
            start = time.perf_counter()
            outcomes[name] = train()
            samples[name].append(time.perf_counter() - start)
    values: dict[str, Timing | float] = {name: Timing.of(s) for name, s in samples.items()}
    row = Row("5 digits to 97%", "64-128-64-10, SGD+momentum, batch 32, wall time to 97% test accuracy", "s", values)
    row.ratios["dagrad/numpy"] = values["dagrad"].median / values["numpy"].median
    if torch is not None:
        row.ratios["dagrad/torch"] = values["dagrad"].median / values["torch"].median
    row.note = ", ".join(f"{name}: {epochs} epochs, {acc:.1%}" for name, (epochs, acc) in outcomes.items())
    reached = min(acc for _, acc in outcomes.values())
    row.targets.append(Target("lowest final accuracy", reached, TARGET_ACCURACY, at_most=False))
    return [row]
