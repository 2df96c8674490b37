// Why did a run fail? Every random draw of the core is a decision addressed (stream,
// index) (asm/kernel/prng.ts). This shrinks a failing run to a 1-minimal set of its
// non-benign decisions (ddmin: the rest forced benign, the same verdict and reason class),
// and finds its point of no return: the earliest event k such that runs replaying events
// 1..k and drawing fresh randomness afterwards (a derived seed for every stream) fail the
// same way at least 95% of the time.
import { DEFAULT_TRACE_CAPACITY, World } from "./world";
import type { RunDetails } from "./world";
import type { CoreExports } from "./wasm";
import { ConfigError, validateConfig } from "./config";
import { SCENARIOS } from "./catalog";
import type { RunConfig } from "./config";
import type { KnobValue } from "./scenarios/types";
import { formatRecord, recordAt } from "./trace";

interface DecisionExports extends CoreExports {
  stream_count(): number;
  stream_name_ptr(s: number): number;
  stream_name_len(s: number): number;
  force_decision(s: number, index: number): void;
  forced_hits(): number;
  record_decisions(on: number): void;
  recorded_count(): number;
  non_benign_count(): number;
  decision_count(): number;
  fork_at(k: number, salt: number): void;
  rec_columns(col: number): number;
}

export interface Address { stream: string; index: number }

export interface Decision extends Address {
  event: number;       // the event (1-based) during which it was drawn; 0: while building
  record: number;      // the trace record written next (the UI cursor)
  timeNs: number;
  what: string;
}

export interface ReplayOptions {
  force?: Address[];                       // decisions forced benign
  record?: boolean;                        // record the non-benign decisions
  fork?: { after: number; salt: number };  // fresh randomness after event `after`
  traceCapacity?: number;
}

export interface Replay {
  details: RunDetails;
  decisions: Decision[];   // recorded non-benign decisions (when asked), in draw order
  total: number;           // decisions drawn
  nonBenign: number;
  forcedHits: number;      // forced addresses the run reached
  world: World;            // finished; its trace is kept when traceCapacity was given
}

const DEC_CHANCE = 1;
const MAX_RECORDED = 1 << 16;

const streamTables = new WeakMap<WebAssembly.Module, string[]>();

function streamNames(module: WebAssembly.Module, x: DecisionExports): string[] {
  let t = streamTables.get(module);
  if (!t) {
    t = [];
    for (let s = 0; s < x.stream_count(); s++) {
      t.push(String.fromCharCode(...new Uint16Array(x.memory.buffer, x.stream_name_ptr(s), x.stream_name_len(s))));
    }
    streamTables.set(module, t);
  }
  return t;
}

const us = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1e3).toFixed(1)} µs`);

// Kernel words for a non-benign decision of each stream (chance: it came true; delay:
// longer than its mean).
const WHAT: Record<string, { chance?: string; delay?: string }> = {
  "sunrpc.net": { chance: "a UDP datagram (or TCP segment) was lost on the wire", delay: "one-way network latency" },
  "net": { chance: "a frame was lost on the wire", delay: "wire latency" },
  "sched": { delay: "a thread's step of CPU work (its cost on the CPU)" },
  "sched.chaos": { chance: "stress mode starved a thread before its next step (preempted)" },
  "irq.nic": { delay: "NIC hardirq + softirq time stolen from the running step" },
  "softirq": { delay: "tcp_push from softirq" },
  "sunrpc.server": { delay: "knfsd service time (or the time to its next storage stall, restart or drop)" },
  "sunrpc.flap": { delay: "time to the next link flap" },
  "sunrpc.workload": { delay: "mmap3 think time" },
  "server": { delay: "server io_schedule wait" },
  "workload": { delay: "O_DIRECT writer think time" },
  "server-load": { delay: "gap before another client's request" },
  "guest-uptime": { delay: "guest uptime before its shutdown" },
  "blkback-release": { delay: "xen_blkbk_remove (blkif disconnect, blkdev_put) time" },
  "socklnd.cold": { delay: "gap before a cold peer's next message" },
};

function describeDecision(stream: string, kind: number, value: number, mean: number): string {
  const w = WHAT[stream] ?? {};
  if (kind === DEC_CHANCE) return `${w.chance ?? `${stream}: a fault came true`} (p=${(value / 1e9).toPrecision(3)})`;
  return `${w.delay ?? `${stream}: a delay`} ${us(value)}, mean ${us(mean)}`;
}

// The World's prepare hook for these options (also the browser session's forced replay).
export function preparer(module: WebAssembly.Module, opts: ReplayOptions): (core: CoreExports) => void {
  return (core) => {
    const x = core as DecisionExports;
    const names = streamNames(module, x);
    for (const [s, index] of resolveForced(names, opts.force ?? [])) x.force_decision(s, index);
    if (opts.record) x.record_decisions(1);
    if (opts.fork) x.fork_at(opts.fork.after, opts.fork.salt);
  };
}

// Runs `config` with decisions forced, recorded or forked.
export function replay(module: WebAssembly.Module, config: RunConfig, opts: ReplayOptions = {}): Replay {
  const prepare = preparer(module, opts);
  const w = World.create(module, config, { traceCapacity: opts.traceCapacity ?? 0, prepare });
  const details = w.run();
  const x = w.core as DecisionExports;
  return {
    details,
    decisions: opts.record ? readDecisions(x, streamNames(module, x)) : [],
    total: x.decision_count(),
    nonBenign: x.non_benign_count(),
    forcedHits: x.forced_hits(),
    world: w,
  };
}

// Stream names → ids, sorted by (stream, index) as the core wants them; bad addresses
// are configuration errors.
function resolveForced(names: string[], force: Address[]): [number, number][] {
  const out = force.map(({ stream, index }): [number, number] => {
    const s = names.indexOf(stream);
    if (s < 0) throw new ConfigError("force", `--force: no random stream '${stream}'; streams: ${names.join(", ")}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new ConfigError("force", `--force ${stream}:${index}: the index must be a whole number >= 0`);
    return [s, index];
  });
  out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return out.filter((a, i) => i === 0 || a[0] !== out[i - 1][0] || a[1] !== out[i - 1][1]);
}

