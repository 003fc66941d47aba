"""backprop_steps: the backward pass frame by frame, as an HTML page, an animated GIF or numbered PNGs.

Frame 0 is the seed (∂root/∂root), then one frame per op in reverse topological order (the op being
processed and its edges in red, the gradients its inputs received, sums at shared tensors), then a final
frame with every gradient. All frames share one layout: the grad rows have a fixed width, so Graphviz
places every node at the same spot whatever the numbers are.

The HTML page is self-contained (inline SVG, CSS and JS; opens from disk, no network). Opened with
`#selftest` at the end of its URL it steps forward once by itself and writes what it saw into
<pre id="selftest"> (the browser test reads it with chromium --dump-dom).
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import Tensor
from viz.explain import describe_tensor, fmt, step_lines, summary_lines
from viz.graph import DagradGraph, GraphIds, build_graph
from viz.render import pipe
from viz.trace import Contribution, Trace, trace_backward

MAX_STEPS = 400  # one frame per op: beyond this a step-through is neither readable nor small
GRAD_CHAR_WIDTH = 7  # points per character at the label font size, for the fixed grad-row width
MAX_GRAD_TEXT = 44


def backprop_steps(
    root: Tensor,
    path: str | os.PathLike[str],
    params: Any = None,
    gradient: Any = None,
    frame_ms: int = 1500,
    dpi: int = 110,
    backend: str | None = None,
    names: Mapping[str, Any] | None = None,
) -> Path:
    """Write the backward pass of `root` step by step and return the path written.

    path decides the output:
      - `*.html`: one self-contained page with Prev/Next buttons, ←/→ keys (Home/End) and a slider;
      - `*.gif`: an animated GIF, `frame_ms` per frame;
      - a directory (an existing one, or a path ending in '/' or without suffix): step_000.png, step_001.png...
        inside it; `*.png` containing a format field, e.g. `out/frame_{:02d}.png`: that pattern;
        any other `*.png`, e.g. `out/step.png`: out/step_000.png, out/step_001.png... For PNGs the
        directory holding the frames is returned.
    Like explain(), it works before and after .backward() and changes no .grad. params names leaves, names (the
    caller's variables, e.g.
    locals()) names any tensor, as in draw_graph; gradient seeds a non-scalar root.
    """
    path_text = os.fspath(path)
    trace = trace_backward(root, gradient, params, caller="backprop_steps", names=names)
    if len(trace.steps) > MAX_STEPS:
        raise ValueError(
            f"backprop_steps: the backward pass has {len(trace.steps)} steps, more than {MAX_STEPS}; step through "
            "a smaller graph (fewer layers, a scalar expression) and use draw_graph(..., collapse=1) for big models"
        )
    frames = _frames(trace)
    width = min(MAX_GRAD_TEXT, max(len(text) for f in frames for text in f["grads"].values())) * GRAD_CHAR_WIDTH + 12
    target = Path(path_text)
    suffix = target.suffix.lower()
    if suffix in (".html", ".htm"):
        return _write_html(trace, frames, target, params, width, backend)
    if suffix == ".gif":
        return _write_gif(trace, frames, target, params, width, frame_ms, dpi, backend)
    if suffix == ".png" or suffix == "" or path_text.endswith(("/", os.sep)) or target.is_dir():
        return _write_pngs(trace, frames, path_text, params, width, dpi, backend)
    raise ValueError(
        f"backprop_steps: cannot tell what to write from {path_text!r}; use a .html or .gif file, a directory, "
        "or a .png path / pattern such as 'frames/step_{:03d}.png'"
    )


# ----- frames ----------------------------------------------------------------------------------------
def _frames(trace: Trace) -> list[dict[str, Any]]:
    """Per frame: title, text, focused tensor, and the grad text of every tensor that has one so far."""
    root = trace.root
    so_far: dict[int, list[Contribution]] = {}
    frames = [
        {
            "title": f"Seed: ∂{trace.name(root)}/∂{trace.name(root)} = {fmt(trace.seed)}",
            "text": [
                f"The forward pass computed {trace.name(root)} = {fmt(root.data)}.",
                "Backprop starts from the root with gradient 1 (∂root/∂root) and visits the ops in reverse "
                "topological order.",
            ],
            "focus": None,
            "inputs": [],
            "grads": {id(root): "grad " + fmt(trace.seed)},
            "shared": [],
        }
    ]
    for step in trace.steps:
        shared = []
        for c in step.contributions:
            so_far.setdefault(id(c.parent), []).append(c)
            if len(so_far[id(c.parent)]) > 1:
                shared.append(id(c.parent))
        grads = {id(root): "grad " + fmt(trace.seed)}
        grads.update({key: _grad_text(parts) for key, parts in so_far.items()})
        frames.append(
            {
                "title": f"Step {step.index + 1} of {len(trace.steps)}: {describe_tensor(trace, step.tensor)}",
                "text": step_lines(trace, step),
                "focus": step.tensor,
                "inputs": [c.parent for c in step.contributions],
                "grads": grads,
                "shared": shared,
            }
        )
    frames.append(
        {
            "title": "Done: every gradient is complete",
            "text": summary_lines(trace),
            "focus": None,
            "inputs": [],
            "grads": frames[-1]["grads"],
            "shared": [],
        }
    )
    return frames


def _grad_text(parts: list[Contribution]) -> str:
    """'grad 2.0', or 'grad 1.0 + 1.0 = 2.0' where contributions have accumulated (scalars)."""
    total = parts[0].value
    for c in parts[1:]:
        total = total + c.value
    if len(parts) == 1 or total.size != 1:
        text = "grad " + fmt(total)
        suffix = f" ({len(parts)} parts)" if len(parts) > 1 else ""
        return _clip(text, MAX_GRAD_TEXT - len(suffix)) + suffix
    terms = " + ".join(fmt(c.value) for c in parts)
    return _clip(f"grad {terms} = {fmt(total)}", MAX_GRAD_TEXT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layout(
    trace: Trace, frame: dict[str, Any] | None, params: Any, width: int, caption: str | None = None
) -> tuple[DagradGraph, GraphIds]:
    grads = frame["grads"] if frame else {}
    return build_graph(
        (trace.root,),
        params=params,
        names=trace.variables,  # the picture names tensors from the same sources as the trace
        show_grad=True,
        grad_text=grads,
        grad_width=width,
        focus=frame["focus"] if frame else None,
        accent=[t for t in trace.tensors if frame and id(t) in frame["shared"]],
        caption=caption,
        max_nodes=4000,
    )


# ----- HTML ------------------------------------------------------------------------------------------
def _write_html(
    trace: Trace, frames: list[dict[str, Any]], path: Path, params: Any, width: int, backend: str | None
) -> Path:
    graph, ids = _layout(trace, None, params, width)
    svg = pipe(graph, "svg", backend=backend).decode("utf-8")
    svg = svg[svg.index("<svg") :]
    names = trace.names
    data = []
    for frame in frames:
        focus = frame["focus"]
        nodes, edges = [], []
        if focus is not None:
            nodes = [f"dg_{ids.ops[id(focus)]}", f"dg_{ids.tensors[id(focus)]}"]
            edges = [ids.out_edges[id(focus)]]
            edges += [edge for (src, dst, _), edge in ids.edges.items() if dst == id(focus)]
        data.append(
            {
                "title": frame["title"],
                "text": frame["text"],
                "current": nodes,
                "edges": edges,
                "receiving": [f"dg_{ids.tensors[id(t)]}" for t in frame["inputs"] if id(t) in ids.tensors],
                "shared": [f"dg_{ids.tensors[k]}" for k in frame["shared"] if k in ids.tensors],
                "grads": {f"dg_{ids.tensors[k]}": text for k, text in frame["grads"].items() if k in ids.tensors},
                "table": [[names[k], text[len("grad ") :]] for k, text in frame["grads"].items() if k in names],
            }
        )
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    title = f"Backprop through {trace.name(trace.root)}"
    values = {"TITLE": html.escape(title), "SVG": svg, "DATA": payload}
    # one pass over the template only: a user string such as "__DATA__" inside the SVG stays text
    page = re.sub(r"__(TITLE|SVG|DATA)__", lambda match: values[match.group(1)], _PAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# ----- GIF and PNG -----------------------------------------------------------------------------------
def _frame_pngs(
    trace: Trace, frames: list[dict[str, Any]], params: Any, width: int, dpi: int, backend: str | None
) -> list[bytes]:
    pngs = []
    for frame in frames:
        caption = frame["title"]
        graph, _ = _layout(trace, frame, params, width, caption=caption)
        pngs.append(pipe(graph, "png", dpi=dpi, backend=backend))
    return pngs


def _same_size(pngs: list[bytes]) -> list[Any]:
    """Decode the frames and pad them (white, top-left aligned) to one size."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs]
    w = max(i.width for i in images)
    h = max(i.height for i in images)
    padded = []
    for image in images:
        canvas = Image.new("RGB", (w, h), "white")
        canvas.paste(image, (0, 0))
        padded.append(canvas)
    return padded


