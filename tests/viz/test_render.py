"""render through the pip-only Graphviz (graphviz-pure): SVG, PNG, JPEG, PDF, DOT; backend choice; Jupyter."""

from __future__ import annotations

import importlib
import io
import re
import shutil

import pytest
from PIL import Image

import engine
import viz
from tests.viz import svgtext
from viz.render import choose_backend, find_pure_binary, pipe, render

render_module = importlib.import_module("viz.render")  # the module; viz.render is the function
pytestmark = pytest.mark.skipif(find_pure_binary() is None, reason="graphviz-pure is not installed (dagrad[viz])")


@pytest.fixture
def graph(scalar_expression):
    scalar_expression["out"].backward()
    return viz.draw_graph(scalar_expression["out"])


def test_svg_contains_every_label(graph, tmp_path):
    path = render(graph, tmp_path / "g.svg")
    texts = svgtext.texts(path.read_bytes())
    for expected in ("a", "b", "c", "×", "+", "tanh", "data 2.0000", "data -3.0000", "arg0", "arg1"):
        assert expected in texts, expected
    assert len(svgtext.groups(path.read_bytes(), "node")) == 9
    assert len(svgtext.groups(path.read_bytes(), "edge")) == 8


def test_png_is_a_real_picture_at_the_requested_dpi(graph, tmp_path):
    low = Image.open(render(graph, tmp_path / "low.png", dpi=72))
    high = Image.open(render(graph, tmp_path / "high.png", dpi=144))
    assert low.format == "PNG" and low.width > 300 and low.height > 80
    assert high.width == pytest.approx(2 * low.width, rel=0.05)
    # text was drawn: many dark pixels, not a blank canvas
    gray = high.convert("L")
    dark = sum(1 for v in gray.tobytes() if v < 100)
    assert dark > 2000


def test_jpeg_and_dot(graph, tmp_path):
    assert Image.open(render(graph, tmp_path / "g.jpg")).format == "JPEG"
    dot = render(graph, tmp_path / "g.dot").read_text(encoding="utf-8")
    assert dot == graph.source and dot.startswith("digraph")


def test_pdf_on_the_pure_path_is_a_one_page_pdf_with_the_picture(graph, tmp_path):
    path = render(graph, tmp_path / "g.pdf", dpi=100)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and b"/Type /Page" in data
    png = Image.open(io.BytesIO(pipe(graph, "png", dpi=100)))
    # the page has the drawing's physical size: pixels / dpi inches, 72 points per inch
    box = [float(v) for v in re.search(rb"/MediaBox \[([\d. ]+)\]", data).group(1).split()]
    assert box[2] == pytest.approx(png.width * 72 / 100, rel=0.01)
    assert box[3] == pytest.approx(png.height * 72 / 100, rel=0.01)
    assert len(data) > 10_000


def test_a_tensor_is_drawn_first(scalar_expression, tmp_path):
    path = render(scalar_expression["out"], tmp_path / "t.svg")
    assert "tanh" in svgtext.texts(path.read_bytes())


def test_unknown_suffix_and_bad_dpi(graph, tmp_path):
    with pytest.raises(ValueError, match=r"suffix '\.bmp'.*\.svg"):
        render(graph, tmp_path / "g.bmp")
    with pytest.raises(ValueError, match="suffix '\\(none\\)'"):
        render(graph, tmp_path / "g")
    with pytest.raises(ValueError, match="dpi"):
        render(graph, tmp_path / "g.png", dpi=0)
    with pytest.raises(TypeError, match="expected a graph"):
        render("digraph {}", tmp_path / "g.png")


def test_backend_choice(monkeypatch):
    assert choose_backend() == "pure"  # the autouse fixture sets DAGRAD_GRAPHVIZ_BACKEND=pure
    monkeypatch.delenv("DAGRAD_GRAPHVIZ_BACKEND")
    assert choose_backend() == ("system" if shutil.which("dot") else "pure")
    assert choose_backend("pure") == "pure"
    with pytest.raises(ValueError, match="backend must be one of"):
        choose_backend("cairo")


def test_system_backend_without_dot_says_how_to_install(graph, monkeypatch):
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        pipe(graph, "svg", backend="system")


def test_formats_the_pure_renderer_lacks_need_system_graphviz(graph):
    with pytest.raises(ValueError, match="apt-get install graphviz"):
        pipe(graph, "ps", backend="pure")


def test_missing_pure_binary_says_what_to_install(graph, monkeypatch):
    monkeypatch.setattr(render_module, "find_pure_binary", lambda: None)
    with pytest.raises(RuntimeError, match=r'pip install "dagrad\[viz\]"'):
        pipe(graph, "svg", backend="pure")


def test_invalid_dot_reports_the_renderer_error():
    with pytest.raises(RuntimeError, match="graphviz-pure failed to write svg"):
        pipe("digraph { a -> }", "svg", backend="pure")


def test_inline_display_in_jupyter_uses_the_pip_only_renderer(graph):
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(graph)
    assert "image/svg+xml" in data
    assert "tanh" in svgtext.texts(data["image/svg+xml"])
    assert graph._repr_mimebundle_(exclude=["image/svg+xml"]) == {}


def test_subgraphs_keep_working_with_the_digraph_subclass(tmp_path):
    a = engine.tensor(1.0, requires_grad=True)
    g = viz.draw_graph(a.exp())
    with g.subgraph(name="cluster_extra") as extra:
        extra.node("note", label="added by hand")
    assert "added by hand" in svgtext.texts(pipe(g, "svg"))


def test_graphviz_style_pipe_and_render_use_the_pip_only_renderer(graph, tmp_path):
    assert graph.pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert "tanh" in svgtext.texts(graph.pipe(format="svg", encoding="utf-8"))
    written = graph.render(tmp_path / "torchviz_style", format="png")  # what torchviz users type
    assert written == str(tmp_path / "torchviz_style.png")
    assert Image.open(written).format == "PNG" and (tmp_path / "torchviz_style").read_text() == graph.source
    cleaned = graph.render(tmp_path / "clean", format="svg", cleanup=True)
    assert cleaned.endswith("clean.svg") and not (tmp_path / "clean").exists()
    with pytest.raises(ValueError, match="only the dot layout"):
        graph.pipe(format="svg", engine="neato")
    with pytest.raises(ValueError, match="view=True is not supported"):
        graph.render(tmp_path / "v", view=True)
