"""docs/tutorial.ipynb executes top to bottom (nbclient, the venv's python3 kernel) and draws its graphs.

One test on purpose: the notebook runs once (a module fixture would run again on each xdist worker).
"""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_tutorial_executes_and_renders_its_graphs() -> None:
    notebook = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    for cell in notebook.cells:  # a clean slate: committed outputs must not mask a failure
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # Run from docs/ (where the notebook lives) so its own path setup finds the repository root.
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(DOCS)}})
    client.execute()  # raises CellExecutionError naming the cell and its traceback if any cell fails

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "e = 4.5000   de/da = -0.5000   de/db = -3.5000" in text
    assert "Backward pass of" in text

    data = [o["data"] for o in outputs if "data" in o]
    svgs = [d["image/svg+xml"] for d in data if "image/svg+xml" in d]
    pngs = [d["image/png"] for d in data if "image/png" in d]
    assert len(svgs) >= 3 and all("<svg" in s for s in svgs), "graphs are not rendered inline"
    assert len(pngs) >= 2, "training plots are not rendered inline"

    line = next(row for row in text.splitlines() if row.startswith("final training loss"))
    assert float(line.rsplit(" ", 1)[1].rstrip("%")) >= 90.0, line
