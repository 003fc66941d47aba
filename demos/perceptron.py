"""Lesson 1: Rosenblatt's perceptron. A mistake-driven rule, not gradient descent:

    if y·(w·x) <= 0:  w <- w + y·x        (x carries a constant 1, so w includes the bias)

Novikoff's theorem: if some unit vector u separates the data with margin γ = min y·(u·x) > 0 and every
‖x‖ <= R, the rule (started at w = 0) makes at most (R/γ)² mistakes. AND and OR are separable, so the
bound holds; XOR is not, and because the rule is deterministic the weights revisit an earlier state and
repeat that cycle forever.
"""

from __future__ import annotations

import numpy as np

import engine
from demos.claims import check
from demos.context import LessonContext

INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
LABELS = {  # ±1 labels
    "AND": np.array([-1.0, -1.0, -1.0, 1.0]),
    "OR": np.array([-1.0, 1.0, 1.0, 1.0]),
    "XOR": np.array([-1.0, 1.0, 1.0, -1.0]),
}
# A known separating line w·x + b = 0 for each separable task (any separator gives a valid bound).
SEPARATORS = {"AND": np.array([1.0, 1.0, -1.5]), "OR": np.array([1.0, 1.0, -0.5])}


def augmented(x: np.ndarray) -> engine.Tensor:
    """Append the constant 1 so the bias is just another weight."""
    return engine.tensor(np.hstack([x, np.ones((len(x), 1))]), dtype="float64")


def train_perceptron(x: engine.Tensor, y: engine.Tensor, order: np.ndarray, max_epochs: int) -> dict:
    """Cycle through the samples in a fixed order; stop after a clean epoch or when an epoch-start state repeats.

    Returns the mistakes made, the weights, whether it converged, and (if it cycled) every state of the cycle.
    """
    w = engine.zeros(x.shape[1], dtype="float64")
    seen: dict[tuple, int] = {}
    history: list[np.ndarray] = []  # every weight vector visited, in order
    epoch_starts: list[int] = []  # where each epoch begins in `history`
    mistakes = 0
    for epoch in range(max_epochs):
        state = tuple(w.numpy().tolist())
        if state in seen:  # same weights at the same point of the same sweep: the future repeats exactly
            cycle = history[epoch_starts[seen[state]] :]
            return {"converged": False, "mistakes": mistakes, "w": w.numpy().copy(), "cycle": cycle}
        seen[state] = epoch
        epoch_starts.append(len(history))
        history.append(w.numpy().copy())
        epoch_mistakes = 0
        for i in order:
            if (y[i] * (w @ x[i])).item() <= 0:
                w += y[i] * x[i]  # the whole learning rule
                epoch_mistakes += 1
                history.append(w.numpy().copy())
        mistakes += epoch_mistakes
        if epoch_mistakes == 0:
            return {"converged": True, "mistakes": mistakes, "w": w.numpy().copy(), "cycle": []}
    raise RuntimeError(f"perceptron: neither converged nor repeated a state within {max_epochs} epochs")


def novikoff_bound(x: engine.Tensor, y: engine.Tensor, separator: np.ndarray) -> tuple[float, float, float]:
    """R = max ‖x‖, γ = min y·(u·x) for the unit vector u along `separator`, and the bound (R/γ)²."""
    u = engine.tensor(separator / np.linalg.norm(separator), dtype="float64")
    radius = (x * x).sum(axis=1).sqrt().max().item()
    margin = (y * (x @ u)).min().item()
    return radius, margin, (radius / margin) ** 2


def xor_has_no_separator_proof() -> str:
    return (
        "Why XOR has no separating line: we would need b < 0 (for (0,0)), w1 + w2 + b < 0 (for (1,1)),\n"
        "w1 + b > 0 and w2 + b > 0. Adding the last two gives w1 + w2 + 2b > 0; adding the first two gives\n"
        "w1 + w2 + 2b < 0. No w, b satisfy both: the diagonals cannot be split by one line."
    )


def run(ctx: LessonContext) -> None:
    order = ctx.rng().permutation(len(INPUTS))  # one fixed sweep order (the seed picks it)
    x = augmented(INPUTS)
    ctx.say(f"Perceptron rule, zero start, samples visited in the order {order.tolist()} every epoch.")
    rows, results = [], {}
    for task, labels in LABELS.items():
        y = engine.tensor(labels, dtype="float64")
        result = train_perceptron(x, y, order, max_epochs=1000)
        results[task] = result
        if task in SEPARATORS:
            radius, margin, bound = novikoff_bound(x, y, SEPARATORS[task])
            rows.append([task, "converged", result["mistakes"], f"{radius:.3f}", f"{margin:.3f}", f"{bound:.1f}"])
            check(
                result["converged"] and result["mistakes"] <= bound,
                f"the perceptron learns {task} within the Novikoff bound (R/γ)²",
                f"converged={result['converged']}, mistakes={result['mistakes']}, bound={bound:.1f}",
            )
            predictions = np.sign(x.numpy() @ result["w"])
            check(
                np.array_equal(predictions, labels),
                f"the learned {task} line classifies all four inputs",
                str(predictions),
            )
        else:
            rows.append(
                [task, f"cycles ({len(result['cycle'])} updates per period)", result["mistakes"], "-", "-", "-"]
            )
    ctx.table(["task", "outcome", "mistakes", "R", "γ", "(R/γ)²"], rows)

    xor = results["XOR"]
    check(
        not xor["converged"] and len(xor["cycle"]) > 0, "the perceptron never converges on XOR", str(xor["converged"])
    )
    wrong_everywhere = [int((np.sign(augmented(INPUTS).numpy() @ w) != LABELS["XOR"]).sum()) for w in xor["cycle"]]
    check(
        all(n > 0 for n in wrong_everywhere),
        "every weight vector in the XOR cycle misclassifies at least one input",
        f"errors per state: {wrong_everywhere}",
    )
    ctx.heading("XOR: the weights return to an earlier epoch's start, so this loop repeats forever")
    for k, w in enumerate(xor["cycle"]):
        ctx.say(f"  update {k}: w = {np.round(w, 3).tolist()}   ({wrong_everywhere[k]} of 4 inputs wrong)")
    ctx.say()
    ctx.say(xor_has_no_separator_proof())
    draw(ctx, results)


def draw(ctx: LessonContext, results: dict) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(12, 4))
    grid = np.linspace(-1.5, 1.5, 2)
    for ax, (task, labels) in zip(axes, LABELS.items()):
        result = results[task]
        states = [result["w"]] if result["converged"] else result["cycle"]
        for w in states:
            if abs(w[1]) > 1e-12:
                ax.plot(grid, -(w[0] * grid + w[2]) / w[1], alpha=0.6)
            elif abs(w[0]) > 1e-12:
                ax.axvline(-w[2] / w[0], alpha=0.6)
        for label, marker, color in ((1.0, "o", "tab:blue"), (-1.0, "x", "tab:red")):
            chosen = labels == label
            ax.scatter(
                INPUTS[chosen, 0], INPUTS[chosen, 1], marker=marker, s=120, color=color, label=f"y = {label:+.0f}"
            )
        status = "learned line" if result["converged"] else f"lines of its {len(states)}-state cycle"
        ax.set(title=f"{task}: {status}", xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), xlabel="x1", ylabel="x2")
        ax.legend(loc="upper right", fontsize=8)
    ctx.save_figure(figure, "lines.png")
