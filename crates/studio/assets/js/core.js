// The studio's shared pieces: the page state, the one safe way to build DOM (`el`, text only),
// the API call with the token header, and small helpers.

export const TOKEN = document.querySelector('meta[name="studio-token"]').getAttribute("content");
export const SCRIPT_START = performance.now();
export const state = { spec: null, send: null, gen: null, previewBase: "", seq: 0 };
window.__studioTimings = { overview: null, previews: [] };

// el("p", {class: "x"}, "text", child): attributes by setAttribute (never event handlers),
// string children as text nodes.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) throw new Error("no inline handlers");
    node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return node;
}

let idCounter = 0;
export const uid = (p) => `${p}-${++idCounter}`;

export async function api(method, path, body) {
  const init = { method, headers: { "X-Studio-Token": TOKEN } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch (_) { data = { error: `HTTP ${res.status}` }; }
  return { status: res.status, data };
}

export function copyButton(getText, what) {
  const b = el("button", { type: "button", class: "secondary" }, `Copy ${what}`);
  b.addEventListener("click", () => {
    const text = getText();
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
    b.textContent = "Copied";
    setTimeout(() => { b.textContent = `Copy ${what}`; }, 1200);
  });
  return b;
}

export const INTERACTIONS = ["read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"];
export const PREFIXES = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"];
export const RANGE_TYPES = ["date", "number", "quantity"];

export function main() { return document.getElementById("main"); }
export function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes);
}
