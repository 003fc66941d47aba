// The Explorer page: a graph with every value and gradient; click, edit, nudge, and step through backward.

import { api, clearError, el, fmt, heatCanvas, showError, viewText } from "./common.js";
import { GraphView } from "./graph.js";

const state = {
  payload: null, // the server's answer: source, values, graph
  position: 0, // backward steps done (0 .. steps.length)
  selected: null, // node id
  element: 0, // which element of a tensor leaf the slider and nudge act on
  nudge: null, // the last nudge result
};

const view = new GraphView(document.getElementById("graph"), {
  onSelect: (id) => select(id),
  onToggle: (module, expanded) => run(() => api("/api/explorer/expand", { module, expanded })),
});

// ----- loading ----------------------------------------------------------------------------------------
async function run(request, { keepPosition = false } = {}) {
  try {
    const payload = await request();
    clearError();
    const steps = payload.graph.steps.length;
    const atEnd = !state.payload || state.position >= state.payload.graph.steps.length;
    state.payload = payload;
    state.position = keepPosition && !atEnd ? Math.min(state.position, steps) : steps;
    if (state.selected && !payload.graph.nodes.some((n) => n.id === state.selected)) state.selected = null;
    render();
    return true;
  } catch (error) {
    showError(error.message);
    return false;
  }
}

// ----- what the gradients look like after `position` backward steps ------------------------------------
function gradientsAt(graph, position) {
  const grads = new Map();
  grads.set(graph.root, graph.seed);
  for (const step of graph.steps.slice(0, position)) {
    for (const c of step.contributions) grads.set(c.to, c.soFar);
  }
  return grads;
}

function highlightAt(graph, position) {
  if (position === 0) return null;
  const step = graph.steps[position - 1];
  const visible = new Map(graph.nodes.map((n) => [n.id, n.visible]));
  const op = visible.get(step.op);
  const output = visible.get(step.output);
  const nodes = new Set([op, output]);
  const edges = new Set([`${op}>${output}`]);
  for (const c of step.contributions) {
    const input = visible.get(c.to);
    nodes.add(input);
    edges.add(`${input}>${op}`);
  }
  return { nodes, edges, op };
}

// ----- drawing ----------------------------------------------------------------------------------------
function render() {
  const { graph, source } = state.payload;
  const program = document.getElementById("program");
  if (source.program !== null && document.activeElement !== program) program.value = source.program;
  document.getElementById("source-title").textContent =
    source.kind === "program" ? "" : `showing ${source.title}${source.editable ? "" : " (read-only)"}`;
  const grads = gradientsAt(graph, state.position);
  view.render(graph, { grads, highlight: highlightAt(graph, state.position), selected: state.selected });
  renderStepper(graph);
  renderVariables();
  renderDetails(grads);
}

function renderStepper(graph) {
  const total = graph.steps.length;
  const range = document.getElementById("step-range");
  range.max = String(total);
  range.value = String(state.position);
  const label = document.getElementById("step-label");
  const text = document.getElementById("step-text");
  label.dataset.position = String(state.position);
  label.dataset.total = String(total);
  if (state.position === 0) {
    label.textContent = `Before backward: only ∂${graph.rootName}/∂${graph.rootName} = 1 is known (${total} steps to go)`;
    text.textContent = "Press ▶ (or →) to run the first op's backward rule.";
  } else {
    const step = graph.steps[state.position - 1];
    label.textContent = `Step ${state.position} of ${total}: ${step.outputName} = ${step.label}(…)` +
      (state.position === total ? " — backward is complete" : "");
    text.textContent = step.lines.join("\n");
  }
}

let variablesKey = null;

function renderVariables() {
  const box = document.getElementById("variables");
  const { graph, source, values } = state.payload;
  const leaves = graph.nodes.filter((n) => n.kind === "tensor" && n.editable);
  const indexOf = (leaf) => (leaf.id === state.selected ? Math.min(state.element, values[leaf.name].length - 1) : 0);
  const outputText = () => `${graph.rootName} = ${viewText(graph.nodes.find((n) => n.id === graph.root).value)}. ` +
    "Move a slider or type a value: every value and gradient follows.";
  const key = JSON.stringify([source.kind, source.title, leaves.map((l) => [l.name, indexOf(l)])]);
  if (key === variablesKey && leaves.length) {
    // Same variables: update numbers in place, so a slider being dragged is never replaced under the pointer.
    box.querySelector(".output").textContent = outputText();
    for (const leaf of leaves) {
      const index = indexOf(leaf);
      const value = values[leaf.name][index];
      const slider = document.getElementById(`slider-${leaf.name}`);
      const field = document.getElementById(`value-${leaf.name}`);
      if (document.activeElement !== slider) slider.value = String(value);
      if (document.activeElement !== field) field.value = String(value);
      document.getElementById(`grad-${leaf.name}`).textContent = gradChip(graph, leaf, index);
    }
    return;
  }
  variablesKey = key;
  if (!leaves.length) {
    box.replaceChildren(el("h2", {}, "Variables"),
      el("p", { class: "hint" }, source.editable ? "No variable in this graph." :
        "This graph was handed over finished (or comes from a model), so its leaves cannot be changed here."));
    return;
  }
  const rows = leaves.map((leaf) => {
    const index = indexOf(leaf);
    const value = values[leaf.name][index];
    const span = Math.max(4, Math.abs(value) * 2);
    const slider = el("input", {
      type: "range", id: `slider-${leaf.name}`, min: String(value - span), max: String(value + span),
      step: "any", value: String(value), "aria-label": `${leaf.name} slider`,
    });
    const field = el("input", { type: "number", id: `value-${leaf.name}`, step: "any", value: String(value) });
    slider.addEventListener("input", () => { field.value = slider.value; sendValue(leaf.name, index, slider.value); });
    field.addEventListener("change", () => sendValue(leaf.name, index, field.value));
    const element = values[leaf.name].length > 1 ? `[${index}]` : "";
    return el("div", { class: "variable" }, el("label", { for: `value-${leaf.name}` }, `${leaf.name}${element}`),
      slider, field, el("span", { class: "grad-chip", id: `grad-${leaf.name}` }, gradChip(graph, leaf, index)));
  });
  box.replaceChildren(el("h2", {}, "Variables"), el("p", { class: "hint output" }, outputText()), ...rows);
}

