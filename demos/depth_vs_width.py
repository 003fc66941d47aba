"""Lesson 7: depth versus width on a compositional target (Telgarsky, "Benefits of depth in neural networks").

The tent map t(x) = 2·min(x, 1-x) on [0, 1] is two ReLUs: t(x) = 2·relu(x) - 4·relu(x - 1/2). Composing it
k times gives a sawtooth with 2^(k-1) teeth (2^k linear pieces), and a ReLU net with k hidden layers of
width 2 computes it exactly: 6k + 1 parameters. A one-hidden-layer net 1-W-1 with the same parameter
count (3W + 1 = 6k + 1, so W = 2k) is piecewise linear with at most W kinks, so at least 2^(k-1) - W
teeth contain no kink, and on each of them it is a straight line. That gives a floor on its loss which
no training can beat. Depth wins exponentially in what it can represent.

Trained from random initialisation, both nets are also shown (best of several seeds): gradient descent
rarely finds the deep construction, the same lesson as xor (representable is not learnable).
"""

from __future__ import annotations

import itertools

import numpy as np

import engine
import nn
import nn.functional as F
from demos.claims import check
from demos.context import LessonContext

COMPOSITIONS = 5  # k: the target has 2^(k-1) = 16 teeth
GRID_POINTS = 513


def tent(x: np.ndarray) -> np.ndarray:
    return 2.0 * np.minimum(x, 1.0 - x)


def sawtooth(x: np.ndarray, k: int) -> np.ndarray:
    for _ in range(k):
        x = tent(x)
    return x


def relu_net(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1]).double()


def telgarsky_net(k: int) -> nn.Sequential:
    """k hidden layers of width 2 set by hand so the output is the k-fold tent map on [0, 1]."""
    model = relu_net([1] + [2] * k + [1])
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with engine.no_grad():
        # first layer: (relu(x), relu(x - 1/2)); each next layer reads t = 2·h0 - 4·h1 and does the same
        linears[0].weight.copy_(np.array([[1.0], [1.0]]))
        for layer in linears[1:-1]:
            layer.weight.copy_(np.array([[2.0, -4.0], [2.0, -4.0]]))
        for layer in linears[:-1]:
            layer.bias.copy_(np.array([0.0, -0.5]))
        linears[-1].weight.copy_(np.array([[2.0, -4.0]]))
        linears[-1].bias.copy_(np.array([0.0]))
    return model


def shallow_loss_floor(x: np.ndarray, y: np.ndarray, k: int, kinks: int) -> float:
    """A lower bound on the MSE of ANY 1-W-1 ReLU net (W = kinks) on this grid.

    Each kink lies inside at most one tooth; on a tooth without a kink the net is one straight line, so its
    squared error there is at least the least-squares line's residual on the tooth's interior points.
    """
    teeth = 2 ** (k - 1)
    residuals = []
    for j in range(teeth):
        inside = (x > j / teeth) & (x < (j + 1) / teeth)
        design = np.stack([x[inside], np.ones(inside.sum())], axis=1)
        _, residual, *_ = np.linalg.lstsq(design, y[inside], rcond=None)
        residuals.append(float(residual[0]))
    straight = max(teeth - kinks, 0)
    return float(np.sort(residuals)[:straight].sum() / len(x))


def mse(model: nn.Module, x: engine.Tensor, y: engine.Tensor) -> float:
    with engine.no_grad():
        return F.mse_loss(model(x), y).item()


def train(model: nn.Module, x: engine.Tensor, y: engine.Tensor, steps: int) -> float:
    """Full-batch Adam with a cosine-decayed learning rate; returns the final MSE."""
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = 0.01 * 0.5 * (1 + np.cos(np.pi * step / steps))
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    return mse(model, x, y)


