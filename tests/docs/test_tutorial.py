"""docs/tutorial.ipynb executes top to bottom (nbclient, the venv's python3 kernel) and draws its graphs.

One test on purpose: the notebook runs once (a module fixture would run again on each xdist worker).
"""

import re
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
    pages = [d["text/html"] for d in data if "text/html" in d]
    assert len(svgs) >= 5 and all("<svg" in s for s in svgs), "graphs are not rendered inline"
    assert len(pngs) >= 2, "training plots are not rendered inline"
    assert any("History: 25 epochs" in page and "<polyline" in page for page in pages), "History has no rich display"

    line = next(row for row in text.splitlines() if row.startswith("final training loss"))
    assert float(line.rsplit(" ", 1)[1].rstrip("%")) >= 90.0, line
    # the hand-written loop (zero_grad, forward, backward, step) trains as well as nn.fit
    line = next(row for row in text.splitlines() if row.startswith("hand-written loop"))
    assert float(line.rsplit(" ", 1)[1].rstrip("%")) >= 90.0, line
    # one training step drawn: named inputs in the picture, explain's derivation, and a step that helps
    step_svgs = [svg for svg in svgs if "x_batch" in svg and "y_batch" in svg and "logits" in svg]
    assert len(step_svgs) == 2, "the training step's graph (before and after backward) is missing"
    assert "Step 5: linear = linear(x_batch, 0.weight, 0.bias)" in text
    line = next(row for row in text.splitlines() if row.startswith("loss on the batch"))
    before, after = (float(word.rstrip(",")) for word in line.split() if word[0].isdigit())
    assert after < before, line


def test_the_notebook_extra_brings_what_the_tutorial_needs_to_open() -> None:
    """`pip install "dagrad[notebook]"`: the pictures' dependencies, a Jupyter front end and the kernel; kept
    out of `dev` (make test runs the notebook headless with nbclient instead)."""
    import tomllib

    extras = tomllib.loads((DOCS.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    names = {re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0] for requirement in extras["notebook"]}
    assert {"notebook", "ipykernel"} <= names and "dagrad[viz]" in extras["notebook"]
    assert not any(requirement.startswith("notebook") for requirement in extras["dev"])
    opening = nbformat.read(DOCS / "tutorial.ipynb", as_version=4).cells[0].source
    assert '.venv/bin/pip install -e ".[notebook]"' in opening and "jupyter notebook docs/tutorial.ipynb" in opening
