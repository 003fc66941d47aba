"""Pictures of dagrad graphs: draw_graph / render, explain and backprop_steps, training plots."""

from viz.graph import draw_graph
from viz.render import render

__all__ = ["draw_graph", "render"]
