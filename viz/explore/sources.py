"""Where an explorer graph comes from, and whether the page may change its leaves and run it again.

- ProgramSource: text typed in the page, built by viz.expr.build_program (nothing is evaluated as Python);
  its variables (`a = -4.0`) are editable.
- CallableSource: `viz.explore(fn, a=2.0, b=-3.0)` from Python: leaves made from the keyword values, the
  graph rebuilt by calling fn(**leaves) whenever the page changes one; every leaf is editable.
- ModuleSource: a model run on an input (`viz.explore(model)`, or a playground step): re-run on every build,
  so it always shows the model's current weights; read-only.
- TensorSource: a tensor handed over from Python: its graph as recorded, read-only (nothing can re-run it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import engine
from engine import Tensor
from viz.expr import ExpressionError, build_program

MAX_PROGRAM_CHARS = 4000
MAX_ABS_VALUE = 1e12  # a leaf value typed in the page; beyond it every result is inf anyway


class SourceError(ValueError):
    """The graph cannot be built (or rebuilt with these values); the message says why and what to do."""


@dataclass
class Built:
    """One build of a source: the root and what the model adapter needs to draw it."""

    root: Tensor
    params: Any = None  # a Module or a dict name -> Tensor, for names and module boxes
    editable: list[str] = field(default_factory=list)  # leaf names the page may change


class GraphSource:
    """A graph the explorer can show. `initial_values()` are the editable leaves' starting values."""

    kind = "source"
    title = ""
    program: str | None = None

    def initial_values(self) -> dict[str, np.ndarray]:
        return {}

    def build(self, values: Mapping[str, np.ndarray]) -> Built:
        raise NotImplementedError

    @property
    def editable(self) -> bool:
        return bool(self.initial_values())

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "program": self.program, "editable": self.editable}


class ProgramSource(GraphSource):
    kind = "program"

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise SourceError("the program must be text, e.g. 'a = 2.0' on one line and 'tanh(a * 3)' on the next")
        if len(text) > MAX_PROGRAM_CHARS:
            raise SourceError(f"the program has {len(text)} characters; at most {MAX_PROGRAM_CHARS} are accepted")
        self.program = text
        self.title = text.strip().splitlines()[-1].strip() if text.strip() else ""
        try:
            built = build_program(text)
        except ExpressionError as error:
            raise SourceError(str(error)) from None
        self.values = {name: np.array(leaf.data) for name, leaf in built.leaves.items()}
        if not self.values:
            raise SourceError("the program defines no variable; start with a line such as a = 2.0")

    def initial_values(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.values.items()}

    def build(self, values: Mapping[str, np.ndarray]) -> Built:
        try:
            program = build_program(
                self.program or "", {k: float(np.asarray(v).reshape(-1)[0]) for k, v in values.items()}
            )
        except ExpressionError as error:
            raise SourceError(str(error)) from None
        return Built(program.root, dict(program.leaves), list(program.leaves))


class CallableSource(GraphSource):
    kind = "python"

    def __init__(self, fn: Callable[..., Tensor], values: Mapping[str, Any], title: str | None = None) -> None:
        if not values:
            raise TypeError(
                "explore(fn, ...): give the function's inputs as keyword values, e.g. explore(fn, a=2.0, b=-3.0)"
            )
        self.fn = fn
        self.values = {}
        for name, value in values.items():
            array = np.array(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
            if not np.isfinite(array).all():
                raise ValueError(f"explore: the value of {name} is not finite: {value!r}")
            self.values[name] = array
        self.title = title or f"{getattr(fn, '__name__', 'fn')}({', '.join(self.values)})"
        self.build(self.values)  # fail now, in Python, rather than in the page

    def initial_values(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.values.items()}

    def build(self, values: Mapping[str, np.ndarray]) -> Built:
        leaves = {name: engine.tensor(np.array(values[name]), requires_grad=True, name=name) for name in self.values}
        root = self.fn(**leaves)
        if not isinstance(root, Tensor):
            raise SourceError(f"{self.title} returned a {type(root).__name__}, not an engine.Tensor")
        if not np.isfinite(root.data).all():
            raise SourceError(f"{self.title} is not finite with these values")
        return Built(root, dict(leaves), list(leaves))


class ModuleSource(GraphSource):
    kind = "module"

    def __init__(self, model: Any, x: Tensor, loss: Callable[[Tensor], Tensor] | None = None, title: str = "") -> None:
        self.model, self.x, self.loss = model, x, loss
        self.title = title or f"{type(model).__name__} on a batch of {x.shape[0] if x.ndim else 1}"

    def build(self, values: Mapping[str, np.ndarray]) -> Built:
        out = self.model(self.x)
        root = self.loss(out) if self.loss is not None else out.mean()
        if root.name is None:
            root.name = "loss" if self.loss is not None else "mean(output)"
        return Built(root, self.model)


class TensorSource(GraphSource):
    kind = "tensor"

    def __init__(self, root: Tensor, params: Any = None, title: str = "") -> None:
        self.root, self.params = root, params
        self.title = title or f"a tensor of shape {tuple(root.shape)} from Python"

    def build(self, values: Mapping[str, np.ndarray]) -> Built:
        return Built(self.root, self.params)


def model_input(model: Any, batch: int = 4) -> Tensor:
    """A random input for `model` (its first layer's in_features wide), from a fixed seed."""
    width = next(
        (m.in_features for _, m in model.named_modules() if isinstance(getattr(m, "in_features", None), int)), None
    )
    if width is None:
        raise TypeError("explore(model): cannot tell the model's input width; pass an input: explore(model, x=...)")
    x = engine.tensor(np.random.default_rng(0).standard_normal((batch, width)).astype(np.float32))
    x.name = "x"
    return x


def check_value(name: str, value: Any) -> float:
    """A leaf value typed in the page: a finite number of reasonable size."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or abs(number) > MAX_ABS_VALUE:
        raise SourceError(
            f"the value of {name} must be a finite number (at most {MAX_ABS_VALUE:g} in size), got {value!r}"
        )
    return number
