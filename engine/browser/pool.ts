// Seed sweeps in the browser: N seeds of one configuration spread over a pool of workers
// in small chunks (each chunk tens of milliseconds, so progress is smooth and cancel is
// prompt). Cancel terminates the workers; a new sweep starts fresh ones.
import { startWorker } from "./client";
import type { SimWorker } from "./client";
import type { ConfigInput } from "../config";
import type { SweepRow } from "./session";

export interface SweepHandle {
  done: Promise<SweepRow[]>;     // rows in seed order; rejects with "cancelled" on cancel
  cancel(): void;
}

export function poolSize(): number {
  const hc = typeof navigator !== "undefined" ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, hc));
}

export function sweep(
  input: ConfigInput,
  seeds: number[],
  onProgress: (done: number, rows: SweepRow[]) => void,
  opts: { workers?: number; chunk?: number } = {},
): SweepHandle {
  const chunk = opts.chunk ?? 16;
  const workers: SimWorker[] = Array.from({ length: Math.min(opts.workers ?? poolSize(), Math.ceil(seeds.length / chunk) || 1) }, startWorker);
  const rows: SweepRow[] = [];
  let next = 0, cancelled = false;
  let rejectAll: (e: Error) => void = () => {};

  const runner = async (w: SimWorker) => {
    await w.ready;
    while (!cancelled && next < seeds.length) {
      const part = seeds.slice(next, next + chunk);
      next += part.length;
      const out = await w.api.sweep(input, part);
      if (cancelled) return;
      rows.push(...out);
      onProgress(rows.length, out);
    }
  };
  const stop = () => workers.forEach((w) => w.terminate());
  const done = new Promise<SweepRow[]>((resolve, reject) => {
    rejectAll = reject;
    Promise.all(workers.map(runner)).then(
      () => { stop(); if (!cancelled) resolve(rows.sort((a, b) => a.seed - b.seed)); },
      (e) => { stop(); reject(e); },
    );
  });
  return {
    done,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      stop();
      rejectAll(new Error("cancelled"));
    },
  };
}
