"""Pictures of dagrad graphs and of training.

    import viz
    viz.draw_graph(loss, params=model)          # graphviz.Digraph; displays inline in Jupyter
    viz.render(loss, "graph.png")               # .svg .png .jpg .pdf .dot; no system Graphviz needed
    print(viz.explain(loss))                    # the backward pass as a hand derivation
    viz.backprop_steps(loss, "steps.html")      # step through backprop in a browser (or .gif / PNGs)
    viz.plot_history(history)                   # and plot_decision_boundary / activation_stats / grad_flow
    viz.explore(loss)                           # the live explorer in the browser (also: dagrad serve)

engine and nn never import viz; viz needs the "viz" extra (graphviz, graphviz-pure, matplotlib, pillow).

Choices worth knowing:
- Rendering uses the system `dot` when it is on PATH, else graphviz-pure (installed by pip): SVG/PNG/JPEG
  natively; PDF is a high-dpi PNG wrapped by Pillow (not selectable text). DAGRAD_GRAPHVIZ_BACKEND=pure|system
  or render(..., backend=) picks one.
- A graph with more than max_nodes drawn nodes is refused with a ValueError suggesting collapse= (never an
  endless layout); collapse=d draws each module deeper than depth d as one box (the model is depth 0).
- One edge per operand slot (`a + a` has two). When a tensor feeds ops far away (shared weights along a long
  chain), those edges leave from a small "↪ name" copy of it, which keeps dot's layout fast.
- Op nodes draw the engine's `node.label` (`+`, `** 3`, `sum(dim=1)`), so a new op needs no change here.
- Every tensor has one name, the same in draw_graph, explain and backprop_steps (viz.labels.tensor_names):
  Tensor.name, else its path in params=, else a caller variable from names= (e.g. locals()), else generated.
- rankdir="auto" goes left to right unless the picture would be more than 3x wider than tall; then top to
  bottom, with each op beside its result when no value is used twice (a model reads as a column of layers).
- After backward() a graph of learning size (engine.set_learning_size) shows every value's gradient: what
  backward recorded for each op, not .grad (an intermediate's .grad stays None, as in PyTorch). explain(),
  backprop_steps() and the explorer read the same records, or, before backward, run the engine's own walk
  for an observer (engine.autograd.observe_backward): viz never re-implements backward.
"""

from typing import Any

from viz.explain import explain
from viz.explore import explore
from viz.graph import DagradGraph, draw_graph
from viz.render import render
from viz.stepper import backprop_steps

_PLOTS = ("plot_activation_stats", "plot_decision_boundary", "plot_grad_flow", "plot_history")


def __getattr__(name: str) -> Any:
    """The plot functions load matplotlib (~0.6 s) on first use, so `import viz` and the CLI stay quick."""
    if name in _PLOTS:
        from viz import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")


__all__ = [
    "DagradGraph",
    "backprop_steps",
    "draw_graph",
    "explain",
    "explore",
    "plot_activation_stats",
    "plot_decision_boundary",
    "plot_grad_flow",
    "plot_history",
    "render",
]
