"""viz sits on top: engine and nn never import it, and importing viz does not load matplotlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return set(done.stdout.split())


def test_engine_and_nn_do_not_import_viz_or_drawing_libraries():
    loaded = _modules_after("import engine, nn")
    assert not {"viz", "graphviz", "matplotlib", "PIL", "torch"} & loaded


def test_import_viz_is_light_until_a_plot_is_asked_for():
    loaded = _modules_after("import viz")
    assert "viz" in loaded and "matplotlib" not in loaded and "torch" not in loaded
    assert "matplotlib" in _modules_after("import viz\nviz.plot_history")