function readDecisions(x: DecisionExports, names: string[]): Decision[] {
  const n = x.recorded_count();
  const buf = x.memory.buffer;
  const i32 = (col: number) => new Int32Array(buf, x.rec_columns(col), n);
  const i64 = (col: number) => new BigInt64Array(buf, x.rec_columns(col), n);
  const [stream, kind] = [i32(0), i32(1)];
  const [index, event, time, record, value, mean] = [2, 3, 4, 5, 6, 7].map(i64);
  const out: Decision[] = [];
  for (let r = 0; r < n; r++) {
    const name = names[stream[r]];
    out.push({
      stream: name, index: Number(index[r]), event: Number(event[r]), record: Number(record[r]),
      timeNs: Number(time[r]), what: describeDecision(name, kind[r], Number(value[r]), Number(mean[r])),
    });
  }
  return out;
}

// `a:1,b:2` → addresses (the --force syntax).
export function parseForce(arg: string): Address[] {
  return arg.split(",").map((item) => {
    const m = /^([A-Za-z0-9_.-]+):(\d+)$/.exec(item.trim());
    if (!m) throw new ConfigError("force", `--force: expected <stream>:<index>[,...], got '${item}'`);
    return { stream: m[1], index: Number(m[2]) };
  });
}

// The failure mechanism of a reason line: the clause that says what broke, numbers
// (pids, xids, times, counts) left out. For a hang: what follows "<task> blocked in <fn>:".
export function reasonClass(verdict: string, reason: string): string {
  let r = reason;
  const blocked = / blocked in [^:]*: /.exec(r);
  if (blocked) r = r.slice(blocked.index + blocked[0].length);
  r = r.split(";")[0];
  return `${verdict}: ${r.replace(/0x[0-9a-f]+/gi, "#").replace(/\d+(\.\d+)?/g, "#").trim()}`;
}

// Delta debugging (Zeller & Hildebrandt, ddmin): a 1-minimal subset of `items` for which
// `fails` holds, given that it holds for all of them.
export function ddmin<T>(items: T[], fails: (subset: T[]) => boolean): T[] {
  if (fails([])) return [];
  let n = 2;
  while (items.length >= 2) {
    const size = Math.ceil(items.length / n);
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    let next: T[] | undefined;
    for (const c of chunks) if (fails(c)) { next = c; n = 2; break; }
    if (!next && chunks.length > 2) {
      for (let i = 0; i < chunks.length; i++) {
        const rest = chunks.filter((_, j) => j !== i).flat();
        if (fails(rest)) { next = rest; n = Math.max(n - 1, 2); break; }
      }
    }
    if (next) { items = next; continue; }
    if (n >= items.length) break;
    n = Math.min(2 * n, items.length);
  }
  return items;
}

export interface ExplainOptions {
  forks?: number;         // N forks per probe
  onProgress?: (phase: string, runs: number) => void;
  shouldStop?: () => boolean;
}

