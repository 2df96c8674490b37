// Embedding: <iostack-scenario> elements and embed.html iframes on one page are independent
// (own worker, own shadow root, own run); iframe embeds talk to allowed origins only; every
// URL parameter or attribute is data, shown as text; the pages run under their CSP.
import { test as base } from "@playwright/test";
import type { Page } from "@playwright/test";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, nodeRun } from "./fixtures";
import { attributesToParams, parseEmbedParams } from "../ui/embed/params";

// What an element with these attributes must run, computed in Node with the same parser.
function elementRun(attrs: Record<string, string>) {
  const { config } = parseEmbedParams(attributesToParams((n) => attrs[n] ?? null), "http://x", "attribute");
  return nodeRun(config.scenario, config.patches, config.seed, config.knobs);
}

function cspViolations(page: Page): string[] {
  const out: string[] = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) out.push(m.text()); });
  return out;
}

test("two elements and an iframe on one page run independently, each in its own worker", async ({ page }) => {
  const csp = cspViolations(page);
  await page.goto("/docs/embedding.html");
  const a = page.locator("#el-a"), b = page.locator("#el-b"), frame = page.frameLocator("#frame");
  const runA = elementRun({ scenario: "socklnd-scheduler", seed: "1", patches: "socklnd-shared-sched" });
  const runB = elementRun({ scenario: "blktap2-teardown", seed: "1" });
  const runF = nodeRun("nfs-odirect-retransmit", { "sunrpc-copy-on-resend": false, "xprt-dequeue-xmit-on-complete": false, "nfs-complete-after-skb-release": false }, 1);
  await expect(a.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runA.traceHash);
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runB.traceHash);
  await expect(frame.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runF.traceHash);
  expect([runA.verdict, runB.verdict, runF.verdict]).toEqual(["corruption", "leak", "corruption"]);
  // one worker per element and one in the iframe
  expect(page.workers().length).toBe(3);

  // A switch inside one element re-runs that element only.
  await a.getByTestId("patch-socklnd-per-thread-scratch").click();
  const fixedA = elementRun({ scenario: "socklnd-scheduler", seed: "1", patches: "socklnd-shared-sched,socklnd-per-thread-scratch" });
  await expect(a.getByTestId("verdict")).toHaveAttribute("data-trace-hash", fixedA.traceHash);
  await expect(a.getByTestId("verdict")).toHaveAttribute("data-verdict", "ok");
  await expect(b.getByTestId("patch-libxl-teardown-order")).not.toBeChecked();
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runB.traceHash);
  await expect(frame.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runF.traceHash);

  // The page drives the iframe by postMessage (its buttons); the elements do not move.
  await page.getByRole("button", { name: "iostack:set patches: [sunrpc-copy-on-resend]" }).click();
  await expect(frame.getByTestId("verdict")).toHaveAttribute("data-verdict", "ok");
  await expect(frame.getByTestId("patch-sunrpc-copy-on-resend")).toBeChecked();
  await expect(page.locator("#log")).toContainText("iframe: nfs-odirect-retransmit → ok");
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-trace-hash", runB.traceHash);
  await expect(a.getByTestId("verdict")).toHaveAttribute("data-trace-hash", fixedA.traceHash);
  // The host page's URL and storage are the page's own.
  expect(new URL(page.url()).search).toBe("");
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  expect(csp).toEqual([]);
});

test("styles stay inside each element's shadow root, in both directions", async ({ page }) => {
  await page.goto("/docs/embedding.html");
  await expect(page.locator("#el-a").getByTestId("verdict")).toHaveAttribute("data-running", "0");
  // Nothing the elements brought reached the document's own sheets.
  const sheets = await page.evaluate(() => [...document.styleSheets].map((s) => s.href ?? "inline"));
  expect(sheets).toEqual([new URL("/docs/docs.css", page.url()).href]);
  // A loud page rule (adopted: the page's CSP allows no inline style) styles the page's button,
  // not the element's.
  await page.evaluate(() => {
    const s = new CSSStyleSheet();
    s.replaceSync("button { color: rgb(255, 0, 0) !important; }");
    document.adoptedStyleSheets = [s];
  });
  const color = (sel: ReturnType<Page["locator"]>) => sel.evaluate((e) => getComputedStyle(e).color);
  expect(await color(page.locator("#fix"))).toBe("rgb(255, 0, 0)");
  expect(await color(page.locator("#el-b").getByRole("button", { name: "first anomaly" }))).not.toBe("rgb(255, 0, 0)");
});

