"""The dagrad command: round trips in-process (demos.cli.main) and as `python -m demos.cli` in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from demos.cli import main
from tests.viz import svgtext
from viz.render import SUFFIXES

ROOT = Path(__file__).resolve().parents[2]
EXPR = ["graph", "--expr", "tanh(a*b + c)", "--set", "a=2", "b=-3", "c=10"]


def test_expression_to_png_with_explain_and_steps(tmp_path, capsys):
    png, html = tmp_path / "graph.png", tmp_path / "steps.html"
    assert main([*EXPR, "-o", str(png), "--explain", "--steps", str(html)]) == 0
    out, err = capsys.readouterr()
    assert "Step 3: mul = a × b" in out and "a.grad = -0.004023" in out
    assert f"wrote {png}" in err and f"wrote {html}" in err
    assert Image.open(png).format == "PNG"
    assert "<svg" in html.read_text(encoding="utf-8")


def test_expression_svg_shows_every_gradient(tmp_path):
    svg = tmp_path / "g.svg"
    assert main([*EXPR, "-o", str(svg)]) == 0
    texts = svgtext.texts(svg.read_bytes())
    assert "grad -0.0040" in texts and "grad 0.0013" in texts  # leaves and intermediates (retain_grad)
    assert "grad —" not in texts
    assert "out" in texts


def test_without_outputs_the_dot_source_is_printed(capsys):
    assert main(EXPR) == 0
    assert capsys.readouterr().out.startswith("digraph dagrad {")


def test_mlp_graph_with_clusters_and_collapse(tmp_path):
    svg = tmp_path / "mlp.svg"
    assert main(["graph", "--mlp", "2,16,16,1", "-o", str(svg)]) == 0
    texts = svgtext.texts(svg.read_bytes())
    assert "0: Linear(2→16)" in texts and "2: Linear(16→16)" in texts and "4: Linear(16→1)" in texts
    assert "0.weight" in texts
    boxes = tmp_path / "boxes.dot"
    assert main(["graph", "--mlp", "2,16,16,1", "--collapse", "0", "-o", str(boxes)]) == 0
    source = boxes.read_text(encoding="utf-8")
    assert source.count("parameters</FONT>") == 5 and "48 parameters" in source


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["graph", "--expr", "tanh(a*b + d)", "--set", "a=2", "b=1"], "unknown variable 'd'"),
        (["graph", "--expr", "a +* b", "--set", "a=1", "b=2"], "cannot parse"),
        (["graph", "--expr", "open('x')", "--set", "a=1"], "unknown function 'open'"),
        (["graph", "--expr", "a", "--set", "a=x"], "not a number"),
        (["graph", "--bogus"], "one of the arguments --expr --mlp is required"),
        (["graph", "--expr", "a", "--mlp", "2,1"], "not allowed with argument"),
        (["graph", "--mlp", "2,x"], "comma-separated layer sizes"),
        (["graph", "--mlp", "2"], "at least two positive sizes"),
        (["graph", "--expr", "a", "--set", "a=1", "-o", "g.bmp"], "cannot tell the format"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            ["graph", "--expr", "a*b", "--set", "a=2", "b=1", "--set", "a=3"],
            "--set a is given twice with different values, 2 and 3",
        ),
        (["graph", "--mlp", "2,1", "--set", "a=1", "--set", "b=2"], "--set applies to --expr only"),
    ],
)
def test_errors_are_one_line_on_stderr(argv, message, capsys):
    status = main(argv)
    err = capsys.readouterr().err
    assert status != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_repeated_set_flags_accumulate(capsys):
    assert main(["graph", "--expr", "a*b + c", "--set", "a=2", "--set", "b=-3", "c=10", "--explain"]) == 0
    assert capsys.readouterr().out.startswith("Backward pass of out = mul + c = 4.0")


def test_a_variable_set_twice_to_the_same_value_is_accepted(capsys):
    assert main(["graph", "--expr", "a*b", "--set", "a=2", "b=3", "--set", "a=2.0", "--explain"]) == 0
    assert capsys.readouterr().out.startswith("Backward pass of out = a × b = 6.0")


def test_help_and_no_command(capsys):
    assert main(["--help"]) == 0
    assert "dagrad graph --expr" in capsys.readouterr().out
    assert main(["graph", "--help"]) == 0
    assert "--explain" in capsys.readouterr().out
    assert main([]) == 2


def test_graph_help_says_what_o_accepts_and_where_the_graph_goes_without_it(capsys):
    """A first `dagrad graph` without -o filled the terminal with DOT source, and --help did not say it would."""
    assert main(["graph", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help to the terminal's width
    assert "the format comes from the suffix: " + " ".join(SUFFIXES) in text
    assert "Without -o (and without --explain or --steps) the graph's DOT source is printed to stdout" in text


def test_demo_delegates_to_the_demos_package(monkeypatch):
    import demos

    seen = []
    monkeypatch.setattr(demos, "main", lambda argv: seen.append(argv) or 0)
    assert main(["demo", "xor", "--quick", "--seed", "3"]) == 0
    assert seen == [["xor", "--quick", "--seed", "3"]]


def test_python_dash_m_demos_cli_round_trip(tmp_path):
    out = tmp_path / "graph.svg"
    done = subprocess.run(
        [sys.executable, "-m", "demos.cli", *EXPR, "-o", str(out), "--explain"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DAGRAD_GRAPHVIZ_BACKEND": "pure"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Gradients (what .backward() puts in each leaf's .grad):" in done.stdout
    assert "tanh" in svgtext.texts(out.read_bytes())
    bad = subprocess.run(
        [sys.executable, "-m", "demos.cli", "graph", "--expr", "tanh(", "--set", "a=1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot parse" in bad.stderr


def test_a_variable_named_out_keeps_its_name(capsys):
    assert main(["graph", "--expr", "out * 2", "--set", "out=1", "--explain"]) == 0
    assert capsys.readouterr().out.startswith("Backward pass of result = out × 2 = 2.0")
