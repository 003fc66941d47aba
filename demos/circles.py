"""Lesson 4: how many hidden units does it take to enclose a region?

A 2-H-1 net's score is a sum of H ridge functions a·σ(w·x + b). With H = 2 (and σ monotone), in the
coordinates (w1·x, w2·x) the region {score > 0} is monotone along each axis, so it is unbounded: the
net cannot draw a closed curve around the inner circle and must misclassify part of the ring. With
H = 3 three half-planes can already cut out a triangle around it.
"""

from __future__ import annotations

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext


def train(hidden: int, x: engine.Tensor, y: engine.Tensor, steps: int) -> tuple[nn.Module, float]:
    """Full-batch Adam on BCE; returns the model and its training accuracy."""
    model = nn.MLP(2, [hidden], 1, activation="relu").double()
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        F.binary_cross_entropy_with_logits(model(x), y).backward()
        optimizer.step()
    with engine.no_grad():
        accuracy = float(((model(x).numpy() > 0) == (y.numpy() > 0.5)).mean())
    return model, accuracy


def run(ctx: LessonContext) -> None:
    import viz

    features, labels = nn.datasets.circles(n=400, noise=0.05, factor=0.5, seed=ctx.seed)
    x = engine.tensor(np.asarray(features, dtype=np.float64))
    y = engine.tensor(np.asarray(labels, dtype=np.float64).reshape(-1, 1))
    restarts = 2 if ctx.quick else 5
    steps = 400 if ctx.quick else 1500
    best: dict[int, tuple[nn.Module, float]] = {}
    for hidden in (2, 3, 4, 8):
        runs = []
        for seed in range(restarts):
            ctx.reseed(seed)
            runs.append(train(hidden, x, y, steps))
        best[hidden] = max(runs, key=lambda run: run[1])
    ctx.table(
        ["hidden units H", f"best training accuracy ({restarts} restarts, {steps} Adam steps)"],
        [[h, f"{acc:.1%}"] for h, (_, acc) in best.items()],
    )
    check(best[2][1] < 0.9, "with H = 2 the net cannot enclose the inner circle", f"accuracy {best[2][1]:.1%}")
    check(
        all(best[h][1] >= 0.97 for h in (3, 4, 8)),
        "with H >= 3 the net encloses it (>= 97% accuracy)",
        ", ".join(f"H={h}: {best[h][1]:.1%}" for h in (3, 4, 8)),
    )
    for hidden in (2, 3):
        model, accuracy = best[hidden]
        figure = viz.plot_decision_boundary(model, x.numpy(), labels, title=f"2-{hidden}-1 ReLU net: {accuracy:.1%}")
        ctx.save_figure(figure, f"boundary_H{hidden}.png")
