// The page's script. The element is imported from the package like any dependency: the
// bundler follows its worker, wasm and stylesheet. The iframe is the lab's own embed.html
// (vite.config.ts publishes the package's static build under /lab/); the page hears it and
// drives it by postMessage. Everything is typed by the package's types.
import "iostack-lab";
import type { EmbedMessage, HostMessage, IostackVerdictEvent } from "iostack-lab";

const log = document.querySelector<HTMLPreElement>("#log")!;
const say = (line: string) => { log.textContent += line + "\n"; };

const blktap = document.querySelector("iostack-scenario")!;
const onVerdict = (e: IostackVerdictEvent) => say(`element ${e.detail.scenario}: ${e.detail.verdict} (trace ${e.detail.traceHash})`);
blktap.addEventListener("iostack-verdict", onVerdict);
document.querySelector("#fix-blktap")!.addEventListener("click", () => blktap.setAttribute("patches", "libxl-teardown-order"));

const frame = document.querySelector<HTMLIFrameElement>("#socklnd")!;
addEventListener("message", (e: MessageEvent<EmbedMessage>) => {
  if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
  const m = e.data;
  if (m.type === "iostack:verdict") say(`iframe ${m.scenario}: ${m.verdict} (trace ${m.traceHash})`);
  else say(`iframe refused: ${m.problems.join("; ")}`);
});
document.querySelector("#fix-socklnd")!.addEventListener("click", () => {
  const set: HostMessage = { type: "iostack:set", patches: { "socklnd-per-thread-scratch": true } };
  frame.contentWindow!.postMessage(set, location.origin);
});
