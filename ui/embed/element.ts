// <iostack-scenario scenario="nfs-odirect-retransmit" patches="sunrpc-copy-on-resend" seed="1"
// knobs="app=xen-unmap" view="timeline">: one scenario in a documentation page, one script
// away (<script type="module" src="/embed/iostack-scenario.js">, built by vite.config.ts).
// Each element has its own shadow root (styles inside it: iostack-scenario.css, linked, so
// nothing leaks in or out), its own simulation worker, and re-runs when an attribute changes.
// It fires `iostack-verdict` (detail: the iframe embed's iostack:verdict message) after each run.
// The script must be served from the page's origin: a worker script has to be same-origin.
import "../app.css";
import "./element.css";
import "../../engine/scenarios/index";
import { mount, unmount } from "svelte";
import { startWorker } from "../../engine/browser/client";
import type { SimWorker } from "../../engine/browser/client";
import { Lab } from "../lib/lab.svelte";
import EmbedView from "./EmbedView.svelte";
import { attributesToParams, parseEmbedParams, verdictMessage } from "./params";
import type { EmbedView as ViewName } from "./params";
import { watchRuns } from "./watch.svelte";

const CSS_URL = new URL(/* @vite-ignore */ "iostack-scenario.css", import.meta.url).href;
const LAB_BASE = new URL(/* @vite-ignore */ "../", import.meta.url).href;

class IostackScenario extends HTMLElement {
  static observedAttributes = ["scenario", "patches", "seed", "knobs", "view", "preset"];
  private worker?: SimWorker;
  private app?: ReturnType<typeof mount>;
  private lab?: Lab;
  private view?: ViewName;
  private stopWatch?: () => void;
  private queued = false;

  connectedCallback(): void {
    this.schedule();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.schedule();
  }

  disconnectedCallback(): void {
    this.stopWatch?.();
    if (this.app) void unmount(this.app);
    this.worker?.terminate();
    this.app = this.lab = this.worker = this.stopWatch = undefined;
  }

  // Several attributes set in a row re-run once.
  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (this.isConnected) this.render();
    });
  }

  private render(): void {
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    if (!root.firstChild) {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = CSS_URL;
      root.append(css, document.createElement("div"));
    }
    const setup = parseEmbedParams(attributesToParams((n) => this.getAttribute(n)), location.origin, "attribute");
    const box = root.lastChild as HTMLElement;
    if (setup.fallback) {
      // A page naming a scenario this build lacks says so, rather than showing another one.
      this.disconnectedCallback();
      const msg = document.createElement("div");
      msg.className = "problems";
      msg.setAttribute("role", "alert");
      msg.dataset.testid = "problems";
      msg.textContent = setup.problems.join("\n");
      box.replaceChildren(msg);
      return;
    }
    if (!this.app) box.replaceChildren();
    // Same scenario and view: only the configuration changes, the component stays.
    if (this.lab && this.lab.spec.id === setup.config.scenario && this.view === setup.view) {
      this.lab.problems = setup.problems;
      this.lab.config = setup.config;
      void this.lab.rerun();
      return;
    }
    this.stopWatch?.();
    if (this.app) void unmount(this.app);
    this.worker ??= startWorker();
    const lab = new Lab(setup.config, setup.problems, true, { worker: this.worker, persist: false });
    this.lab = lab;
    this.view = setup.view;
    this.app = mount(EmbedView, { target: box, props: { lab, view: setup.view, labBase: LAB_BASE } });
    this.stopWatch = watchRuns(lab, (v) =>
      this.dispatchEvent(new CustomEvent("iostack-verdict", { detail: verdictMessage(v.details, v.config), bubbles: true, composed: true })),
    );
    void lab.rerun();
  }
}

if (!customElements.get("iostack-scenario")) customElements.define("iostack-scenario", IostackScenario);
