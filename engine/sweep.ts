// Seed sweeps: run one configuration over a range of seeds and count verdicts. The
// same code runs in a Node worker thread, in a browser worker, or inline; a large
// sweep is split into disjoint contiguous slices (shards) whose results merge exactly.
// A seed's outcome is read without the evidence JSON or describe(): only the failing
// seeds a sweep reports (the first REPORTED) are re-run for their reason.
import { World } from "./world";
import type { RunConfig } from "./config";
import { ConfigError, MAX_SEED, defaultKnobs, defaultPatches, requireScenario } from "./config";
import { SCENARIOS } from "./catalog";
import { Runner, VERDICTS, isCut, runnerOf } from "./wasm";
import type { RunStatus, Verdict } from "./wasm";
import type { KnobValue } from "./scenarios/types";
import { formatRecord, recordAt } from "./trace";
import { toParams } from "../ui/lib/urlstate";

// A failing seed, or one whose run was cut short (then `status` says by what); reason and
// reproduction only for the first REPORTED.
export interface SweepFailure { seed: number; verdict: Verdict; reason?: string; repro?: string[]; status?: CutStatus }

// Runs cut short are counted here, not under their verdict.
export type CutStatus = Extract<RunStatus, "time-limit" | "event-budget">;
export const CUT_STATUSES: CutStatus[] = ["time-limit", "event-budget"];

// A seed run twice whose trace hashes differ, with the first divergent event when found.
export interface Divergence { seed: number; event: number; hashes: [string, string]; first?: string[] }

export interface SweepResult {
  scenario: string;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  seeds: { first: number; count: number };
  counts: Record<Verdict, number>;
  cut?: Record<CutStatus, number>;
  failing: SweepFailure[];
  shard?: { index: number; of: number };
  determinism?: { every: number; checked: number; diverged: Divergence[] };
}

// Failing seeds whose reason (and reproduction) a sweep reports; the others carry the verdict.
export const REPORTED = 10;
// Events between two samples of the rolling trace hash in a determinism check.
export const HASH_EVERY = 1024;

export function emptyCounts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

export interface SeedOutcome {
  seed: number;
  verdict: Verdict;
  status: RunStatus;
  simTimeNs: number;
  events: number;
  traceHash: string;
  marks?: string[];      // the trace hash after every HASH_EVERY events (determinism checks)
}

// Events per call into the module when no hash is sampled.
const SLICE = 1 << 20;

// Runs one seed on a reused instance and reads its outcome, not its evidence (World.run
// would read the evidence JSON and describe() it: most of an nfs seed's cost).
export function runSeed(src: Runner | WebAssembly.Module, base: RunConfig, seed: number, marks = false): SeedOutcome {
  const runner = runnerOf(src);
  const w = World.withSeed(runner.module, base, seed, { traceCapacity: 0, runner });
  const m: string[] | undefined = marks ? [] : undefined;
  if (m) while (!w.step(HASH_EVERY)) m.push(w.traceHash);
  else while (!w.step(SLICE)) { /* to the end */ }
  return { seed, verdict: w.verdict, status: w.status, simTimeNs: w.now, events: w.events, traceHash: w.traceHash, marks: m };
}

// The reason of one failing seed (its evidence and describe()), with its reproduction.
export function describeSeed(src: Runner | WebAssembly.Module, base: RunConfig, seed: number): SweepFailure {
  const runner = runnerOf(src);
  const d = World.withSeed(runner.module, base, seed, { traceCapacity: 0, runner }).run();
  const f: SweepFailure = { seed, verdict: d.verdict, reason: d.reason, repro: repro({ ...base, seed }) };
  if (isCut(d.status)) f.status = d.status as CutStatus;
  return f;
}

// The command line and the lab permalink that reproduce one run.
export const LAB_URL = "http://localhost:4173/";
export function repro(cfg: RunConfig): string[] {
  const spec = requireScenario(cfg.scenario);
  const dp = defaultPatches(spec), dk = defaultKnobs(spec);
  const args = [`npx iostack run ${cfg.scenario} --seed ${cfg.seed}`];
  for (const [id, on] of Object.entries(cfg.patches)) if (on !== dp[id]) args.push(on ? `--patch ${id}` : `--patch ${id}=off`);
  for (const [k, v] of Object.entries(cfg.knobs)) if (v !== dk[k]) args.push(`--knob ${k}=${v}`);
  const lab = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.IOSTACK_LAB_URL ?? LAB_URL;
  return [args.join(" "), `${lab}?${toParams(cfg)}`];
}

