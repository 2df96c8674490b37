// Seed sweeps: run one configuration over a range of seeds and count verdicts. The
// same code runs in a Node worker thread, in a browser worker, or inline; a large
// sweep is split into disjoint contiguous slices (shards) whose results merge exactly.
import { runOnce } from "./world";
import type { RunConfig } from "./config";
import { ConfigError, MAX_SEED } from "./config";
import { SCENARIOS } from "./catalog";
import { VERDICTS, isCut } from "./wasm";
import type { RunStatus, Verdict } from "./wasm";
import type { KnobValue } from "./scenarios/types";

// A failing seed, or one whose run was cut short (then `status` says by what).
export interface SweepFailure { seed: number; verdict: Verdict; reason: string; status?: CutStatus }

// Runs cut short are counted here, not under their verdict.
export type CutStatus = Extract<RunStatus, "time-limit" | "event-budget">;
export const CUT_STATUSES: CutStatus[] = ["time-limit", "event-budget"];

export interface SweepResult {
  scenario: string;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  seeds: { first: number; count: number };
  counts: Record<Verdict, number>;
  cut?: Record<CutStatus, number>;
  failing: SweepFailure[];
  shard?: { index: number; of: number };
}

export function emptyCounts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

export function emptyCut(): Record<CutStatus, number> {
  return { "time-limit": 0, "event-budget": 0 };
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
  const cut = emptyCut();
  const failing: SweepFailure[] = [];
  let done = 0;
  for (let seed = first; seed < first + count; seed++) {
    if (shouldStop?.()) break;
    const r = runOnce(module, { ...base, seed }, { traceCapacity: 0 });
    if (isCut(r.status)) {
      cut[r.status as CutStatus]++;
      failing.push({ seed, verdict: r.verdict, reason: r.reason, status: r.status as CutStatus });
    } else {
      counts[r.verdict]++;
      if (r.verdict !== "ok") failing.push({ seed, verdict: r.verdict, reason: r.reason });
    }
    done++;
    if (onProgress && (done % 16 === 0 || done === count)) onProgress(done, counts);
  }
  return {
    scenario: base.scenario, patches: base.patches, knobs: base.knobs,
    seeds: { first, count: done }, counts, cut, failing,
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
  const cut = emptyCut();
  for (const p of parts) {
    for (const v of VERDICTS) counts[v] += p.counts[v] ?? 0;
    for (const c of CUT_STATUSES) cut[c] += p.cut?.[c] ?? 0;
  }
  const failing = sorted.flatMap((p) => p.failing);
  const first = sorted[0].seeds.first;
  const last = sorted[sorted.length - 1].seeds;
  return {
    scenario: p0.scenario, patches: p0.patches, knobs: p0.knobs,
    seeds: { first, count: last.first + last.count - first }, counts, cut, failing,
  };
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

// Checks that a parsed JSON object is a sweep result (for `iostack merge`): its shape, a
// known scenario, whole non-negative counts that add up to its seed range, and failing
// seeds inside that range with a known verdict.
export function asSweepResult(x: any, where: string): SweepResult {
  const bad = (what: string) => new ConfigError("merge", `${where}: not a sweep result (${what})`);
  if (!x || typeof x !== "object" || Array.isArray(x)) throw bad("not an object");
  if (typeof x.scenario !== "string") throw bad("no scenario");
  if (!SCENARIOS.some((s) => s.id === x.scenario)) throw bad(`unknown scenario '${x.scenario}'`);
  const seeds = x.seeds;
  if (!seeds || !isCount(seeds.first) || !isCount(seeds.count)) throw bad("seeds {first, count} must be whole numbers >= 0");
  if (seeds.count - 1 > MAX_SEED - seeds.first) throw bad(`its ${seeds.count} seeds from ${seeds.first} run past ${MAX_SEED}`);
  if (!x.counts || typeof x.counts !== "object" || VERDICTS.some((v) => !isCount(x.counts[v]))) throw bad("counts must be whole numbers >= 0 for every verdict");
  const extra = Object.keys(x.counts).find((k) => !VERDICTS.includes(k as Verdict));
  if (extra !== undefined) throw bad(`unknown verdict '${extra}' in counts`);
  if (x.cut !== undefined && (typeof x.cut !== "object" || !x.cut || CUT_STATUSES.some((c) => !isCount(x.cut[c])))) throw bad("cut must count time-limit and event-budget runs");
  const total = VERDICTS.reduce((a, v) => a + x.counts[v], 0) + CUT_STATUSES.reduce((a, c) => a + (x.cut?.[c] ?? 0), 0);
  if (total !== seeds.count) throw bad(`its counts add up to ${total}, not its ${seeds.count} seeds`);
  if (!Array.isArray(x.failing)) throw bad("no failing list");
  for (const f of x.failing) {
    if (!f || !isCount(f.seed) || f.seed < seeds.first || f.seed >= seeds.first + seeds.count) throw bad(`failing seed ${JSON.stringify(f?.seed)} is not one of its seeds`);
    if (!VERDICTS.includes(f.verdict)) throw bad(`unknown verdict ${JSON.stringify(f.verdict)} for seed ${f.seed}`);
  }
  if (!x.patches || typeof x.patches !== "object" || !x.knobs || typeof x.knobs !== "object") throw bad("no patches or knobs");
  return x as SweepResult;
}
