// Parallel sweeps in Node: the seed range is cut into one contiguous slice per worker
// thread (both cores here), each slice runs engine/sweep.ts, and the slices merge.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { mergeSweeps, shardRange, emptyCounts } from "../sweep";
import type { SweepResult } from "../sweep";
import type { RunConfig } from "../config";
import { ConfigError } from "../config";
import { VERDICTS } from "../wasm";
import { BUNDLED } from "./load";
import type { Verdict } from "../wasm";

export interface NodeSweepOptions {
  jobs?: number;
  onProgress?: (done: number, total: number, counts: Record<Verdict, number>) => void;
}

export async function sweepParallel(base: RunConfig, first: number, count: number, opts: NodeSweepOptions = {}): Promise<SweepResult> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), count || 1, 16));
  const slices = Array.from({ length: jobs }, (_, i) => shardRange(first, count, i + 1, jobs)).filter((s) => s.count > 0);
  const done = new Array(slices.length).fill(0);
  const partial = slices.map(() => emptyCounts());
  const report = () => {
    if (!opts.onProgress) return;
    const sum = emptyCounts();
    for (const c of partial) for (const v of VERDICTS) sum[v] += c[v];
    opts.onProgress(done.reduce((a, b) => a + b, 0), count, sum);
  };
  const parts = await Promise.all(slices.map((s, i) => new Promise<SweepResult>((resolve, reject) => {
    const w = BUNDLED
      ? new Worker(new URL("./sweep-worker.js", import.meta.url), { workerData: { base, first: s.first, count: s.count } })
      : new Worker(new URL("./ts-worker.js", import.meta.url), {
        workerData: { entry: new URL("./sweep-worker.ts", import.meta.url).href, base, first: s.first, count: s.count },
      });
    w.on("message", (m: any) => {
      if (m.type === "progress") { done[i] = m.done; partial[i] = m.counts; report(); }
      else if (m.type === "done") resolve(m.result);
      else if (m.type === "error") reject(m.field ? new ConfigError(m.field, m.message) : new Error(m.message));
    });
    w.on("error", reject);
    w.on("exit", (code) => { if (code !== 0) reject(new Error(`sweep worker exited with code ${code}`)); });
  })));
  if (parts.length === 0) {
    return { scenario: base.scenario, patches: base.patches, knobs: base.knobs, seeds: { first, count: 0 }, counts: emptyCounts(), failing: [] };
  }
  return mergeSweeps(parts);
}
