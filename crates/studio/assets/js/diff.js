// Diff: two statements (files or base URLs), as `fhirforge diff` computes them.

import { el, uid, api, show } from "./core.js";

export function diffPage() {
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
