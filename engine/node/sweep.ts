// Parallel sweeps in Node on the process's persistent worker pool (engine/node/pool.ts),
// scheduled by engine/sweep.ts (contiguous slices, work stealing, determinism checks).
import { emptyCounts, emptyCut, scheduleSweep, tally, REPORTED } from "../sweep";
import type { SweepResult, SweepFailure } from "../sweep";
import type { RunConfig } from "../config";
import type { Verdict } from "../wasm";
import { sharedPool, defaultJobs } from "./pool";
import type { NodePool } from "./pool";

export interface NodeSweepOptions {
  jobs?: number;
  checkDeterminism?: number;      // run every Kth seed twice, on different workers (0: none)
  pool?: NodePool;
  onProgress?: (done: number, total: number, counts: Record<Verdict, number>) => void;
}

export async function sweepParallel(base: RunConfig, first: number, count: number, opts: NodeSweepOptions = {}): Promise<SweepResult> {
  const every = opts.checkDeterminism ?? 0;
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), 16));
  // a check needs two workers, whatever --jobs says
  const workers = (opts.pool ?? sharedPool()).take(Math.max(every > 0 ? 2 : 1, Math.min(jobs, count || 1)));
  const counts = emptyCounts();
  const cut = emptyCut();
  const failing: SweepFailure[] = [];
  let done = 0;
  const check = await scheduleSweep({
    count: workers.length,
    chunk: (w, from, n, checkEvery) => workers[w].call({ type: "chunk", base, from: first, first: from, count: n, checkEvery }),
    verify: (w, seeds) => workers[w].call({ type: "verify", base, seeds }),
    trace: (w, seed, events) => workers[w].call({ type: "trace", base, seed, events }),
  }, first, count, every, (rows) => {
    for (const r of rows) tally(counts, cut, failing, r);
    done += rows.length;
    opts.onProgress?.(done, count, counts);
  });

  failing.sort((a, b) => a.seed - b.seed);
  const reported = failing;
  const described = await Promise.all(reported.slice(0, REPORTED).map((f, k) =>
    workers[k % workers.length].call<SweepFailure>({ type: "describe", base, seed: f.seed })));
  reported.splice(0, described.length, ...described);
  const result: SweepResult = {
    scenario: base.scenario, patches: base.patches, knobs: base.knobs,
    seeds: { first, count }, counts, cut, failing: reported,
  };
  if (every > 0) result.determinism = { every, ...check };
  return result;
}
