// The search form (one field per declared parameter), its live preview, and Send.

import { el, uid, api, copyButton, state, PREFIXES, RANGE_TYPES } from "./core.js";

export function valueOnly(type, name) {
  const g = state.gen;
  return g.value_only || g.value_only_params.includes(`${type}.${name}`);
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

export function multiSelect(label, values, role) {
  const id = uid(role);
  const sel = el("select", { id, multiple: true, "data-role": role, size: Math.min(5, Math.max(2, values.length)) }, values.map((v) => el("option", { value: v }, v)));
  return { node: el("div", {}, el("label", { for: id }, label), el("br"), sel), read: () => Array.from(sel.selectedOptions).map((o) => o.value) };
}

export function searchForm(r) {
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
