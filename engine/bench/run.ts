// npm run bench: every figure from one run on this machine, so ratios compare like with
// like. Targets are stated beside the figures; nothing here fails a build.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { performance } from "node:perf_hooks";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { loadModule, wasmPath } from "../node/load";
import { instantiate, Runner } from "../wasm";
import type { CoreExports } from "../wasm";
import { runSeed } from "../sweep";
import { SCENARIOS } from "../catalog";
import { validateConfig } from "../config";
import { World } from "../world";
import { sweepParallel } from "../node/sweep";
import { sharedPool } from "../node/pool";

const fmt = (n: number) => n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);
const rows: Array<[string, string]> = [];
const row = (k: string, v: string) => { rows.push([k, v]); console.log(`${k.padEnd(58)} ${v}`); };

// 1. The bound: a plain binary heap, push + pop with random times, no dispatch.
function heapBound(): number {
  const n = 1 << 21;
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    const x = instantiate(loadModule());
    const t0 = performance.now();
    x.bench_heap(n);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, n / s);
  }
  return best;
}

// 2. Each scenario: events/s of the whole core (dispatch, models, trace off), seeds/s,
//    and simulated time per wall time, over a fixed set of seeds.
//    The event loop is timed apart from set-up (instantiate, build) and from reading the
//    result (evidence JSON, describe), which are per run, not per event.
function scenarioLoad(id: string, seeds: number, traceCapacity: number) {
  const base = validateConfig({ scenario: id });
  const mod = loadModule();
  let events = 0, sim = 0, setup = 0, loop = 0, result = 0;
  const t0 = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const a = performance.now();
    const w = World.create(mod, { ...base, seed }, { traceCapacity });
    const b = performance.now();
    while (!w.step(1 << 20)) { /* run to the end */ }
    const c = performance.now();
    const r = w.result();
    result += performance.now() - c;
    setup += b - a;
    loop += c - b;
    events += r.events;
    sim += r.simTimeNs;
  }
  const wall = (performance.now() - t0) / 1000;
  return {
    eventsPerSec: events / (loop / 1000), seedsPerSec: seeds / wall, simPerWall: sim / 1e9 / wall,
    eventsPerRun: events / seeds, setupMs: setup / seeds, resultMs: result / seeds, loopMs: loop / seeds,
  };
}

// What each scenario models, counted from its raw evidence: events per unit of work.
const UNITS: Record<string, [string, (e: any) => number]> = {
  "sunrpc-udp-slot-hang": ["rpc_task", (e) => e.model.counters.tasksCreated],
  "sunrpc-tcp-close-wait": ["rpc_task", (e) => e.model.counters.tasksCreated],
  "nfs-odirect-retransmit": ["O_DIRECT write", (e) => e.model.writes],
  "socklnd-scheduler": ["LNet message", (e) => e.model.metrics.msgsRx + e.model.metrics.msgsTx],
  "blktap2-teardown": ["teardown cycle", (e) => e.model.cycles],
};

// 3. A sweep's cost per seed apart from the events: a fresh instance with the full
//    result (instantiate + start, evidence JSON, describe), against the sweep path
//    (runSeed on a reused instance: reset, build, the outcome read without evidence),
//    each minus the time inside the module's event loop. Also events per unit.
class LoopTimer extends Runner {
  loopMs = 0;
  resetMs = 0;     // inside fresh(): the reset, when the instance was used
  fresh(): CoreExports {
    const t0 = performance.now();
    const x = super.fresh();
    this.resetMs += performance.now() - t0;
    const run = (n: number, until: number) => {
      const t = performance.now();
      try { return x.run(n, until); } finally { this.loopMs += performance.now() - t; }
    };
    return Object.create(x, { run: { value: run } });
  }
}

export function fixedCost(id: string, seeds: number) {
  const base = validateConfig({ scenario: id });
  const mod = loadModule();
  const runner = new LoopTimer(mod);
  let fresh = 0, reused = 0, events = 0, units = 0;
  const [, unitOf] = UNITS[id] ?? ["", () => NaN];
  for (let seed = 1; seed <= seeds; seed++) {
    const a = performance.now();
    const w = World.create(mod, { ...base, seed }, { traceCapacity: 0 });
    const b = performance.now();
    while (!w.step(1 << 20)) { /* run to the end */ }
    const c = performance.now();
    w.result();
    fresh += performance.now() - c + (b - a);
    events += w.events;
    units += unitOf(w.rawEvidence());
  }
  // The sweep path in a loop of its own, seed after seed as a sweep runs them: between
  // fresh instances its figure would also carry their cost (the discarded memories' GC,
  // a cold instance), which a sweep never pays.
  const reset0 = runner.resetMs;
  for (let seed = 1; seed <= seeds; seed++) {
    const loop = runner.loopMs, d = performance.now();
    runSeed(runner, base, seed);
    reused += performance.now() - d - (runner.loopMs - loop);
  }
  const resetMs = (runner.resetMs - reset0) / seeds;
  // a reset with nothing to undo (the instance was just reset): what a run adds is the
  // zeroing of the rows it wrote, which grows with the run
  runner.fresh();
  const clean0 = runner.resetMs;
  for (let i = 0; i < seeds; i++) runner.fresh();
  const cleanResetMs = (runner.resetMs - clean0) / seeds;
  return { freshMs: fresh / seeds, reusedMs: reused / seeds, resetMs, cleanResetMs, eventsPerRun: events / seeds, eventsPerUnit: events / units };
}

