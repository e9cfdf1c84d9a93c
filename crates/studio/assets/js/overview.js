// The overview: the server, its security, the resources × interactions matrix, the warnings.

import { el, uid, show, state, INTERACTIONS, SCRIPT_START } from "./core.js";

export function overview() {
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
