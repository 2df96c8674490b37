// The parent side of the embedding page's demo: log what the embeds report, and drive the
// iframe by postMessage. An external module because the docs' CSP allows no inline script.
const log = document.getElementById("log");
const frame = document.getElementById("frame");
const say = (line) => { log.textContent += line + "\n"; };

addEventListener("message", (e) => {
  if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
  const m = e.data;
  if (m?.type === "iostack:verdict") say(`iframe: ${m.scenario} → ${m.verdict} (trace ${m.traceHash})`);
  else if (m?.type === "iostack:error") say(`iframe refused: ${m.problems.join("; ")}`);
});
document.addEventListener("iostack-verdict", (e) => say(`element #${e.target.id}: ${e.detail.scenario} → ${e.detail.verdict}`));

const set = (patches) => frame.contentWindow.postMessage({ type: "iostack:set", patches }, location.origin);
document.getElementById("fix").addEventListener("click", () => set(["sunrpc-copy-on-resend"]));
document.getElementById("unfix").addEventListener("click", () => set([]));
