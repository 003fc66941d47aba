"""render: a graph (or a tensor's graph) to .svg / .png / .jpg / .pdf / .dot, with or without system Graphviz.

Backends, in the order "auto" tries them:
- "system": Graphviz's `dot` on PATH (apt-get install graphviz); every format it supports.
- "pure": `graphviz-pure`, a static dot-compatible binary that `pip install "dagrad[viz]"` puts next to the
  Python executable. It lays out and writes SVG/PNG/JPEG itself, with bundled fonts (text measured with
  real metrics for Helvetica/Times/Courier, which is why labels use Helvetica). It has no PDF writer, so
  a PDF is the PNG rendered at `dpi` (default 300) and wrapped into a one-page PDF by Pillow: text is
  crisp when printed but not selectable. Why this backend: it keeps HTML-like labels (tables), which the
  in-process WebAssembly Graphviz drops, and needs no font setup, unlike SVG->PNG converters.
Choose explicitly with backend= or the DAGRAD_GRAPHVIZ_BACKEND environment variable (auto|system|pure).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import graphviz

from engine import Tensor

BACKENDS = ("auto", "system", "pure")
PURE_FORMATS = ("svg", "png", "jpg", "jpeg", "json")  # json: the layout alone, for pages that draw it
TEXT_FORMATS = ("dot", "gv")
SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".pdf", ".dot", ".gv")
DEFAULT_DPI = {"png": 150, "jpg": 150, "jpeg": 150, "pdf": 300}
TIMEOUT_SECONDS = 120
INSTALL_HINT = "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"


def render(
    graph_or_tensor: graphviz.Digraph | Tensor,
    path: str | os.PathLike[str],
    dpi: int | None = None,
    backend: str | None = None,
) -> Path:
    """Write the graph to `path`; the format comes from the suffix (.svg .png .jpg .pdf .dot).

    A Tensor is drawn first with draw_graph(tensor). dpi applies to raster output (PNG/JPEG, and the PDF of
    the pip-only backend); default 150 for PNG, 300 for PDF. Missing parent folders are created (as nn.save
    does). Returns the path written.
    """
    graph = _as_graph(graph_or_tensor)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"render: cannot tell the format of {str(path)!r} from its suffix {suffix or '(none)'!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    fmt = suffix[1:]
    if dpi is not None and (not isinstance(dpi, (int, float)) or isinstance(dpi, bool) or not 10 <= dpi <= 2400):
        raise ValueError(f"render: dpi must be a number between 10 and 2400, got {dpi!r}")
    _make_parent_folder(path)
    if fmt in TEXT_FORMATS:
        path.write_text(graph.source, encoding="utf-8")
        return path
    path.write_bytes(pipe(graph, fmt, dpi=dpi, backend=backend))
    return path


def _make_parent_folder(path: Path) -> None:
    """Create the folder `path` goes in: the rule nn.save follows too, so no run ends in an error (and a lost
    result) because out/ did not exist yet."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where a folder should be, or a folder we may not create
        in_the_way = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{in_the_way} is a file, not a folder" if in_the_way else error.strerror or str(error)
        # the same class and errno as the OSError, reworded to name the operation and the file asked for
        reworded = (NotADirectoryError if in_the_way else type(error))(
            f"render: cannot create the folder {path.parent} for {path}: {reason}; choose another path"
        )
        reworded.errno = errno.ENOTDIR if in_the_way else error.errno
        raise reworded from None


def pipe(graph: graphviz.Digraph | str, fmt: str, dpi: int | None = None, backend: str | None = None) -> bytes:
    """The rendered bytes of a graph (or DOT source) in `fmt` (svg, png, jpg, jpeg, pdf)."""
    source = graph if isinstance(graph, str) else graph.source
    dpi = dpi or DEFAULT_DPI.get(fmt)
    chosen = choose_backend(backend)
    if chosen == "system":
        return _run(_system_dot(), source, fmt, dpi, "system Graphviz dot")
    if fmt == "pdf":
        return _png_to_pdf(_run(_pure_binary(), source, "png", dpi, "graphviz-pure"), dpi)
    if fmt not in PURE_FORMATS:
        raise ValueError(
            f"render: the {fmt!r} format needs the system Graphviz: {INSTALL_HINT}; the pip-only renderer "
            f"writes {', '.join(PURE_FORMATS)} and pdf"
        )
    return _run(_pure_binary(), source, fmt, dpi, "graphviz-pure")


def choose_backend(backend: str | None = None) -> str:
    """'system' or 'pure': the explicit choice, else $DAGRAD_GRAPHVIZ_BACKEND, else system dot if on PATH."""
    requested = backend or os.environ.get("DAGRAD_GRAPHVIZ_BACKEND") or "auto"
    if requested not in BACKENDS:
        raise ValueError(f"render: backend must be one of {', '.join(BACKENDS)}, got {requested!r}")
    if requested == "auto":
        return "system" if shutil.which("dot") else "pure"
    return requested


def find_pure_binary() -> str | None:
    """Path of graphviz-pure: next to this Python (a venv's bin/), in pip's scripts folders, else on PATH."""
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    with contextlib.suppress(KeyError):  # no user scheme on some platforms
        folders.append(Path(sysconfig.get_path("scripts", f"{os.name}_user")))
    for folder in folders:
        candidate = folder / "graphviz-pure"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("graphviz-pure")


def _pure_binary() -> str:
    found = find_pure_binary()
    if found is None:
        raise RuntimeError(
            'render: no Graphviz renderer found: install the pip-only one with pip install "dagrad[viz]" '
            f"(it provides graphviz-pure), or {INSTALL_HINT}"
        )
    return found


def _system_dot() -> str:
    found = shutil.which("dot")
    if found is None:
        raise RuntimeError(f"render: backend='system' needs Graphviz's dot on PATH: {INSTALL_HINT}")
    return found


def _run(binary: str, source: str, fmt: str, dpi: int | None, what: str) -> bytes:
    command = [binary, f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi and fmt != "svg" else [])
    try:
        done = subprocess.run(
            command, input=source.encode("utf-8"), capture_output=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"render: {what} took more than {TIMEOUT_SECONDS} s to lay out the graph; draw fewer nodes "
            "(draw_graph(..., collapse=1) or a smaller model)"
        ) from None
    if done.returncode != 0 or not done.stdout:
        errors = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if "Warning" not in line]
        detail = "; ".join(errors[-3:]) or f"exit status {done.returncode}"
        raise RuntimeError(f"render: {what} failed to write {fmt}: {detail}")
    return done.stdout


def _png_to_pdf(png: bytes, dpi: int | None) -> bytes:
    """Wrap a PNG into a one-page PDF whose physical size matches the drawing at `dpi`."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=float(dpi or DEFAULT_DPI["pdf"]))
    return out.getvalue()


def _as_graph(value: Any) -> graphviz.Digraph:
    if isinstance(value, Tensor):
        from viz.graph import draw_graph

        return draw_graph(value)
    if isinstance(value, graphviz.Digraph | graphviz.Graph):
        return value
    raise TypeError(
        f"render: expected a graph from viz.draw_graph (a graphviz.Digraph) or an engine.Tensor, "
        f"got {type(value).__name__}"
    )
