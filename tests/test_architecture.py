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


def _private_names_defined(package: str) -> set[str]:
    """Underscore names a package defines: functions, classes, attributes it assigns, __slots__ entries."""
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # __slots__ entries and setattr() names
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def engine_private_uses(package: str) -> list[str]:
    """Places in `package` that use an underscore name of engine: a private module, an imported private name,
    or an attribute that only engine defines (a name the package defines itself is its own)."""
    engine_private = _private_names_defined("engine") - _private_names_defined(package)
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "engine":
                parts = node.module.split(".") + [alias.name for alias in node.names]
                found += [f"{where}:{node.lineno} imports {'.'.join(parts)}" for p in parts if p.startswith("_")][:1]
            elif isinstance(node, ast.Import):
                found += [
                    f"{where}:{node.lineno} imports {a.name}"
                    for a in node.names
                    if a.name.startswith("engine.") and any(p.startswith("_") for p in a.name.split("."))
                ]
            elif isinstance(node, ast.Attribute) and node.attr in engine_private:
                found.append(f"{where}:{node.lineno} uses .{node.attr}")
    return found


@pytest.mark.parametrize("package", FLOORS[1:])
def test_nothing_outside_engine_uses_an_underscore_name_of_engine(package):
    uses = engine_private_uses(package)
    assert not uses, "use engine's public contract instead (see engine/__init__.py):\n" + "\n".join(uses)
