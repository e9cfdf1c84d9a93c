// fhirforge studio. Every piece of text that came from a spec or a server is put in the page
// with textContent (through `el` below), never as markup; links are built from fixed routes.
// Search encoding is never done here: the server computes the preview with the runtime.
"use strict";

const TOKEN = document.querySelector('meta[name="studio-token"]').getAttribute("content");
const SCRIPT_START = performance.now();
const state = { spec: null, send: null, gen: null, previewBase: "", seq: 0 };
window.__studioTimings = { overview: null, previews: [] };

// el("p", {class: "x"}, "text", child): attributes by setAttribute (never event handlers),
// string children as text nodes.
function el(tag, attrs, ...children) {
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
const uid = (p) => `${p}-${++idCounter}`;

async function api(method, path, body) {
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

function copyButton(getText, what) {
  const b = el("button", { type: "button", class: "secondary" }, `Copy ${what}`);
  b.addEventListener("click", () => {
    const text = getText();
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
    b.textContent = "Copied";
    setTimeout(() => { b.textContent = `Copy ${what}`; }, 1200);
  });
  return b;
}

const INTERACTIONS = ["read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"];
const PREFIXES = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"];
const RANGE_TYPES = ["date", "number", "quantity"];

function main() { return document.getElementById("main"); }
function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes);
}

// ---------- overview ----------
function overview() {
  const t0 = performance.now();
  const s = state.spec;
  const facts = el("dl", { class: "facts" });
  const fact = (k, v) => { if (v) facts.append(el("dt", {}, k), el("dd", {}, v)); };
  fact("Name", s.name);
  fact("Source", s.source_kind);
  fact("FHIR version", s.fhir_version + (s.fhir_release ? ` (${s.fhir_release})` : ""));
  if (s.software) fact("Software", [s.software.name, s.software.version].filter(Boolean).join(" "));
  fact("Publisher", s.publisher);
  fact("Base URL", s.base_url);
  fact("Formats", (s.formats || []).join(", "));
  const sec = s.security || {};
  const secFacts = el("dl", { class: "facts" });
  const sfact = (k, v) => { if (v) secFacts.append(el("dt", {}, k), el("dd", {}, v)); };
  sfact("Services", (sec.services || []).join(", "));
  sfact("Description", sec.description);
  for (const [k, v] of Object.entries(sec.oauth || {})) sfact(`OAuth ${k}`, v);
  sfact("Issuer", sec.issuer);
  sfact("JWKS", sec.jwks_uri);
  sfact("Token auth methods", (sec.token_endpoint_auth_methods || []).join(", "));
  sfact("Grant types", (sec.grant_types || []).join(", "));
  if (state.send.available) sfact("Send", `through ${state.send.profile ? "profile " + state.send.profile : state.send.base}`);

  const filterId = uid("filter");
  const filter = el("input", { type: "search", id: filterId, placeholder: "Patient, search-type…" });
  const head = el("tr", {}, el("th", { scope: "col" }, "Resource"),
    INTERACTIONS.map((i) => el("th", { scope: "col" }, i)),
    el("th", { scope: "col" }, "search params"), el("th", { scope: "col" }, "operations"));
  const body = el("tbody");
  const counts = Object.fromEntries(INTERACTIONS.map((i) => [i, 0]));
  let params = 0, ops = 0;
  for (const r of s.resources) {
    const cells = INTERACTIONS.map((i) => {
      const yes = r.interactions.includes(i);
      if (yes) counts[i] += 1;
      return el("td", { class: yes ? "yes" : "no" }, yes ? "✓" : "–");
    });
    params += r.search_params.length; ops += r.operations.length;
    const link = el("a", { href: "#/r/" + encodeURIComponent(r.type) }, r.type);
    const row = el("tr", { "data-resource": r.type }, el("th", { scope: "row" }, link), cells,
      el("td", {}, String(r.search_params.length)), el("td", {}, String(r.operations.length)));
    row.dataset.text = (r.type + " " + r.interactions.join(" ")).toLowerCase();
    body.append(row);
  }
  const foot = el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, `${s.resources.length} resources`),
    INTERACTIONS.map((i) => el("td", {}, String(counts[i]))), el("td", {}, String(params)), el("td", {}, String(ops))));
  const table = el("table", { class: "matrix", id: "matrix" }, el("caption", { class: "visually-hidden" }, "Resources and interactions"), el("thead", {}, head), body, foot);
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const row of body.rows) row.hidden = q !== "" && !row.dataset.text.includes(q);
  });

  const warnings = el("ul", { class: "warnings", id: "warnings" },
    (s.warnings || []).map((w) => el("li", {}, el("code", {}, w.pointer || "/"), " ", w.message)));
  const generic = (s.generic_operations || []).length
    ? [el("h2", {}, "Generic operations"), el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Method"), el("th", { scope: "col" }, "Path"), el("th", { scope: "col" }, "Summary"))),
      el("tbody", {}, s.generic_operations.map((o) => el("tr", {}, el("td", {}, o.method), el("td", {}, o.path), el("td", {}, o.summary || o.documentation || "")))))]
    : [];
  show(el("h1", {}, s.name), facts, el("h2", {}, "Security"), secFacts,
    el("h2", {}, "Resources × interactions"),
    el("div", { class: "row" }, el("label", { for: filterId }, "Filter resources"), filter),
    table, generic,
    el("h2", {}, `Warnings from reading the spec (${(s.warnings || []).length})`), warnings);
  if (window.__studioTimings.overview === null) {
    // sinceNavigation counts from the launch URL's request (redirect, page, script, spec JSON);
    // sinceScript from this script's start (the spec's fetch and the page built).
    window.__studioTimings.overview = { sinceNavigation: performance.now(), sinceScript: performance.now() - SCRIPT_START, render: performance.now() - t0 };
  }
}

