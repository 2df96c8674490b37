// The build on a plain static file server (engine/tools/serve-static.js: files, MIME types and
// the build's own `_headers`, nothing else), as any host would serve it: the app, the docs'
// elements and embed.html run under exactly the documented headers; embed.html can be framed
// by another origin and the app cannot. Verdicts are read with the package's Playwright helper.
import { test as base, expect } from "@playwright/test";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { headersFor, parseHeaders, serve } from "../engine/tools/serve-static.js";
import { expectVerdict, waitForVerdict } from "../ui/embed/playwright";
import { nodeRun } from "./fixtures";

const rules = parseHeaders(readFileSync("dist/_headers", "utf8"));

type Server = { origin: string; close(): void };

// The lab on the static server, and another site on another port (another origin) whose page
// frames it.
const test = base.extend<{ lab: string; docs: string; problems: string[] }, { labServer: Server; docsServer: Server }>({
  labServer: [async ({}, use) => {
    const s = await serve("dist");
    await use(s);
    s.close();
  }, { scope: "worker" }],
  docsServer: [async ({ labServer }, use) => {
    const s = await docsSite(labServer.origin);
    await use(s);
    s.close();
  }, { scope: "worker" }],
  lab: async ({ labServer }, use) => use(labServer.origin),
  docs: async ({ docsServer }, use) => use(docsServer.origin),
  // CSP refusals, uncaught errors and requests to any origin but the lab's and the docs
  // site's: none allowed.
  problems: [async ({ page, lab, docs }, use) => {
    const seen: string[] = [];
    page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text()); });
    page.on("pageerror", (e) => seen.push(`pageerror: ${e.message}`));
    page.on("request", (r) => {
      const o = new URL(r.url()).origin;
      if (o !== lab && o !== docs && !r.url().startsWith("blob:")) seen.push(`request: ${r.url()}`);
    });
    await use(seen);
  }, { auto: true }],
});

async function headersOf(url: string): Promise<{ status: number; headers: Record<string, string> }> {
  const r = await fetch(url, { method: "HEAD" });
  return { status: r.status, headers: Object.fromEntries(r.headers) };
}

test("the server sends each path's documented headers, and wasm as application/wasm", async ({ lab, problems }) => {
  const wasm = readdirSync("dist/assets").find((f) => f.endsWith(".wasm"))!;
  const paths = ["/", "/index.html", "/embed.html", "/embed", "/docs/embedding.html", `/assets/${wasm}`, "/embed/iostack-scenario.js"];
  for (const p of paths) {
    const { status, headers } = await headersOf(lab + p);
    expect(status, p).toBe(200);
    for (const [k, v] of Object.entries(headersFor(rules, p))) expect(headers[k], `${p}: ${k}`).toBe(v);
    expect(headers["content-security-policy"], p).toContain("script-src 'self' 'wasm-unsafe-eval'");
  }
  expect((await headersOf(`${lab}/assets/${wasm}`)).headers["content-type"]).toBe("application/wasm");
  // Framing: the embed by anyone, everything else by the lab's own pages only.
  for (const p of ["/embed.html", "/embed"]) expect(headersFor(rules, p)["content-security-policy"]).toMatch(/frame-ancestors \*$/);
  for (const p of ["/", "/index.html", "/docs/index.html"]) expect(headersFor(rules, p)["content-security-policy"]).toMatch(/frame-ancestors 'self'$/);
  expect((await headersOf(`${lab}/_headers`)).status).toBe(404);
  expect(problems).toEqual([]);
});

