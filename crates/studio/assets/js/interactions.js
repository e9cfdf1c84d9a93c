// The resource page: its interactions as tabs; the other interactions' forms.

import { el, uid, api, copyButton, show, state } from "./core.js";
import { searchForm } from "./search.js";

export function resourcePage(type, tab) {
  const r = state.spec.resources.find((x) => x.type === type);
  if (!r) { show(el("h1", {}, "Unknown resource"), el("p", {}, type)); return; }
  const tabs = r.interactions.slice();
  if (r.operations.length) tabs.push("operations");
  const current = tab && tabs.includes(tab) ? tab : (tabs.includes("search-type") ? "search-type" : tabs[0]);
  const tablist = el("div", { class: "tabs", role: "tablist", "aria-label": "Interactions" },
    tabs.map((t) => {
      const b = el("button", { type: "button", role: "tab", "aria-selected": t === current ? "true" : "false", id: "tab-" + t }, t);
      b.addEventListener("click", () => { location.hash = `#/r/${encodeURIComponent(type)}/${t}`; });
      return b;
    }));
  const panel = el("div", { role: "tabpanel", "aria-labelledby": "tab-" + current });
  if (current === "search-type") panel.append(searchForm(r));
  else if (current === "operations") panel.append(el("ul", {}, r.operations.map((o) => el("li", {}, el("code", {}, "$" + o.name), " ", o.documentation || o.definition || ""))));
  else panel.append(simpleInteraction(r, current));
  show(el("h1", {}, r.type), r.documentation ? el("p", { class: "muted" }, r.documentation) : null, tablist, panel);
}

// read, vread, history and the writes: the fields they need, the request (computed on the
// server), and Send for the reads.
function simpleInteraction(r, i) {
  const needsId = !["create", "history-type"].includes(i);
  const idId = uid("id"), vidId = uid("vid");
  const id = el("input", { type: "text", id: idId, "data-role": "id", placeholder: "id", size: 24 });
  const vid = el("input", { type: "text", id: vidId, "data-role": "vid", placeholder: "version id", size: 8 });
  const out = { method: el("code", { id: "ix-method" }), url: el("pre", { tabindex: 0, id: "ix-url" }), cli: el("pre", { tabindex: 0, id: "ix-cli" }), rust: el("pre", { tabindex: 0, id: "ix-rust" }), error: el("p", { class: "error", role: "alert", id: "ix-error" }) };
  const result = el("section", { id: "ix-result", "aria-live": "polite" });
  const reads = ["read", "vread", "history-instance", "history-type"].includes(i);
  const send = el("button", { type: "submit", id: "ix-send" }, "Send");
  const form = el("form", { class: "box", "aria-label": `${i} ${r.type}` },
    needsId ? el("p", {}, el("label", { for: idId }, `${r.type} id`), " ", id) : null,
    i === "vread" ? el("p", {}, el("label", { for: vidId }, "Version id"), " ", vid) : null,
    ["create", "update", "patch"].includes(i) ? el("p", { class: "muted" }, "The body comes from a file on the command line; the studio previews writes and never sends them.") : null,
    reads && state.send.available ? send : null);
  const body = () => ({ resource: r.type, interaction: i, id: id.value, vid: vid.value });
  // Answers can arrive out of order (one request per keystroke): only the latest one counts.
  let seq = 0;
  const update = async () => {
    const mine = ++seq;
    const { status, data } = await api("POST", "/api/interaction", body());
    if (mine !== seq) return;
    if (status !== 200) { out.error.textContent = data.error || `HTTP ${status}`; return; }
    out.error.textContent = "";
    out.method.textContent = data.method; out.url.textContent = data.url; out.cli.textContent = data.cli; out.rust.textContent = data.rust;
  };
  form.addEventListener("input", update);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!reads || !state.send.available) return;
    result.replaceChildren(el("p", {}, "Sending…"));
    const { status, data } = await api("POST", "/api/interaction/send", body());
    if (status !== 200) { result.replaceChildren(el("p", { class: "error" }, data.error || `HTTP ${status}`)); return; }
    result.replaceChildren(el("p", { id: "ix-status" }, `Status ${data.status ?? "—"}`),
      data.error ? el("p", { class: "error" }, data.error) : null,
      data.outcome.length ? el("ul", { class: "outcome" }, data.outcome.map((o) => el("li", {}, o))) : null,
      data.resource ? el("pre", { tabindex: 0, class: "code", id: "ix-json" }, JSON.stringify(data.resource, null, 2)) : null);
  });
  update();
  return el("div", { class: "search" }, el("div", {}, form, result),
    el("aside", { class: "preview", "aria-label": "Request preview" },
      el("div", {}, el("h2", {}, "Request"), el("div", {}, "Method: ", out.method), out.url, copyButton(() => out.url.textContent, "URL")),
      el("div", {}, el("h2", {}, "CLI"), out.cli, copyButton(() => out.cli.textContent, "command")),
      el("div", {}, el("h2", {}, "Rust"), out.rust, copyButton(() => out.rust.textContent, "Rust")),
      out.error));
}