// ---------- resource page ----------
function valueOnly(type, name) {
  const g = state.gen;
  return g.value_only || g.value_only_params.includes(`${type}.${name}`);
}

function resourcePage(type, tab) {
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

// One parameter row: builds its controls and returns {node, read()}.
function paramRow(r, p) {
  const id = uid("p");
  const ranged = RANGE_TYPES.includes(p.type) && p.range && !valueOnly(r.type, p.name);
  const ctl = el("div", { class: "controls" });
  const get = {};
  const modifiers = [];
  if (p.type === "string") modifiers.push("exact", "contains");
  if (p.type === "token") modifiers.push("not");
  for (const m of p.modifiers || []) if (!modifiers.includes(m)) modifiers.push(m);
  let modSel = null;
  if (modifiers.length) {
    const mid = uid("mod");
    modSel = el("select", { id: mid, "data-role": "modifier" }, el("option", { value: "" }, "(no modifier)"), modifiers.map((m) => el("option", { value: m }, ":" + m)));
    ctl.append(el("label", { for: mid, class: "inline" }, `${p.name} modifier`), modSel);
  }
  let modeValue = "value";
  let modeBox = null;
  if (ranged) {
    modeBox = el("fieldset", { "data-role": "mode" }, el("legend", {}, `${p.name}: search by`));
    for (const m of ["value", "range"]) {
      const rid = uid("mode");
      const radio = el("input", { type: "radio", name: id + "-mode", id: rid, value: m, checked: m === "value" });
      radio.addEventListener("change", () => { modeValue = m; valuePart.hidden = m !== "value"; rangePart.hidden = m !== "range"; });
      modeBox.append(radio, el("label", { for: rid }, m));
    }
    ctl.append(modeBox);
  }
  const valuePart = el("span", { class: "controls" });
  let prefixSel = null;
  if (RANGE_TYPES.includes(p.type)) {
    const pid = uid("prefix");
    prefixSel = el("select", { id: pid, "data-role": "prefix" }, el("option", { value: "" }, "(no prefix)"), PREFIXES.map((x) => el("option", { value: x }, x)));
    valuePart.append(el("label", { for: pid, class: "inline" }, `${p.name} prefix`), prefixSel);
  }
  let system = null;
  if (p.type === "token") {
    const sid = uid("sys");
    system = el("input", { type: "text", id: sid, "data-role": "system", placeholder: "system (optional)", size: 18 });
    valuePart.append(el("label", { for: sid, class: "inline" }, `${p.name} system`), system, "|");
  }
  const placeholders = { date: "YYYY-MM-DD", number: "12.5", quantity: "5.4|http://unitsofmeasure.org|mg", reference: "Patient/123", token: "code", string: "text", uri: "http://…" };
  const vid = id;
  const value = el("input", { type: "text", id: vid, "data-role": "value", "data-param": p.name, placeholder: placeholders[p.type] || "", inputmode: p.type === "number" ? "decimal" : null, size: 16 });
  valuePart.append(el("label", { for: vid, class: "inline" }, p.type === "token" ? `${p.name} code` : `${p.name} value`), value);
  ctl.append(valuePart);
  const rangePart = el("span", { class: "controls", hidden: true, "data-role": "range" });
  const ends = {};
  for (const side of ["lower", "upper"]) {
    const eid = uid(side), bid = uid(side + "b");
    const input = el("input", { type: "text", id: eid, "data-role": side, placeholder: placeholders[p.type] || "", size: 12 });
    const bound = el("select", { id: bid, "data-role": side + "-bound" }, ["inclusive", "exclusive", "open"].map((b) => el("option", { value: b }, b)));
    bound.addEventListener("change", () => { input.disabled = bound.value === "open"; });
    rangePart.append(el("label", { for: eid, class: "inline" }, `${p.name} ${side} bound`), input, el("label", { for: bid, class: "visually-hidden" }, `${p.name} ${side} bound kind`), bound);
    ends[side] = { input, bound };
  }
  if (ranged) ctl.append(rangePart);
  get.read = () => {
    const code = value.value.trim();
    const sys = system ? system.value.trim() : "";
    return {
      name: p.name,
      modifier: modSel ? modSel.value : "",
      mode: modeValue,
      prefix: prefixSel ? prefixSel.value : "",
      value: system && sys ? `${sys}|${code}` : code,
      lower: { value: ends.lower.input.value, bound: ends.lower.bound.value },
      upper: { value: ends.upper.input.value, bound: ends.upper.bound.value },
      value_only: valueOnly(r.type, p.name),
    };
  };
  const node = el("div", { class: "param", "data-param": p.name },
    el("div", { class: "name" }, p.name, el("span", { class: "type" }, p.type)), ctl,
    el("div", { class: "doc" }, p.documentation || ""));
  return { node, read: get.read };
}

function multiSelect(label, values, role) {
  const id = uid(role);
  const sel = el("select", { id, multiple: true, "data-role": role, size: Math.min(5, Math.max(2, values.length)) }, values.map((v) => el("option", { value: v }, v)));
  return { node: el("div", {}, el("label", { for: id }, label), el("br"), sel), read: () => Array.from(sel.selectedOptions).map((o) => o.value) };
}

function searchForm(r) {
  const rows = r.search_params.map((p) => paramRow(r, p));
  const inc = multiSelect("_include", r.search_include, "include");
  const rev = multiSelect("_revinclude", r.search_rev_include, "revinclude");
  const cid = uid("count"), sid = uid("sort"), aid = uid("additional");
  const count = el("input", { type: "number", id: cid, min: 1, "data-role": "count", size: 5 });
  const sort = el("input", { type: "text", id: sid, "data-role": "sort", placeholder: "-birthdate", size: 14 });
  const additional = el("textarea", { id: aid, "data-role": "additional", placeholder: "family:exact=Smith (one NAME=VALUE per line, sent as typed)" });
  const form = el("form", { class: "params", id: "search-form", "aria-label": `Search ${r.type}` },
    rows.map((x) => x.node),
    el("div", { class: "row" }, r.search_include.length ? inc.node : null, r.search_rev_include.length ? rev.node : null),
    el("div", { class: "row" }, el("label", { for: cid }, "_count"), count, el("label", { for: sid }, "_sort"), sort),
    el("div", {}, el("label", { for: aid }, "Additional parameters"), additional));
  const read = () => ({
    resource: r.type, params: rows.map((x) => x.read()), include: inc.read(), revinclude: rev.read(),
    count: count.value, sort: sort.value, additional: additional.value,
  });

  const out = { method: el("code", { id: "preview-method" }), url: el("pre", { tabindex: 0, id: "preview-url" }), query: el("pre", { tabindex: 0, id: "preview-query" }), cli: el("pre", { tabindex: 0, id: "preview-cli" }), rust: el("pre", { tabindex: 0, id: "preview-rust" }), error: el("p", { class: "error", id: "preview-error", role: "alert" }) };
  const pane = el("aside", { class: "preview", "aria-label": "Request preview" },
    el("div", {}, el("h2", {}, "Request"), el("div", {}, "Method: ", out.method), out.url, copyButton(() => out.url.textContent, "URL")),
    el("div", {}, el("h2", {}, "Encoded query"), out.query, copyButton(() => out.query.textContent, "query")),
    el("div", {}, el("h2", {}, "CLI"), out.cli, copyButton(() => out.cli.textContent, "command")),
    el("div", {}, el("h2", {}, "Rust"), out.rust, copyButton(() => out.rust.textContent, "Rust")),
    out.error);
  const results = el("section", { id: "results", "aria-live": "polite" });
  // The Send button is the form's submit button, so Enter in any field sends (keyboard use).
  if (state.send.available) {
    const send = el("button", { type: "submit", id: "send" }, "Send");
    form.append(el("div", { class: "row" }, send, el("span", { class: "muted" }, `to ${state.send.profile ? "profile " + state.send.profile : state.send.base}`)));
  } else {
    form.append(el("p", { class: "muted" }, "Send needs a server: start the studio with a base URL or --profile."));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); if (state.send.available) runSend(read(), results); });

  const update = async () => {
    const started = performance.now();
    const seq = ++state.seq;
    const { status, data } = await api("POST", "/api/preview", read());
    if (seq !== state.seq) return;
    if (status === 200) {
      out.method.textContent = data.method; out.url.textContent = data.url; out.query.textContent = data.query;
      out.cli.textContent = data.cli; out.rust.textContent = data.rust; out.error.textContent = "";
    } else {
      out.error.textContent = data.error || `HTTP ${status}`;
    }
    window.__studioTimings.previews.push(performance.now() - started);
    document.body.dataset.previewSeq = String(seq);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
  return el("div", { class: "search" }, el("div", {}, form, results), pane);
}

