"""Lesson 3: micrograd's classic demo, reproduced on dagrad.

Karpathy's micrograd trains a 2-16-16-1 ReLU MLP on 100 'moons' points with the SVM max-margin loss
mean(relu(1 - y·score)) plus an L2 penalty 1e-4·Σw², by full-batch SGD with a learning rate decaying
from 1.0 to 0.1 over 100 steps, and reaches 100% accuracy. Same recipe here, with dagrad tensors: one
op per layer instead of one Python object per number, which is where the speed-up comes from.
"""

from __future__ import annotations

import time

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext

STEPS = 100
L2 = 1e-4


def svm_loss(model: nn.Module, x: engine.Tensor, y: engine.Tensor) -> tuple[engine.Tensor, float]:
    """micrograd's loss: mean hinge on ±1 labels plus the L2 penalty; also the accuracy."""
    scores = model(x)
    data_loss = F.hinge_loss(scores, y)
    penalty = sum((p * p).sum() for p in model.parameters())
    accuracy = float(((scores.numpy() > 0) == (y.numpy() > 0)).mean())
    return data_loss + L2 * penalty, accuracy


def train_dagrad(model: nn.Module, x: engine.Tensor, y: engine.Tensor) -> tuple[list[float], list[float], float]:
    """micrograd's loop; returns losses, accuracies and the mean seconds per step."""
    optimizer = nn.optim.SGD(model.parameters(), lr=1.0)
    losses, accuracies = [], []
    start = time.perf_counter()
    for k in range(STEPS):
        loss, accuracy = svm_loss(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        for group in optimizer.param_groups:
            group["lr"] = 1.0 - 0.9 * k / STEPS
        optimizer.step()
        losses.append(loss.item())
        accuracies.append(accuracy)
    return losses, accuracies, (time.perf_counter() - start) / STEPS


def micrograd_seconds_per_step(x: np.ndarray, y: np.ndarray, steps: int) -> float | None:
    """The same step with the `micrograd` package (one Python object per scalar); None if not installed."""
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        return None
    model = MLP(2, [16, 16, 1])
    inputs = [list(map(Value, row)) for row in x.tolist()]
    start = time.perf_counter()
    for k in range(steps):
        scores = [model(row) for row in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
        loss = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / STEPS) * p.grad
    return (time.perf_counter() - start) / steps


def run(ctx: LessonContext) -> None:
    import viz

    features, labels = nn.datasets.moons(n=100, noise=0.1, seed=ctx.seed)
    signs = 2.0 * np.asarray(labels, dtype=np.float64).reshape(-1, 1) - 1.0  # {0, 1} -> {-1, +1}
    x = engine.tensor(np.asarray(features, dtype=np.float64))
    y = engine.tensor(signs)
    ctx.reseed()
    model = nn.MLP(2, [16, 16], 1, activation="relu").double()
    losses, accuracies, dagrad_step = train_dagrad(model, x, y)
    for k in range(0, STEPS, 10):
        ctx.say(f"step {k:3d}  loss {losses[k]:.4f}  accuracy {accuracies[k]:.0%}")
    _, final_accuracy = svm_loss(model, x, y)
    ctx.say(f"final    loss {losses[-1]:.4f}  accuracy {final_accuracy:.0%}")
    check(
        final_accuracy == 1.0,
        "the 2-16-16-1 net separates the 100 moons points perfectly, as in micrograd",
        f"accuracy {final_accuracy:.0%}",
    )

    micrograd_steps = 1 if ctx.quick else 5
    micrograd_step = micrograd_seconds_per_step(x.numpy(), signs[:, 0], micrograd_steps)
    ctx.heading("Time per training step (forward + backward + update, 100 points)")
    rows = [["dagrad", f"{dagrad_step * 1e3:.2f} ms", f"mean of {STEPS} steps"]]
    if micrograd_step is None:
        ctx.say("(micrograd is not installed: pip install 'dagrad[demos]' to compare)")
    else:
        rows.append(["micrograd", f"{micrograd_step * 1e3:.1f} ms", f"mean of {micrograd_steps} step(s)"])
        rows.append(["speed-up", f"{micrograd_step / dagrad_step:.0f}x", "on this machine"])
    ctx.table(["engine", "time/step", "measured over"], rows)

    figure = viz.plot_decision_boundary(model, x.numpy(), labels, title="micrograd's moons demo on dagrad")
    ctx.save_figure(figure, "decision_boundary.png")
