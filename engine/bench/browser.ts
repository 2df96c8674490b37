// Browser figures for `npm run bench` (engine/bench/run.ts calls browserBench after the
// build): the built app served by `vite preview`, driven in the system Chromium.
//   - time to first verdict: navigation start → the verdict element carries a verdict
//   - long tasks (> 50 ms) on the main thread during open, re-runs, scrubbing and a sweep
//   - initial JS: gzip size of the scripts index.html loads (lazy views excluded)
//   - Stack view frame time (DOM update, layout and line geometry per picture) while playing
//     the largest default run, and the long tasks meanwhile
// Figures only; nothing here asserts on timing.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";
import type { Page } from "@playwright/test";
import { preview } from "vite";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// Installed before any app script: records long tasks and the moment the first verdict shows.
const PROBE = `
  window.__bench = { long: [], frames: [], firstVerdict: -1 };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.long.push([e.startTime, e.duration]); })
    .observe({ type: "longtask", buffered: true });
  // what ran in a long frame: its longest script, named by the function the browser called
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const s = [...e.scripts].sort((a, b) => b.duration - a.duration)[0];
      if (s) window.__bench.frames.push([e.startTime, e.duration, Math.round(s.duration), (s.sourceFunctionName || s.invoker) + " " + s.sourceURL.split("/").pop()]);
    }
  }).observe({ type: "long-animation-frame", buffered: true });
  new MutationObserver(() => {
    const v = document.querySelector('[data-testid="verdict"]');
    if (window.__bench.firstVerdict < 0 && v && v.getAttribute("data-verdict")) window.__bench.firstVerdict = performance.now();
  }).observe(document, { subtree: true, attributes: true, childList: true });
`;

function initialJsGzip(dist: string): number {
  const html = readFileSync(dist + "/index.html", "utf8");
  // the entry script and the chunks it preloads (shared with the embed entries)
  const files = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
  return files.reduce((sum, f) => sum + gzipSync(readFileSync(dist + "/" + f)).length, 0);
}

// The Sweep view of one scenario with its first `sets` patch combinations chosen: the
// time of a first sweep (workers started when the view opened) and of a second one.
async function sweepTwice(page: Page, url: string, id: string, sets: number, seeds: number): Promise<[number, number, number]> {
  await page.goto(`${url}?s=${id}`);
  await page.locator('[data-testid="verdict"][data-running="0"]:not([data-verdict=""])').waitFor();
  await page.getByTestId("tab-sweep").click();
  const boxes = page.locator("[data-view=sweep] fieldset input[type=checkbox]");
  const n = Math.min(sets, await boxes.count());
  for (let i = 0; i < await boxes.count(); i++) await boxes.nth(i).setChecked(i < n);
  await page.getByTestId("sweep-count").fill(String(seeds));
  const status = page.getByTestId("sweep-status");
  const once = async () => {
    const before = await status.textContent();
    const t0 = Date.now();
    await page.getByTestId("sweep-start").click();
    await page.waitForFunction((prev) => {
      const t = document.querySelector('[data-testid="sweep-status"]')?.textContent ?? "";
      return t !== prev && t.includes("runs in");
    }, before, { timeout: 600_000 });
    return Date.now() - t0;
  };
  return [n, await once(), await once()];
}