async function runSend(body, results, link) {
  results.replaceChildren(el("p", {}, "Sending…"));
  const { status, data } = link ? await api("POST", "/api/next", { link }) : await api("POST", "/api/send", body);
  if (status !== 200) { results.replaceChildren(el("p", { class: "error" }, data.error || `HTTP ${status}`)); return; }
  const parts = [el("h2", {}, "Result"), el("p", { id: "result-status" }, `Status ${data.status ?? "—"}`, data.total != null ? ` · total ${data.total}` : "", ` · ${data.rows.length} matches`)];
  if (data.self_link) parts.push(el("p", { class: "muted" }, "As the server read it: ", el("code", { id: "result-self" }, data.self_link)));
  if (data.error) parts.push(el("p", { class: "error", id: "result-error" }, data.error));
  // An error's OperationOutcome, or the Bundle's own warnings (search.mode = outcome), apart
  // from the matches.
  const outcomeTitle = data.error ? "OperationOutcome" : "Warnings in the Bundle";
  if (data.outcome.length) parts.push(el("div", { class: "outcome", id: "result-outcome" }, el("h3", {}, outcomeTitle), el("ul", {}, data.outcome.map((o) => el("li", {}, o)))));
  if (data.rows.length) {
    parts.push(el("table", { id: "result-table" }, el("caption", {}, "Matches"), el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Type"), el("th", { scope: "col" }, "id"), el("th", { scope: "col" }, "Summary"))),
      el("tbody", {}, data.rows.map((row) => el("tr", {}, el("td", {}, row.resource_type), el("td", {}, row.id), el("td", {}, row.summary))))));
  }
  if (data.includes.length) parts.push(el("h3", {}, `Included (${data.includes.length})`), el("pre", { tabindex: 0, class: "code", id: "result-includes" }, JSON.stringify(data.includes, null, 2)));
  if (data.next) {
    const next = el("button", { type: "button", id: "next-page" }, "Next page");
    next.addEventListener("click", () => runSend(null, results, data.next));
    parts.push(next);
  }
  if (data.matches.length) parts.push(el("details", {}, el("summary", {}, "Matches as JSON"), el("pre", { tabindex: 0, class: "code", id: "result-json" }, JSON.stringify(data.matches, null, 2))));
  results.replaceChildren(...parts);
  results.scrollIntoView({ block: "start" });
}

