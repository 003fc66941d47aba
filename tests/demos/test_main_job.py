"""`python -m demos main`: every listed output exists and is a real picture / page / derivation.

One test on purpose: the job runs once, and pytest-xdist would otherwise rerun a module fixture per worker.
"""

import contextlib
import html
import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from demos import main
from tests.viz import svgtext

OUTPUTS = (
    "model_graph.png",
    "model_graph.svg",
    "expression_graph.png",
    "expression_graph.svg",
    "expression_explain.txt",
    "backprop_steps.html",
    "decision_boundary.png",
    "loss_curve.png",
    "index.html",
)


def check_png(path: Path) -> None:
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG", path
        assert image.width >= 300 and image.height >= 100, (path, image.size)
        assert len(np.unique(np.asarray(image.convert("L")))) > 16, f"{path} is (nearly) blank"


def test_main_job_writes_and_lists_every_output(tmp_path: Path) -> None:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["main", "--quick", "--out", str(tmp_path)]) == 0
    report = stdout.getvalue()
    for name in OUTPUTS:
        assert (tmp_path / name).exists(), name
        assert str(tmp_path / name) in report, f"{name} not listed"
    for name in OUTPUTS:
        if name.endswith(".png"):
            check_png(tmp_path / name)

    model_svg = (tmp_path / "model_graph.svg").read_text()
    assert model_svg.lstrip().startswith(("<?xml", "<svg")) and "<text" in model_svg
    assert "Linear" in model_svg and "ReLU" in model_svg  # one box per module
    expression_svg = html.unescape((tmp_path / "expression_graph.svg").read_text())
    for label in ("-4.0000", "-0.5000", "-3.5000", "4.5000"):  # a, de/da, de/db, e
        assert label in expression_svg, label

    trace = (tmp_path / "expression_explain.txt").read_text()
    assert "a × b" in trace and "-0.5" in trace and "-3.5" in trace
    page = (tmp_path / "backprop_steps.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page
    assert "de/da = -0.5000" in report and "de/db = -3.5000" in report

    # the model's graph reads at page width, with its data named after the job's variables
    with Image.open(tmp_path / "model_graph.png") as image:
        assert image.width / image.height <= 3 and image.height / image.width <= 3, image.size
    model_texts = svgtext.texts((tmp_path / "model_graph.svg").read_bytes())
    assert {"x", "y", "logits", "loss"} <= set(model_texts)
    expression_texts = svgtext.texts((tmp_path / "expression_graph.svg").read_bytes())
    assert {"a", "b", "c", "d", "e", "** 3", "** 2"} <= set(expression_texts)
    assert "∂e/∂c" in trace  # the derivation uses the picture's names

    # out/index.html shows every figure the job wrote, and links the stepper and the derivation
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.lstrip().lower().startswith("<!doctype html")
    shown = set(re.findall(r'<img src="([^"]+)"', index))
    figures = {name for name in OUTPUTS if name.endswith((".png", ".svg"))}
    assert {Path(name).stem for name in shown} == {Path(name).stem for name in figures}, shown
    assert all((tmp_path / name).exists() for name in shown)
    assert 'href="backprop_steps.html"' in index and 'href="expression_explain.txt"' in index
    assert html.escape(trace.splitlines()[0]) in index