// The records a re-run of one seed writes up to `events` events, formatted, so two
// re-runs can be compared record by record. The ring keeps the last `cap` records. It
// runs in the same slices as a check (runSeed with marks), so it repeats that run.
export function traceUpTo(src: Runner | WebAssembly.Module, base: RunConfig, seed: number, events: number, cap = 1 << 20): { first: number; records: string[] } {
  const runner = runnerOf(src);
  const w = World.withSeed(runner.module, base, seed, { traceCapacity: cap, runner });
  while (w.events < events && !w.step(HASH_EVERY)) { /* on to the event */ }
  const ents = w.entities();
  const { first, end } = w.traceRange();
  const page = w.tracePage(first, end - first);
  const records: string[] = new Array(page.count);
  for (let i = 0; i < page.count; i++) records[i] = formatRecord(w.names, ents, recordAt(page, i));
  return { first, records };
}

// Compares two re-runs' records: the first that differs, named in kernel words.
export function firstDivergence(a: { first: number; records: string[] }, b: { first: number; records: string[] }): string[] | undefined {
  const from = Math.max(a.first, b.first);
  const end = Math.max(a.first + a.records.length, b.first + b.records.length);
  for (let i = from; i < end; i++) {
    const ra = a.records[i - a.first], rb = b.records[i - b.first];
    if (ra !== rb) return [`trace record ${i}:`, `  run A: ${ra ?? "(no record)"}`, `  run B: ${rb ?? "(no record)"}`];
  }
  return undefined;
}

// The first sampled event at which two runs of a seed differ, or -1 when they agree.
export function divergentEvent(a: SeedOutcome, b: SeedOutcome): number {
  const ma = a.marks ?? [], mb = b.marks ?? [];
  for (let i = 0; i < Math.min(ma.length, mb.length); i++) if (ma[i] !== mb[i]) return (i + 1) * HASH_EVERY;
  if (a.traceHash === b.traceHash && a.events === b.events && a.verdict === b.verdict) return -1;
  return Math.min(ma.length, mb.length) * HASH_EVERY + HASH_EVERY;
}

// The work of a parallel sweep on N workers (Node threads or browser workers), whatever
// carries the calls. The seed range is cut into one contiguous slice per worker; each
// takes chunks from the front of its own slice and, when it runs dry, steals the back half
// of the largest slice left, so a slow stretch of seeds never leaves a worker idle. With
// a check, every Kth seed is run again on another worker and the rolling hashes compared.
export interface SweepWorkers {
  count: number;
  chunk(w: number, first: number, count: number, checkEvery: number): Promise<SeedOutcome[]>;
  verify(w: number, seeds: number[]): Promise<SeedOutcome[]>;
  trace(w: number, seed: number, events: number): Promise<{ first: number; records: string[] }>;
}

// Divergences named through re-runs: the first few (each costs two traced runs).
const NAMED = 3;

export async function scheduleSweep(
  pool: SweepWorkers, first: number, count: number, checkEvery: number,
  onChunk: (rows: SeedOutcome[]) => void, stopped: () => boolean = () => false,
): Promise<{ checked: number; diverged: Divergence[] }> {
  const n = pool.count;
  const slices = Array.from({ length: n }, (_, i) => shardRange(first, count, i + 1, n)).map((s) => ({ lo: s.first, hi: s.first + s.count }));
  const checks = new Map<number, SeedOutcome>();
  const queue: Array<{ seeds: number[]; owner: number }> = [];
  const found: Array<{ seed: number; event: number; a: SeedOutcome; b: SeedOutcome; wa: number; wb: number }> = [];

  const verify = async (w: number, v: { seeds: number[]; owner: number }) => {
    for (const b of await pool.verify(w, v.seeds)) {
      const a = checks.get(b.seed)!;
      const event = divergentEvent(a, b);
      if (event >= 0) found.push({ seed: b.seed, event, a, b, wa: v.owner, wb: w });
    }
  };
  const loop = async (i: number) => {
    while (!stopped()) {
      const vi = queue.findIndex((v) => v.owner !== i);
      if (vi >= 0) { await verify(i, queue.splice(vi, 1)[0]); continue; }
      let s = slices[i];
      if (s.lo >= s.hi) {
        const victim = slices.reduce((best, x) => (x.hi - x.lo > best.hi - best.lo ? x : best));
        if (victim.hi - victim.lo < 2) return;
        const mid = victim.hi - ((victim.hi - victim.lo) >> 1);
        s = slices[i] = { lo: mid, hi: victim.hi };
        victim.hi = mid;
      }
      const k = Math.max(1, Math.min(32, Math.ceil((s.hi - s.lo) / 4)));
      const from = s.lo;
      s.lo += k;
      const rows = await pool.chunk(i, from, k, checkEvery);
      const checked = rows.filter((r) => r.marks);
      for (const c of checked) checks.set(c.seed, c);
      if (checked.length) queue.push({ seeds: checked.map((c) => c.seed), owner: i });
      onChunk(rows);
    }
  };
  await Promise.all(slices.map((_, i) => loop(i)));
  // checks whose chunks finished last: each on a worker other than its first
  if (!stopped()) await Promise.all(queue.splice(0).map((v) => verify((v.owner + 1) % n, v)));

  found.sort((a, b) => a.seed - b.seed);
  const diverged = await Promise.all(found.map(async (d, k): Promise<Divergence> => {
    const out: Divergence = { seed: d.seed, event: d.event, hashes: [d.a.traceHash, d.b.traceHash] };
    if (k < NAMED) {
      const [ta, tb] = await Promise.all([pool.trace(d.wa, d.seed, d.event), pool.trace(d.wb, d.seed, d.event)]);
      out.first = firstDivergence(ta, tb);
    }
    return out;
  }));
  return { checked: checks.size, diverged };
}

