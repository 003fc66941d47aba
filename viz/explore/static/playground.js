// The Playground page: train an MLP in bounded increments (the page asks for the next one while Start is
// on), draw its decision boundary, losses and per-layer gradient norms; open a step's graph in the Explorer.

import { api, clearError, el, fmt, showError } from "./common.js";

const RUN_COLORS = ["#2563eb", "#dc2626"];
const CLASS_COLORS = [[37, 99, 235], [234, 88, 12], [22, 163, 74], [147, 51, 234]];
const FIELDS = ["dataset", "points", "noise", "hidden", "activation", "compare", "optimizer", "lr", "batch", "seed"];

let current = null; // the last state from the server
let data = null; // the training and validation points
let running = false;

// ----- the form ---------------------------------------------------------------------------------------
function fillForm(config) {
  for (const name of FIELDS) {
    const field = document.getElementById(name);
    const value = config[name];
    field.value = name === "hidden" ? value.join(", ") : value === null ? "none" : String(value);
  }
}

function readForm() {
  const config = {};
  for (const name of FIELDS) config[name] = document.getElementById(name).value;
  config.compare = config.compare === "none" ? null : config.compare;
  return config;
}

function options(select, values, extra = []) {
  select.replaceChildren(...[...extra, ...values].map((v) => el("option", { value: v }, v)));
}

const PRESETS = {
  "preset-xor": { dataset: "xor", points: 200, noise: 0.1, hidden: [8], activation: "tanh", compare: null, optimizer: "adam", lr: 0.03, batch: 32, seed: 0 },
  "preset-linear": { dataset: "xor", points: 200, noise: 0.1, hidden: [], activation: "tanh", compare: null, optimizer: "adam", lr: 0.03, batch: 32, seed: 0 },
  "preset-vanishing": { dataset: "moons", points: 300, noise: 0.1, hidden: Array(10).fill(16), activation: "sigmoid", compare: "relu", optimizer: "sgd", lr: 0.1, batch: 32, seed: 0 },
};

// ----- talking to the server --------------------------------------------------------------------------
async function call(path, body) {
  try {
    const answer = await api(path, body);
    clearError();
    return answer;
  } catch (error) {
    showError(error.message);
    return null;
  }
}

async function newTraining() {
  stop();
  const answer = await call("/api/playground/new", { config: readForm() });
  if (answer) show(answer.state);
}

async function step(steps) {
  if (!current) {
    await newTraining();
    if (!current) return false;
  }
  const answer = await call("/api/playground/step", { steps });
  if (!answer) return false;
  show(answer.state);
  return !answer.state.runs.every((r) => r.diverged);
}

async function loop() {
  while (running) {
    const started = performance.now();
    const ok = await step(Number(document.getElementById("speed").value));
    if (!ok) { stop(); break; }
    // A few updates per second is plenty to watch; leave the server and the browser some air.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 150 - (performance.now() - started))));
  }
}

function start() {
  if (running) { stop(); return; }
  running = true;
  document.getElementById("start").textContent = "Pause";
  loop();
}

function stop() {
  running = false;
  document.getElementById("start").textContent = "Start";
}

// ----- drawing ----------------------------------------------------------------------------------------
function show(state) {
  current = state;
  if (state.data) data = state.data;
  const runs = state.runs;
  const status = document.getElementById("status");
  const last = runs.map((r) => r.history[r.history.length - 1]);
  status.dataset.step = String(state.step);
  status.dataset.trainAccuracy = String(last[0].trainAccuracy);
  status.dataset.valAccuracy = String(last[0].valAccuracy);
  status.textContent = `step ${state.step} (epoch ${state.epoch.toFixed(1)}): ` + runs.map((r, k) =>
    `${r.activation}: training accuracy ${(100 * last[k].trainAccuracy).toFixed(1)}%, validation ${(100 * last[k].valAccuracy).toFixed(1)}%, loss ${fmt(last[k].trainLoss ?? NaN)}`).join(" | ");
  const diverged = runs.filter((r) => r.diverged).map((r) => r.diverged);
  if (diverged.length) showError(diverged.join(" "));
  drawRuns(state);
  drawLosses(state);
  drawGradNorms(state);
}

