"""docs/tutorial.ipynb executes top to bottom (nbclient, the venv's python3 kernel) and draws its graphs."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    notebook = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    for cell in notebook.cells:  # run from a clean slate: committed outputs must not mask a failure
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # Executed from the real docs/ folder so the notebook's own path setup finds the repository.
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(DOCS)}})
    client.execute()  # raises CellExecutionError with the cell and traceback if any cell fails
    return notebook


def outputs_of(notebook: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def test_no_cell_raises(executed: nbformat.NotebookNode) -> None:
    assert not [o for o in outputs_of(executed) if o.get("output_type") == "error"]


def test_the_scalar_example_prints_micrograd_numbers(executed: nbformat.NotebookNode) -> None:
    text = "".join(o.get("text", "") for o in outputs_of(executed) if o.get("output_type") == "stream")
    assert "e = 4.5000   de/da = -0.5000   de/db = -3.5000" in text
    assert "Backward pass of" in text


def test_graphs_and_plots_are_rendered_inline(executed: nbformat.NotebookNode) -> None:
    data = [o["data"] for o in outputs_of(executed) if "data" in o]
    svgs = [d["image/svg+xml"] for d in data if "image/svg+xml" in d]
    pngs = [d["image/png"] for d in data if "image/png" in d]
    assert len(svgs) >= 3 and all("<svg" in s for s in svgs)
    assert len(pngs) >= 2


def test_training_in_the_notebook_reaches_a_good_accuracy(executed: nbformat.NotebookNode) -> None:
    text = "".join(o.get("text", "") for o in outputs_of(executed) if o.get("output_type") == "stream")
    line = next(row for row in text.splitlines() if row.startswith("final training loss"))
    accuracy = float(line.rsplit(" ", 1)[1].rstrip("%"))
    assert accuracy >= 90.0, line
