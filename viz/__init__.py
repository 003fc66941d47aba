"""Pictures of dagrad graphs and of training.

    import viz
    viz.draw_graph(loss, params=model)          # graphviz.Digraph; displays inline in Jupyter
    viz.render(loss, "graph.png")               # .svg .png .jpg .pdf .dot; no system Graphviz needed
    print(viz.explain(loss))                    # the backward pass as a hand derivation
    viz.backprop_steps(loss, "steps.html")      # step through backprop in a browser (or .gif / PNGs)
    viz.plot_history(history)                   # and plot_decision_boundary / activation_stats / grad_flow

engine and nn never import viz; viz needs the "viz" extra (graphviz, graphviz-pure, matplotlib, pillow).
"""

from typing import Any

from viz.explain import explain
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
    "plot_activation_stats",
    "plot_decision_boundary",
    "plot_grad_flow",
    "plot_history",
    "render",
]
