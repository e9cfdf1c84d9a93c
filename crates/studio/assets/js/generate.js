// Generate: the generation options, a live preview of the README and a module, the download.

import { el, uid, api, show, state } from "./core.js";
import { multiSelect } from "./search.js";

export function generatePage() {
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