def _write_gif(
    trace: Trace,
    frames: list[dict[str, Any]],
    path: Path,
    params: Any,
    width: int,
    frame_ms: int,
    dpi: int,
    backend: str | None,
) -> Path:
    images = _same_size(_frame_pngs(trace, frames, params, width, dpi, backend))
    path.parent.mkdir(parents=True, exist_ok=True)
    palette = [image.quantize(colors=128) for image in images]
    durations = [frame_ms] * len(palette)
    durations[-1] = frame_ms * 3  # linger on the result before looping
    palette[0].save(path, save_all=True, append_images=palette[1:], duration=durations, loop=0, optimize=False)
    return path


def _write_pngs(
    trace: Trace, frames: list[dict[str, Any]], path_text: str, params: Any, width: int, dpi: int, backend: str | None
) -> Path:
    target = Path(path_text)
    if target.suffix.lower() == ".png":
        if re.search(r"\{[^{}]*\}", target.name):
            pattern = str(target)
        else:
            pattern = str(target.with_name(target.stem + "_{:03d}.png"))
    else:
        pattern = str(target / "step_{:03d}.png")
    try:
        names = [Path(pattern.format(k)) for k in range(len(frames))]
    except (IndexError, KeyError, ValueError) as error:
        raise ValueError(
            f"backprop_steps: bad PNG pattern {path_text!r} ({error}); use one positional field, e.g. "
            "'frames/step_{:03d}.png'"
        ) from None
    if len(set(names)) != len(names):
        raise ValueError(f"backprop_steps: the pattern {path_text!r} gives the same file name to several frames")
    images = _same_size(_frame_pngs(trace, frames, params, width, dpi, backend))
    for name, image in zip(names, images):
        name.parent.mkdir(parents=True, exist_ok=True)
        image.save(name, format="PNG")
    return names[0].parent


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #0f172a; background: #f8fafc; }
  header { padding: 10px 16px; background: #1e293b; color: white; display: flex; gap: 12px; align-items: center; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  button { font-size: 14px; padding: 4px 12px; cursor: pointer; }
  input[type=range] { flex: 1; max-width: 420px; }
  main { display: flex; flex-wrap: wrap; gap: 12px; padding: 12px; }
  #graph { flex: 1 1 100%; overflow: auto; background: white; border: 1px solid #cbd5e1; }
  #graph svg { max-width: 100%; height: auto; }
  aside { flex: 1 1 100%; background: white; border: 1px solid #cbd5e1; padding: 10px; }
  #step-title { font-weight: bold; margin-bottom: 6px; }
  #step-text { white-space: pre-wrap; font-family: Menlo, Consolas, monospace; font-size: 12px; }
  table { border-collapse: collapse; margin-top: 8px; font-size: 13px; }
  td { border-bottom: 1px solid #e2e8f0; padding: 2px 8px; font-family: Menlo, Consolas, monospace; }
  .current polygon, .current ellipse { stroke: #dc2626 !important; stroke-width: 3px; }
  .receiving polygon { stroke: #2563eb !important; stroke-width: 2.5px; }
  .shared polygon { stroke: #d97706 !important; stroke-width: 3.5px; }
  .flow path { stroke: #dc2626; stroke-width: 2.5px; }
  .flow polygon { stroke: #dc2626; fill: #dc2626; }
  .has-grad text.grad { font-weight: bold; fill: #0f172a; }
  .legend span { display: inline-block; margin-right: 10px; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <button id="prev" type="button" title="previous step (←)">◀ Prev</button>
  <button id="next" type="button" title="next step (→)">Next ▶</button>
  <input id="slider" type="range" min="0" value="0" aria-label="step">
  <span id="counter"></span>
</header>
<main>
  <div id="graph">__SVG__</div>
  <aside>
    <div id="step-title"></div>
    <div id="step-text"></div>
    <div class="legend"><span style="color:#dc2626">■ op being processed</span>
      <span style="color:#2563eb">■ receives a gradient</span>
      <span style="color:#d97706">■ gradients add up</span></div>
    <table id="grads"><tbody></tbody></table>
  </aside>
</main>
<pre id="selftest" hidden></pre>
<script type="application/json" id="frames">__DATA__</script>
<script>
"use strict";
(function () {
  const frames = JSON.parse(document.getElementById("frames").textContent);
  const svg = document.querySelector("#graph svg");
  const slider = document.getElementById("slider");
  const gradTexts = {};
  let index = 0;

  // The grad row of every tensor node: the last <text> starting with "grad", re-centred so new text fits.
  for (const node of svg.querySelectorAll("g.node")) {
    const texts = Array.from(node.querySelectorAll("text")).filter(t => t.textContent.startsWith("grad"));
    if (!texts.length) continue;
    const text = texts[texts.length - 1];
    const box = node.getBBox();
    text.setAttribute("text-anchor", "middle");
    text.setAttribute("x", String(box.x + box.width / 2));
    text.classList.add("grad");
    gradTexts[node.id] = text;
  }

  function show(k) {
    index = Math.max(0, Math.min(frames.length - 1, k));
    const frame = frames[index];
    for (const cls of ["current", "receiving", "shared", "flow", "has-grad"]) {
      for (const el of svg.querySelectorAll("." + cls)) el.classList.remove(cls);
    }
    const mark = (ids, cls) => ids.forEach(id => {
      const el = document.getElementById(id);
      if (el) el.classList.add(cls);
    });
    mark(frame.current, "current");
    mark(frame.receiving, "receiving");
    mark(frame.shared, "shared");
    mark(frame.edges, "flow");
    for (const [id, text] of Object.entries(gradTexts)) {
      const value = frame.grads[id];
      text.textContent = value === undefined ? "grad —" : value;
      if (value !== undefined) document.getElementById(id).classList.add("has-grad");
    }
    document.getElementById("step-title").textContent = frame.title;
    document.getElementById("step-text").textContent = frame.text.join("\\n");
    const body = document.querySelector("#grads tbody");
    body.replaceChildren();
    for (const [name, value] of frame.table) {
      const row = body.insertRow();
      row.insertCell().textContent = name + ".grad";
      row.insertCell().textContent = value;
    }
    slider.value = String(index);
    document.getElementById("counter").textContent = "frame " + (index + 1) + " / " + frames.length;
    document.getElementById("prev").disabled = index === 0;
    document.getElementById("next").disabled = index === frames.length - 1;
  }

  slider.max = String(frames.length - 1);
  slider.addEventListener("input", () => show(Number(slider.value)));
  document.getElementById("prev").addEventListener("click", () => show(index - 1));
  document.getElementById("next").addEventListener("click", () => show(index + 1));
  document.addEventListener("keydown", event => {
    if (event.key === "ArrowRight") show(index + 1);
    else if (event.key === "ArrowLeft") show(index - 1);
    else if (event.key === "Home") show(0);
    else if (event.key === "End") show(frames.length - 1);
    else return;
    event.preventDefault();
  });
  show(0);

  if (location.hash === "#selftest") {
    const snapshot = () => ({
      index: index,
      current: Array.from(svg.querySelectorAll(".current")).map(el => el.id),
      grads: Object.fromEntries(Object.entries(gradTexts).map(([id, t]) => [id, t.textContent])),
      table: document.querySelector("#grads tbody").textContent,
      title: document.getElementById("step-title").textContent,
    });
    const press = key => document.dispatchEvent(new KeyboardEvent("keydown", { key: key, bubbles: true }));
    const result = { frames: frames.length, before: snapshot() };
    press("ArrowRight");
    result.after = snapshot();
    press("ArrowRight");
    result.after2 = snapshot();
    document.getElementById("next").click();
    result.afterClick = snapshot();
    press("ArrowLeft");
    result.back = snapshot();
    slider.value = "4";
    slider.dispatchEvent(new Event("input"));
    result.slider = snapshot();
    press("End");
    result.end = snapshot();
    const out = document.getElementById("selftest");
    out.textContent = JSON.stringify(result);
    out.hidden = false;
  }
})();
</script>
</body>
</html>
"""
