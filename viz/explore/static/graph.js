// Draws an explorer graph in an <svg>: dot's layout (computed by the server), our own boxes and numbers,
// so a click selects, a backward step highlights, and new values replace the numbers without moving a node.

import { fmt, heatCanvas } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function heatImage(view, x, y, width, height) {
  const canvas = heatCanvas(view, width * 2, height * 2);
  return svg("image", { href: canvas.toDataURL(), x, y, width, height, preserveAspectRatio: "none" });
}

export class GraphView {
  // onSelect(id) when a node is clicked; onToggle(qualname, expanded) to open or close a module.
  constructor(svgElement, { onSelect, onToggle }) {
    this.svg = svgElement;
    this.onSelect = onSelect;
    this.onToggle = onToggle;
  }

  // graph: the server's model; grads: id -> the gradient view to show (or null); highlight: {nodes, edges}.
  render(graph, { grads, highlight, selected }) {
    const { layout } = graph;
    const margin = 8;
    const root = this.svg;
    root.replaceChildren();
    root.setAttribute("viewBox", `${-margin} ${-margin} ${layout.width + 2 * margin} ${layout.height + 2 * margin}`);
    root.style.setProperty("--natural-width", `${layout.width + 2 * margin}px`);
    const defs = svg("defs");
    for (const [name, color] of [["arrow", "#64748b"], ["arrow-hot", "#dc2626"]]) {
      const marker = svg("marker", {
        id: name, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
      });
      marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
      defs.append(marker);
    }
    root.append(defs);
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));

    for (const frame of layout.clusters) {
      const qualname = frame.id.slice(2);
      const module = graph.modules.find((m) => m.qualname === qualname);
      const group = svg("g", { class: "frame", "data-module": qualname });
      group.append(svg("rect", { x: frame.x, y: frame.y, width: frame.w, height: frame.h, rx: 8 }));
      const label = svg("text", { x: frame.x + 8, y: frame.y + 15, class: "frame-label" },
        `▾ ${qualname}: ${module ? module.label : ""}  (click to close)`);
      label.addEventListener("click", () => this.onToggle(qualname, false));
      group.append(label);
      root.append(group);
    }

    const hotEdges = highlight ? highlight.edges : new Set();
    for (const edge of layout.edges) {
      const hot = hotEdges.has(`${edge.source}>${edge.target}`);
      root.append(svg("path", {
        d: edge.path, class: hot ? "edge hot" : "edge", "marker-end": hot ? "url(#arrow-hot)" : "url(#arrow)",
        "data-source": edge.source, "data-target": edge.target,
      }));
    }

    for (const [id, place] of Object.entries(layout.nodes)) {
      const node = byId.get(id);
      if (!node) continue;
      const classes = ["node", node.kind, node.role || ""];
      if (highlight && highlight.nodes.has(id)) classes.push("hot");
      if (highlight && highlight.op === id) classes.push("current");
      if (selected === id) classes.push("selected");
      const group = svg("g", { class: classes.join(" "), "data-id": id, "data-name": node.name || node.label });
      const x = place.x - place.w / 2;
      const y = place.y - place.h / 2;
      if (node.kind === "op") this.drawOp(group, node, place);
      else if (node.kind === "module") this.drawModule(group, node, x, y, place);
      else this.drawTensor(group, node, x, y, place, grads.get(id));
      group.addEventListener("click", (event) => {
        event.stopPropagation();
        this.onSelect(id);
      });
      if (node.kind === "module") group.addEventListener("dblclick", () => this.onToggle(node.qualname, true));
      root.append(group);
    }
  }

  drawOp(group, node, place) {
    group.append(svg("ellipse", { cx: place.x, cy: place.y, rx: place.w / 2, ry: place.h / 2 }));
    group.append(svg("text", { x: place.x, y: place.y + 4, class: "op-label" }, node.label));
  }

  drawModule(group, node, x, y, place) {
    group.append(svg("rect", { x, y, width: place.w, height: place.h, rx: 6 }));
    group.append(svg("text", { x: x + 8, y: y + 18, class: "name" }, `▸ ${node.name}: ${node.label}`));
    group.append(svg("text", { x: x + 8, y: y + 36, class: "sub" },
      `${node.parameters.toLocaleString()} parameters · ${node.tensors.length} tensors`));
    group.append(svg("text", { x: x + 8, y: y + 50, class: "sub" }, "double-click to open"));
  }

  drawTensor(group, node, x, y, place, grad) {
    group.append(svg("rect", { x, y, width: place.w, height: place.h, rx: 4 }));
    const scalar = node.value.size === 1;
    const shape = scalar ? "" : ` (${node.shape.join("×")})`;
    if (node.role === "constant") {
      group.append(svg("text", { x: x + 6, y: y + 14, class: "sub" }, `${node.name}${shape}`));
      if (scalar) return;
      group.append(heatImage(node.value, x + 6, y + 20, place.w - 12, place.h - 26));
      return;
    }
    group.append(svg("text", { x: x + 6, y: y + 14, class: "name" }, `${node.name}${shape}`));
    if (scalar) {
      const value = node.value.values[0];
      group.setAttribute("data-value", String(value));
      group.append(svg("text", { x: x + 6, y: y + 29, class: "data" }, `data ${fmt(value)}`));
      const text = grad ? `grad ${fmt(grad.values[0])}` : "grad —";
      if (grad) group.setAttribute("data-grad", String(grad.values[0]));
      group.append(svg("text", { x: x + 6, y: y + 43, class: grad ? "grad" : "grad none" }, text));
      return;
    }
    const half = (place.w - 18) / 2;
    group.append(svg("text", { x: x + 6, y: y + 28, class: "sub" }, "data"));
    group.append(svg("text", { x: x + 12 + half, y: y + 28, class: "sub" }, "grad"));
    group.append(heatImage(node.value, x + 6, y + 32, half, place.h - 38));
    if (grad) group.append(heatImage(grad, x + 12 + half, y + 32, half, place.h - 38));
    else group.append(svg("text", { x: x + 12 + half, y: y + 52, class: "grad none" }, "—"));
  }
}
