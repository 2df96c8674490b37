// embed.html: one scenario in an iframe. The URL says what to show (the lab's URL contract,
// plus view= and origins=); the parent page hears each verdict and may set patches, knobs and
// seed by postMessage — only when its origin is in `origins` (default: this page's own).
import "../app.css";
import "../../engine/scenarios/index";
import { mount } from "svelte";
import { Lab } from "../lib/lab.svelte";
import EmbedView from "./EmbedView.svelte";
import { applySet, parseEmbedParams, verdictMessage } from "./params";
import { watchRuns } from "./watch.svelte";

const setup = parseEmbedParams(new URLSearchParams(location.search), location.origin);
// The iframe's URL is the embedder's: the embed neither rewrites it nor saves settings.
const lab = new Lab(setup.config, setup.problems, true, { persist: false });
const labBase = new URL("./", location.href).href;
mount(EmbedView, { target: document.getElementById("app")!, props: { lab, view: setup.view, labBase } });
void lab.rerun();

const toParent = (msg: unknown) => {
  if (parent === window) return;
  // One post per allowed origin: the browser delivers only the one the parent really has.
  for (const o of setup.origins) parent.postMessage(msg, o);
};

watchRuns(lab, (v) => toParent(verdictMessage(v.details, v.config)));

addEventListener("message", (e: MessageEvent) => {
  // Only the embedding page, and only from an allowed origin; anything else is dropped unread.
  if (e.source !== parent || parent === window || !setup.origins.includes(e.origin)) return;
  const data = e.data as Record<string, unknown> | null;
  if (!data || typeof data !== "object") return;
  if (data.type === "iostack:get") {
    if (lab.view) toParent(verdictMessage(lab.view.details, lab.view.config));
  } else if (data.type === "iostack:set") {
    const { config, problems } = applySet(lab.config, data);
    if (problems.length) {
      lab.problems = [...lab.problems, ...problems];
      toParent({ type: "iostack:error", problems });
    }
    if (config) {
      lab.config = config;
      void lab.rerun();
    }
  }
});
