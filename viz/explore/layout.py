"""Where every node of an explorer graph goes: Graphviz's `dot` lays it out, the browser draws it.

Why this split: dot gives the same layered, crossing-minimised layout as dagrad's static pictures (and runs
without a system Graphviz through graphviz-pure), while drawing in the page lets a click select a node, a
step highlight an op and a slider change every number in place. Node sizes depend only on the graph's
structure (kind, shape, label length), never on values, so moving a slider never moves a node; layouts are
cached by their DOT source, so re-computing values costs no layout at all.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from viz.render import pipe

POINTS_PER_INCH = 72.0
CACHE_SIZE = 64


@dataclass
class Box:
    """A node to place: its id and size in points (the page draws 1 point as 1 CSS pixel)."""

    id: str
    width: float
    height: float
    shape: str = "box"  # "box" or "ellipse": only for dot's edge clipping


@dataclass
class Cluster:
    """An expanded module: a frame around its nodes and nested clusters."""

    id: str
    label: str
    members: list[str] = field(default_factory=list)
    children: list[Cluster] = field(default_factory=list)


_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def layout(
    boxes: list[Box], edges: list[tuple[str, str]], clusters: list[Cluster] = (), rankdir: str = "LR"
) -> dict[str, Any]:
    """{"width", "height", "nodes": {id: {x, y, w, h}}, "edges": [{source, target, path}], "clusters": [...]}
    with y growing downwards (SVG's convention); `path` is an SVG path through dot's spline."""
    source = dot_source(boxes, edges, clusters, rankdir)
    with _cache_lock:
        if source in _cache:
            _cache.move_to_end(source)
            return _cache[source]
    placed = parse_json_layout(json.loads(pipe(source, "json")))
    with _cache_lock:
        _cache[source] = placed
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return placed


def dot_source(boxes: list[Box], edges: list[tuple[str, str]], clusters: list[Cluster], rankdir: str) -> str:
    """The DOT text: fixed-size, unlabelled nodes (the page writes the labels), one edge per operand slot."""
    clustered = {member for cluster in _flatten(clusters) for member in cluster.members}
    lines = [
        "digraph explorer {",
        f"  rankdir={rankdir}; nodesep=0.18; ranksep=0.3; splines=true;",
        '  node [shape=box, fixedsize=true, label="", margin=0];',
        "  edge [arrowsize=0.6];",
    ]
    for box in boxes:
        if box.id not in clustered:
            lines.append(f"  {_node_line(box)}")
    by_id = {box.id: box for box in boxes}
    for cluster in clusters:
        lines += _cluster_lines(cluster, by_id, "  ")
    lines += [f"  {_quote(a)} -> {_quote(b)};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def parse_json_layout(data: dict[str, Any]) -> dict[str, Any]:
    """dot's `-Tjson` output -> page coordinates (points, origin top left)."""
    left, bottom, right, top = (float(v) for v in data["bb"].split(","))
    height = top - bottom

    def point(text: str) -> tuple[float, float]:
        x, y = (float(v) for v in text.split(",")[:2])
        return round(x - left, 2), round(height - (y - bottom), 2)

    names: dict[int, str] = {}
    nodes: dict[str, dict[str, float]] = {}
    clusters: list[dict[str, Any]] = []
    for item in data.get("objects", []):
        if "nodes" in item or str(item.get("name", "")).startswith("cluster"):
            if "bb" in item:
                x0, y0, x1, y1 = (float(v) for v in item["bb"].split(","))
                clusters.append(
                    {
                        "id": str(item.get("id") or item["name"]),
                        "x": round(x0 - left, 2),
                        "y": round(height - (y1 - bottom), 2),
                        "w": round(x1 - x0, 2),
                        "h": round(y1 - y0, 2),
                    }
                )
            continue
        names[int(item["_gvid"])] = str(item["name"])
        x, y = point(item["pos"])
        nodes[str(item["name"])] = {
            "x": x,
            "y": y,
            "w": round(float(item["width"]) * POINTS_PER_INCH, 2),
            "h": round(float(item["height"]) * POINTS_PER_INCH, 2),
        }
    edges = []
    for item in data.get("edges", []):
        edges.append(
            {"source": names[int(item["tail"])], "target": names[int(item["head"])], "path": _edge_path(item, point)}
        )
    return {
        "width": round(right - left, 2),
        "height": round(height, 2),
        "nodes": nodes,
        "edges": edges,
        "clusters": clusters,
    }


def _edge_path(item: dict[str, Any], point: Any) -> str:
    """'M x,y C ... L end': dot's B-spline control points, then a straight piece to the arrow's tip."""
    parts = str(item.get("pos", "")).split()
    end = None
    if parts and parts[0].startswith("e,"):
        end = point(parts.pop(0)[2:])
    if parts and parts[0].startswith("s,"):
        parts.pop(0)
    controls = [point(p) for p in parts]
    if not controls:
        return ""
    path = f"M{controls[0][0]},{controls[0][1]}"
    for k in range(1, len(controls) - 2, 3):
        (x1, y1), (x2, y2), (x3, y3) = controls[k : k + 3]
        path += f" C{x1},{y1} {x2},{y2} {x3},{y3}"
    if end is not None:
        path += f" L{end[0]},{end[1]}"
    return path


def _node_line(box: Box) -> str:
    width, height = box.width / POINTS_PER_INCH, box.height / POINTS_PER_INCH
    return f"{_quote(box.id)} [shape={box.shape}, width={width:.3f}, height={height:.3f}];"


def _cluster_lines(cluster: Cluster, by_id: dict[str, Box], indent: str) -> list[str]:
    # The label reserves room above the frame's content; the page draws the text itself.
    lines = [
        f"{indent}subgraph {_quote('cluster_' + cluster.id)} {{",
        f"{indent}  id={_quote(cluster.id)}; label={_quote(cluster.label)}; fontsize=11; labeljust=l; margin=10;",
    ]
    lines += [f"{indent}  {_node_line(by_id[m])}" for m in cluster.members if m in by_id]
    for child in cluster.children:
        lines += _cluster_lines(child, by_id, indent + "  ")
    lines.append(f"{indent}}}")
    return lines


def _flatten(clusters: Any) -> list[Cluster]:
    found: list[Cluster] = []
    for cluster in clusters:
        found.append(cluster)
        found += _flatten(cluster.children)
    return found


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