// ---------- generate ----------
function generatePage() {
  const s = state.spec, g = state.gen;
  const nid = uid("name"), vid = uid("vo"), rid = uid("res");
  const name = el("input", { type: "text", id: nid, value: g.name || "", placeholder: "fhirforge-…", "data-role": "gen-name" });
  const vo = el("input", { type: "checkbox", id: vid, checked: g.value_only, "data-role": "gen-value-only" });
  const rangeParams = [];
  for (const r of s.resources) for (const p of r.search_params) if (p.range) rangeParams.push(`${r.type}.${p.name}`);
  const voParams = multiSelect("Value only for these parameters", rangeParams, "gen-value-only-params");
  const incl = multiSelect("Include only these resources", s.resources.map((r) => r.type), "gen-include");
  const excl = multiSelect("Exclude these resources", s.resources.map((r) => r.type), "gen-exclude");
  const preselect = (m, values) => { for (const o of m.node.querySelectorAll("option")) o.selected = values.includes(o.value); };
  preselect(voParams, g.value_only_params); preselect(incl, g.include_resources); preselect(excl, g.exclude_resources);
  const auth = el("fieldset", {}, el("legend", {}, "Auth kinds (none checked: the spec's default)"),
    ["basic", "oauth2", "smart-backend"].map((k) => { const aid = uid("auth"); return el("span", {}, el("input", { type: "checkbox", id: aid, value: k, checked: g.auth.includes(k) }), el("label", { for: aid }, k), " "); }));
  const resSel = el("select", { id: rid, "data-role": "gen-resource" }, s.resources.map((r) => el("option", { value: r.type }, r.type)));
  const read = () => ({
    name: name.value, value_only: vo.checked, value_only_params: voParams.read(), include_resources: incl.read(), exclude_resources: excl.read(),
    auth: Array.from(auth.querySelectorAll("input:checked")).map((i) => i.value), resource: resSel.value,
  });
  const download = el("a", { id: "download", href: "#" }, "Download the crate (.tar)");
  const info = el("p", { id: "gen-info", class: "muted" }), err = el("p", { class: "error", role: "alert" });
  const readme = el("pre", { tabindex: 0, class: "code", id: "gen-readme" }), module = el("pre", { tabindex: 0, class: "code", id: "gen-module" });
  const form = el("form", { id: "gen-form", "aria-label": "Generation options" },
    el("p", {}, el("label", { for: nid }, "Package name"), " ", name),
    el("p", {}, vo, el("label", { for: vid }, " Every date, number and quantity parameter takes one value (no range)")),
    voParams.node, incl.node, excl.node, auth,
    el("p", {}, el("label", { for: rid }, "Module to preview"), " ", resSel));
  let seq = 0;
  const update = async () => {
    const options = read();
    // The search forms follow these options (the value/range switch).
    state.gen = { ...state.gen, value_only: options.value_only, value_only_params: options.value_only_params };
    const { resource, ...crateOptions } = options;
    download.setAttribute("href", "/api/crate.tar?options=" + encodeURIComponent(JSON.stringify({ ...crateOptions, resource })));
    const mine = ++seq;
    const { status, data } = await api("POST", "/api/generate", options);
    if (mine !== seq) return;
    if (status !== 200) { err.textContent = data.error || `HTTP ${status}`; return; }
    err.textContent = "";
    info.textContent = `${data.package_name}: ${data.files.length} files`;
    readme.textContent = data.readme;
    module.textContent = data.module || "(this resource is not in the generated crate)";
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", (e) => e.preventDefault());
  show(el("h1", {}, "Generate a connector"), el("div", { class: "gen" },
    el("div", {}, form, el("p", {}, download), info, err),
    el("div", {}, el("h2", {}, "README.md"), readme, el("h2", {}, "Resource module"), module)));
  update();
}

// ---------- diff ----------
function diffPage() {
  const side = (which) => {
    const fid = uid(which + "-file"), uidd = uid(which + "-url");
    const file = el("input", { type: "file", id: fid, accept: ".json,.xml", "data-role": which + "-file" });
    const url = el("input", { type: "url", id: uidd, placeholder: "https://ehr.example/fhir/R4", "data-role": which + "-url", size: 36 });
    const node = el("fieldset", {}, el("legend", {}, which === "old" ? "Old statement" : "New statement"),
      el("p", {}, el("label", { for: fid }, "File"), " ", file), el("p", {}, el("label", { for: uidd }, "or base URL"), " ", url));
    const read = async () => (file.files && file.files[0] ? { text: await file.files[0].text() } : { url: url.value.trim() });
    return { node, read };
  };
  const oldSide = side("old"), newSide = side("new");
  const go = el("button", { type: "submit", id: "diff-run" }, "Compare");
  const out = el("section", { class: "diff", id: "diff-out", "aria-live": "polite" });
  const form = el("form", { "aria-label": "Two specs to compare" }, el("div", { class: "row" }, oldSide.node, newSide.node), go);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    out.replaceChildren(el("p", {}, "Comparing…"));
    const { status, data } = await api("POST", "/api/diff", { old: await oldSide.read(), new: await newSide.read() });
    if (status !== 200) { out.replaceChildren(el("p", { class: "error" }, data.error || `HTTP ${status}`)); return; }
    if (!data.changes.length) { out.replaceChildren(el("p", {}, "The statements are equal.")); return; }
    out.replaceChildren(el("p", {}, `${data.changes.length} changes`), el("ul", {}, data.changes.map((c, i) => el("li", { class: c.kind }, data.lines[i]))));
  });
  show(el("h1", {}, "Diff two capability statements"), el("p", { class: "muted" }, "As fhirforge diff computes it: + added, - removed, ~ changed."), form, out);
}

// ---------- routing ----------
function route() {
  if (!state.spec) return;
  // A hand-typed hash may hold a stray `%`: keep that part as typed rather than fail.
  const decode = (x) => { try { return decodeURIComponent(x); } catch (_) { return x; } };
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decode);
  if (parts[0] === "r" && parts[1]) resourcePage(parts[1], parts[2]);
  else if (parts[0] === "generate") generatePage();
  else if (parts[0] === "diff") diffPage();
  else overview();
  main().focus({ preventScroll: true });
}

async function start() {
  const { status, data } = await api("GET", "/api/spec");
  if (status !== 200) { show(el("p", { class: "error" }, data.error || `HTTP ${status}`)); return; }
  state.spec = data.spec; state.send = data.send; state.gen = data.generate; state.previewBase = data.preview_base;
  document.getElementById("server-name").textContent = data.spec.name;
  window.addEventListener("hashchange", route);
  route();
  document.body.dataset.ready = "true";
}

start();