test("an attribute change re-runs the element with the new configuration", async ({ page }) => {
  await page.goto("/docs/embedding.html");
  const b = page.locator("#el-b");
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-verdict", "leak");
  await b.evaluate((el) => { el.setAttribute("patches", "libxl-teardown-order"); el.setAttribute("knobs", "cycles=2"); });
  const want = elementRun({ scenario: "blktap2-teardown", seed: "1", patches: "libxl-teardown-order", knobs: "cycles=2" });
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-trace-hash", want.traceHash);
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-verdict", "ok");
  await expect(b.getByTestId("patch-libxl-teardown-order")).toBeChecked();
  // another scenario and view: the element starts over, in the same worker
  await b.evaluate((el) => { el.setAttribute("scenario", "socklnd-scheduler"); el.setAttribute("patches", ""); el.removeAttribute("knobs"); el.setAttribute("view", "metrics"); });
  await expect(b.getByTestId("verdict")).toHaveAttribute("data-trace-hash", elementRun({ scenario: "socklnd-scheduler", seed: "1", patches: "" }).traceHash);
  await expect(b.locator("[data-testid=series]").first()).toBeVisible();
  expect(page.workers().length).toBe(3);
});

test("script-like parameters and attributes are shown as text, never run", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss(); });
  const evil = "<img src=x onerror=\"window.__pwned=1\">";
  await page.goto(`/embed.html?s=${encodeURIComponent(evil)}&view=${encodeURIComponent("<script>window.__pwned=2</script>")}&k.${encodeURIComponent("<b>x</b>")}=1`);
  const problems = page.getByTestId("problems");
  await expect(problems).toContainText(`unknown scenario '${evil}'`);
  await expect(problems).toContainText("<script>window.__pwned=2</script>");
  // the embed still works: the catalog's first scenario with its defaults
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", /./);
  await expect(page.locator("img, [onerror]")).toHaveCount(0);
  // a script-like patch id sent by the parent, and a script-like attribute on an element
  await page.goto("/docs/embedding.html");
  const frame = page.frameLocator("#frame");
  await expect(frame.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  await page.evaluate((id) => (document.getElementById("frame") as HTMLIFrameElement).contentWindow!.postMessage({ type: "iostack:set", patches: [id] }, location.origin), evil);
  await expect(frame.getByTestId("problems")).toContainText(evil);
  await expect(page.locator("#log")).toContainText(`iframe refused: iostack:set: unknown patch`);
  await page.evaluate((s) => {
    const el = document.createElement("iostack-scenario");
    el.id = "evil";
    el.setAttribute("scenario", s);
    document.body.append(el);
  }, evil);
  await expect(page.locator("#evil").getByTestId("problems")).toContainText(evil);
  await expect(page.locator("img, [onerror]")).toHaveCount(0);
  await expect(frame.locator("img, [onerror]")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
});

test("embed.html: bad parameters are named and their defaults used", async ({ page }) => {
  await page.goto("/embed.html?s=blktap2-teardown&seed=banana&p=libxl-teardown-order,nope&view=sideways&origins=ftp://x,https://ok.example");
  const problems = page.getByTestId("problems");
  for (const word of ["seed", "nope", "sideways", "ftp://x"]) await expect(problems).toContainText(word);
  const want = nodeRun("blktap2-teardown", { "libxl-teardown-order": true, "tapdisk-respond-before-teardown": false }, 1);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-trace-hash", want.traceHash);
  await expect(page.locator("[data-view=evidence]")).toBeVisible();     // the scenario's first key view
});

