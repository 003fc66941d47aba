"""Where modules sit in a graph: scope objects -> qualified names, short descriptions, parameter counts.

Ops record `node.scope`, the innermost module whose call created them (engine.graph.scope). A model's
`named_modules()` turns those objects into dotted names ('' for the model itself, 'layers.0', ...), and the
dots give the nesting of clusters. Modules are duck-typed: anything with named_modules() works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModuleInfo:
    """One module of the model as the renderer needs it."""

    qualname: str  # '' for the model itself
    module: Any
    parent: str | None  # qualname of the enclosing module, None for the root
    children: list[str] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return 0 if self.qualname == "" else self.qualname.count(".") + 1


def module_tree(model: Any) -> dict[str, ModuleInfo]:
    """qualname -> ModuleInfo for every module of `model` (empty when it has no named_modules())."""
    if model is None or not callable(getattr(model, "named_modules", None)):
        return {}
    infos: dict[str, ModuleInfo] = {}
    for name, module in model.named_modules():
        infos.setdefault(str(name), ModuleInfo(str(name), module, None))
    for name, info in infos.items():
        if name == "":
            continue
        parent = name
        while "." in parent:  # the longest proper prefix that is itself a module
            parent = parent.rsplit(".", 1)[0]
            if parent in infos:
                break
        else:
            parent = ""
        info.parent = parent if parent in infos else None
        if info.parent is not None:
            infos[info.parent].children.append(name)
    return infos


def scope_names(tree: dict[str, ModuleInfo]) -> dict[int, str]:
    """id(module object) -> qualname (the first name wins when a module is registered twice)."""
    names: dict[int, str] = {}
    for name, info in tree.items():
        names.setdefault(id(info.module), name)
    return names


def describe(module: Any) -> str:
    """'Linear(2→16)' for modules with in/out features, 'Name(extra)' when extra_repr() is short, else 'Name'."""
    kind = type(module).__name__
    fan_in, fan_out = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if isinstance(fan_in, int) and isinstance(fan_out, int):
        return f"{kind}({fan_in}→{fan_out})"
    extra = getattr(module, "extra_repr", None)
    if callable(extra):
        try:
            text = str(extra())
        except Exception:  # a broken extra_repr must not break a drawing
            text = ""
        if text and len(text) <= 40 and "\n" not in text:
            return f"{kind}({text})"
    return kind


def parameter_count(module: Any) -> int:
    """Total number of parameter elements of a module (0 when it has no named_parameters())."""
    named = getattr(module, "named_parameters", None)
    if not callable(named):
        return 0
    seen: set[int] = set()
    total = 0
    for _, tensor in named():
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel()
    return total


def truncate(qualname: str, depth: int) -> str:
    """The ancestor name of `qualname` at `depth` ('layers.0.act', 2 -> 'layers.0'; '' stays '')."""
    if qualname == "" or depth <= 0:
        return ""
    return ".".join(qualname.split(".")[:depth])
