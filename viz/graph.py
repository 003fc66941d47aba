"""draw_graph: an engine graph as a `graphviz.Digraph` (tensor boxes, op ellipses, module clusters).

Choices (see the package notes in viz/__init__.py):
- one edge per operand slot, labelled arg0, arg1... when an op has several inputs, so `a + a` shows two;
- a graph with more than `max_nodes` drawn nodes is refused (ValueError suggesting `collapse=`) before any
  DOT is built; the count stops as soon as the limit is passed, so a 100,000-node graph is refused at once;
- user strings only ever appear inside HTML-like labels, escaped by labels.escape_html.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from engine import Tensor
from engine.graph import recorded_grad, saved_values, walk
from viz import labels
from viz.labels import escape_html
from viz.modules import ModuleInfo, describe, module_tree, parameter_count, scope_names

FONT = "Helvetica"
COLORS = {
    "parameter": "#dbeafe",  # leaves that require grad
    "constant": "#f1f5f9",  # leaves that do not (inputs, literals)
    "value": "#ffffff",  # intermediate results
    "root": "#fef3c7",
    "op": "#fff7d6",
    "module": "#e0e7ff",
    "highlight": "#dc2626",
    "accent": "#d97706",
    "muted": "#64748b",
}
RANKDIRS = ("auto", "LR", "RL", "TB", "BT")
# rankdir="auto" draws left to right (micrograd's layout) while that picture is at most this many times wider
# than tall; a wider one turns top to bottom, which keeps text readable when the picture is shown at page width.
MAX_ASPECT = 3.0
NODESEP, RANKSEP = 0.3, 0.45  # inches, as dot takes them
CHAR_WIDTH = 0.56  # Helvetica's mean advance per point of font size, for estimating a label's width
# Above this many estimated virtual nodes (rank spans of edges), long edges leave from proxies.
LONG_EDGE_BUDGET = 1500
LONG_EDGE_SPAN = 4


class DagradGraph(graphviz.Digraph):
    """A graphviz.Digraph whose Jupyter display, .pipe() and .render() go through dagrad's renderer (system
    dot when installed, else the pip-only graphviz-pure), so torchviz-style `g.render("out", format="png")`
    works right after pip install."""

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        from viz.render import pipe

        _check_dot_only("pipe", renderer, formatter, neato_no_op, engine)
        data = pipe(self, format or self.format or "svg")
        return data.decode(encoding) if encoding else data

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: str | os.PathLike[str] | None = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source to `filename` and the picture to `filename.<format>` (or `outfile`)."""
        from viz.render import render

        _check_dot_only("render", renderer, formatter, neato_no_op, engine)
        if view:
            raise ValueError("DagradGraph.render: view=True is not supported; open the returned path yourself")
        fmt = format or (Path(outfile).suffix[1:] if outfile else None) or self.format or "svg"
        source_path = Path(self.save(filename, directory=directory))
        target = Path(outfile) if outfile is not None else source_path.with_name(f"{source_path.name}.{fmt}")
        if raise_if_result_exists and target.exists():
            raise FileExistsError(f"DagradGraph.render: {target} already exists")
        if target.suffix[1:] != fmt:
            target = target.with_name(f"{target.name}.{fmt}")
        render(self, target)
        if cleanup:
            source_path.unlink()
        return str(target)

    def _repr_svg_(self) -> str:
        from viz.render import pipe

        return pipe(self, "svg").decode("utf-8")

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: Any
    ) -> dict[str, str]:
        mimetype = "image/svg+xml"
        if (include is not None and mimetype not in include) or (exclude is not None and mimetype in exclude):
            return {}
        return {mimetype: self._repr_svg_()}


def _check_dot_only(method: str, renderer: Any, formatter: Any, neato_no_op: Any, engine: Any) -> None:
    if renderer or formatter or neato_no_op or engine not in (None, "dot"):
        raise ValueError(
            f"DagradGraph.{method}: only the dot layout without renderer/formatter options is supported; "
            "for other engines use graphviz.Source(graph.source) with a system Graphviz"
        )


@dataclass
class GraphIds:
    """DOT ids of what was drawn, for callers that restyle the picture (the backprop stepper)."""

    tensors: dict[int, str] = field(default_factory=dict)  # id(tensor) -> node id (visible tensors only)
    ops: dict[int, str] = field(default_factory=dict)  # id(output tensor) -> op node id
    edges: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (id(input), id(output), slot) -> edge id
    out_edges: dict[int, str] = field(default_factory=dict)  # id(output tensor) -> op->tensor edge id


