"""Case 1: one training step of an MLP 784-256-128-10 (forward, cross-entropy, backward, SGD), float32.

Three implementations start from the same weights and batch:
- dagrad: nn.Sequential of nn.Linear / nn.ReLU, nn.functional.cross_entropy, nn.optim.SGD;
- PyTorch: the same with torch.nn, F.cross_entropy and torch.optim.SGD;
- hand-written NumPy: the floor a NumPy engine can reach (manual forward and backward, in-place
  updates); the engine's job is to add almost nothing on top of it.
The first step's losses are compared, so the three are known to compute the same thing.
A last row runs the same step on an 8-8-8-4 MLP, where NumPy's work is tiny: dagrad minus hand-written
NumPy there is the engine's Python bookkeeping per step.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

import engine
import nn
from bench.cases.relu_mlp import Weights, numpy_forward, torch_model
from bench.harness import Row, Settings, Target, format_number, interleaved, ratio, round_ratios
from engine.graph import walk
from nn import functional as F

SIZES = (784, 256, 128, 10)
LEARNING_RATE = 0.01
COPIES = 3  # independently built copies of each implementation, timed in turns


def initial_weights(sizes: tuple[int, ...] = SIZES, seed: int = 0) -> Weights:
    """PyTorch's default Linear initialisation, U(-1/√in, 1/√in), drawn once and shared by everyone."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        weights.append((weight, bias))
    return weights


def random_batch(batch: int, features: int = SIZES[0], classes: int = SIZES[-1], seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, features), dtype=np.float32), rng.integers(0, classes, batch)


# ----- dagrad -----------------------------------------------------------------------------------------


def dagrad_model(weights: Weights) -> nn.Module:
    layers: list[nn.Module] = []
    for k, (weight, bias) in enumerate(weights):
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        linear.weight.data[...] = weight
        linear.bias.data[...] = bias
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def dagrad_step(weights: Weights, X: np.ndarray, y: np.ndarray, lr: float = LEARNING_RATE) -> Callable[[], float]:
    model = dagrad_model(weights)
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    inputs, targets = engine.Tensor(X), engine.Tensor(y)

    def step() -> float:
        loss = F.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def dagrad_float_dtypes(weights: Weights, X: np.ndarray, y: np.ndarray) -> set[str]:
    """The float dtypes of every tensor in one dagrad step: graph values and constants, the loss,
    the parameters and their gradients. The issue's target: float32 only, nothing silently upcast."""
    model = dagrad_model(weights)
    loss = F.cross_entropy(model(engine.Tensor(X)), engine.Tensor(y))
    tensors = walk(loss)
    loss.backward()
    tensors += [p.grad for p in model.parameters()]
    return {str(t.dtype) for t in tensors if t.dtype.kind == "f"}


# ----- PyTorch ----------------------------------------------------------------------------------------


def torch_step(torch: Any, weights: Weights, X: np.ndarray, y: np.ndarray, lr: float = LEARNING_RATE):
    model = torch_model(torch, weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# ----- hand-written NumPy -----------------------------------------------------------------------------


def numpy_step(weights: Weights, X: np.ndarray, y: np.ndarray, lr: float = LEARNING_RATE) -> Callable[[], float]:
    """Manual forward and backward of Linear-ReLU-...-Linear + softmax cross-entropy, SGD in place."""
    params = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(y))

    def step() -> float:
        activations = numpy_forward(params, X)
        logits = activations.pop()
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits, out=logits)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[rows, y]).mean()
        grad = probs  # d loss / d logits = (softmax - onehot) / N
        grad[rows, y] -= 1
        grad /= len(y)
        for k in range(len(params) - 1, -1, -1):
            w, b = params[k]
            inputs = activations[k]
            grad_w = grad.T @ inputs
            grad_b = grad.sum(axis=0)
            if k > 0:
                grad = grad @ w
                grad *= inputs > 0  # ReLU mask: the activation is positive exactly where its input was
            w -= lr * grad_w
            b -= lr * grad_b
        return float(loss)

    return step


