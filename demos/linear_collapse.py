"""Lesson 10: without activations, depth buys nothing. Linear layers compose into one linear map:

    W3(W2(W1 x + b1) + b2) + b3 = (W3 W2 W1) x + (W3 W2 b1 + W3 b2 + b3)

so a 'deep' stack without nonlinearities is exactly logistic regression, and no line separates XOR.
For XOR under binary cross-entropy the best linear model is provably w = 0, b = 0 (the loss is convex
and its gradient vanishes there), i.e. loss ln 2 and at most 3 of 4 points right. One tanh per layer fixes it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext
from demos.xor_data import XOR_INPUTS, XOR_TARGETS

WIDTHS = (2, 8, 8, 8, 1)


def stack(activation: type[nn.Module] | None) -> nn.Sequential:
    """Linear layers of WIDTHS, with `activation` between them (None: nothing in between)."""
    layers: list[nn.Module] = []
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(WIDTHS)):
        layers.append(nn.Linear(fan_in, fan_out))
        if activation is not None and k < len(WIDTHS) - 2:
            layers.append(activation())
    return nn.Sequential(*layers).double()


def collapse(model: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """Multiply the layers out: the single (W, b) with model(x) = x Wᵀ + b."""
    weight = np.eye(model[0].in_features)
    bias = np.zeros(model[0].in_features)
    for layer in model:
        layer_weight, layer_bias = layer.weight.numpy(), layer.bias.numpy()
        weight, bias = layer_weight @ weight, layer_weight @ bias + layer_bias
    return weight, bias


def train_on_xor(model: nn.Module, steps: int, lr: float) -> tuple[float, float]:
    """Full-batch Adam on the four XOR points with BCE; returns (final loss, accuracy)."""
    x = engine.tensor(XOR_INPUTS, dtype="float64")
    y = engine.tensor(XOR_TARGETS, dtype="float64")
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        optimizer.step()
    with engine.no_grad():
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y).item()
    accuracy = float(((logits.numpy() > 0) == (XOR_TARGETS > 0.5)).mean())
    return loss, accuracy


def run(ctx: LessonContext) -> None:
    import viz

    ctx.reseed()
    model = stack(activation=None)
    weight, bias = collapse(model)
    probe = engine.tensor(ctx.rng().normal(size=(1000, WIDTHS[0])), dtype="float64")
    with engine.no_grad():
        deep = model(probe).numpy()
    single = probe.numpy() @ weight.T + bias
    gap = float(np.abs(deep - single).max())
    ctx.say(f"{len(model)} Linear layers {WIDTHS}, no activations, collapse to one map:")
    ctx.say(f"  W = {np.round(weight, 4).tolist()}   b = {np.round(bias, 4).tolist()}")
    ctx.say(f"  max |model(x) - (x Wᵀ + b)| over 1000 random inputs: {gap:.2e}")
    check(gap < 1e-10, "a stack of Linear layers equals one linear map", f"max difference {gap:.3e}")

    steps = 300 if ctx.quick else 1500
    linear_loss, linear_accuracy = train_on_xor(model, steps, lr=0.05)
    ctx.reseed(1)
    nonlinear = stack(activation=nn.Tanh)
    nonlinear_loss, nonlinear_accuracy = train_on_xor(nonlinear, steps, lr=0.05)
    ctx.heading(f"Training on XOR ({steps} full-batch Adam steps, BCE)")
    ctx.table(
        ["model", "final loss", "accuracy"],
        [
            ["4 Linear layers, no activation", linear_loss, f"{linear_accuracy:.0%}"],
            ["same with tanh in between", nonlinear_loss, f"{nonlinear_accuracy:.0%}"],
            ["best possible linear model", math.log(2), "<= 75%"],
        ],
    )
    check(
        linear_accuracy <= 0.75 and linear_loss >= math.log(2) - 1e-6,
        "the activation-free stack cannot do better than a linear model on XOR (loss >= ln 2, accuracy <= 75%)",
        f"loss {linear_loss:.6f}, accuracy {linear_accuracy:.0%}",
    )
    check(
        nonlinear_accuracy == 1.0 and nonlinear_loss < 0.1,
        "adding tanh between the same layers solves XOR",
        f"loss {nonlinear_loss:.4f}, accuracy {nonlinear_accuracy:.0%}",
    )
    # What each stack learned over the input plane: one straight boundary (or none: w = 0 predicts 0.5
    # everywhere) without activations; regions that bend around the diagonal with tanh.
    for stem, trained, title in (
        ("no_activation", model, f"4 Linear layers, no activation: {linear_accuracy:.0%} of XOR"),
        ("tanh", nonlinear, f"the same layers with tanh: {nonlinear_accuracy:.0%} of XOR"),
    ):
        ctx.save_figure(viz.plot_decision_boundary(trained, XOR_INPUTS, XOR_TARGETS, title=title), f"{stem}.png")
