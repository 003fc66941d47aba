"""`python -m demos main`: every listed output exists and is a real picture / page / derivation."""

import html
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demos import main

OUTPUTS = (
    "model_graph.png",
    "model_graph.svg",
    "expression_graph.png",
    "expression_graph.svg",
    "expression_explain.txt",
    "backprop_steps.html",
    "decision_boundary.png",
    "loss_curve.png",
)


@pytest.fixture(scope="module")
def main_job_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("main_job")
    capture = out / "stdout.txt"
    import contextlib

    with capture.open("w") as stream, contextlib.redirect_stdout(stream):
        assert main(["main", "--quick", "--out", str(out)]) == 0
    return out, capture.read_text()


def test_main_job_lists_every_output(main_job_output: tuple[Path, str]) -> None:
    out, stdout = main_job_output
    for name in OUTPUTS:
        assert (out / name).exists(), name
        assert str(out / name) in stdout, f"{name} not listed"


@pytest.mark.parametrize("name", [n for n in OUTPUTS if n.endswith(".png")])
def test_pngs_are_non_trivial_images(main_job_output: tuple[Path, str], name: str) -> None:
    with Image.open(main_job_output[0] / name) as image:
        image.load()
        assert image.format == "PNG"
        assert image.width >= 300 and image.height >= 100, image.size
        assert len(np.unique(np.asarray(image.convert("L")))) > 16, "image is (nearly) blank"


def test_svgs_contain_the_labels(main_job_output: tuple[Path, str]) -> None:
    model_svg = (main_job_output[0] / "model_graph.svg").read_text()
    assert model_svg.lstrip().startswith(("<?xml", "<svg")) and "<text" in model_svg
    assert "Linear" in model_svg and "ReLU" in model_svg  # modules collapsed into one box each
    expression_svg = html.unescape((main_job_output[0] / "expression_graph.svg").read_text())
    for label in ("-4.0000", "-0.5000", "-3.5000", "4.5000"):  # a, de/da, de/db, e
        assert label in expression_svg, label


def test_explain_trace_and_stepper(main_job_output: tuple[Path, str]) -> None:
    out, stdout = main_job_output
    trace = (out / "expression_explain.txt").read_text()
    assert "Mul" in trace and "-0.5" in trace and "-3.5" in trace
    page = (out / "backprop_steps.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page
    assert "de/da = -0.5000" in stdout and "de/db = -3.5000" in stdout
