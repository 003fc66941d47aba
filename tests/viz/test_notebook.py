"""A graph from draw_graph and a training History display inline in a real Jupyter kernel (no system Graphviz)."""

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


HISTORY_CELL = """\
import nn
nn.History(train={"loss": [0.9, 0.4]}, val={"loss": [1.0, 0.5]})
"""


@pytest.mark.slow
def test_a_training_history_displays_as_charts_in_a_kernel():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(HISTORY_CELL)])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    (output,) = notebook.cells[0].outputs
    assert output.output_type == "execute_result"
    page = output.data["text/html"]
    assert "History: 2 epochs" in page and page.count("<svg") == 1 and "<polyline" in page