export interface Shrunk {
  verdict: string;
  reason: string;
  total: number;
  nonBenign: number;
  minimal: Decision[];     // as the minimal run drew them, in time order
  forced: Address[];       // the other non-benign decisions, forced benign
  replay: RunDetails;      // the run with only the minimal set left
  events: number;          // of the original run
  sameFailure: (d: RunDetails) => boolean;
}

export interface ExplainResult {
  scenario: string;
  seed: number;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  verdict: string;
  reason: string;
  decisions: { total: number; nonBenign: number; minimal: Decision[] };
  pointOfNoReturn: {
    event: number; timeNs: number; what: string; pFail: number; pFailBefore: number;
    firstAnomalyEvent: number; curve: [number, number][];
  };
  replay: { forced: string[]; traceHash: string; verdict: string; reason: string };
  runs: number;
}

export class Cancelled extends Error {}

export const addressOf = (a: Address) => `${a.stream}:${a.index}`;
export const P_NO_RETURN = 0.95;

type Go = (phase: string, o: ReplayOptions) => Replay;

function runner(module: WebAssembly.Module, config: RunConfig, opts: ExplainOptions): { go: Go; runs: () => number } {
  let runs = 0;
  const go: Go = (phase, o) => {
    if (opts.shouldStop?.()) throw new Cancelled("explain cancelled");
    runs++;
    opts.onProgress?.(phase, runs);
    return replay(module, config, o);
  };
  return { go, runs: () => runs };
}

// The 1-minimal set of the failing run's non-benign decisions (ddmin).
export function shrink(module: WebAssembly.Module, config: RunConfig, opts: ExplainOptions = {}, go = runner(module, config, opts).go): Shrunk {
  const orig = go("record", { record: true });
  const { verdict, reason } = orig.details;
  if (verdict === "ok") throw new ConfigError("seed", `${config.scenario} seed ${config.seed}: the run is ok; explain needs a failing run`);
  if (orig.decisions.length >= MAX_RECORDED) {
    throw new ConfigError("seed", `${config.scenario} seed ${config.seed}: more than ${MAX_RECORDED} non-benign decisions; explain a shorter run`);
  }
  const cls = reasonClass(verdict, reason);
  const sameFailure = (d: RunDetails) => d.verdict === verdict && reasonClass(d.verdict, d.reason) === cls;
  // Keep `kept`, force the rest of the non-benign decisions benign.
  const all = orig.decisions;
  const forcedBut = (kept: Decision[]) => {
    const k = new Set(kept.map(addressOf));
    return all.filter((d) => !k.has(addressOf(d))).map(({ stream, index }) => ({ stream, index }));
  };
  const minimal = ddmin(all, (kept) => sameFailure(go("shrink", { force: forcedBut(kept) }).details));
  const forced = forcedBut(minimal);
  const minRun = go("replay", { force: forced, record: true, traceCapacity: DEFAULT_TRACE_CAPACITY });
  const mk = new Set(minimal.map(addressOf));
  return {
    verdict, reason, total: orig.total, nonBenign: orig.nonBenign,
    minimal: minRun.decisions.filter((d) => mk.has(addressOf(d))).map((d) => inContext(minRun.world, d)),
    forced, replay: minRun.details, events: orig.details.events, sameFailure,
  };
}

export function explain(module: WebAssembly.Module, config: RunConfig, opts: ExplainOptions = {}): ExplainResult {
  const { go, runs } = runner(module, config, opts);
  const s = shrink(module, config, opts, go);
  const ponr = pointOfNoReturn(module, config, s.events, s.sameFailure, opts.forks ?? DEFAULT_FORKS, go);
  return {
    scenario: config.scenario, seed: config.seed, patches: config.patches, knobs: config.knobs,
    verdict: s.verdict, reason: s.reason,
    decisions: { total: s.total, nonBenign: s.nonBenign, minimal: s.minimal },
    pointOfNoReturn: ponr,
    replay: { forced: s.forced.map(addressOf), traceHash: s.replay.traceHash, verdict: s.replay.verdict, reason: s.replay.reason },
    runs: runs(),
  };
}

export const DEFAULT_FORKS = 16;