def draw_graph(
    *roots: Tensor,
    params: Any = None,
    names: Mapping[str, Any] | None = None,
    show_data: bool | str = "auto",
    show_grad: bool = True,
    show_shape: bool = True,
    show_saved: bool = False,
    rankdir: str = "auto",
    collapse: int | None = None,
    max_nodes: int = 2000,
    highlight: Tensor | Iterable[Tensor] | None = None,
) -> DagradGraph:
    """Draw the graph that computed `roots`.

    params: a Module (names leaves 'layers.0.weight' and groups ops into one cluster per submodule) or a
        dict name -> Tensor.
    names: the caller's variables, e.g. `names=locals()` or `{"x": x, "loss": loss}`: tensors are named
        after the variables that hold them, so `a`, `b`, `loss` appear without `name=` on each. Every tensor
        is drawn with a name, the one explain() and backprop_steps() use (see viz.labels.tensor_names for
        which source wins when several name a tensor).
    show_data: "auto" shows values of tiny tensors (<= 6 elements) and mean/std/min/max of larger ones;
        True always shows values (the first 24), False shows neither.
    show_grad: show each gradient of the last backward (.grad, or what backward recorded for an intermediate
        value in a graph of learning size; "—" before backward).
    rankdir: "auto" (default) draws left to right while the picture stays at most MAX_ASPECT (3) times wider
        than tall, else top to bottom; there, when no computed value is used twice (a chain of layers, a
        neuron), each op sits on the row of its result, so a model reads as lines "op -> value" going down.
        "LR", "TB", "RL", "BT" force a direction (plain dot layout).
    collapse: with a Module, draw every module deeper than this depth as one box (the model is depth 0,
        its children depth 1...): collapse=0 shows each top-level submodule as a box with its input/output
        shapes and parameter count.
    max_nodes: refuse (ValueError) graphs with more drawn nodes than this instead of producing an unreadable,
        slow layout; collapse= or a smaller input usually fixes it.
    highlight: a tensor (or several): every path from it to the roots is drawn in red.
    """
    graph, _ = build_graph(
        roots,
        params=params,
        names=names,
        show_data=show_data,
        show_grad=show_grad,
        show_shape=show_shape,
        show_saved=show_saved,
        rankdir=rankdir,
        collapse=collapse,
        max_nodes=max_nodes,
        highlight=highlight,
    )
    return graph


def build_graph(
    roots: tuple[Tensor, ...],
    *,
    params: Any = None,
    names: Mapping[str, Any] | None = None,
    show_data: bool | str = "auto",
    show_grad: bool = True,
    show_shape: bool = True,
    show_saved: bool = False,
    rankdir: str = "auto",
    collapse: int | None = None,
    max_nodes: int = 2000,
    highlight: Tensor | Iterable[Tensor] | None = None,
    grad_text: dict[int, str] | None = None,
    grad_width: int | None = None,
    focus: Tensor | None = None,
    accent: Iterable[Tensor] = (),
    caption: str | None = None,
) -> tuple[DagradGraph, GraphIds]:
    """draw_graph plus the ids of what was drawn. For the stepper's frames: grad_text (id(tensor) -> text)
    replaces the grad rows and grad_width fixes their width, so frames share one layout; focus marks one op
    (its node, its output and its edges) instead of whole paths; accent outlines tensors in orange (where
    gradients add up); caption is a title above the picture."""
    roots = _check_roots(roots)
    _check_options(show_data, rankdir, collapse, max_nodes, params)
    if collapse is None:
        _refuse_if_large(roots, max_nodes)
    order = walk(*roots)
    builder = _Builder(order, roots, params, collapse, names)
    drawn = builder.count_drawn()
    if drawn > max_nodes:
        raise ValueError(_too_large(drawn, max_nodes, collapse))
    builder.style = _Style(show_data, show_grad, show_shape, show_saved, grad_text, grad_width)
    builder.highlighted = _descendants(order, highlight)
    if focus is not None and focus.grad_fn is not None:
        builder.highlighted = {id(focus)} | {id(p) for p in focus.grad_fn.inputs}
        builder.hot_ops = {id(focus)}
    builder.accented = {id(t) for t in accent}
    graph = builder.build(rankdir)
    if caption:
        graph.attr(label=f"<<B>{escape_html(caption)}</B>>", labelloc="t", labeljust="l", fontsize="14")
    return graph, builder.ids