// 4. 1000 seeds on every core, on the warm pool (started by a first small sweep).
async function sweepWall(id: string, seeds: number) {
  const base = validateConfig({ scenario: id });
  await sweepParallel(base, 1, 2 * availableParallelism());
  const t0 = performance.now();
  const r = await sweepParallel(base, 1, seeds);
  const s = (performance.now() - t0) / 1000;
  return { s, failing: r.failing.length };
}

function initialJsGzip(): number | undefined {
  const index = "dist/index.html";
  if (!existsSync(index)) return undefined;
  const html = readFileSync(index, "utf8");
  const files = [...html.matchAll(/(?:src|href)="(?:\.?\/)?(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  return files.reduce((sum, f) => sum + gzipSync(readFileSync("dist/" + f)).length, 0);
}

async function main() {
  console.log(`iostack-lab bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  const bound = heapBound();
  row("raw heap push+pop (the bound)", `${fmt(bound)} events/s`);
  for (const s of SCENARIOS) {
    const warm = scenarioLoad(s.id, 5, 0);
    const seeds = Math.max(20, Math.min(2000, Math.round(2e6 / Math.max(1, warm.eventsPerRun))));
    const r = scenarioLoad(s.id, seeds, 0);
    const traced = scenarioLoad(s.id, Math.max(5, seeds >> 2), 1 << 20);
    row(`${s.id}: core events/s (trace off, ${seeds} seeds)`, `${fmt(r.eventsPerSec)}  = ${(100 * r.eventsPerSec / bound).toFixed(0)}% of the heap bound (target >= 25%)`);
    row(`${s.id}: core events/s (trace on)`, `${fmt(traced.eventsPerSec)}`);
    row(`${s.id}: per run: set-up / events / result`, `${r.setupMs.toFixed(2)} / ${r.loopMs.toFixed(2)} / ${r.resultMs.toFixed(2)} ms  (${fmt(r.eventsPerRun)} events)`);
    row(`${s.id}: seeds/s, one core, end to end`, `${fmt(r.seedsPerSec)}`);
    row(`${s.id}: simulated time / wall time`, `${fmt(r.simPerWall)}x`);
    const f = fixedCost(s.id, Math.max(40, Math.min(200, seeds >> 2)));   // enough seeds that one GC pause is not the figure
    row(`${s.id}: fixed cost per seed, fresh instance + result`, `${f.freshMs.toFixed(2)} ms`);
    row(`${s.id}: fixed cost per seed, sweep path (reused, minus events)`, `${f.reusedMs.toFixed(2)} ms (target <= 0.5 ms)`);
    row(`${s.id}:   of which the reset / a clean instance's reset`, `${f.resetMs.toFixed(2)} / ${f.cleanResetMs.toFixed(2)} ms (the difference zeroes what the run wrote)`);
    row(`${s.id}: events per run / per ${UNITS[s.id]?.[0] ?? "unit"}`, `${fmt(f.eventsPerRun)} / ${f.eventsPerUnit.toFixed(1)}`);
    const sw = await sweepWall(s.id, 1000);
    row(`${s.id}: 1000-seed sweep on ${availableParallelism()} cores`, `${sw.s.toFixed(2)} s (${sw.failing} failing)`);
  }
  for (const [k, v] of (await import("../explain")).explainBench(loadModule())) row(k, v);
  await sharedPool().close();
  const wasm = readFileSync(wasmPath());
  row("iostack.wasm size", `${(wasm.length / 1024).toFixed(1)} KiB raw, ${(gzipSync(wasm).length / 1024).toFixed(1)} KiB gzip`);
  const js = initialJsGzip();
  row("initial JS (gzip)", js === undefined ? "no dist/ (run npm run build)" : `${(js / 1024).toFixed(1)} KiB (target <= 120 KiB)`);
  const browserBench = "engine/bench/browser.ts";
  if (existsSync(browserBench)) {
    const { browserBench: run } = await import("./browser");
    const figures = await run();
    for (const [k, v] of Object.entries(figures)) row(`browser: ${k}`, String(v));
  }
}

// Run as `npm run bench`; engine/bench/fixed.ts imports fixedCost alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
