// Seed sweeps in the browser: N seeds of one configuration spread over a pool of workers,
// scheduled as in Node (engine/sweep.ts: contiguous slices, work stealing, determinism
// checks). The pool stays warm between sweeps: each worker keeps its compiled module and
// reused instance. Cancel terminates the workers; the next sweep starts fresh ones.
import { startWorker } from "./client";
import type { SimWorker } from "./client";
import type { ConfigInput } from "../config";
import { validateConfig } from "../config";
import { scheduleSweep, REPORTED } from "../sweep";
import type { Divergence, SeedOutcome, SweepFailure } from "../sweep";

export type SweepRow = SeedOutcome & { reason?: string; repro?: string[] };

export interface SweepDone {
  rows: SweepRow[];                     // in seed order; the first REPORTED failing with reason
  determinism?: { checked: number; diverged: Divergence[] };
}

export interface SweepHandle {
  done: Promise<SweepDone>;             // rejects with "cancelled" on cancel
  cancel(): void;
}

export function poolSize(): number {
  const hc = typeof navigator !== "undefined" ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, hc));
}

const warm: SimWorker[] = [];

// Starts the pool's workers ahead of the first sweep (the Sweep view does when it opens).
export function warmUp(n = poolSize()): SimWorker[] {
  while (warm.length < n) warm.push(startWorker());
  return warm.slice(0, n);
}

// seeds: a contiguous range [first, first+count).
export function sweep(
  input: ConfigInput,
  first: number,
  count: number,
  onProgress: (done: number, rows: SweepRow[]) => void,
  opts: { workers?: number; checkDeterminism?: boolean } = {},
): SweepHandle {
  const check = opts.checkDeterminism ?? false;
  const workers = warmUp(Math.max(check ? 2 : 1, Math.min(opts.workers ?? poolSize(), count || 1)));
  const base = validateConfig(input);
  const rows: SweepRow[] = [];
  let cancelled = false;
  let rejectAll: (e: Error) => void = () => {};
  const ready = Promise.all(workers.map((w) => w.ready));

  const run = async (): Promise<SweepDone> => {
    await ready;
    const api = (w: number) => workers[w].api;
    const determinism = await scheduleSweep({
      count: workers.length,
      chunk: (w, from, n, every) => api(w).sweep(base, Array.from({ length: n }, (_, i) => from + i), every > 0 && (from - first) % every === 0),
      verify: (w, seeds) => api(w).sweep(base, seeds, true),
      trace: (w, seed, events) => api(w).trace(base, seed, events),
    }, first, count, check ? 1 : 0, (out) => {
      if (cancelled) return;
      rows.push(...out);
      onProgress(rows.length, out);
    }, () => cancelled);
    rows.sort((a, b) => a.seed - b.seed);
    const failing = rows.filter((r) => r.verdict !== "ok").slice(0, REPORTED);
    const described: SweepFailure[] = await Promise.all(failing.map((r, k) => api(k % workers.length).describe(base, r.seed)));
    failing.forEach((r, k) => Object.assign(r, { reason: described[k].reason, repro: described[k].repro }));
    return { rows, determinism: check ? determinism : undefined };
  };
  const done = new Promise<SweepDone>((resolve, reject) => {
    rejectAll = reject;
    run().then((r) => { if (!cancelled) resolve(r); }, reject);
  });
  return {
    done,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      for (const w of warm.splice(0)) w.terminate();
      rejectAll(new Error("cancelled"));
    },
  };
}