function gradChip(graph, leaf, index) {
  const element = leaf.value.size > 1 ? `[${index}]` : "";
  return `∂${graph.rootName}/∂${leaf.name}${element} = ${fmt(leaf.grad ? leaf.grad.values[index] : 0)}`;
}

// Slider moves arrive faster than the server answers: keep only the latest value and send it when free.
let pending = null;
let sending = false;
async function sendValue(name, index, value) {
  pending = { name, index, value: Number(value) };
  if (sending) return;
  sending = true;
  while (pending) {
    const body = pending;
    pending = null;
    state.nudge = null;
    await run(() => api("/api/explorer/value", body), { keepPosition: true });
  }
  sending = false;
}

function renderDetails(grads) {
  const box = document.getElementById("details");
  const { graph } = state.payload;
  const node = graph.nodes.find((n) => n.id === state.selected);
  if (!node) {
    box.replaceChildren(el("p", { class: "hint" },
      "Click a node of the graph to see its value, its gradient and how the chain rule made it."));
    return;
  }
  const root = graph.rootName;
  if (node.kind === "op") box.replaceChildren(...opDetails(node, graph, root));
  else if (node.kind === "module") box.replaceChildren(...moduleDetails(node, graph, grads));
  else box.replaceChildren(...tensorDetails(node, graph, grads, root));
}

function arrayBlock(title, view, id, onCell) {
  if (!view) return el("div", { class: "array" }, el("h3", {}, title), el("p", { id, class: "value" }, "— (no gradient yet)"));
  const parts = [el("h3", {}, title)];
  if (view.size === 1) {
    parts.push(el("p", { id, class: "value big", "data-value": String(view.values[0]) }, fmt(view.values[0])));
  } else {
    parts.push(el("p", { id, class: "value" }, `shape (${view.shape.join("×")}), ${view.text}`));
    parts.push(heatCanvas(view, 180, Math.max(18, Math.min(180, (180 * view.heat.rows) / view.heat.cols)), onCell));
  }
  return el("div", { class: "array" }, ...parts);
}

function tensorDetails(node, graph, grads, root) {
  const parts = [el("h2", {}, node.name, el("span", { class: "role" }, ` ${node.role}`))];
  parts.push(el("p", { class: "hint" }, `shape (${node.shape.join("×") || "scalar"}), ${node.dtype}` +
    (node.uses > 1 ? `, used ${node.uses} times` : "")));
  const onCell = node.editable && node.value.size > 1 ? (k) => { state.element = k; state.nudge = null; render(); } : null;
  parts.push(arrayBlock("value", node.value, "detail-value", onCell));
  const shown = grads.get(node.id);
  const done = state.position === graph.steps.length;
  parts.push(arrayBlock(done ? `gradient ∂${root}/∂${node.name}` : `gradient so far (after ${state.position} steps)`,
    shown || null, "detail-grad"));
  if (node.op) {
    const op = graph.nodes.find((n) => n.id === node.op);
    parts.push(el("p", {}, "made by ", el("a", { href: "#", onclick: (e) => { e.preventDefault(); select(op.id); } },
      `${op.label} (${op.opName})`)));
  }
  if (node.arrivals.length) {
    parts.push(el("h3", {}, node.arrivals.length > 1 ? "chain rule: the contributions add up" : "where the gradient comes from"));
    const list = el("ul", { class: "arrivals" });
    for (const a of node.arrivals) {
      const local = a.local ? `local ∂${a.via}/∂${node.name} = ${viewText(a.local)}; ` : "";
      list.append(el("li", {}, `via arg${a.slot} of ${a.via} (step ${a.step + 1}): ${local}receives ${viewText(a.value)}`));
    }
    parts.push(list);
    if (node.sum) parts.push(el("p", { id: "chain-sum", class: "sum" }, `${node.name}.grad = ${node.sum}`));
  }
  if (node.editable) parts.push(nudgeBlock(node, root));
  return parts;
}

