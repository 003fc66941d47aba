"""The explorer's picture of a graph as JSON: the ONE place that reads dagrad's backward trace for the page.

Everything the page shows about a graph comes from here: every tensor (value, gradient, shape, heat maps),
every op (its math label and derivative rule), the backward pass step by step (upstream gradient, local
derivatives, what each input receives and the running chain-rule sum), module boxes and frames, and the
layout. It is built from `viz.trace.trace_backward` (the dataclasses Trace / Step / Contribution) and the
public helpers of viz.explain, so when the trace changes only this file follows.

Ids are positions in the trace's topological order ('t3' the tensor, 'o3' the op that made it, 'm:0' a
collapsed module), so rebuilding the same program with other values gives the same ids: the page keeps its
selection and step while a slider moves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from engine import Tensor
from viz.explain import accumulation, fmt, step_lines
from viz.explore.layout import Box, Cluster, layout
from viz.labels import parameter_names
from viz.modules import ModuleInfo, describe, module_tree, parameter_count, scope_names
from viz.trace import Trace, trace_backward

MAX_DRAWN_NODES = 300  # more boxes than this are unreadable on a page (and slow to lay out)
MAX_GRAPH_TENSORS = 5000  # the trace itself is bounded too, even when collapsed modules hide most of it
FULL_VALUES = 256  # arrays up to this many elements are sent whole; larger ones as statistics and heat maps
HEAT_SIDE = 24  # a heat map has at most this many rows and columns (larger arrays are averaged in blocks)


class GraphTooLarge(ValueError):
    """The graph has more nodes than the page can draw."""


def graph_model(
    root: Tensor,
    *,
    params: Any = None,
    expanded: Collection[str] = ("",),
    editable: Collection[str] = (),
    title: str = "",
) -> dict[str, Any]:
    """Everything the page needs to draw and explain `root`'s graph and its backward pass.

    params: a Module (names parameters, groups ops into module frames and boxes) or a dict name -> Tensor.
    expanded: qualified names of the modules drawn open ('' is the model itself); any other module is one box.
    editable: names of the leaves the page may change (the source can rebuild the graph with new values).
    """
    total = count_tensors(root, MAX_GRAPH_TENSORS)
    if total > MAX_GRAPH_TENSORS:
        raise GraphTooLarge(
            f"the graph has more than {MAX_GRAPH_TENSORS} tensors, too many to trace in the page; explore a smaller "
            "piece (a batch of a few samples, fewer layers)"
        )
    trace = trace_backward(root, params=params, caller="explore")
    return _Model(trace, params, set(expanded), set(editable), title).build()


def count_tensors(root: Tensor, limit: int) -> int:
    """How many tensors `root` was computed from, counting no further than limit + 1."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) <= limit:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if tensor.grad_fn is not None:
            stack.extend(tensor.grad_fn.inputs)
    return len(seen)


def array_view(array: Any) -> dict[str, Any]:
    """An array for the page: shape, a short text, the values (small arrays), statistics and a heat map."""
    values = np.asarray(array)
    numbers = values.astype(np.float64)
    view: dict[str, Any] = {"shape": list(values.shape), "size": int(values.size), "text": fmt(values)}
    if values.size <= FULL_VALUES:
        view["values"] = [json_number(v) for v in numbers.reshape(-1)]
    if values.size > 1:
        finite = numbers[np.isfinite(numbers)]
        view["stats"] = (
            {
                k: json_number(f(finite))
                for k, f in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max))
            }
            if finite.size
            else None
        )
        view["heat"] = heat_map(numbers)
    return view


def heat_map(numbers: np.ndarray) -> dict[str, Any]:
    """The array as a grid of at most HEAT_SIDE x HEAT_SIDE cells (block means when larger); rows are all
    leading dimensions flattened, columns the last one."""
    grid = numbers.reshape(1, -1) if numbers.ndim <= 1 else numbers.reshape(-1, numbers.shape[-1])
    exact = grid.shape[0] <= HEAT_SIDE and grid.shape[1] <= HEAT_SIDE
    if not exact:
        grid = _block_means(grid, HEAT_SIDE)
    return {
        "rows": int(grid.shape[0]),
        "cols": int(grid.shape[1]),
        "data": [json_number(v) for v in grid.reshape(-1)],
        "exact": exact,
    }


