"""A graph from draw_graph displays inline in a real Jupyter kernel, without the system Graphviz."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.viz import svgtext

ROOT = Path(__file__).resolve().parents[2]

CELL = """\
import os
os.environ["DAGRAD_GRAPHVIZ_BACKEND"] = "pure"
import engine, viz
a = engine.tensor(2.0, requires_grad=True, name="a")
viz.draw_graph((a * a).tanh())
"""


@pytest.mark.slow
def test_draw_graph_displays_inline_in_a_kernel():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = notebook.cells[0].outputs
    assert len(outputs) == 1 and outputs[0].output_type == "execute_result"
    texts = svgtext.texts(outputs[0].data["image/svg+xml"])
    assert "tanh" in texts and "a" in texts