function drawRuns(state) {
  const box = document.getElementById("runs");
  if (box.children.length !== state.runs.length) {
    box.replaceChildren(...state.runs.map((r, k) => el("div", { class: "run chart" },
      el("h3", { id: `run-title-${k}` }), el("canvas", { id: `boundary-${k}`, width: 320, height: 320 }))));
  }
  state.runs.forEach((run, k) => {
    document.getElementById(`run-title-${k}`).textContent =
      `decision boundary: ${state.config.hidden.length ? state.config.hidden.join("-") : "no hidden layer"}, ${run.activation}`;
    drawBoundary(document.getElementById(`boundary-${k}`), state, run);
  });
}

function drawBoundary(canvas, state, run) {
  const context = canvas.getContext("2d");
  const n = state.grid;
  const image = context.createImageData(n, n);
  const { classes, confidence } = run.boundary;
  for (let i = 0; i < n * n; i++) {
    const color = CLASS_COLORS[classes[i] % CLASS_COLORS.length];
    const strength = Math.max(0, (confidence[i] / 255 - 1 / state.classes) / (1 - 1 / state.classes));
    const alpha = 0.15 + 0.45 * strength;
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 * (1 - alpha) + color[c] * alpha);
    image.data[4 * i + 3] = 255;
  }
  const small = document.createElement("canvas");
  small.width = n;
  small.height = n;
  small.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (!data) return;
  const [x0, x1, y0, y1] = state.extent;
  const px = (x) => ((x - x0) / (x1 - x0)) * canvas.width;
  const py = (y) => ((y1 - y) / (y1 - y0)) * canvas.height;
  for (const [set, hollow] of [[data.train, false], [data.val, true]]) {
    set.x.forEach(([x, y], k) => {
      const color = CLASS_COLORS[set.y[k] % CLASS_COLORS.length];
      context.beginPath();
      context.arc(px(x), py(y), 3.2, 0, 2 * Math.PI);
      context.fillStyle = hollow ? "white" : `rgb(${color.join(",")})`;
      context.strokeStyle = hollow ? `rgb(${color.join(",")})` : "white";
      context.lineWidth = hollow ? 1.6 : 0.8;
      context.fill();
      context.stroke();
    });
  }
}

function logAxis(values) {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!finite.length) return null;
  let low = Math.log10(Math.min(...finite));
  let high = Math.log10(Math.max(...finite));
  if (high - low < 1) { low -= 0.5; high += 0.5; }
  return { low: Math.floor(low), high: Math.ceil(high) };
}

function drawAxes(context, canvas, axis, pad, xLabel) {
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = "#cbd5e1";
  context.fillStyle = "#64748b";
  context.font = "10px Helvetica, Arial";
  for (let e = axis.low; e <= axis.high; e++) {
    const y = pad.top + ((axis.high - e) / (axis.high - axis.low)) * (canvas.height - pad.top - pad.bottom);
    context.beginPath();
    context.moveTo(pad.left, y);
    context.lineTo(canvas.width - pad.right, y);
    context.stroke();
    context.fillText(`1e${e}`, 2, y + 3);
  }
  context.fillText(xLabel, canvas.width / 2 - 20, canvas.height - 4);
}

function drawLosses(state) {
  const canvas = document.getElementById("loss-chart");
  const context = canvas.getContext("2d");
  const all = state.runs.flatMap((r) => r.history.flatMap((h) => [h.trainLoss, h.valLoss]));
  const axis = logAxis(all);
  const pad = { left: 34, right: 8, top: 8, bottom: 18 };
  if (!axis) { context.clearRect(0, 0, canvas.width, canvas.height); return; }
  drawAxes(context, canvas, axis, pad, "training step");
  const lastStep = Math.max(1, state.step);
  const x = (s) => pad.left + (s / lastStep) * (canvas.width - pad.left - pad.right);
  const y = (v) => pad.top + ((axis.high - Math.log10(v)) / (axis.high - axis.low)) * (canvas.height - pad.top - pad.bottom);
  state.runs.forEach((run, k) => {
    for (const [key, dash] of [["trainLoss", []], ["valLoss", [5, 4]]]) {
      context.beginPath();
      context.setLineDash(dash);
      context.strokeStyle = RUN_COLORS[k];
      context.lineWidth = 1.6;
      let started = false;
      for (const h of run.history) {
        const v = h[key];
        if (!(v > 0)) continue;
        if (started) context.lineTo(x(h.step), y(v));
        else context.moveTo(x(h.step), y(v));
        started = true;
      }
      context.stroke();
    }
  });
  context.setLineDash([]);
  document.getElementById("loss-legend").replaceChildren(...state.runs.map((r, k) =>
    el("span", {}, el("span", { class: "swatch", style: `background:${RUN_COLORS[k]}` }), r.activation)));
}

