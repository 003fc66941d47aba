"""Regenerate the pictures used by docs/how-it-works.md and README.md (all drawn by dagrad's own viz).

    .venv/bin/python docs/make_images.py            # writes docs/images/
    .venv/bin/python docs/make_images.py OUT_DIR    # writes elsewhere (the tests do this)

Deterministic: fixed values and a fixed seed, so re-running it only changes files if viz or engine changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import engine
import nn
import nn.functional as F
import viz
from demos.main_job import scalar_expression

IMAGES = Path(__file__).resolve().parent / "images"


def small_expression() -> engine.Tensor:
    """y = a·b + a: a is used twice, so its gradient is a sum of two contributions."""
    a = engine.tensor(3.0, dtype="float64", requires_grad=True, name="a")
    b = engine.tensor(-2.0, dtype="float64", requires_grad=True, name="b")
    p = a * b
    p.name = "p"
    y = p + a
    y.name = "y"
    return y


def micrograd_expression() -> tuple[engine.Tensor, dict[str, engine.Tensor]]:
    """The main demo's expression (every value keeps its gradient) and its variables a..e, so docs and
    `make demo` draw the same graph with the same names."""
    return scalar_expression()


def trained_model_loss() -> tuple[nn.Module, engine.Tensor, dict[str, engine.Tensor]]:
    """A 2-16-16-1 MLP's loss on 8 moons points, after backward, and the variables naming its tensors."""
    engine.manual_seed(0)
    model = nn.MLP(2, [16, 16], 1, activation="relu")
    points, labels = nn.datasets.moons(n=8, seed=0)
    x, y = engine.tensor(points), engine.tensor(labels.reshape(-1, 1).astype("float32"))
    logits = model(x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    return model, loss, {"x": x, "y": y, "logits": logits, "loss": loss}


def main(argv: list[str] | None = None) -> list[Path]:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else IMAGES
    out.mkdir(parents=True, exist_ok=True)
    written = []

    y = small_expression()
    written.append(viz.render(viz.draw_graph(y, show_grad=False), out / "forward_graph.svg"))
    written.append(viz.render(viz.draw_graph(y, show_saved=True, show_grad=False), out / "saved_values.svg"))
    written.append(viz.backprop_steps(y, out / "backprop_steps.gif", frame_ms=1800))
    y.backward()
    written.append(viz.render(viz.draw_graph(y), out / "backward_graph.svg"))

    e, variables = micrograd_expression()
    (out / "explain.txt").write_text(viz.explain(e, names=variables) + "\n", encoding="utf-8")
    written.append(out / "explain.txt")
    e.backward()
    written.append(viz.render(viz.draw_graph(e, names=variables), out / "expression.svg"))
    written.append(viz.render(viz.draw_graph(e, names=variables), out / "expression.png"))

    model, loss, variables = trained_model_loss()
    collapsed = viz.draw_graph(loss, params=model, collapse=0, names=variables)
    written.append(viz.render(collapsed, out / "mlp_collapsed.svg"))
    written.append(viz.render(collapsed, out / "mlp_collapsed.png"))
    written.append(viz.render(viz.draw_graph(loss, params=model, names=variables), out / "mlp_ops.svg"))
    return written


if __name__ == "__main__":
    for path in main():
        print(path)
