// fhirforge studio. Every piece of text that came from a spec or a server is put in the page
// with textContent (through core.js's `el`), never as markup; links are built from fixed routes.
// Search encoding is never done here: the server computes the preview with the runtime.
// Modules (CSP: scripts only from this server): core (state, DOM, API), overview, search,
// interactions (the resource page), generate, diff; this one routes.

import { api, main, show, el, state } from "./core.js";
import { overview } from "./overview.js";
import { resourcePage } from "./interactions.js";
import { generatePage } from "./generate.js";
import { diffPage } from "./diff.js";

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
