"""Read what an SVG written by Graphviz says: its texts, and its node/edge groups."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str | bytes) -> ET.Element:
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    return ET.fromstring(data)


def texts(svg: str | bytes) -> list[str]:
    """Every <text> content, in document order (entities decoded)."""
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{SVG}text")]


def groups(svg: str | bytes, kind: str) -> list[ET.Element]:
    """<g class="node"> or <g class="edge"> elements."""
    return [g for g in parse(svg).iter(f"{SVG}g") if g.get("class") == kind]