export async function browserBench(): Promise<Record<string, number>> {
  const dist = new URL("../../dist", import.meta.url).pathname;
  if (!existsSync(dist + "/index.html")) throw new Error("dist/ is missing: run npm run build first");
  const root = new URL("../../", import.meta.url).pathname;
  const server = await preview({ root, configFile: root + "vite.config.ts", preview: { port: 0, strictPort: false, open: false }, logLevel: "silent" });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("vite preview did not start");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(PROBE);
    const { SCENARIOS } = await import("../catalog");
    await import("../scenarios/index");
    const spec = SCENARIOS.find((s) => s.id === "sunrpc-udp-slot-hang") ?? SCENARIOS[0];
    if (!spec) throw new Error("no scenario registered");

    await page.goto(`${url}?s=${spec.id}`);
    const verdict = page.locator('[data-testid="verdict"]');
    await page.locator('[data-testid="verdict"][data-running="0"]:not([data-verdict=""])').waitFor();
    const firstVerdictMs = await page.evaluate(() => (window as any).__bench.firstVerdict as number);
    // the page open: every task until the first verdict shows (and its results are drawn)
    await page.waitForTimeout(500);
    const openTasks = await page.evaluate(() => (window as any).__bench.long as Array<[number, number]>);
    const openFrames = await page.evaluate(() => (window as any).__bench.frames as Array<[number, number, number, string]>);
    const longestOpen = openFrames.reduce((m, f) => (f[1] > m[1] ? f : m), [0, 0, 0, "none"] as [number, number, number, string]);
    const phases: Array<[string, number]> = [];
    const phase = async (name: string) => phases.push([name, await page.evaluate(() => performance.now())]);
    await phase("re-runs");

    // Re-runs: each patch twice, and five seeds.
    const reruns: number[] = [];
    const timed = async (act: () => Promise<void>) => {
      const before = await verdict.getAttribute("data-trace-hash");
      const t0 = Date.now();
      await act();
      await page.waitForFunction((h) => {
        const v = document.querySelector('[data-testid="verdict"]');
        return v && v.getAttribute("data-running") === "0" && v.getAttribute("data-trace-hash") !== h;
      }, before, { timeout: 30_000 }).catch(() => {});
      reruns.push(Date.now() - t0);
    };
    for (const p of spec.patches) for (let i = 0; i < 2; i++) await timed(() => page.getByTestId(`patch-${p.id}`).click());
    for (let i = 0; i < 5; i++) await timed(() => page.getByRole("button", { name: "next" }).click());

    await phase("scrub");
    // Scrub: drag the cursor across the timeline, with the state view following.
    await page.getByTestId("tab-state").click();
    const box = (await page.getByTestId("timeline").boundingBox())!;
    await page.mouse.move(box.x + 160, box.y + 20);
    await page.mouse.down();
    for (let i = 0; i <= 40; i++) await page.mouse.move(box.x + 160 + ((box.width - 170) * i) / 40, box.y + 20);
    await page.mouse.up();
    await page.waitForTimeout(500);

    await phase("trace");
    // Trace view over the whole run, then a 200-seed sweep of the preselected patch sets.
    await page.getByTestId("tab-trace").click();
    await page.getByTestId("trace-count").waitFor();
    await phase("sweep");
    await page.getByTestId("tab-sweep").click();
    await page.getByTestId("sweep-count").fill("200");
    const t0 = Date.now();
    await page.getByTestId("sweep-start").click();
    await page.getByTestId("sweep-status").filter({ hasText: "runs in" }).waitFor({ timeout: 600_000 });
    const sweepMs = Date.now() - t0;
    const sweepSets = await page.getByTestId("sweep-row").count();

    const entries = await page.evaluate(() => (window as any).__bench.long as Array<[number, number]>);
    // sunrpc-udp's is the sweep above (its preselected patch sets); blktap's here, twice
    const [sets, cold, warm] = await sweepTwice(page, url, "blktap2-teardown", 4, 200);
    const fourBy200 = {
      [`sweep blktap2-teardown: ${sets} patch sets x 200 seeds, first (ms)`]: cold,
      "sweep blktap2-teardown: the same again, warm pool (ms)": warm,
    };
    const long = entries.map(([, d]) => d);
    const inPhase = (i: number) => entries.filter(([t]) => t >= (phases[i - 1]?.[1] ?? 0) && t < (phases[i]?.[1] ?? Infinity)).length;
    const perPhase = Object.fromEntries([["open", 0] as const, ...phases.map(([n], i) => [n, i + 1] as const)]
      .map(([n, i]) => [`long tasks > 50 ms during ${n}`, inPhase(i)]));
    reruns.sort((a, b) => a - b);
    if (process.env.BENCH_DEBUG) console.log("long tasks [start, ms]:", JSON.stringify(entries), "phases:", JSON.stringify(phases));
    // The Stack view (the default view) playing the largest default run: frame times as
    // the renderer records them, and long tasks meanwhile.
    const largest = "sunrpc-tcp-close-wait";
    await page.goto(`${url}?s=${largest}`);
    await page.locator('[data-testid="verdict"][data-running="0"]:not([data-verdict=""])').waitFor();
    await page.getByTestId("stack").waitFor();
    const longBefore = await page.evaluate(() => (window as any).__bench.long.length as number);   // a fresh page: the open's tasks
    await page.evaluate(() => { (window as any).__stackFrames = []; });
    await page.getByRole("button", { name: "play" }).click();
    await page.waitForTimeout(5000);
    const frames = (await page.evaluate(() => (window as any).__stackFrames as number[])).sort((a, b) => a - b);
    const stackLong = (await page.evaluate(() => (window as any).__bench.long as Array<[number, number]>)).slice(longBefore).map(([, d]) => d);
    const q = (f: number) => +(frames[Math.min(frames.length - 1, Math.floor(frames.length * f))] ?? -1).toFixed(2);

    return {
      "time to first verdict (ms)": Math.round(firstVerdictMs),
      "re-run to verdict, median (ms)": reruns[reruns.length >> 1] ?? -1,
      "long tasks > 50 ms, all phases": long.length,
      ...perPhase,
      "longest main-thread task (ms)": Math.round(Math.max(0, ...long)),
      "longest main-thread task during open (ms)": Math.round(Math.max(0, ...openTasks.map(([, d]) => d))),
      [`longest frame during open: ${longestOpen[3]} (its script ms)`]: longestOpen[2],
      "sweep: patch sets x 200 seeds": sweepSets,
      "sweep: wall time in the worker pool (ms)": sweepMs,
      "initial JS gzip (KiB)": +(initialJsGzip(dist) / 1024).toFixed(1),
      ...fourBy200,
      [`stack frames drawn while playing ${largest} (5 s)`]: frames.length,
      "stack frame time, median (ms)": q(0.5),
      "stack frame time, p95 (ms)": q(0.95),
      "stack frame time, max (ms)": q(1),
      "long tasks > 50 ms while playing the stack": stackLong.length,
    };
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.httpServer.close(() => r()));
  }
}

// tsx engine/bench/browser.ts: the browser figures alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [k, v] of Object.entries(await browserBench())) console.log(`${k.padEnd(58)} ${v}`);
}