// A second local origin for the cross-origin test: a tiny server on 127.0.0.1 (any free port)
// that serves the host page and passes everything else through to the preview server, so the
// page can load the element script from its own origin.
async function secondOrigin(preview: string, page: (self: string) => string): Promise<{ origin: string; close(): void }> {
  const target = new URL(preview);
  let self = "";
  const server = http.createServer((req, res) => {
    if (req.url === "/host.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page(self));
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin: self, close: () => { server.closeAllConnections(); server.close(); } };
}

// The host page on the second origin holds two elements and two iframes of the lab's
// embed.html: one that lists the host in `origins`, one that does not. This test's own guard
// allows exactly the two origins.
base("an iframe from another origin reports to an allowed parent only, and obeys only it", async ({ page, baseURL }) => {
  const lab = new URL(baseURL!).origin;
  const q = "s=blktap2-teardown&seed=1&view=evidence";
  const second = await secondOrigin(lab, (self) => `<!doctype html><meta charset="utf-8"><title>host</title>
<script type="module" src="/embed/iostack-scenario.js"></script>
<script>window.msgs = []; addEventListener("message", (e) => msgs.push({ origin: e.origin, from: e.source === document.getElementById("allowed").contentWindow ? "allowed" : e.source === document.getElementById("denied").contentWindow ? "denied" : "?", data: e.data }));</script>
<iostack-scenario id="e1" scenario="socklnd-scheduler" seed="1" patches="socklnd-shared-sched" view="evidence"></iostack-scenario>
<iostack-scenario id="e2" scenario="blktap2-teardown" seed="1" view="state"></iostack-scenario>
<iframe id="allowed" title="allowed" src="${lab}/embed.html?${q}&origins=${self}"></iframe>
<iframe id="denied" title="denied" src="${lab}/embed.html?${q}"></iframe>`);
  const host = second.origin, other = lab;
  const foreign: string[] = [], errors: string[] = [];
  page.on("request", (r) => { const o = new URL(r.url()).origin; if (o !== host && o !== other && !r.url().startsWith("blob:")) foreign.push(r.url()); });
  page.on("pageerror", (e) => errors.push(e.message));
  const csp = cspViolations(page);
  try {
    await page.goto(`${host}/host.html`);
    await crossOriginChecks(page, other);
  } finally {
    second.close();
  }
  expect(foreign).toEqual([]);
  expect(errors).toEqual([]);
  expect(csp).toEqual([]);
});

async function crossOriginChecks(page: Page, other: string): Promise<void> {
  const leak = nodeRun("blktap2-teardown", { "libxl-teardown-order": false, "tapdisk-respond-before-teardown": false }, 1);
  const allowed = page.frameLocator("#allowed"), denied = page.frameLocator("#denied");
  await expect(page.locator("#e1").getByTestId("verdict")).toHaveAttribute("data-verdict", "corruption");
  await expect(page.locator("#e2").getByTestId("verdict")).toHaveAttribute("data-trace-hash", leak.traceHash);
  await expect(allowed.getByTestId("verdict")).toHaveAttribute("data-trace-hash", leak.traceHash);
  await expect(denied.getByTestId("verdict")).toHaveAttribute("data-trace-hash", leak.traceHash);

  const msgs = () => page.evaluate(() => (window as unknown as { msgs: Array<{ origin: string; from: string; data: Record<string, unknown> }> }).msgs);
  await expect.poll(async () => (await msgs()).length).toBe(1);
  expect((await msgs())[0]).toEqual({
    origin: other, from: "allowed",
    data: {
      type: "iostack:verdict", scenario: "blktap2-teardown", verdict: "leak", reason: expect.any(String), traceHash: leak.traceHash,
      patches: { "libxl-teardown-order": false, "tapdisk-respond-before-teardown": false }, knobs: expect.any(Object), seed: 1,
    },
  });

  // The denied embed ignores its parent (not in its origins); the allowed one ignores a sibling
  // of another origin (the lab's own, not in its list) — both sent before the parent's own set.
  await page.evaluate((o) => (document.getElementById("denied") as HTMLIFrameElement).contentWindow!.postMessage({ type: "iostack:set", patches: ["libxl-teardown-order"] }, o), other);
  await denied.locator("body").evaluate(() => parent.frames[0].postMessage({ type: "iostack:set", seed: 2 }, "*"));
  await page.evaluate((o) => (document.getElementById("allowed") as HTMLIFrameElement).contentWindow!.postMessage({ type: "iostack:set", patches: { "libxl-teardown-order": true } }, o), other);
  const fixed = nodeRun("blktap2-teardown", { "libxl-teardown-order": true, "tapdisk-respond-before-teardown": false }, 1);
  await expect(allowed.getByTestId("verdict")).toHaveAttribute("data-trace-hash", fixed.traceHash);
  await expect.poll(async () => (await msgs()).length).toBe(2);
  expect((await msgs())[1].data).toMatchObject({ verdict: "ok", seed: 1, traceHash: fixed.traceHash, patches: { "libxl-teardown-order": true } });
  // the denied embed is still where it was, after a run's worth of time
  await page.waitForTimeout(500);
  await expect(denied.getByTestId("verdict")).toHaveAttribute("data-trace-hash", leak.traceHash);
  await expect(denied.getByTestId("patch-libxl-teardown-order")).not.toBeChecked();
  expect((await msgs()).filter((m) => m.from !== "allowed")).toEqual([]);
}
