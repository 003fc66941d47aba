// Shared by both pages: the JSON API (with this tab's session id), the error line, numbers and heat maps.

const SESSION_KEY = "dagrad-session";

// Every request carries the tab's session id (sessionStorage belongs to one tab, so two tabs never share
// training); the server answers with the id to use from then on.
export async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  const session = sessionStorage.getItem(SESSION_KEY);
  if (session) headers["X-Dagrad-Session"] = session;
  let response;
  try {
    response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error("the dagrad server does not answer; is `dagrad serve` still running?");
  }
  let data;
  try {
    data = await response.json();
  } catch (error) {
    throw new Error(`the server answered ${response.status} without JSON`);
  }
  if (data.session) sessionStorage.setItem(SESSION_KEY, data.session);
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

export function showError(message) {
  const line = document.getElementById("error");
  line.textContent = message;
  line.hidden = !message;
}

export function clearError() {
  showError("");
}

// A number as written by hand: 4 significant digits, exponent form for the very small and very large.
export function fmt(value) {
  const x = typeof value === "number" ? value : Number(value);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const size = Math.abs(x);
  if (size < 1e-4 || size >= 1e6) return x.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(x.toPrecision(4)));
}

// The short text of an array view: the number, a few values, or the shape and statistics.
export function viewText(view) {
  if (!view) return "—";
  if (view.size === 1 && view.values) return fmt(view.values[0]);
  if (view.values && view.size <= 6) return "[" + view.values.map(fmt).join(", ") + "]";
  if (view.stats) return `μ ${fmt(view.stats.mean)}  σ ${fmt(view.stats.std)}`;
  return view.text;
}

// Diverging colours: blue below zero, red above, white at zero, scaled by the largest magnitude.
export function heatColor(value, scale) {
  const x = Number(value);
  if (!Number.isFinite(x)) return "#9ca3af";
  const t = scale > 0 ? Math.max(-1, Math.min(1, x / scale)) : 0;
  const mix = (a, b) => Math.round(a + (b - a) * Math.abs(t));
  return t >= 0 ? `rgb(255,${mix(255, 60)},${mix(255, 50)})` : `rgb(${mix(255, 40)},${mix(255, 110)},255)`;
}

export function heatScale(data) {
  let scale = 0;
  for (const v of data) {
    const x = Number(v);
    if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  }
  return scale;
}

// Draw a view's heat map on a canvas of the given size; returns the canvas.
export function heatCanvas(view, width, height, onCell) {
  const canvas = document.createElement("canvas");
  canvas.className = "heat";
  canvas.width = width;
  canvas.height = height;
  if (!view || !view.heat) return canvas;
  const { rows, cols, data } = view.heat;
  const scale = heatScale(data);
  const context = canvas.getContext("2d");
  const cw = width / cols;
  const ch = height / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      context.fillStyle = heatColor(data[r * cols + c], scale);
      context.fillRect(c * cw, r * ch, Math.ceil(cw), Math.ceil(ch));
    }
  }
  canvas.title = `${view.heat.exact ? "" : "block means, "}${rows}×${cols}; colour scale ±${fmt(scale)}`;
  if (onCell && view.heat.exact) {
    canvas.classList.add("clickable");
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
      const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
      onCell(r * cols + c);
    });
  }
  return canvas;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
