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
    p.retain_grad()
    y.retain_grad()
    return y


def micrograd_expression() -> engine.Tensor:
    """The main demo's expression (every value keeps its gradient), so docs and `make demo` draw the same graph."""
    e, _ = scalar_expression()
    return e


def trained_model_loss() -> tuple[nn.Module, engine.Tensor]:
    engine.manual_seed(0)
    model = nn.MLP(2, [16, 16], 1, activation="relu")
    x, y = nn.datasets.moons(n=8, seed=0)
    loss = F.binary_cross_entropy_with_logits(
        model(engine.tensor(x)), engine.tensor(y.reshape(-1, 1).astype("float32"))
    )
    loss.backward()
    return model, loss


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

    e = micrograd_expression()
    (out / "explain.txt").write_text(viz.explain(e) + "\n", encoding="utf-8")
    written.append(out / "explain.txt")
    e.backward()
    written.append(viz.render(viz.draw_graph(e), out / "expression.svg"))
    written.append(viz.render(viz.draw_graph(e), out / "expression.png"))

    model, loss = trained_model_loss()
    written.append(viz.render(viz.draw_graph(loss, params=model, collapse=0), out / "mlp_collapsed.svg"))
    written.append(viz.render(viz.draw_graph(loss, params=model, collapse=0), out / "mlp_collapsed.png"))
    written.append(viz.render(viz.draw_graph(loss, params=model), out / "mlp_ops.svg"))
    return written


if __name__ == "__main__":
    for path in main():
        print(path)