# ----- validation ----------------------------------------------------------------------------------
def _check_roots(roots: tuple[Any, ...]) -> tuple[Tensor, ...]:
    if len(roots) == 1 and isinstance(roots[0], (list, tuple)):
        roots = tuple(roots[0])
    if not roots:
        raise ValueError("draw_graph: give at least one Tensor to draw, e.g. draw_graph(loss)")
    for i, root in enumerate(roots):
        if not isinstance(root, Tensor):
            raise TypeError(f"draw_graph: root {i} is a {type(root).__name__}, expected an engine.Tensor")
    return roots


def _check_options(show_data: Any, rankdir: Any, collapse: Any, max_nodes: Any, params: Any) -> None:
    if show_data not in (True, False, "auto"):
        raise ValueError(f"draw_graph: show_data must be True, False or 'auto', got {show_data!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
    if collapse is not None:
        if not isinstance(collapse, int) or isinstance(collapse, bool) or collapse < 0:
            raise ValueError(f"draw_graph: collapse must be None or a depth >= 0, got {collapse!r}")
        if not callable(getattr(params, "named_modules", None)):
            raise ValueError(
                "draw_graph: collapse= needs the model: pass params=model (a Module with named_modules()) "
                "so ops can be grouped by the module that created them"
            )


def _refuse_if_large(roots: tuple[Tensor, ...], max_nodes: int) -> None:
    """Count drawn nodes (tensors + ops) without walking further than max_nodes + 1 of them."""
    seen: set[int] = set()
    stack = list(roots)
    count = 0
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        count += 1 if tensor.grad_fn is None else 2
        if count > max_nodes:
            raise ValueError(_too_large(None, max_nodes, None))
        if tensor.grad_fn is not None:
            stack.extend(tensor.grad_fn.inputs)


def _too_large(count: int | None, max_nodes: int, collapse: int | None) -> str:
    size = (
        f"{count} nodes (tensors and ops), more than max_nodes={max_nodes}"
        if count is not None
        else f"more than max_nodes={max_nodes} nodes (tensors and ops)"
    )
    advice = (
        "pass a smaller collapse depth"
        if collapse is not None
        else "pass params=model, collapse=1 to draw each module as one box"
    )
    return (
        f"draw_graph: the graph has {size}; {advice}, draw a smaller piece "
        "(fewer layers, a batch of 1), or raise max_nodes if you really want it all"
    )


def _descendants(order: list[Tensor], highlight: Any) -> set[int]:
    """ids of tensors computed from any highlighted tensor (the tensors on its paths to the roots)."""
    if highlight is None:
        return set()
    sources = [highlight] if isinstance(highlight, Tensor) else list(highlight)
    present = {id(t) for t in order}
    for t in sources:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: highlight must be a Tensor or Tensors, got {type(t).__name__}")
        if id(t) not in present:
            raise ValueError(
                f"draw_graph: the highlight tensor (shape {t.shape}) is not part of the graph of the given roots"
            )
    marked = {id(t) for t in sources}
    for tensor in order:  # inputs come first
        node = tensor.grad_fn
        if node is not None and any(id(p) in marked for p in node.inputs):
            marked.add(id(tensor))
    return marked


# ----- building ------------------------------------------------------------------------------------
@dataclass
class _Style:
    show_data: bool | str
    show_grad: bool
    show_shape: bool
    show_saved: bool
    grad_text: dict[int, str] | None
    grad_width: int | None


class _Builder:
    """Decides where every tensor and op goes (cluster, collapsed box, hidden) and emits the DOT."""

    def __init__(
        self,
        order: list[Tensor],
        roots: tuple[Tensor, ...],
        params: Any,
        collapse: int | None,
        names: Mapping[str, Any] | None = None,
    ) -> None:
        self.order = order
        self.roots = {id(r) for r in roots}
        self.parameter_names = labels.parameter_names(params)  # where a parameter belongs (its module)
        self.naming = labels.tensor_names(order, params, names)  # what every tensor is called
        self.tree: dict[str, ModuleInfo] = module_tree(params)
        self.scopes = scope_names(self.tree)
        self.collapse = collapse
        self.ids = GraphIds()
        self.box_ids: dict[str, str] = {}  # collapsed module -> its node id (set by build)
        self.style: _Style
        self.highlighted: set[int] = set()
        self.hot_ops: set[int] | None = None  # ops drawn in red; None: those whose output is highlighted
        self.accented: set[int] = set()
        self.consumers: dict[int, list[Tensor]] = {}
        for tensor in order:
            if tensor.grad_fn is not None:
                for p in tensor.grad_fn.inputs:
                    self.consumers.setdefault(id(p), []).append(tensor)
        self._place()

    # Placement: cluster (qualname or None = top level) of every visible node; group (collapsed box) of
    # every hidden one.
    def _place(self) -> None:
        self.cluster: dict[int, str | None] = {}  # id(tensor) -> cluster of the tensor node
        self.op_cluster: dict[int, str | None] = {}  # id(output tensor) -> cluster of its op node
        self.group: dict[int, str] = {}  # id(tensor) -> collapsed module (its op and/or tensor are inside)
        for tensor in self.order:
            node = tensor.grad_fn
            if node is None:
                continue
            module = self.scopes.get(id(node.scope))
            box = self._box_of(module)
            if box is not None:
                self.group[id(tensor)] = box
            else:
                self.op_cluster[id(tensor)] = module
        self.exported: set[int] = set()  # produced inside a box but used outside it: drawn next to the box
        for tensor in self.order:
            key = id(tensor)
            users = {self.group.get(id(c)) for c in self.consumers.get(key, [])}
            if tensor.grad_fn is not None:
                box = self.group.get(key)
                if box is None:
                    self.cluster[key] = self.op_cluster[key]
                elif key in self.roots or users != {box}:
                    self.exported.add(key)
                    self.cluster[key] = self.tree[box].parent
                continue
            owner = self._leaf_owner(tensor)
            box = self._box_of(owner)
            constant = owner is None and id(tensor) not in self.naming.given and not tensor.requires_grad
            if box is not None and users == {box}:
                self.group[key] = box  # a parameter used only inside its collapsed module
            elif box is not None:
                self.cluster[key] = self.tree[box].parent
            elif owner is not None:
                self.cluster[key] = owner
            elif constant and tensor.numel() == 1 and len(users) == 1 and None not in users:
                self.group[key] = next(iter(users))  # a literal (the 2 in x * 2) used only inside one box
            else:
                # A literal stays next to the op using it; data (a batch, a target) comes from outside
                # the model, so it is drawn outside every cluster, as are named and grad-requiring leaves.
                clusters = {self.op_cluster.get(id(c)) for c in self.consumers.get(key, [])}
                literal = constant and tensor.numel() == 1
                self.cluster[key] = clusters.pop() if literal and len(clusters) == 1 else None

    def _box_of(self, module: str | None) -> str | None:
        """The collapsed module containing `module`, if collapse= hides it."""
        if module is None or self.collapse is None or module not in self.tree:
            return None
        info = self.tree[module]
        if info.depth <= self.collapse:
            return None
        # Climb to the outermost ancestor still deeper than `collapse` (a missing level, e.g. a container
        # that is not itself a module, just makes the box one level shallower).
        while info.parent is not None and self.tree[info.parent].depth > self.collapse:
            info = self.tree[info.parent]
        return info.qualname

    def _leaf_owner(self, tensor: Tensor) -> str | None:
        name = self.parameter_names.get(id(tensor))
        if name is None or not self.tree:
            return None
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        return owner if owner in self.tree else None

    def count_drawn(self) -> int:
        ops = sum(1 for t in self.order if t.grad_fn is not None and id(t) not in self.group)
        return len(self.cluster) + ops + len(set(self.group.values()))

    # ----- DOT --------------------------------------------------------------------------------------
    def build(self, rankdir: str) -> DagradGraph:
        body: dict[str | None, list[tuple[str, dict[str, str]]]] = {}  # cluster -> nodes (id, attrs)
        for index, tensor in enumerate(self.order):
            key = id(tensor)
            if key in self.cluster:
                node_id = f"t{index}"
                self.ids.tensors[key] = node_id
                body.setdefault(self.cluster[key], []).append((node_id, self._tensor_attrs(tensor, node_id)))
            if tensor.grad_fn is not None and key not in self.group:
                op_id = f"op{index}"
                self.ids.ops[key] = op_id
                body.setdefault(self.op_cluster[key], []).append((op_id, self._op_attrs(tensor, op_id)))
        boxes = sorted(set(self.group.values()))
        self.box_ids = {name: f"m{k}" for k, name in enumerate(boxes)}
        for name in boxes:
            box_id = self.box_ids[name]
            body.setdefault(self.tree[name].parent, []).append((box_id, self._box_attrs(name, box_id)))
        direction, rows = self._direction(rankdir, body)
        graph = DagradGraph(name="dagrad", format="svg")
        graph.attr(rankdir=direction, fontname=FONT, nodesep=str(NODESEP), ranksep=str(RANKSEP), bgcolor="white")
        if rows:
            graph.attr(newrank="true")  # lets a row (rank=same) hold nodes of different clusters
        graph.attr("node", fontname=FONT, fontsize="12")
        graph.attr("edge", fontname=FONT, fontsize="10", color="#334155", arrowsize="0.7")
        self._emit_clusters(graph, body)
        self._emit_edges(graph, self.box_ids)
        if rows:
            for members in self._rows():
                with graph.subgraph() as row:
                    row.attr(rank="same")
                    for node_id in members:
                        row.node(node_id)
        return graph

    # ----- layout -----------------------------------------------------------------------------------
    def _direction(self, rankdir: str, body: dict[str | None, list[tuple[str, dict[str, str]]]]) -> tuple[str, bool]:
        """The rankdir to draw with, and whether ops share a row with their results (see draw_graph)."""
        if rankdir != "auto":
            return rankdir, False
        sizes = {node_id: _label_extent(attrs) for nodes in body.values() for node_id, attrs in nodes}
        wide, tall = self._extent(sizes, "LR", rows=False)
        if wide <= MAX_ASPECT * tall:
            return "LR", False
        rows = self._tree_like()
        down_wide, down_tall = self._extent(sizes, "TB", rows=rows)
        # A wide, shallow graph (many leaves into one op) is no better top to bottom: keep the familiar LR.
        if abs(math.log(down_wide / down_tall)) >= abs(math.log(wide / tall)):
            return "LR", False
        return "TB", rows

    def _tree_like(self) -> bool:
        """True when no drawn computed value feeds more than one op: rows then read as a chain (an MLP, a
        neuron); with values used twice, the row links cross each other and plain top-to-bottom reads better."""
        for tensor in self.order:
            computed = tensor.grad_fn is not None and id(tensor) in self.ids.tensors
            if computed and len(self.consumers.get(id(tensor), [])) > 1:
                return False
        return True

    def _rows(self) -> list[list[str]]:
        """[op or box, its drawn results] for every op and collapsed module that has a drawn result."""
        rows: dict[str, list[str]] = {}
        for tensor in self.order:
            key = id(tensor)
            if tensor.grad_fn is None or key not in self.ids.tensors:
                continue
            box = self.group.get(key)
            maker = self.box_ids[box] if box is not None else self.ids.ops[key]
            rows.setdefault(maker, [maker]).append(self.ids.tensors[key])
        return list(rows.values())

    def _visible(self, tensor: Tensor) -> str:
        """The node a tensor is drawn as: its own, or the collapsed module hiding it."""
        return self.ids.tensors.get(id(tensor)) or self.box_ids[self.group[id(tensor)]]

    def _ranks(self, rows: bool) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """dot's rank of every drawn node (longest path from the leaves, a leaf just before its first
        consumer; with rows, a result on its op's rank) and the edges into ops and boxes."""
        rank: dict[str, int] = {}
        edges: list[tuple[str, str]] = []
        for tensor in self.order:
            node = tensor.grad_fn
            if node is None:
                continue
            box = self.group.get(id(tensor))
            target = self.box_ids[box] if box is not None else self.ids.ops[id(tensor)]
            sources = [s for s in (self._visible(p) for p in node.inputs) if s != target]
            edges += [(s, target) for s in sources]
            rank[target] = max([rank.get(s, 0) + 1 for s in sources] + [1, rank.get(target, 0)])
            if id(tensor) in self.ids.tensors:
                rank[self.ids.tensors[id(tensor)]] = rank[target] + (0 if rows else 1)
        first_use: dict[str, int] = {}
        for source, target in edges:
            if source not in rank:
                first_use[source] = min(first_use.get(source, rank[target]), rank[target])
        rank.update({source: first - 1 for source, first in first_use.items()})
        return rank, edges

    def _extent(self, sizes: dict[str, tuple[float, float]], direction: str, rows: bool) -> tuple[float, float]:
        """Estimated (width, height) in points of the drawing: ranks side by side along `direction`, the
        nodes of one rank stacked across it (cluster margins and edge labels left out)."""
        rank, _ = self._ranks(rows)
        for node_id in sizes:
            rank.setdefault(node_id, 0)  # a lone root leaf
        along: dict[int, float] = {}  # per rank: the largest extent along the direction
        across: dict[int, float] = {}  # per rank: the summed extent across it
        for node_id, (width, height) in sizes.items():
            r = rank[node_id]
            depth, breadth = (width, height) if direction == "LR" else (height, width)
            along[r] = max(along.get(r, 0.0), depth)
            across[r] = across.get(r, -NODESEP * 72) + breadth + NODESEP * 72
        length = sum(along.values()) + RANKSEP * 72 * (len(along) - 1)
        breadth = max(across.values())
        return (length, breadth) if direction == "LR" else (breadth, length)

    def _emit_clusters(self, graph: DagradGraph, body: dict[str | None, list[tuple[str, dict[str, str]]]]) -> None:
        for node_id, attrs in body.get(None, []):
            graph.node(node_id, **attrs)
        wanted = set()  # clusters with content, and their ancestors
        for name in body:
            while name is not None and name in self.tree and name not in wanted:
                wanted.add(name)
                name = self.tree[name].parent
        numbering = {name: k for k, name in enumerate(self.tree)}

        def emit(parent: graphviz.Digraph, name: str) -> None:
            info = self.tree[name]
            cluster = graphviz.Digraph(name=f"cluster_{numbering[name]}")
            title = describe(info.module) if name == "" else f"{name}: {describe(info.module)}"
            cluster.attr(
                label=f"<<B>{escape_html(title)}</B>>",
                style="rounded,dashed" if name == "" else "rounded",
                color="#94a3b8",
                fontname=FONT,
                fontsize="11",
                labeljust="l",
            )
            for node_id, attrs in body.get(name, []):
                cluster.node(node_id, **attrs)
            for child in info.children:
                if child in wanted:
                    emit(cluster, child)
            parent.subgraph(cluster)

        for name in self.tree:
            if name in wanted and self.tree[name].parent is None:
                emit(graph, name)

    def _emit_edges(self, graph: DagradGraph, box_ids: dict[str, str]) -> None:
        visible = self._visible
        seen_box_edges: set[tuple[str, str]] = set()
        long_edges = self._long_edges()
        count = 0
        for tensor in self.order:
            node = tensor.grad_fn
            if node is None:
                continue
            key = id(tensor)
            hot = key in (self.highlighted if self.hot_ops is None else self.hot_ops)
            box = self.group.get(key)
            target = box_ids[box] if box is not None else self.ids.ops[key]
            for slot, parent in enumerate(node.inputs):
                source = visible(parent)
                if source == target:
                    continue  # inside a collapsed module
                if box is not None:  # into a box: one edge per distinct input, not per slot
                    if (source, target) in seen_box_edges:
                        continue
                    seen_box_edges.add((source, target))
                if (source, target) in long_edges:
                    source = self._proxy(graph, parent, f"px{count}")
                count += 1
                edge_id = f"dg_e{count}"
                attrs = {"id": edge_id}
                if box is None and len(node.inputs) > 1:
                    attrs["label"] = f"arg{slot}"
                if hot and id(parent) in self.highlighted:
                    attrs.update(color=COLORS["highlight"], penwidth="2.2")
                if box is None:
                    self.ids.edges[(id(parent), key, slot)] = edge_id
                graph.edge(source, target, **attrs)
            if key in self.ids.tensors:
                count += 1
                edge_id = f"dg_e{count}"
                attrs = {"id": edge_id}
                if hot:
                    attrs.update(color=COLORS["highlight"], penwidth="2.2")
                if box is None:
                    self.ids.out_edges[key] = edge_id
                graph.edge(target, self.ids.tensors[key], **attrs)

    def _long_edges(self) -> set[tuple[str, str]]:
        """Edges to draw from a small copy ("proxy") of their source, placed next to the consumer.

        Graphviz's dot routes an edge spanning k ranks through k virtual nodes, and its positioning pass
        grows much faster than linearly with them: a tensor reused across a long chain (shared weights, a
        skip input) makes even a 200-node graph take minutes in graphviz-pure. When the estimated number of
        virtual nodes passes LONG_EDGE_BUDGET, edges longer than LONG_EDGE_SPAN ranks leave from a proxy.
        """
        rank, edges = self._ranks(rows=False)
        spans = {(s, t): rank[t] - rank[s] for s, t in edges}
        if sum(max(span - 1, 0) for span in spans.values()) <= LONG_EDGE_BUDGET:
            return set()
        return {edge for edge, span in spans.items() if span > LONG_EDGE_SPAN}

    def _proxy(self, graph: DagradGraph, tensor: Tensor, proxy_id: str) -> str:
        name = self.naming.text[id(tensor)]
        graph.node(
            proxy_id,
            id=f"dg_{proxy_id}",
            shape="box",
            style="rounded,dashed,filled",
            fillcolor=COLORS["constant"] if tensor.grad_fn is None else COLORS["value"],
            fontsize="10",
            label=f"<↪ {escape_html(name)}>",
        )
        return proxy_id

    # ----- labels -----------------------------------------------------------------------------------
    def _tensor_attrs(self, tensor: Tensor, node_id: str) -> dict[str, str]:
        key = id(tensor)
        if key in self.roots:
            fill = COLORS["root"]
        elif tensor.grad_fn is not None:
            fill = COLORS["value"]
        else:
            fill = COLORS["parameter"] if tensor.requires_grad else COLORS["constant"]
        hot = key in self.highlighted or key in self.accented
        border = COLORS["accent"] if key in self.accented else COLORS["highlight"] if hot else "#334155"
        rows = []
        header = self._name_text(tensor)
        if self.style.show_shape:
            kind = f"{labels.format_shape(tensor.shape)} {tensor.dtype}"
            shape = f'<FONT POINT-SIZE="9" COLOR="{COLORS["muted"]}">{kind}</FONT>'
            header = f"{header} {shape}" if header else shape
        if header:
            rows.append(header)
        if self.style.show_data is not False:
            rows += _value_rows("data", tensor.data, self.style.show_data)
        grad_row = self._grad_row(tensor)
        table = [
            f'<TABLE BORDER="{2 if hot or key in self.roots else 1}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="3" BGCOLOR="{fill}" COLOR="{border}">'
        ]
        table += [f"<TR><TD>{row}</TD></TR>" for row in rows]
        if grad_row is not None:
            table.append(grad_row)
        if len(table) == 1:
            table.append("<TR><TD> </TD></TR>")
        table.append("</TABLE>")
        return {"id": f"dg_{node_id}", "shape": "plain", "label": "<" + "".join(table) + ">"}

    def _name_text(self, tensor: Tensor) -> str:
        """The tensor's name as drawn: bold when the user gave it, muted when generated ('add_2', 'input'),
        nothing for a one-element literal, whose value row already says what it is."""
        key = id(tensor)
        name = escape_html(self.naming.text[key])
        if key in self.naming.given:
            return f"<B>{name}</B>"
        if tensor.grad_fn is None and tensor.numel() == 1 and not tensor.requires_grad:
            return ""
        return f'<FONT COLOR="{COLORS["muted"]}">{name}</FONT>'

    def _grad_row(self, tensor: Tensor) -> str | None:
        style = self.style
        if not style.show_grad or not tensor.requires_grad:
            return None
        grad = recorded_grad(tensor)  # .grad, or what backward recorded for an intermediate value
        if style.grad_text is not None:
            text = style.grad_text.get(id(tensor), "grad —")
        elif grad is None:
            text = "grad —"
        else:
            show = "auto" if style.show_data is False else style.show_data
            return "".join(f"<TR><TD>{row}</TD></TR>" for row in _value_rows("grad", grad, show))
        muted = text.endswith("—")
        body = f'<FONT COLOR="{COLORS["muted"]}">{escape_html(text)}</FONT>' if muted else escape_html(text)
        width = f' WIDTH="{style.grad_width}" FIXEDSIZE="TRUE" HEIGHT="18"' if style.grad_width else ""
        return f"<TR><TD{width}>{body}</TD></TR>"

    def _op_attrs(self, tensor: Tensor, op_id: str) -> dict[str, str]:
        node = tensor.grad_fn
        # The op as math, settings included ('** 3', 'sum(dim=1)'): the engine's label, so a new op draws
        # right without any change here.
        lines = [f"<B>{escape_html(node.label)}</B>"]
        small = []
        if self.style.show_saved:
            small += [f"saved {s.label}: {labels.format_shape(s.shape)} {s.dtype}" for s in saved_values(node)]
            if node.released:
                small.append("saved: released by backward")
        for text in small:
            lines.append(f'<FONT POINT-SIZE="9">{escape_html(text)}</FONT>')
        hot = id(tensor) in (self.highlighted if self.hot_ops is None else self.hot_ops)
        return {
            "id": f"dg_{op_id}",
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": COLORS["op"],
            "color": COLORS["highlight"] if hot else "#92400e",
            "penwidth": "2.2" if hot else "1",
            "margin": "0.05,0.02",
            "label": "<" + "<BR/>".join(lines) + ">",
        }

    def _box_attrs(self, name: str, box_id: str) -> dict[str, str]:
        info = self.tree[name]
        members = [t for t in self.order if self.group.get(id(t)) == name]
        inputs, outputs = [], []
        seen: set[int] = set()
        for t in members:
            if t.grad_fn is None:
                continue
            for p in t.grad_fn.inputs:
                if self.group.get(id(p)) != name and id(p) not in seen:
                    seen.add(id(p))
                    inputs.append(p)
            if id(t) in self.exported:
                outputs.append(t)
        shapes = lambda ts: ", ".join(labels.format_shape(t.shape) for t in ts) or "—"  # noqa: E731
        count = parameter_count(info.module)
        rows = [
            f"<B>{escape_html(name)}</B>: {escape_html(describe(info.module))}",
            f'<FONT POINT-SIZE="10">in {escape_html(shapes(inputs))}</FONT>',
            f'<FONT POINT-SIZE="10">out {escape_html(shapes(outputs))}</FONT>',
            f'<FONT POINT-SIZE="10">{count:,} parameters</FONT>',
        ]
        hot = any(id(t) in self.highlighted for t in members)
        return {
            "id": f"dg_{box_id}",
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": COLORS["module"],
            "color": COLORS["highlight"] if hot else "#4338ca",
            "penwidth": "2.2" if hot else "1.2",
            "label": "<" + "<BR/>".join(rows) + ">",
        }


def _value_rows(title: str, array: Any, show_data: bool | str) -> list[str]:
    """'data 2.0000' for tiny arrays; two statistics rows ('data μ … σ …', 'min … max …') for larger ones."""
    if labels.shows_values(array, show_data):
        return [f"{title} " + escape_html(labels.format_array(array, show_data))]
    first, *rest = labels.stats_lines(array)
    return [f"{title} {escape_html(first)}"] + [escape_html(line) for line in rest]


def _label_extent(attrs: dict[str, str]) -> tuple[float, float]:
    """Estimated (width, height) in points of a node from its HTML-like label, for choosing a direction."""
    label = attrs.get("label", "")
    if "<TABLE" in label:
        rows = re.findall(r"<TR>(.*?)</TR>", label)
        widths = []
        for row in rows:
            fixed = re.search(r'WIDTH="(\d+)"', row)  # the stepper's fixed grad rows
            widths.append(float(fixed.group(1)) if fixed else _text_width(row))
        return max(widths, default=0.0) + 10, 20.0 * len(rows) + 4
    lines = label.split("<BR/>")
    width, height = max(_text_width(line) for line in lines) + 16, 15.0 * len(lines) + 10
    if attrs.get("shape") == "ellipse":  # an ellipse around a text box is about 1.4 times its size
        return max(54.0, 1.4 * width), max(36.0, 1.4 * height)
    return width, height


def _text_width(markup: str) -> float:
    """Width in points of one line of HTML-like label text, each run at its POINT-SIZE (12 by default)."""
    sizes = [12.0]
    total = 0.0
    for token in re.split(r"(<[^>]*>)", markup):
        if token.startswith("<FONT"):
            size = re.search(r'POINT-SIZE="([\d.]+)"', token)
            sizes.append(float(size.group(1)) if size else sizes[-1])
        elif token.startswith("</FONT") and len(sizes) > 1:
            sizes.pop()
        elif not token.startswith("<"):
            total += len(html.unescape(token)) * CHAR_WIDTH * sizes[-1]
    return total
