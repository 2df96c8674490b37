// Seed sweeps: run one configuration over a range of seeds and count verdicts. The
// same code runs in a Node worker thread, in a browser worker, or inline; a large
// sweep is split into disjoint contiguous slices (shards) whose results merge exactly.
import { runOnce } from "./world";
import type { RunConfig } from "./config";
import { ConfigError } from "./config";
import { VERDICTS } from "./wasm";
import type { Verdict } from "./wasm";
import type { KnobValue } from "./scenarios/types";

export interface SweepFailure { seed: number; verdict: Verdict; reason: string }

export interface SweepResult {
  scenario: string;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  seeds: { first: number; count: number };
  counts: Record<Verdict, number>;
  failing: SweepFailure[];
  shard?: { index: number; of: number };
}

export function emptyCounts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

// Runs seeds [first, first+count) of `base` with no trace kept.
export function sweepRange(
  module: WebAssembly.Module,
  base: RunConfig,
  first: number,
  count: number,
  onProgress?: (done: number, counts: Record<Verdict, number>) => void,
  shouldStop?: () => boolean,
): SweepResult {
  const counts = emptyCounts();
  const failing: SweepFailure[] = [];
  let done = 0;
  for (let seed = first; seed < first + count; seed++) {
    if (shouldStop?.()) break;
    const r = runOnce(module, { ...base, seed }, { traceCapacity: 0 });
    counts[r.verdict]++;
    if (r.verdict !== "ok") failing.push({ seed, verdict: r.verdict, reason: r.reason });
    done++;
    if (onProgress && (done % 16 === 0 || done === count)) onProgress(done, counts);
  }
  return {
    scenario: base.scenario, patches: base.patches, knobs: base.knobs,
    seeds: { first, count: done }, counts, failing,
  };
}

// The K-th (1-based) of N disjoint contiguous slices of [first, first+count).
export function shardRange(first: number, count: number, k: number, n: number): { first: number; count: number } {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1 || k > n) {
    throw new ConfigError("shard", `--shard must be K/N with 1 <= K <= N, got ${k}/${n}`);
  }
  const lo = first + Math.floor((count * (k - 1)) / n);
  const hi = first + Math.floor((count * k) / n);
  return { first: lo, count: hi - lo };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// Combines slices of one sweep. They must share scenario, patches and knobs, and their
// seed ranges must be disjoint and together contiguous.
export function mergeSweeps(parts: SweepResult[]): SweepResult {
  if (parts.length === 0) throw new ConfigError("merge", "nothing to merge");
  const [p0] = parts;
  for (const p of parts) {
    if (p.scenario !== p0.scenario) throw new ConfigError("merge", `cannot merge sweeps of different scenarios: ${p0.scenario} and ${p.scenario}`);
    if (!same(p.patches, p0.patches)) throw new ConfigError("merge", `cannot merge sweeps with different patches (${p0.scenario})`);
    if (!same(p.knobs, p0.knobs)) throw new ConfigError("merge", `cannot merge sweeps with different knobs (${p0.scenario})`);
  }
  const sorted = [...parts].sort((a, b) => a.seeds.first - b.seeds.first);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1].seeds, cur = sorted[i].seeds;
    if (prev.first + prev.count !== cur.first) {
      const kind = prev.first + prev.count > cur.first ? "overlap" : "leave a gap";
      throw new ConfigError("merge", `seed ranges ${prev.first}..${prev.first + prev.count - 1} and ${cur.first}..${cur.first + cur.count - 1} ${kind}`);
    }
  }
  const counts = emptyCounts();
  for (const p of parts) for (const v of VERDICTS) counts[v] += p.counts[v] ?? 0;
  const failing = sorted.flatMap((p) => p.failing);
  const first = sorted[0].seeds.first;
  const last = sorted[sorted.length - 1].seeds;
  return {
    scenario: p0.scenario, patches: p0.patches, knobs: p0.knobs,
    seeds: { first, count: last.first + last.count - first }, counts, failing,
  };
}

// Checks that a parsed JSON object has the shape of a sweep result (for `iostack merge`).
export function asSweepResult(x: any, where: string): SweepResult {
  const bad = (what: string) => new ConfigError("merge", `${where}: not a sweep result (${what})`);
  if (!x || typeof x !== "object") throw bad("not an object");
  if (typeof x.scenario !== "string") throw bad("no scenario");
  if (!x.seeds || !Number.isInteger(x.seeds.first) || !Number.isInteger(x.seeds.count)) throw bad("no seeds {first, count}");
  if (!x.counts || VERDICTS.some((v) => !Number.isInteger(x.counts[v]))) throw bad("no counts for every verdict");
  if (!Array.isArray(x.failing)) throw bad("no failing list");
  if (!x.patches || !x.knobs) throw bad("no patches or knobs");
  return x as SweepResult;
}
