"""The house's shape, checked on the source: data flows one way, engine <- nn <- viz <- demos.

Imports are read with `ast` (not by importing), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["engine", "nn", "viz", "demos"]  # each may import only the floors before it


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports are within its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", FLOORS)
def test_no_import_runs_back_up(package):
    above = set(FLOORS[FLOORS.index(package) + 1 :])
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & above)
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_packages(path) & above
    }
    assert not offenders, f"{package} may import only {FLOORS[: FLOORS.index(package)] or 'numpy'}: {offenders}"