def run(settings: Settings, batches: tuple[int, ...] = (32, 128, 1024)) -> list[Row]:
    torch = settings.torch
    weights = initial_weights()
    rows = []
    for batch in batches:
        X, y = random_batch(batch)
        builders = {"dagrad": dagrad_step, "numpy": numpy_step}
        if torch is not None:
            builders["torch"] = functools.partial(torch_step, torch)
        # COPIES of each, built in turns and pooled (see interleaved): one copy's memory placement alone
        # moved dagrad/numpy at batch 1024 by up to 0.05, as much as the target's margin.
        implementations = {name: [] for name in builders}
        for _ in range(COPIES):
            for name, build in builders.items():
                implementations[name].append(build(weights, X, y))
        for copy in zip(*implementations.values()):
            check_first_losses(dict(zip(implementations, copy)))
        repeats = settings.repeats(12 if batch >= 1024 else 15, 2)
        timings = interleaved(implementations, repeats=repeats, warmup=3, block=10, budget=40, settle=settings.settle)
        row = Row("1 MLP train step", f"784-256-128-10, batch {batch}", "ms", dict(timings))
        row.ratios["dagrad/numpy"] = ratio(timings, "dagrad", "numpy")
        if batch in (128, 1024):
            row.targets.append(Target("dagrad/numpy", row.ratios["dagrad/numpy"], 1.15 if batch == 128 else 1.05))
        spread = round_ratios(timings, "dagrad", "numpy")
        if spread is not None:
            low, high = (format_number(value) for value in spread)
            row.note = f"dagrad/numpy round by round {low}-{high} (middle half)"
        if torch is not None:
            row.ratios["dagrad/torch"] = ratio(timings, "dagrad", "torch")
            row.ratios["numpy/torch"] = ratio(timings, "numpy", "torch")
            if batch in (128, 1024):
                row.targets.append(Target("dagrad/torch", row.ratios["dagrad/torch"], 0.9))
        rows.append(row)
    dtypes = dagrad_float_dtypes(weights, *random_batch(batches[0]))
    rows[-1].targets.append(Target("float dtypes other than float32 in a dagrad step", len(dtypes - {"float32"}), 0))
    dtype_note = f"float dtypes seen in a dagrad step: {', '.join(sorted(dtypes))}"
    rows[-1].note = f"{rows[-1].note}; {dtype_note}" if rows[-1].note else dtype_note
    rows.append(bookkeeping_row(settings))
    return rows


def check_first_losses(implementations: dict[str, Callable[[], float]]) -> None:
    """Run each step once: they must agree on the loss, so the three compute the same thing."""
    first_losses = {name: step() for name, step in implementations.items()}
    spread = max(first_losses.values()) - min(first_losses.values())
    if spread > 1e-4 * max(1.0, abs(first_losses["numpy"])):
        raise AssertionError(f"case 1: the implementations disagree on the first loss: {first_losses}")


BOOKKEEPING_SIZES = (8, 8, 8, 4)


def bookkeeping_row(settings: Settings, batch: int = 4) -> Row:
    """The same step on an 8-8-8-4 MLP and 4 samples, where NumPy's work is a few microseconds per call: dagrad's
    time minus hand-written NumPy's is the engine's Python bookkeeping per step, with the caches warm (no
    target: the batch 128 and 1024 rows pay this bookkeeping several times over, with colder caches)."""
    weights = initial_weights(BOOKKEEPING_SIZES)
    X, y = random_batch(batch, BOOKKEEPING_SIZES[0], BOOKKEEPING_SIZES[-1])
    implementations = {"dagrad": dagrad_step(weights, X, y), "numpy": numpy_step(weights, X, y)}
    if settings.torch is not None:
        implementations["torch"] = torch_step(settings.torch, weights, X, y)
    check_first_losses(implementations)
    timings = interleaved(implementations, repeats=settings.repeats(30, 2), warmup=20, block=50, budget=20)
    config = "8-8-8-4, batch 4: the engine's bookkeeping"
    row = Row("1 MLP train step", config, "us", dict(timings))
    row.ratios["dagrad/numpy"] = ratio(timings, "dagrad", "numpy")
    if settings.torch is not None:
        row.ratios["dagrad/torch"] = ratio(timings, "dagrad", "torch")
    overhead = (timings["dagrad"].median - timings["numpy"].median) * 1e6
    row.note = f"dagrad - numpy = {overhead:.0f} us of Python per step"
    return row
