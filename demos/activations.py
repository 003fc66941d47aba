"""Lesson 8: why ReLU replaced the sigmoid in deep nets.

σ'(x) = σ(x)(1 - σ(x)) is at most 1/4 (at x = 0). Backprop multiplies one such factor per layer, so
through 10 sigmoid layers the gradient reaching the first layer is orders of magnitude smaller than at the
last: it vanishes. ReLU's slope is 1 where the unit is active, so (with Kaiming initialisation) gradient
norms stay comparable from layer to layer. ReLU's failure mode is the opposite: a too-large learning rate
can push a unit's pre-activation below zero for every input, after which its gradient is 0 and it never
recovers: a dead ReLU.
"""

from __future__ import annotations

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext

DEPTH = 10
WIDTH = 32


def sigmoid_slope_max() -> tuple[float, float]:
    """max σ'(x) over a fine grid, by autograd, and where it happens."""
    x = engine.linspace(-10.0, 10.0, 20001, dtype="float64", requires_grad=True)
    engine.sigmoid(x).sum().backward()
    slopes = x.grad.numpy()
    return float(slopes.max()), float(x.numpy()[slopes.argmax()])


def layer_grad_norms(activation: str, x: engine.Tensor, y: engine.Tensor) -> list[float]:
    """‖∂loss/∂W‖ of each Linear layer of a DEPTH-hidden-layer MLP, input side first."""
    model = nn.MLP(x.shape[1], [WIDTH] * DEPTH, 1, activation=activation).double()
    F.mse_loss(model(x), y).backward()
    return [float(np.linalg.norm(m.weight.grad.numpy())) for m in model.modules() if isinstance(m, nn.Linear)]


def dead_fraction(model: nn.Module, x: engine.Tensor) -> float:
    """Fraction of hidden ReLUs (all layers) that output 0 for every input: their gradient is 0 for good."""
    dead: list[np.ndarray] = []
    handles = [
        m.register_forward_hook(lambda module, inputs, output: dead.append((output.numpy() <= 0).all(axis=0)))
        for m in model.modules()
        if isinstance(m, nn.ReLU)
    ]
    with engine.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return float(np.concatenate(dead).mean())


def train_regression(lr: float, x: engine.Tensor, y: engine.Tensor, steps: int) -> nn.Module:
    """Adam (whose steps are about lr in size whatever the gradient) on a 16-64-64-1 ReLU regression."""
    model = nn.MLP(x.shape[1], [64, 64], 1, activation="relu").double()
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    return model


def run(ctx: LessonContext) -> None:
    import matplotlib.pyplot as plt

    top, where = sigmoid_slope_max()
    ctx.say(f"max σ'(x) on [-10, 10] (by autograd): {top:.6f} at x = {where:+.4f}")
    check(top <= 0.25 + 1e-12 and abs(top - 0.25) < 1e-6, "the sigmoid's slope is at most 1/4", f"max {top}")

    rng = ctx.rng()
    x = engine.tensor(rng.normal(size=(256, 16)))
    y = engine.tensor(np.sin(x.numpy()[:, :1]) + 0.1 * rng.normal(size=(256, 1)))
    norms = {}
    for activation in ("sigmoid", "relu"):
        ctx.reseed()
        norms[activation] = layer_grad_norms(activation, x, y)
    ratios = {a: n[0] / n[-2] for a, n in norms.items()}  # first hidden layer vs last hidden layer
    ctx.heading(f"‖∂loss/∂W‖ per layer, {DEPTH} hidden layers of width {WIDTH} (layer 1 = input side)")
    ctx.table(
        ["layer", "sigmoid", "relu"],
        [[k + 1 if k < DEPTH else "output", s, r] for k, (s, r) in enumerate(zip(norms["sigmoid"], norms["relu"]))],
    )
    ctx.say(f"first / last hidden layer: sigmoid {ratios['sigmoid']:.2e}, relu {ratios['relu']:.2e}")
    check(
        ratios["sigmoid"] < 1e-3 and ratios["relu"] > 100 * ratios["sigmoid"],
        "gradients vanish through 10 sigmoid layers but not through 10 ReLU layers",
        f"first/last ratio sigmoid {ratios['sigmoid']:.2e}, relu {ratios['relu']:.2e}",
    )
    figure, ax = plt.subplots(figsize=(7, 4))
    for activation, values in norms.items():
        ax.semilogy(range(1, len(values) + 1), values, marker="o", label=activation)
    ax.set(
        xlabel="layer (1 = input side)", ylabel="‖∂loss/∂W‖", title=f"Gradient norm per layer, {DEPTH} hidden layers"
    )
    ax.legend()
    ctx.save_figure(figure, "grad_norms.png")

    steps = 30 if ctx.quick else 100
    dead = {}
    for lr in (1e-3, 0.5):
        ctx.reseed(1)
        dead[lr] = dead_fraction(train_regression(lr, x, y, steps), x)
    ctx.heading(f"Dead ReLUs (zero for all {x.shape[0]} inputs) in a 16-64-64-1 net after {steps} Adam steps")
    ctx.table(["learning rate", "dead hidden units"], [[lr, f"{f:.0%}"] for lr, f in dead.items()])
    check(
        dead[0.5] >= 0.25 and dead[0.5] > dead[1e-3] + 0.2,
        "a too-large learning rate kills a large share of the ReLUs",
        f"dead with lr 1e-3: {dead[1e-3]:.0%}, with lr 0.5: {dead[0.5]:.0%}",
    )