def run(ctx: LessonContext) -> None:
    k = COMPOSITIONS
    grid = np.linspace(0.0, 1.0, GRID_POINTS)
    target = sawtooth(grid, k)
    x = engine.tensor(grid[:, None], dtype="float64")
    y = engine.tensor(target[:, None], dtype="float64")

    deep_widths = [1] + [2] * k + [1]
    width = 2 * k  # 3W + 1 = 6k + 1
    shallow_widths = [1, width, 1]
    deep = telgarsky_net(k)
    deep_params = sum(p.numel() for p in deep.parameters())
    shallow_params = sum(p.numel() for p in relu_net(shallow_widths).parameters())
    check(
        deep_params == shallow_params,
        "the two architectures have the same number of parameters",
        f"deep {deep_params}, shallow {shallow_params}",
    )

    with engine.no_grad():
        constructed = deep(x).numpy()[:, 0]
    exact_error = float(np.abs(constructed - target).max())
    check(
        exact_error < 1e-12,
        f"the hand-set {len(deep_widths) - 2}-layer width-2 net computes t^{k} exactly",
        f"max error {exact_error:.2e}",
    )
    floor = shallow_loss_floor(grid, target, k, kinks=width)

    seeds = 2 if ctx.quick else 5
    steps = 600 if ctx.quick else 3000
    trained: dict[str, list[tuple[float, nn.Module]]] = {"deep": [], "shallow": []}
    for seed in range(seeds):
        for name, widths in (("deep", deep_widths), ("shallow", shallow_widths)):
            ctx.reseed(seed)
            model = relu_net(widths)
            trained[name].append((train(model, x, y, steps), model))
    best = {name: min(runs, key=lambda run: run[0]) for name, runs in trained.items()}

    ctx.say(
        f"Target: the tent map composed {k} times ({2 ** (k - 1)} teeth), {GRID_POINTS} points on [0, 1]; "
        f"variance {target.var():.4f}"
    )
    deep_name = "-".join(map(str, deep_widths))
    shallow_name = "-".join(map(str, shallow_widths))
    ctx.table(
        ["net", "parameters", "how", "MSE"],
        [
            [f"deep-narrow {deep_name}", deep_params, "hand-set (Telgarsky)", mse(deep, x, y)],
            [f"shallow-wide {shallow_name}", shallow_params, "any weights: proven floor", floor],
            [f"deep-narrow {deep_name}", deep_params, f"trained, best of {seeds}", best["deep"][0]],
            [f"shallow-wide {shallow_name}", shallow_params, f"trained, best of {seeds}", best["shallow"][0]],
        ],
    )
    check(
        floor > 0.0,
        "no parameter-matched shallow net can fit the sawtooth (its loss floor is positive)",
        f"floor {floor:.4g}",
    )
    check(
        all(loss >= floor - 1e-12 for loss, _ in trained["shallow"]),
        "every trained shallow net stays above the floor (a check of the kink-counting argument)",
        f"shallow losses {[round(loss, 5) for loss, _ in trained['shallow']]}, floor {floor:.5f}",
    )
    ctx.say(
        f"\nDepth wins: the {deep_params}-parameter deep net reaches MSE 0, while every {shallow_params}-parameter "
        f"shallow net has MSE >= {floor:.4f}. Training found neither optimum here: best deep "
        f"{best['deep'][0]:.4f}, best shallow {best['shallow'][0]:.4f}."
    )
    draw(ctx, grid, target, constructed, {name: run[1] for name, run in best.items()}, x)


def draw(ctx: LessonContext, grid, target, constructed, best: dict, x: engine.Tensor) -> None:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 4))
    ax.plot(grid, target, color="black", lw=3, alpha=0.3, label="target t^k")
    ax.plot(grid, constructed, color="tab:green", lw=1, label="deep-narrow, hand-set")
    with engine.no_grad():
        for name, model in best.items():
            ax.plot(grid, model(x).numpy()[:, 0], lw=1, label=f"{name}, trained (best seed)")
    ax.set(xlabel="x", ylabel="y", title="Depth vs width on Telgarsky's sawtooth (equal parameter counts)")
    ax.legend(loc="upper right", fontsize=8)
    ctx.save_figure(figure, "fits.png")
