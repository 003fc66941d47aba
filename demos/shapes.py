"""Lesson 9: shapes and parameter counts. A Linear(in, out) layer holds in·out weights and out biases,
so an MLP with widths n0-n1-...-nk has Σ (n_{i-1}·n_i + n_i) parameters. A forward trace (one forward
hook per layer) prints what flows through the net: the batch dimension stays, the feature dimension
follows the widths.
"""

from __future__ import annotations

import itertools

import numpy as np

import engine
import nn
from demos.claims import check
from demos.context import LessonContext

# (input, hidden sizes, output) -> its parameter count. The often-quoted 4,801 belongs to 8-64-64-1
# (8·64+64 + 64·64+64 + 64·1+1); with 10 inputs the same hidden layers give 4,929.
EXPECTED_COUNTS = {
    (784, (256, 128), 10): 235_146,
    (8, (64, 64), 1): 4_801,
    (10, (64, 64), 1): 4_929,
    (3, (5,), 2): 32,
}


def count_by_formula(widths: list[int]) -> int:
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in itertools.pairwise(widths))


def trace_forward(model: nn.Module, x: engine.Tensor) -> list[list]:
    """Run the model once with a forward hook on every leaf module; one row per layer call."""
    rows: list[list] = []

    def record(module: nn.Module, inputs: tuple, output: engine.Tensor) -> None:
        values = output.numpy()
        rows.append(
            [
                names[id(module)],
                type(module).__name__,
                str(tuple(inputs[0].shape)),
                str(tuple(output.shape)),
                float(values.mean()),
                float(values.std()),
                f"{float((values == 0).mean()):.0%}",
            ]
        )

    names = {id(m): name for name, m in model.named_modules() if name}
    handles = [m.register_forward_hook(record) for name, m in model.named_modules() if name and not list(m.children())]
    try:
        with engine.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return rows


def run(ctx: LessonContext) -> None:
    ctx.reseed()
    ctx.heading("Parameter counts")
    rows = []
    for (n_in, hidden, n_out), expected in EXPECTED_COUNTS.items():
        model = nn.MLP(n_in, list(hidden), n_out)
        widths = [n_in, *hidden, n_out]
        counted = sum(p.numel() for p in model.parameters())
        formula = count_by_formula(widths)
        terms = " + ".join(f"{a}·{b}+{b}" for a, b in itertools.pairwise(widths))
        rows.append(["-".join(map(str, widths)), terms, f"{counted:,}"])
        check(
            counted == formula == expected,
            f"an MLP {'-'.join(map(str, widths))} has {expected:,} parameters",
            f"counted {counted:,}, formula {formula:,}",
        )
    ctx.table(["widths", "Σ in·out + out", "parameters"], rows)
    ctx.say("(4,801 is often quoted for 10-64-64-1; it is the count of 8-64-64-1. With 10 inputs: 4,929.)")

    ctx.heading("Forward trace of 784-256-128-10 on a batch of 32 random 'images'")
    model = nn.MLP(784, [256, 128], 10)
    batch = engine.tensor(ctx.rng().uniform(0.0, 1.0, size=(32, 784)).astype(np.float32))
    trace = trace_forward(model, batch)
    ctx.table(["layer", "type", "input shape", "output shape", "mean", "std", "zeros"], trace)
    check(
        trace[0][2] == "(32, 784)" and trace[-1][3] == "(32, 10)",
        "the batch dimension is kept and the features follow the widths 784 -> 256 -> 128 -> 10",
        f"first input {trace[0][2]}, last output {trace[-1][3]}",
    )
    linear_outputs = [row[3] for row in trace if row[1] == "Linear"]
    check(
        linear_outputs == ["(32, 256)", "(32, 128)", "(32, 10)"],
        "each Linear layer maps the batch to its out_features",
        str(linear_outputs),
    )

    # The same trace as a picture: the recorded graph with one box per layer, its input and output shapes
    # and parameter count, and the values flowing between them.
    import viz

    logits = model(batch)
    graph = viz.draw_graph(logits, params=model, collapse=0, names={"images": batch, "logits": logits}, show_grad=False)
    viz.render(graph, ctx.path("graph.png"))