function pointOfNoReturn(
  module: WebAssembly.Module, config: RunConfig, events: number,
  sameFailure: (d: RunDetails) => boolean, forks: number, go: Go,
): ExplainResult["pointOfNoReturn"] {
  const fork = (k: number, salt: number) => sameFailure(go("fork", { fork: { after: k, salt } }).details);
  const probed = new Map<number, number>();   // P(fail | prefix k) from all N forks: the curve
  const pFail = (k: number): number => {
    let p = probed.get(k);
    if (p === undefined) {
      let fails = 0;
      for (let salt = 1; salt <= forks; salt++) if (fork(k, salt)) fails++;
      probed.set(k, (p = fails / forks));
    }
    return p;
  };
  // Does P(fail | prefix k) reach 0.95? The search stops a probe at its first miss too many.
  const spare = forks - Math.ceil(P_NO_RETURN * forks);
  const reaches = (k: number): boolean => {
    const p = probed.get(k);
    if (p !== undefined) return p >= P_NO_RETURN;
    let misses = 0;
    for (let salt = 1; salt <= forks; salt++) if (!fork(k, salt) && ++misses > spare) return false;
    probed.set(k, (forks - misses) / forks);
    return true;
  };
  const anomaly = firstAnomalyEvent(module, config);
  // Earliest k in [lo, hi] with P >= 0.95; at k = events nothing is left to draw: P = 1.
  // A base rate of 0.95 already (a failure no randomness avoids): k = 0.
  let lo = 0, hi = reaches(0) ? 0 : anomaly > 0 && reaches(anomaly) ? anomaly : events;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (reaches(mid)) hi = mid;
    else lo = mid + 1;
  }
  const k = lo;
  const pBefore = pFail(Math.max(0, k - 1));
  // Evenly spaced points up to the first anomaly, so the curve spans the run's prefix.
  const span = anomaly > 0 ? anomaly : events;
  for (let i = 0; i <= 4; i++) pFail(Math.floor((span * i) / 4));
  const at = eventAt(module, config, k);
  return {
    event: k, timeNs: at.timeNs, what: at.what, pFail: pFail(k), pFailBefore: pBefore,
    firstAnomalyEvent: anomaly,
    curve: [...probed.entries()].sort((a, b) => a[0] - b[0]),
  };
}

// The event (1-based) whose dispatch wrote the run's first anomaly record, or -1.
function firstAnomalyEvent(module: WebAssembly.Module, config: RunConfig): number {
  const probe = (w: World) => w.core.trace_first_anomaly() >= 0;
  const w = World.create(module, config, { traceCapacity: 0 });
  let before = 0;
  while (!w.finished && !probe(w)) { before = w.events; w.step(4096); }
  if (!probe(w)) return -1;
  const v = World.create(module, config, { traceCapacity: 0 });
  if (before > 0) v.step(before);
  while (!probe(v)) v.step(1);
  return v.events;
}

// A decision with the trace line written just before it was drawn (what the thread or
// device was doing), when the ring still holds it.
function inContext(w: World, d: Decision): Decision {
  if (d.record === 0) return { ...d, what: `${d.what}, while the world was built` };
  const page = w.tracePage(d.record - 1, 1);
  if (page.count === 0) return d;
  return { ...d, what: `${d.what}, after: ${formatRecord(w.names, w.entities(), recordAt(page, 0)).trim()}` };
}

// What event k of the original run did, in the trace's own words.
function eventAt(module: WebAssembly.Module, config: RunConfig, k: number): { timeNs: number; what: string } {
  const w = World.create(module, config, { traceCapacity: 1 << 16 });
  if (k === 0) return { timeNs: 0, what: "the world as built, before its first event" };
  if (k > 1) w.step(k - 1);
  const from = w.traceWritten;
  w.step(1);
  const page = w.tracePage(from, Math.min(w.traceWritten - from, 4));
  const ents = w.entities();
  const lines: string[] = [];
  for (let i = 0; i < page.count; i++) lines.push(formatRecord(w.names, ents, recordAt(page, i)));
  return { timeNs: w.now, what: lines.join(" | ") || "an event that wrote no trace record (a step's CPU time ending)" };
}

// npm run bench: explain time of the default seed of every scenario whose default seed fails.
export function explainBench(module: WebAssembly.Module): [string, string][] {
  const rows: [string, string][] = [];
  for (const { id } of SCENARIOS) {
    const config = validateConfig({ scenario: id });
    if (replay(module, config).details.verdict === "ok") continue;
    const t0 = performance.now();
    const e = explain(module, config);
    const s = (performance.now() - t0) / 1000;
    rows.push([`${id}: explain seed ${config.seed} (${DEFAULT_FORKS} forks)`,
      `${s.toFixed(2)} s, ${e.runs} runs, minimal ${e.decisions.minimal.length} of ${e.decisions.nonBenign} non-benign, point of no return at event ${e.pointOfNoReturn.event} (target < 10 s)`]);
  }
  return rows;
}