def json_number(value: Any) -> float | str:
    """A float for JSON; NaN and infinities (which JSON cannot hold) as the strings JavaScript's Number() reads."""
    x = float(value)
    if np.isfinite(x):
        return x
    return "NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _block_means(grid: np.ndarray, side: int) -> np.ndarray:
    rows = np.array_split(np.arange(grid.shape[0]), min(side, grid.shape[0]))
    cols = np.array_split(np.arange(grid.shape[1]), min(side, grid.shape[1]))
    out = np.empty((len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            block = grid[np.ix_(r, c)]
            finite = block[np.isfinite(block)]
            out[i, j] = finite.mean() if finite.size else np.nan
    return out


class _Model:
    """Builds the JSON for one trace (a class only to share the lookups between its parts)."""

    def __init__(self, trace: Trace, params: Any, expanded: set[str], editable: set[str], title: str) -> None:
        self.trace = trace
        self.expanded = expanded
        self.editable = editable
        self.title = title
        self.index = {id(t): k for k, t in enumerate(trace.tensors)}
        self.tree: dict[str, ModuleInfo] = module_tree(params)
        self.scopes = scope_names(self.tree)
        self.param_names = parameter_names(params)
        self.module_of = {id(t): self._module(t) for t in trace.tensors}
        self.step_of = {id(step.tensor): step.index for step in trace.steps}

    # ----- which module holds what, and what is visible --------------------------------------------
    def _module(self, tensor: Tensor) -> str | None:
        if tensor.grad_fn is not None:
            return self.scopes.get(id(tensor.grad_fn.scope))
        name = self.param_names.get(id(tensor))
        if name is None or not self.tree:
            return None
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        return owner if owner in self.tree else None

    def _chain(self, qualname: str) -> list[str]:
        """The modules from the model down to `qualname` (the model itself first)."""
        chain = []
        current: str | None = qualname
        while current is not None:
            chain.append(current)
            current = self.tree[current].parent if current in self.tree else None
        return chain[::-1]

    def _box(self, qualname: str | None) -> str | None:
        """The outermost collapsed module around `qualname`, or None when everything on the way is open."""
        if qualname is None:
            return None
        for name in self._chain(qualname):
            if name not in self.expanded:
                return name
        return None

    def _frame(self, qualname: str | None) -> str | None:
        """The innermost open module (other than the model) a visible node sits in."""
        if qualname is None:
            return None
        inner = None
        for name in self._chain(qualname):
            if name not in self.expanded:
                break
            if name != "":
                inner = name
        return inner

    # ----- the JSON --------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        trace = self.trace
        visible: dict[str, str] = {}  # node id -> the id drawn for it (itself, or its module's box)
        nodes: list[dict[str, Any]] = []
        boxes: dict[str, dict[str, Any]] = {}
        uses: dict[int, int] = {}
        for tensor in trace.tensors:
            if tensor.grad_fn is not None:
                for parent in tensor.grad_fn.inputs:
                    uses[id(parent)] = uses.get(id(parent), 0) + 1
        for k, tensor in enumerate(trace.tensors):
            module = self.module_of[id(tensor)]
            box = self._box(module)
            ids = [f"t{k}"] + ([f"o{k}"] if tensor.grad_fn is not None else [])
            if box is not None:
                box_id = f"m:{box}"
                if box_id not in boxes:
                    boxes[box_id] = self._module_node(box_id, box)
                    visible[box_id] = box_id
                boxes[box_id]["tensors"].append(f"t{k}")
                for node_id in ids:
                    visible[node_id] = box_id
            else:
                for node_id in ids:
                    visible[node_id] = node_id
            frame = None if box is not None else self._frame(module)
            nodes.append(self._tensor_node(k, tensor, uses.get(id(tensor), 0), module, frame))
            if tensor.grad_fn is not None:
                nodes.append(self._op_node(k, tensor, module, frame))
        drawn = len({v for v in visible.values()})
        if drawn > MAX_DRAWN_NODES:
            raise GraphTooLarge(
                f"the graph has {drawn} nodes to draw, more than the page can show ({MAX_DRAWN_NODES}); "
                + ("collapse modules (click a module frame's title) or " if self.tree else "explore a smaller piece: ")
                + "use fewer ops, a batch of a few samples or fewer layers"
            )
        edges = self._edges(visible)
        for box_id, box in boxes.items():
            box["outputs"] = sorted(
                {e["source"] for e in edges if visible[e["source"]] == box_id and visible[e["target"]] != box_id},
                key=_natural,
            )
        drawn_edges = _unique((visible[e["source"]], visible[e["target"]]) for e in edges)
        drawn_edges = [(a, b) for a, b in drawn_edges if a != b]
        placed = layout(self._boxes(nodes, boxes, visible), drawn_edges, self._clusters(nodes, boxes, visible))
        for node in nodes:
            node["visible"] = visible[node["id"]]
        return {
            "title": self.title,
            "root": f"t{self.index[id(trace.root)]}",
            "rootName": trace.name(trace.root),
            "seed": array_view(trace.seed),
            "nodes": nodes + list(boxes.values()),
            "edges": edges,
            "steps": [self._step(step) for step in trace.steps],
            "modules": self._module_list(),
            "layout": placed,
        }

    def _tensor_node(self, k: int, tensor: Tensor, uses: int, module: str | None, frame: str | None) -> dict[str, Any]:
        trace = self.trace
        name = trace.name(tensor)
        if tensor is trace.root:
            role = "root"
        elif tensor.grad_fn is not None:
            role = "value"
        elif tensor.requires_grad:
            role = "parameter" if self.tree and id(tensor) in self.param_names else "leaf"
        else:
            role = "constant"
        grad = trace.grads.get(id(tensor))
        arrived = trace.received.get(id(tensor), [])
        return {
            "id": f"t{k}",
            "kind": "tensor",
            "name": name,
            "role": role,
            "shape": list(tensor.shape),
            "dtype": str(tensor.dtype),
            "value": array_view(tensor.data),
            "grad": None if grad is None else array_view(grad),
            "requiresGrad": bool(tensor.requires_grad),
            "editable": role == "leaf" and name in self.editable,
            "module": module,
            "frame": frame,
            "uses": uses,
            "op": f"o{k}" if tensor.grad_fn is not None else None,
            "sum": accumulation(trace, arrived) if len(arrived) > 1 else None,
            "arrivals": [
                {
                    "step": c.step,
                    "slot": c.slot,
                    "via": trace.name(trace.steps[c.step].tensor),
                    "op": f"o{self.index[id(trace.steps[c.step].tensor)]}",
                    "value": array_view(c.value),
                    "local": None if c.local is None else array_view(c.local),
                }
                for c in arrived
            ],
        }

    def _op_node(self, k: int, tensor: Tensor, module: str | None, frame: str | None) -> dict[str, Any]:
        node = tensor.grad_fn
        step = self.step_of.get(id(tensor))
        return {
            "id": f"o{k}",
            "kind": "op",
            "label": str(node.label),
            "opName": str(node.name),
            "rule": self.trace.steps[step].rule if step is not None else _rule_of(node),
            "output": f"t{k}",
            "inputs": [{"id": f"t{self.index[id(p)]}", "slot": slot} for slot, p in enumerate(node.inputs)],
            "step": step,
            "module": module,
            "frame": frame,
        }

    def _module_node(self, box_id: str, qualname: str) -> dict[str, Any]:
        module = self.tree[qualname].module
        return {
            "id": box_id,
            "kind": "module",
            "name": qualname or "model",
            "qualname": qualname,
            "label": describe(module),
            "parameters": parameter_count(module),
            "tensors": [],
            "visible": box_id,
            "frame": self._frame(self.tree[qualname].parent) if self.tree[qualname].parent is not None else None,
        }

    def _edges(self, visible: dict[str, str]) -> list[dict[str, Any]]:
        edges = []
        for k, tensor in enumerate(self.trace.tensors):
            node = tensor.grad_fn
            if node is None:
                continue
            for slot, parent in enumerate(node.inputs):
                source = f"t{self.index[id(parent)]}"
                edges.append({"source": source, "target": f"o{k}", "slot": slot})
            edges.append({"source": f"o{k}", "target": f"t{k}", "slot": None})
        for edge in edges:
            edge["drawnSource"], edge["drawnTarget"] = visible[edge["source"]], visible[edge["target"]]
        return edges

    def _step(self, step: Any) -> dict[str, Any]:
        trace = self.trace
        k = self.index[id(step.tensor)]
        contributions = []
        for c in step.contributions:
            everything = trace.received[id(c.parent)]
            arrived = everything[: next(i for i, r in enumerate(everything) if r is c) + 1]
            so_far = arrived[0].value
            for earlier in arrived[1:]:
                so_far = so_far + earlier.value
            contributions.append(
                {
                    "to": f"t{self.index[id(c.parent)]}",
                    "toName": trace.name(c.parent),
                    "slot": c.slot,
                    "value": array_view(c.value),
                    "local": None if c.local is None else array_view(c.local),
                    "soFar": array_view(so_far),
                    "sum": accumulation(trace, arrived) if len(arrived) > 1 else None,
                }
            )
        return {
            "index": step.index,
            "op": f"o{k}",
            "output": f"t{k}",
            "outputName": trace.name(step.tensor),
            "label": str(step.node.label),
            "rule": step.rule,
            "upstream": array_view(step.upstream),
            "contributions": contributions,
            "lines": step_lines(trace, step),
        }

    def _module_list(self) -> list[dict[str, Any]]:
        return [
            {"qualname": name, "label": describe(info.module), "depth": info.depth, "expanded": name in self.expanded}
            for name, info in self.tree.items()
            if info.children or name != ""
        ]

    # ----- layout ------------------------------------------------------------------------------------
    def _boxes(
        self, nodes: list[dict[str, Any]], boxes: dict[str, dict[str, Any]], visible: dict[str, str]
    ) -> list[Box]:
        placed = []
        for node in nodes:
            if visible[node["id"]] != node["id"]:
                continue
            if node["kind"] == "op":
                placed.append(Box(node["id"], max(36.0, 7.5 * len(node["label"]) + 20.0), 28.0, "ellipse"))
            elif node["role"] == "constant":
                placed.append(
                    Box(
                        node["id"],
                        44.0 if node["value"]["size"] == 1 else 100.0,
                        30.0 if node["value"]["size"] == 1 else 48.0,
                    )
                )
            else:
                placed.append(
                    Box(
                        node["id"],
                        104.0 if node["value"]["size"] == 1 else 140.0,
                        48.0 if node["value"]["size"] == 1 else 78.0,
                    )
                )
        placed += [Box(box_id, 190.0, 56.0) for box_id in boxes]
        return placed

    def _clusters(
        self, nodes: list[dict[str, Any]], boxes: dict[str, dict[str, Any]], visible: dict[str, str]
    ) -> list[Cluster]:
        """One frame per open module (besides the model), nested like the modules."""
        frames: dict[str, Cluster] = {}
        for name, info in self.tree.items():
            if name != "" and name in self.expanded and self._box(name) is None:
                frames[name] = Cluster(f"f:{name}", f"{name}: {describe(info.module)}")
        for node in [*nodes, *boxes.values()]:
            if visible[node["id"]] == node["id"] and node.get("frame") in frames:
                frames[node["frame"]].members.append(node["id"])
        top = []
        for name, cluster in frames.items():
            parent = self._frame(self.tree[name].parent) if self.tree[name].parent is not None else None
            (frames[parent].children if parent in frames else top).append(cluster)
        return [c for c in top if _has_members(c)]


def _rule_of(node: Any) -> str:
    doc = (type(node).__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _has_members(cluster: Cluster) -> bool:
    cluster.children = [c for c in cluster.children if _has_members(c)]
    return bool(cluster.members or cluster.children)


def _unique(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edges to draw: every operand slot of a visible op, but one edge per pair touching a module box."""
    seen: set[tuple[str, str]] = set()
    found = []
    for a, b in pairs:
        if (a.startswith("m:") or b.startswith("m:")) and (a, b) in seen:
            continue
        seen.add((a, b))
        found.append((a, b))
    return found


def _natural(node_id: str) -> int:
    return int(node_id[1:]) if node_id[1:].isdigit() else 0
