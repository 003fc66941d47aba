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


def _engine_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _imported_at_load(path: Path, modules: dict[str, Path]) -> set[str]:
    """The engine modules `path` imports while it loads: module-level imports, not those inside functions
    (run later, once every module exists) or under `if TYPE_CHECKING:`. `from engine import graph` imports
    the submodule engine.graph; `from engine import Tensor` reads the package engine."""
    found: set[str] = set()
    for statement in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            continue
        for node in ast.walk(statement) if not isinstance(statement, ast.FunctionDef | ast.ClassDef) else ():
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                found |= submodules & modules.keys() or {node.module}
                if not submodules <= modules.keys():
                    found.add(node.module)
    return found


def test_engine_modules_import_each_other_without_a_circle():
    """Each engine file can be read after the ones it imports (once, the circle of eight files that held
    together by imports at the ends of files): no module-level import cycle among engine's modules. The
    package's __init__ imports them all, so edges into `engine` itself from a submodule are left out."""
    modules = _engine_modules()
    edges = {name: _imported_at_load(path, modules) - {name} for name, path in modules.items()}
    for name in modules:
        if name != "engine":
            edges[name].discard("engine")
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                cycle = [*path[path.index(target) :], target] if target in path else [name, target]
                pytest.fail("engine modules import each other in a circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in modules:
        if name not in state:
            visit(name, [name])
