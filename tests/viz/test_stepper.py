"""backprop_steps: the self-contained HTML stepper (checked in headless chromium), GIF and PNG frames."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

import engine
import viz
from tests.viz import svgtext

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.fixture
def shared_expression():
    """out = tanh(a*b + c + a): `a` is used twice, so its gradient is a sum of two contributions."""
    a = engine.tensor(0.5, requires_grad=True, dtype="float64", name="a")
    b = engine.tensor(-1.5, requires_grad=True, dtype="float64", name="b")
    c = engine.tensor(0.75, requires_grad=True, dtype="float64", name="c")
    out = (a * b + c + a).tanh()
    out.name = "out"
    return out


def _frames(page: str) -> list[dict]:
    payload = re.search(r'<script type="application/json" id="frames">(.*?)</script>', page, re.S).group(1)
    return json.loads(payload)


def test_html_is_self_contained_with_one_frame_per_step(shared_expression, tmp_path):
    path = viz.backprop_steps(shared_expression, tmp_path / "steps.html")
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "<script" in page and "<style>" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from the network
    frames = _frames(page)
    assert len(frames) == 4 + 2  # seed, Tanh, Add, Add, Mul, done
    assert frames[0]["title"].startswith("Seed") and frames[-1]["title"].startswith("Done")
    titles = [f["title"] for f in frames[1:-1]]
    assert titles == [
        "Step 1 of 4: out = tanh(add_2)",
        "Step 2 of 4: add_2 = add + a",
        "Step 3 of 4: add = mul + c",
        "Step 4 of 4: mul = a × b",
    ]
    # every step highlights an op node and its output, which exist in the SVG
    for frame in frames[1:-1]:
        assert len(frame["current"]) == 2
        for node_id in frame["current"] + frame["edges"]:
            assert f'id="{node_id}"' in page
    # accumulation at the shared leaf is visible in the final frame
    final = frames[-1]["grads"]
    assert any(" + " in text and " = " in text for text in final.values())
    assert "a.grad = " in "\n".join(frames[-1]["text"])


def test_html_escapes_names_in_the_data(tmp_path):
    x = engine.tensor(1.0, requires_grad=True, name="</script><script>alert(1)</script>")
    y = engine.tensor(2.0, requires_grad=True, name="__DATA__ __SVG__")
    page = viz.backprop_steps(x.exp() * y, tmp_path / "evil.html").read_text(encoding="utf-8")
    assert page.count("<script") == 2  # the JSON data and the page's own script, nothing injected
    assert "alert(1)" in page
    picture = page.split('<div id="graph">')[1].split("</svg>")[0]
    assert "__DATA__ __SVG__" in picture  # a name that looks like a template placeholder stays a name
    assert len(_frames(page)) == 4


@pytest.mark.browser
def test_stepper_in_headless_chromium(shared_expression, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); the stepper needs a browser")
    path = viz.backprop_steps(shared_expression, tmp_path / "steps.html")
    done = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            path.as_uri() + "#selftest",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # no console errors (or any console output at all)
    result = json.loads(re.search(r'<pre id="selftest">(.*?)</pre>', done.stdout, re.S).group(1))
    before, after, after2 = result["before"], result["after"], result["after2"]
    assert result["frames"] == 6
    assert before["index"] == 0 and after["index"] == 1 and after2["index"] == 2
    assert before["current"] == [] and len(after["current"]) == 2
    assert after["current"] != after2["current"]  # stepping moves the highlight to the next op
    assert after["grads"] != before["grads"] and after2["grads"] != after["grads"]  # new gradients shown
    assert after["table"] != before["table"] and after["title"] != before["title"]
    assert result["afterClick"]["index"] == 3  # the Next button
    assert result["back"] == after2  # ArrowLeft goes back to the same state
    assert result["slider"]["index"] == 4 and result["slider"]["title"].startswith("Step 4 of 4")
    assert result["end"]["index"] == 5
    final = result["end"]["grads"]
    assert any(" + " in text for text in final.values())  # the shared leaf shows its sum
    assert all(text != "grad —" for text in final.values())


def test_gif_has_one_frame_per_step(shared_expression, tmp_path):
    path = viz.backprop_steps(shared_expression, tmp_path / "steps.gif", frame_ms=200, dpi=60)
    image = Image.open(path)
    assert image.format == "GIF" and image.n_frames == 6 and image.is_animated
    assert image.width > 200


def test_png_series_in_a_directory_and_by_pattern(shared_expression, tmp_path):
    folder = viz.backprop_steps(shared_expression, tmp_path / "frames", dpi=50)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"step_{k:03d}.png" for k in range(6)]
    sizes = {Image.open(folder / n).size for n in names}
    assert len(sizes) == 1  # one fixed layout
    patterned = viz.backprop_steps(shared_expression, tmp_path / "out" / "f{:02d}.png", dpi=50)
    assert sorted(p.name for p in patterned.iterdir()) == [f"f{k:02d}.png" for k in range(6)]
    plain = viz.backprop_steps(shared_expression, tmp_path / "p" / "bp.png", dpi=50)
    assert (plain / "bp_005.png").is_file()


def test_bad_outputs_and_released_graphs(shared_expression, tmp_path):
    with pytest.raises(ValueError, match="cannot tell what to write"):
        viz.backprop_steps(shared_expression, tmp_path / "steps.txt")
    with pytest.raises(ValueError, match="bad PNG pattern"):
        viz.backprop_steps(shared_expression, tmp_path / "f{name}.png")
    with pytest.raises(ValueError, match="same file name"):
        viz.backprop_steps(shared_expression, tmp_path / "f{!s:.0}.png")  # the field prints nothing
    previous = engine.set_learning_size(0)  # a graph too large to keep for viewing
    try:
        shared_expression.backward()  # is released by backward, as in PyTorch
    finally:
        engine.set_learning_size(previous)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.backprop_steps(shared_expression, tmp_path / "late.html")


def test_too_many_steps_are_refused(tmp_path):
    x = engine.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(401):
        y = y * 1.0
    with pytest.raises(ValueError, match="401 steps, more than 400"):
        viz.backprop_steps(y, tmp_path / "long.html")


def test_the_stepper_names_tensors_like_the_picture_and_explain(tmp_path):
    a = engine.tensor(0.5, requires_grad=True, dtype="float64")
    b = engine.tensor(-1.5, requires_grad=True, dtype="float64")
    hidden = a * b
    score = (hidden + a).tanh()
    page = viz.backprop_steps(score, tmp_path / "steps.html", names=locals()).read_text(encoding="utf-8")
    frames = _frames(page)
    assert frames[1]["title"].startswith("Step 1 of 3: score = ")
    assert [row[0] for row in frames[-1]["table"]] == ["score", "add", "hidden", "a", "b"]
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    texts = svgtext.texts(svg)
    assert {"score", "add", "hidden", "a", "b"} <= set(texts)