test("the app runs under those headers, and its wasm arrives as application/wasm", async ({ page, lab, problems }) => {
  const wasmTypes: string[] = [];
  page.on("response", (r) => { if (r.url().endsWith(".wasm")) wasmTypes.push(r.headers()["content-type"]); });
  const doc = await page.goto(`${lab}/?s=blktap2-teardown&seed=1`);
  expect(doc!.headers()["content-security-policy"]).toBe(headersFor(rules, "/")["content-security-policy"]);
  const leak = nodeRun("blktap2-teardown", { "libxl-teardown-order": false, "tapdisk-respond-before-teardown": false }, 1);
  expect(await expectVerdict(page, "leak")).toEqual({ verdict: "leak", traceHash: leak.traceHash });
  await page.getByTestId("patch-libxl-teardown-order").click();
  await expectVerdict(page, "ok");
  expect(wasmTypes.length).toBeGreaterThan(0);
  expect(new Set(wasmTypes)).toEqual(new Set(["application/wasm"]));
  expect(problems).toEqual([]);
});

test("the docs' elements and iframe run under those headers", async ({ page, lab, problems }) => {
  await page.goto(`${lab}/docs/embedding.html`);
  const a = await expectVerdict(page.locator("#el-a"), "corruption");
  expect(a.traceHash).toBe(nodeRun("socklnd-scheduler", { "socklnd-shared-sched": true, "socklnd-per-thread-scratch": false }, 1).traceHash);
  await expectVerdict(page.locator("#el-b"), "leak");
  // the iframe as a Locator of the <iframe>, and as a FrameLocator
  await expectVerdict(page.locator("#frame"), "corruption");
  await page.getByRole("button", { name: "iostack:set patches: [sunrpc-copy-on-resend]" }).click();
  await expectVerdict(page.frameLocator("#frame"), "ok");
  expect(problems).toEqual([]);
});

// The docs site's one page: the embed, allowed to report to the docs site, and the app itself.
async function docsSite(lab: string): Promise<Server> {
  let self = "";
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><meta charset="utf-8"><title>docs</title>
<script>window.msgs = []; addEventListener("message", (e) => msgs.push({ origin: e.origin, data: e.data }));</script>
<iframe id="embed" title="embed" src="${lab}/embed.html?s=socklnd-scheduler&p=socklnd-shared-sched&seed=1&view=evidence&origins=${self}"></iframe>
<iframe id="app" title="app" src="${lab}/?s=socklnd-scheduler"></iframe>`);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin: self, close: () => { server.closeAllConnections(); server.close(); } };
}

test("embed.html can be framed by another site and reports to it; the app refuses to be framed", async ({ page, lab, docs, problems }) => {
  await page.goto(`${docs}/page.html`);
  const got = await waitForVerdict(page.locator("#embed"));
  expect(got.verdict).toBe("corruption");
  await expect.poll(() => page.evaluate(() => (window as unknown as { msgs: unknown[] }).msgs)).toEqual([
    { origin: lab, data: expect.objectContaining({ type: "iostack:verdict", scenario: "socklnd-scheduler", verdict: "corruption", traceHash: got.traceHash }) },
  ]);
  // frame-ancestors 'self': Chromium refuses the app's document and says why.
  await expect.poll(() => problems.filter((p) => p.includes("frame-ancestors 'self'")).length).toBe(1);
  await expect(page.frameLocator("#app").getByTestId("verdict")).toHaveCount(0);
  expect(problems.filter((p) => !p.includes("frame-ancestors 'self'"))).toEqual([]);
});

test("the helper says what an embed shows when the verdict does not come", async ({ page, lab }) => {
  await page.goto(`${lab}/embed.html?s=blktap2-teardown&seed=1`);
  const err = await expectVerdict(page, "hang", { timeout: 3000 }).catch((e: Error) => e);
  expect(String(err)).toContain("iostack verdict");
  expect(String(err)).toContain('"leak"');
  await page.goto(`${lab}/docs/embedding.html`);
  await page.evaluate(() => {
    const el = document.createElement("iostack-scenario");
    el.id = "nope";
    el.setAttribute("scenario", "no-such-scenario");
    document.body.append(el);
  });
  const none = await waitForVerdict(page.locator("#nope"), { timeout: 3000 }).catch((e: Error) => e);
  expect(String(none)).toContain("unknown scenario 'no-such-scenario'");
});