function nudgeBlock(node, root) {
  const index = node.value.size > 1 ? state.element : 0;
  const element = node.value.size > 1 ? `[${index}]` : "";
  const h = el("input", { type: "number", id: "nudge-h", step: "any", value: state.nudge ? String(state.nudge.h) : "0.000001" });
  const button = el("button", { type: "button", id: "nudge" }, "Nudge");
  const result = el("p", { id: "nudge-result", class: "sum" });
  if (state.nudge && state.nudge.name === node.name && state.nudge.index === index) {
    const n = state.nudge;
    result.dataset.slope = String(n.slope);
    result.dataset.gradient = String(n.gradient);
    result.textContent = `(L(${node.name}${element}+h) − L(${node.name}${element})) / h = (${fmt(n.after)} − ${fmt(n.before)}) / ${fmt(n.h)} = ${fmt(n.slope)}` +
      `   vs   ∂${root}/∂${node.name}${element} = ${fmt(n.gradient)}`;
  } else {
    result.textContent = "The gradient is the slope: nudge the variable by h and see how much the output moves.";
  }
  button.addEventListener("click", async () => {
    try {
      const answer = await api("/api/explorer/nudge", { name: node.name, index, h: Number(h.value) });
      clearError();
      state.nudge = answer.nudge;
      render();
    } catch (error) {
      showError(error.message);
    }
  });
  return el("div", { class: "nudge" }, el("h3", {}, `nudge ${node.name}${element}`), el("label", {}, "h ", h), button, result);
}

function opDetails(node, graph, root) {
  const parts = [el("h2", {}, `${node.label}`, el("span", { class: "role" }, ` ${node.opName}`))];
  parts.push(el("p", { class: "rule", id: "detail-rule" }, `rule: ${node.rule}`));
  if (node.step === null) {
    parts.push(el("p", { class: "hint" }, "No gradient flows through this op (none of its inputs requires grad)."));
    return parts;
  }
  const step = graph.steps[node.step];
  parts.push(el("p", {}, `backward step ${node.step + 1} of ${graph.steps.length}: upstream ∂${root}/∂${step.outputName} = ${viewText(step.upstream)}`));
  const list = el("ul", { class: "arrivals" });
  for (const c of step.contributions) {
    const text = c.local
      ? `→ ${c.toName} (arg${c.slot}): local ∂${step.outputName}/∂${c.toName} = ${viewText(c.local)}; ${viewText(step.upstream)} × ${viewText(c.local)} = ${viewText(c.value)}`
      : `→ ${c.toName} (arg${c.slot}): receives ${viewText(c.value)}`;
    list.append(el("li", {}, text));
  }
  parts.push(list);
  parts.push(el("button", { type: "button", onclick: () => { state.position = node.step + 1; render(); } }, "Show this step"));
  return parts;
}

function moduleDetails(node, graph, grads) {
  const parts = [el("h2", {}, node.name, el("span", { class: "role" }, ` ${node.label}`))];
  parts.push(el("p", { class: "hint" }, `${node.parameters.toLocaleString()} parameters; ${node.tensors.length} tensors inside.`));
  parts.push(el("button", { type: "button", id: "open-module", onclick: () => run(() => api("/api/explorer/expand", { module: node.qualname, expanded: true }), { keepPosition: true }) }, "Open this module"));
  for (const id of node.outputs) {
    const tensor = graph.nodes.find((n) => n.id === id);
    parts.push(arrayBlock(`output ${tensor.name}: value`, tensor.value, null));
    parts.push(arrayBlock(`output ${tensor.name}: gradient`, grads.get(id) || null, null));
  }
  return parts;
}

function select(id) {
  if (state.selected !== id) {
    state.element = 0;
    state.nudge = null;
  }
  state.selected = id;
  render();
}

function stepTo(position) {
  const total = state.payload.graph.steps.length;
  state.position = Math.max(0, Math.min(total, position));
  render();
}

// ----- wiring -----------------------------------------------------------------------------------------
document.getElementById("program-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.selected = null;
  run(() => api("/api/explorer/program", { program: document.getElementById("program").value }));
});
document.getElementById("reset").addEventListener("click", () => { state.selected = null; run(() => api("/api/explorer/reset", {})); });
document.getElementById("step-first").addEventListener("click", () => stepTo(0));
document.getElementById("step-back").addEventListener("click", () => stepTo(state.position - 1));
document.getElementById("step-next").addEventListener("click", () => stepTo(state.position + 1));
document.getElementById("step-last").addEventListener("click", () => stepTo(Infinity));
document.getElementById("step-range").addEventListener("input", (event) => stepTo(Number(event.target.value)));
document.getElementById("graph").addEventListener("click", () => select(null));
document.addEventListener("keydown", (event) => {
  if (!state.payload || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) return;
  if (event.key === "ArrowRight") stepTo(state.position + 1);
  if (event.key === "ArrowLeft") stepTo(state.position - 1);
});

run(() => api("/api/explorer")).then(() => { document.body.dataset.ready = "true"; });
