// Parallel sweeps in Node on the process's persistent worker pool (engine/node/pool.ts).
// The seed range is cut into one contiguous slice per worker; each worker takes chunks
// from the front of its own slice and, when it runs dry, steals the back half of the
// largest slice left, so a slow stretch of seeds never leaves a core idle. With
// --check-determinism every Kth seed is run again on another worker and the rolling trace
// hashes compared; a divergence is re-run on both workers to name its first record.
import { shardRange, emptyCounts, divergentEvent, firstDivergence, REPORTED } from "../sweep";
import type { SweepResult, SweepFailure, SeedOutcome, Divergence } from "../sweep";
import type { RunConfig } from "../config";
import { VERDICTS } from "../wasm";
import type { Verdict } from "../wasm";
import { sharedPool, defaultJobs } from "./pool";
import type { NodePool, PoolWorker } from "./pool";

export interface NodeSweepOptions {
  jobs?: number;
  checkDeterminism?: number;      // run every Kth seed twice (0: none)
  pool?: NodePool;
  onProgress?: (done: number, total: number, counts: Record<Verdict, number>) => void;
}

interface ChunkResult { counts: Record<Verdict, number>; failing: SeedOutcome[]; checked: SeedOutcome[] }

// Divergences named through re-runs: the first few (each costs two traced runs).
const NAMED = 3;

export async function sweepParallel(base: RunConfig, first: number, count: number, opts: NodeSweepOptions = {}): Promise<SweepResult> {
  const every = opts.checkDeterminism ?? 0;
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), 16));
  // a check needs two workers, whatever --jobs says
  const workers = (opts.pool ?? sharedPool()).take(Math.max(every > 0 ? 2 : 1, Math.min(jobs, count || 1)));
  const slices = workers.map((_, i) => shardRange(first, count, i + 1, workers.length)).map((s) => ({ lo: s.first, hi: s.first + s.count }));
  const counts = emptyCounts();
  const failing: SeedOutcome[] = [];
  const checks = new Map<number, { outcome: SeedOutcome; worker: number }>();
  const verifyQueue: Array<{ seeds: number[]; owner: number }> = [];
  const diverged: Array<{ seed: number; event: number; a: SeedOutcome; b: SeedOutcome; wa: number; wb: number }> = [];
  let done = 0;

  const compare = async (w: PoolWorker, v: { seeds: number[]; owner: number }) => {
    const again = await w.call<SeedOutcome[]>({ type: "verify", base, seeds: v.seeds });
    for (const b of again) {
      const a = checks.get(b.seed)!.outcome;
      const event = divergentEvent(a, b);
      if (event >= 0) diverged.push({ seed: b.seed, event, a, b, wa: v.owner, wb: w.index });
    }
  };

  const loop = async (i: number) => {
    const w = workers[i];
    for (;;) {
      const vi = verifyQueue.findIndex((v) => v.owner !== i);
      if (vi >= 0) { await compare(w, verifyQueue.splice(vi, 1)[0]); continue; }
      let s = slices[i];
      if (s.lo >= s.hi) {
        const victim = slices.reduce((best, x) => (x.hi - x.lo > best.hi - best.lo ? x : best));
        if (victim.hi - victim.lo < 2) return;
        const mid = victim.hi - ((victim.hi - victim.lo) >> 1);
        s = slices[i] = { lo: mid, hi: victim.hi };
        victim.hi = mid;
      }
      const n = Math.max(1, Math.min(32, Math.ceil((s.hi - s.lo) / 4)));
      const chunk = { first: s.lo, count: n };
      s.lo += n;
      const r = await w.call<ChunkResult>({ type: "chunk", base, from: first, ...chunk, checkEvery: every });
      for (const v of VERDICTS) counts[v] += r.counts[v];
      failing.push(...r.failing);
      for (const c of r.checked) checks.set(c.seed, { outcome: c, worker: i });
      if (r.checked.length) verifyQueue.push({ seeds: r.checked.map((c) => c.seed), owner: i });
      done += n;
      opts.onProgress?.(done, count, counts);
    }
  };
  await Promise.all(workers.map((_, i) => loop(i)));
  // checks whose chunks finished last: each on a worker other than its first
  await Promise.all(verifyQueue.splice(0).map((v) => compare(workers[(v.owner + 1) % workers.length], v)));

  failing.sort((a, b) => a.seed - b.seed);
  const reported: SweepFailure[] = failing.map(({ seed, verdict }) => ({ seed, verdict }));
  const described = await Promise.all(reported.slice(0, REPORTED).map((f, k) =>
    workers[k % workers.length].call<SweepFailure>({ type: "describe", base, seed: f.seed })));
  reported.splice(0, described.length, ...described);

  const result: SweepResult = {
    scenario: base.scenario, patches: base.patches, knobs: base.knobs,
    seeds: { first, count }, counts, failing: reported,
  };
  if (every > 0) {
    diverged.sort((a, b) => a.seed - b.seed);
    const named: Divergence[] = await Promise.all(diverged.map(async (d, k) => {
      const out: Divergence = { seed: d.seed, event: d.event, hashes: [d.a.traceHash, d.b.traceHash] };
      if (k < NAMED) {
        const [ta, tb] = await Promise.all([d.wa, d.wb].map((wi) => workers[wi].call<{ first: number; records: string[] }>({ type: "trace", base, seed: d.seed, events: d.event })));
        out.first = firstDivergence(ta, tb);
      }
      return out;
    }));
    result.determinism = { every, checked: checks.size, diverged: named };
  }
  return result;
}