export function emptyCut(): Record<CutStatus, number> {
  return { "time-limit": 0, "event-budget": 0 };
}

// Counts one seed's outcome: a cut run apart from the verdicts, listed with its status.
export function tally(counts: Record<Verdict, number>, cut: Record<CutStatus, number>, failing: SweepFailure[], r: SeedOutcome): void {
  if (isCut(r.status)) {
    cut[r.status as CutStatus]++;
    failing.push(brief(r));
  } else {
    counts[r.verdict]++;
    if (r.verdict !== "ok") failing.push(brief(r));
  }
}

// A failing seed without its reason: seed, verdict, and the status of a cut run.
function brief(f: { seed: number; verdict: Verdict; status?: RunStatus }): SweepFailure {
  return isCut(f.status ?? "complete") ? { seed: f.seed, verdict: f.verdict, status: f.status as CutStatus } : { seed: f.seed, verdict: f.verdict };
}

// Runs seeds [first, first+count) of `base` with no trace kept.
export function sweepRange(
  src: Runner | WebAssembly.Module,
  base: RunConfig,
  first: number,
  count: number,
  onProgress?: (done: number, counts: Record<Verdict, number>) => void,
  opts: { reasons?: boolean; shouldStop?: () => boolean } = {},
): SweepResult {
  const runner = runnerOf(src);
  const counts = emptyCounts();
  const cut = emptyCut();
  const failing: SweepFailure[] = [];
  let done = 0;
  for (let seed = first; seed < first + count; seed++) {
    if (opts.shouldStop?.()) break;
    tally(counts, cut, failing, runSeed(runner, base, seed));
    done++;
    if (onProgress && (done % 16 === 0 || done === count)) onProgress(done, counts);
  }
  const result: SweepResult = {
    scenario: base.scenario, patches: base.patches, knobs: base.knobs,
    seeds: { first, count: done }, counts, cut, failing,
  };
  if (opts.reasons ?? true) describeReported(result, (seed) => describeSeed(runner, base, seed));
  return result;
}

// Fills in the reason of the failing seeds a sweep reports.
export function describeReported(r: SweepResult, describe: (seed: number) => SweepFailure): void {
  for (let i = 0; i < Math.min(REPORTED, r.failing.length); i++) r.failing[i] = describe(r.failing[i].seed);
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
  // as a whole sweep would: reasons for the first REPORTED failing seeds only
  const failing = sorted.flatMap((p) => p.failing).map((f, i) => (i < REPORTED ? f : brief(f)));
  const first = sorted[0].seeds.first;
  const last = sorted[sorted.length - 1].seeds;
  const merged: SweepResult = {
    scenario: p0.scenario, patches: p0.patches, knobs: p0.knobs,
    seeds: { first, count: last.first + last.count - first }, counts, cut, failing,
  };
  const checked = sorted.filter((p) => p.determinism);
  if (checked.length) {
    merged.determinism = {
      every: checked[0].determinism!.every,
      checked: checked.reduce((n, p) => n + p.determinism!.checked, 0),
      diverged: checked.flatMap((p) => p.determinism!.diverged),
    };
  }
  return merged;
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