function drawGradNorms(state) {
  const canvas = document.getElementById("grad-chart");
  const context = canvas.getContext("2d");
  const pad = { left: 34, right: 8, top: 8, bottom: 18 };
  const axis = logAxis(state.runs.flatMap((r) => r.gradNorms));
  if (!axis) { context.clearRect(0, 0, canvas.width, canvas.height); return; }
  drawAxes(context, canvas, axis, pad, "");
  const layers = state.runs[0].gradNorms.length;
  const slot = (canvas.width - pad.left - pad.right) / layers;
  const bar = (slot * 0.8) / state.runs.length;
  const base = canvas.height - pad.bottom;
  const y = (v) => pad.top + ((axis.high - Math.log10(v)) / (axis.high - axis.low)) * (canvas.height - pad.top - pad.bottom);
  state.runs.forEach((run, k) => {
    context.fillStyle = RUN_COLORS[k];
    run.gradNorms.forEach((norm, layer) => {
      if (!(norm > 0)) return;
      const left = pad.left + layer * slot + slot * 0.1 + k * bar;
      context.fillRect(left, y(norm), bar - 1, base - y(norm));
    });
  });
  context.fillStyle = "#334155";
  for (let layer = 0; layer < layers; layer++) context.fillText(String(layer + 1), pad.left + layer * slot + slot / 2 - 3, base + 11);
  canvas.dataset.norms = JSON.stringify(state.runs.map((r) => r.gradNorms));
  document.getElementById("grad-legend").replaceChildren(...state.runs.map((r, k) =>
    el("span", {}, el("span", { class: "swatch", style: `background:${RUN_COLORS[k]}` }),
      `${r.activation}: layer 1 ${fmt(r.gradNorms[0] ?? NaN)}, last ${fmt(r.gradNorms[r.gradNorms.length - 1] ?? NaN)}`)));
}

// ----- wiring -----------------------------------------------------------------------------------------
document.getElementById("settings").addEventListener("submit", (event) => { event.preventDefault(); newTraining(); });
document.getElementById("start").addEventListener("click", start);
document.getElementById("one-step").addEventListener("click", () => { stop(); step(1); });
document.getElementById("open-graph").addEventListener("click", async () => {
  stop();
  if (!current) await newTraining();
  const answer = await call("/api/playground/graph", { run: 0 });
  if (answer) window.location.href = answer.url;
});
for (const [id, preset] of Object.entries(PRESETS)) {
  document.getElementById(id).addEventListener("click", () => { fillForm(preset); newTraining(); });
}

(async () => {
  const answer = await call("/api/playground");
  if (!answer) return;
  const { bounds, defaults } = answer;
  options(document.getElementById("dataset"), bounds.datasets);
  options(document.getElementById("activation"), bounds.activations);
  options(document.getElementById("compare"), bounds.activations, ["none"]);
  options(document.getElementById("optimizer"), bounds.optimizers);
  document.getElementById("bounds").textContent =
    `Bounds: ${bounds.points[0]}–${bounds.points[1]} points, noise ≤ ${bounds.noise[1]}, at most ${bounds.layers} hidden layers of 1–${bounds.units} units, ` +
    `learning rate ${bounds.lr[0]}–${bounds.lr[1]}. A quarter of the points (hollow) is kept for validation.`;
  fillForm(answer.state ? answer.state.config : defaults);
  if (answer.state) show(answer.state);
  else await newTraining();
  document.body.dataset.ready = "true";
})();
