"""Per-tab state of the explorer server: each browser tab has its own session (graph, values, training).

The page keeps its session id in sessionStorage, which belongs to one tab, and sends it with every request;
a cookie would be shared by every tab of the browser, so a second tab would train the first one's network.
The server makes the ids (random, unguessable) and keeps at most MAX_SESSIONS, forgetting the least
recently used one first.

dagrad's autograd switches are process-wide (the engine is single-threaded by design), so every piece of
engine work, for any session, runs under the one ENGINE_LOCK.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

import nn.functional as F
from viz.explore.model import graph_model, json_number
from viz.explore.playground import Config, Playground
from viz.explore.sources import GraphSource, ModuleSource, ProgramSource, SourceError, check_value

MAX_SESSIONS = 32
ENGINE_LOCK = threading.Lock()
MAX_NUDGE = 1e3

MICROGRAD_EXAMPLE = """\
a = -4.0
b = 2.0
c = a + b
d = a * b + b**3
e = (c - d)**2 / 2 + 10 / (c - d)**2
"""


class ExplorerState:
    """One tab's graph: where it comes from, its leaf values, which modules are open, and its JSON."""

    def __init__(self, source: GraphSource) -> None:
        self.source = source
        self.values = source.initial_values()
        self.expanded: set[str] = {""}
        self.cached: dict[str, Any] | None = None

    def graph(self) -> dict[str, Any]:
        if self.cached is None:
            self.cached = self._build(self.values)
        return self.cached

    def _build(self, values: dict[str, np.ndarray]) -> dict[str, Any]:
        built = self.source.build(values)
        return graph_model(
            built.root, params=built.params, expanded=self.expanded, editable=built.editable, title=self.source.title
        )

    def set_value(self, name: Any, index: Any, value: Any) -> None:
        """Change one element of an editable leaf; on any error the previous values stay."""
        current = self._leaf(name)
        position = self._index(name, current, index)
        changed = {k: v.copy() for k, v in self.values.items()}
        changed[name].reshape(-1)[position] = check_value(name, value)
        graph = self._build(changed)  # raises before anything is replaced
        self.values, self.cached = changed, graph

    def nudge(self, name: Any, index: Any, h: Any) -> dict[str, Any]:
        """(L(a+h) - L(a)) / h for one element a of a leaf, beside the gradient ∂L/∂a the graph shows."""
        current = self._leaf(name)
        position = self._index(name, current, index)
        step = check_value("h", h)
        if step == 0 or abs(step) > MAX_NUDGE:
            raise SourceError(f"the nudge h must be a non-zero number of size at most {MAX_NUDGE:g}, got {h!r}")
        built = self.source.build(self.values)
        built.root.backward()  # fresh leaves from this build: the gradient dagrad itself computes
        before = float(built.root.item())
        grad = built.params[name].grad
        gradient = 0.0 if grad is None else float(grad.numpy().reshape(-1)[position])  # None: L does not use it
        moved = {k: v.copy() for k, v in self.values.items()}
        moved[name].reshape(-1)[position] += step
        after = float(self.source.build(moved).root.item())
        return {
            "name": name,
            "index": position,
            "h": step,
            "before": json_number(before),
            "after": json_number(after),
            "slope": json_number((after - before) / step),
            "gradient": json_number(gradient),
        }

    def set_expanded(self, qualname: Any, expanded: Any) -> None:
        if not isinstance(qualname, str) or not isinstance(expanded, bool):
            raise SourceError('expand needs {"module": NAME, "expanded": true or false}')
        known = {m["qualname"] for m in self.graph()["modules"]} | {""}
        if qualname not in known:
            raise SourceError(f"there is no module {qualname!r} in this graph")
        previous = set(self.expanded)
        (self.expanded.add if expanded else self.expanded.discard)(qualname)
        try:
            self.cached = self._build(self.values)
        except Exception:
            self.expanded = previous
            raise

    def _leaf(self, name: Any) -> np.ndarray:
        if not self.values:
            raise SourceError(
                "this graph cannot be changed: it was handed over as a finished tensor (or a model) and nothing "
                "can re-run it; from Python, pass a function instead: viz.explore(fn, a=2.0)"
            )
        if name not in self.values:
            raise SourceError(f"there is no variable {name!r} to change; the variables are {', '.join(self.values)}")
        return self.values[name]

    @staticmethod
    def _index(name: str, array: np.ndarray, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < array.size:
            raise SourceError(
                f"{name} has {array.size} element(s); the index must be 0 to {array.size - 1}, got {index!r}"
            )
        return index

    def payload(self) -> dict[str, Any]:
        return {
            "source": self.source.describe(),
            "values": {k: v.reshape(-1).tolist() for k, v in self.values.items()},
            "expanded": sorted(self.expanded),
            "graph": self.graph(),
        }


class Session:
    def __init__(self, session_id: str, default_source: Callable[[], GraphSource]) -> None:
        self.id = session_id
        self.default_source = default_source
        self.explorer: ExplorerState | None = None
        self.playground: Playground | None = None
        self.last_used = time.monotonic()

    def explorer_state(self) -> ExplorerState:
        if self.explorer is None:
            self.explorer = ExplorerState(self.default_source())
        return self.explorer

    def open_program(self, text: Any) -> None:
        state = ExplorerState(ProgramSource(text))
        state.graph()  # a graph that cannot be drawn is refused before it replaces the current one
        self.explorer = state

    def open_playground_step(self, run_index: Any) -> None:
        if self.playground is None:
            raise SourceError("there is no training in this tab yet; press New in the playground first")
        if isinstance(run_index, bool) or not isinstance(run_index, int):
            raise SourceError(f"run must be 0 or 1, got {run_index!r}")
        model, x, y = self.playground.step_graph(run_index)
        step = self.playground.steps + 1
        activation = self.playground.runs[run_index].activation
        source = ModuleSource(
            model,
            x,
            loss=lambda out: F.cross_entropy(out, y),
            title=f"training step {step} ({activation}): cross-entropy of {x.shape[0]} samples of the next batch",
        )
        state = ExplorerState(source)
        state.graph()
        self.explorer = state

    def new_playground(self, config: Any) -> None:
        self.playground = Playground(Config.from_json(config))


class Sessions:
    """The live sessions, least recently used first."""

    def __init__(self, default_source: Callable[[], GraphSource], max_sessions: int = MAX_SESSIONS) -> None:
        self.default_source = default_source
        self.max_sessions = max_sessions
        self.items: OrderedDict[str, Session] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, session_id: str | None) -> Session:
        """The session with this id, or a new one (with a new id) when it is unknown or was forgotten."""
        with self.lock:
            session = self.items.get(session_id or "")
            if session is None:
                session = Session(secrets.token_urlsafe(16), self.default_source)
                self.items[session.id] = session
                while len(self.items) > self.max_sessions:
                    self.items.popitem(last=False)
            self.items.move_to_end(session.id)
            session.last_used = time.monotonic()
            return session


def example_source() -> GraphSource:
    return ProgramSource(MICROGRAD_EXAMPLE)
