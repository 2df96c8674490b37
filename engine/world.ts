// The host API, the same in a Web Worker (through Comlink) and in Node: create a world
// from a validated config, run it (all at once, by events, or up to a time), read the
// verdict and the result of the DESIGN.md contract, pages of trace and state snapshots.
import { instantiate, isCut, nameTable, readJson, traceHashHex, VERDICTS, RUN_STATUS, SimAbort } from "./wasm";
import type { CoreExports, NameTable, Runner, RunStatus, Verdict } from "./wasm";
import { ConfigError, knobNumber, parseSeed, validateConfig } from "./config";
import type { ConfigInput, RunConfig } from "./config";
import { requireScenario } from "./config";
import type { DescribeContext, KnobValue, ScenarioSpec } from "./scenarios/types";
import { RECORD_BYTES, formatRecord, recordAt } from "./trace";
import type { EntityInfo, TracePage } from "./trace";

export interface RunResult {
  scenario: string;
  seed: number;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  verdict: Verdict;
  status: RunStatus;
  reason: string;
  evidence: Record<string, unknown>;
  simTimeNs: number;
  events: number;
  traceHash: string;
  // which timing model made the run (asm/kernel/timing.ts): "realistic", "stress", or
  // "stock" for scenarios not yet moved onto it
  timingMode: string;
}

export interface RunDetails extends RunResult {
  cost: number;              // units of the cost budget spent (events + charged model work)
  timing: Record<string, unknown>;   // the timing model's counters (preemptions, starvations, interrupt time)
  traceRecords: number;      // records written (the ring keeps the last traceCapacity)
  firstAnomaly: number;      // index of the first anomaly record, or -1
}

export interface WorldOptions {
  traceCapacity?: number;    // records kept; 0 for sweeps (the hash still covers all)
  runner?: Runner;           // reuse its instance (sweeps) instead of instantiating one
  limitSearch?: boolean;     // on a model limit, look for the largest value that works (default on)
  costBudget?: number;       // units of work before the run is cut (default: the module's, ~5 s)
  // called on the fresh instance before the world is built (explain: forced decisions, forks)
  prepare?: (x: CoreExports) => void;
}

export const DEFAULT_TRACE_CAPACITY = 1 << 20;
const SLICE_EVENTS = 1 << 20;

// A config's scenario, and its knobs and patches as the module numbers them, resolved once
// per config object and module: a sweep builds a world from one base config seed after
// seed, and right after an instance reset (which leaves the caches cold) resolving them
// again cost UDP's 40 knobs about 0.1 ms. Configs are not changed in place once validated.
interface Resolved {
  module: WebAssembly.Module;
  spec: ScenarioSpec;
  scn: number;
  knobIds: number[];
  knobValues: number[];
  patchIds: number[];
  patchOn: number[];
}
const resolvedConfigs = new WeakMap<RunConfig, Resolved>();

function resolve(module: WebAssembly.Module, names: NameTable, config: RunConfig): Resolved {
  const hit = resolvedConfigs.get(config);
  if (hit && hit.module === module) return hit;
  const spec = requireScenario(config.scenario);
  const scn = names.scenarios.get(config.scenario);
  if (scn === undefined) throw new Error(`the simulation module has no scenario '${config.scenario}'`);
  const r: Resolved = { module, spec, scn, knobIds: [], knobValues: [], patchIds: [], patchOn: [] };
  for (const [name, v] of Object.entries(config.knobs)) {
    const id = names.knobs.get(name);
    if (id === undefined) throw new Error(`the simulation module has no knob '${name}'`);
    r.knobIds.push(id);
    r.knobValues.push(knobNumber(spec, name, v));
  }
  for (const [pid, on] of Object.entries(config.patches)) {
    const id = names.patches.get(pid);
    if (id === undefined) throw new Error(`the simulation module has no patch '${pid}'`);
    r.patchIds.push(id);
    r.patchOn.push(on ? 1 : 0);
  }
  resolvedConfigs.set(config, r);
  return r;
}

export class World {
  readonly spec: ScenarioSpec;
  readonly config: RunConfig;
  readonly names: NameTable;
  private x: CoreExports;
  private details?: RunDetails;

  // `key`: the config object whose scenario, knobs and patches these are (a sweep's base).
  private constructor(private module: WebAssembly.Module, config: RunConfig, private opts: WorldOptions, key = config) {
    this.config = config;
    this.x = opts.runner ? opts.runner.fresh() : instantiate(module);
    this.names = nameTable(module, this.x);
    const r = resolve(module, this.names, key);
    this.spec = r.spec;
    for (let i = 0; i < r.knobIds.length; i++) this.x.set_knob(r.knobIds[i], r.knobValues[i]);
    for (let i = 0; i < r.patchIds.length; i++) this.x.set_patch(r.patchIds[i], r.patchOn[i]);
    const scn = r.scn;
    if (opts.costBudget !== undefined) this.x.set_cost_budget(opts.costBudget);
    const cap = opts.traceCapacity ?? DEFAULT_TRACE_CAPACITY;
    const seed = BigInt(config.seed);
    opts.prepare?.(this.x);
    this.guard(() => this.x.world_init(scn, Number(seed & 0xffffffffn), Number(seed >> 32n), cap));
  }

  // A model that hits one of its fixed limits (pool sizes, file sizes) aborts. Every knob
  // was in range, so it is the combination that is too big: say so, naming the limit, as
  // a configuration error (CLI exit 2, an inline message in the lab) rather than a trap.
  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SimAbort)) throw e;
      const what = e.message.replace(/^simulation aborted: /, "");
      const beyond = `${this.config.scenario}: this configuration is beyond the model's limits (${what})`;
      const knob = Object.entries(this.spec.limitKnobs ?? {}).find(([m]) => what.includes(m))?.[1];
      if (!knob) throw new ConfigError("knobs", `${beyond}; use a smaller workload`);
      if (this.opts.limitSearch === false) throw new ConfigError(`knob ${knob}`, `${beyond}; lower ${knob}`);
      const best = this.largestThatWorks(knob);
      throw new ConfigError(`knob ${knob}`, best === undefined
        ? `${beyond}; even the smallest ${knob} is too much with the other knobs as they are`
        : `${beyond}; with the other knobs as they are, ${knob} works up to ${best.exact ? "" : "at least "}${best.value} (now ${this.config.knobs[knob]})`);
    }
  }

  // Bisects `knob` between its minimum and its value now for the largest value whose run
  // stays within the model's limits. The probes share one cost budget (the run's own), so
  // the search costs at most about one more run; when it runs out, the value found so far
  // is a lower bound.
  private largestThatWorks(knob: string): { value: number; exact: boolean } | undefined {
    const k = this.spec.knobs.find((x) => x.name === knob)!;
    let left = this.costBudget;
    // true: within the limits; false: aborted; undefined: the shared budget ran out first
    const works = (v: number): boolean | undefined => {
      if (left <= 0) return undefined;
      let w: World | undefined;
      try {
        w = World.create(this.module, { ...this.config, knobs: { ...this.config.knobs, [knob]: v } }, { ...this.opts, traceCapacity: 0, limitSearch: false, costBudget: left });
        return w.run().status === "event-budget" ? undefined : true;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return false;
      } finally {
        left -= w?.cost ?? 0;
      }
    };
    let lo = k.min ?? 0, hi = this.config.knobs[knob] as number;
    const atMin = works(lo);
    if (atMin === false) return undefined;
    if (atMin === undefined) return { value: lo, exact: false };
    const step = k.type === "int" ? 1 : Math.max(hi * 1e-3, 1e-6);
    while (hi - lo > step) {
      const mid = k.type === "int" ? Math.floor((lo + hi) / 2) : Number(((lo + hi) / 2).toPrecision(4));
      if (mid <= lo || mid >= hi) break;
      const ok = works(mid);
      if (ok === undefined) return { value: lo, exact: false };
      if (ok) lo = mid; else hi = mid;
    }
    return { value: lo, exact: true };
  }

  // Validates `input` (throws ConfigError naming the field) and builds the world.
  static create(module: WebAssembly.Module, input: ConfigInput | RunConfig, opts: WorldOptions = {}): World {
    return new World(module, validateConfig(input as ConfigInput), opts);
  }

  // Builds the world of a config validateConfig returned, with another seed, without
  // validating the rest again (a sweep's seeds: for some scenarios that costs more than
  // the instance reset).
  static withSeed(module: WebAssembly.Module, config: RunConfig, seed: number, opts: WorldOptions = {}): World {
    return new World(module, { ...config, seed: parseSeed(seed) }, opts, config);
  }

  get core(): CoreExports { return this.x; }
  get finished(): boolean { return this.x.finished() !== 0; }
  get now(): number { return this.x.now_ns(); }
  get events(): number { return this.x.events(); }
  get cost(): number { return this.x.cost(); }
  get costBudget(): number { return this.x.cost_budget(); }
  get timeLimitNs(): number { return this.x.time_limit_ns(); }
  // The verdict alone, without the evidence JSON and describe() of result() (sweeps).
  get verdict(): Verdict { return VERDICTS[this.x.verdict()]; }
  get status(): RunStatus { return RUN_STATUS[this.x.status()]; }

  // Runs at most `maxEvents` more events; returns true when the run is over.
  step(maxEvents = 1): boolean {
    this.guard(() => this.x.run(maxEvents, Number.MAX_SAFE_INTEGER));
    return this.finished;
  }

  // Runs every event up to simulated time `tNs` (or to the end, if sooner).
  runUntil(tNs: number): boolean {
    tNs = Math.floor(tNs);     // the clock counts whole nanoseconds
    while (!this.finished && this.guard(() => this.x.run(SLICE_EVENTS, tNs)) === 0 && this.x.now_ns() < tNs) {
      // a slice ended on its event count: go on
    }
    return this.finished;
  }

  // Runs to the end; `onSlice` is called after each slice of events (progress).
  run(onSlice?: (w: World) => void): RunDetails {
    while (!this.finished) {
      this.guard(() => this.x.run(SLICE_EVENTS, Number.MAX_SAFE_INTEGER));
      onSlice?.(this);
    }
    return this.result();
  }

  entities(): EntityInfo[] {
    return readJson(this.x, this.x.entities());
  }

  // The state at the current simulated time: kernel part and the model's own.
  snapshot(): any {
    return readJson(this.x, this.x.snapshot(1));
  }

  // The model's evidence object as written by its evidence hook (before describe()).
  rawEvidence(): any {
    return readJson(this.x, this.x.evidence());
  }

  // The entity table is read only when a describe() asks for it: the reason of an ok run
  // never does, and for sunrpc the table (one row per rpc_task) is most of a sweep's cost.
  describeContext(): DescribeContext {
    let ents: EntityInfo[] | undefined;
    const read = () => (ents ??= this.entities());
    return {
      get entities() { return read(); },
      simTimeNs: this.x.now_ns(),
      patches: this.config.patches,
      knobs: this.config.knobs,
    };
  }

  result(): RunDetails {
    if (this.details) return this.details;
    if (!this.finished) throw new Error("the run has not finished");
    const verdict = VERDICTS[this.x.verdict()];
    const raw = this.rawEvidence();
    const described = this.spec.describe(verdict, raw, this.describeContext());
    const status = RUN_STATUS[this.x.status()];
    this.details = {
      scenario: this.config.scenario,
      seed: this.config.seed,
      patches: this.config.patches,
      knobs: this.config.knobs,
      verdict,
      status,
      reason: isCut(status) ? cutReason(status, verdict, described.reason, raw, this) : described.reason,
      evidence: described.evidence,
      simTimeNs: this.x.now_ns(),
      events: this.x.events(),
      cost: this.cost,
      traceHash: traceHashHex(this.x),
      timingMode: raw.timing.mode,
      timing: raw.timing,
      traceRecords: this.x.trace_written(),
      firstAnomaly: this.x.trace_first_anomaly(),
    };
    return this.details;
  }

  get traceHash(): string { return traceHashHex(this.x); }
  get traceWritten(): number { return this.x.trace_written(); }

  // The retained records: the ring keeps the last `capacity` of them.
  traceRange(): { first: number; end: number } {
    const end = this.x.trace_written();
    return { first: Math.max(0, end - this.x.trace_cap()), end };
  }

  // The retained trace as kernel-log-like lines, those matching `filter` if given.
  traceLines(filter?: RegExp): string[] {
    const ents = this.entities();
    const { first, end } = this.traceRange();
    const page = this.tracePage(first, end - first);
    const out: string[] = [];
    for (let i = 0; i < page.count; i++) {
      const line = formatRecord(this.names, ents, recordAt(page, i));
      if (!filter || filter.test(line)) out.push(line);
    }
    return out;
  }

  // Copies records [from, from+count) out of the ring (clamped to what is retained).
  tracePage(from: number, count: number): TracePage {
    const { first, end } = this.traceRange();
    const start = Math.max(from, first);
    const stop = Math.min(end, from + count);
    const n = Math.max(0, stop - start);
    const out = new Uint8Array(n * RECORD_BYTES);
    const cap = this.x.trace_cap();
    const base = this.x.trace_buf();
    const mem = new Uint8Array(this.x.memory.buffer);
    for (let i = 0; i < n; ) {
      const slot = (start + i) % cap;
      const run = Math.min(n - i, cap - slot);
      out.set(mem.subarray(base + slot * RECORD_BYTES, base + (slot + run) * RECORD_BYTES), i * RECORD_BYTES);
      i += run;
    }
    return { first: start, count: n, data: out.buffer };
  }
}

// Runs one configuration to the end, with no trace kept (sweeps).
export function runOnce(module: WebAssembly.Module, input: ConfigInput | RunConfig, opts: WorldOptions = {}): RunDetails {
  return World.create(module, input, opts).run();
}

// The run --json object of DESIGN.md, with how the run ended.
export function contractResult(d: RunDetails): RunResult {
  const { scenario, seed, patches, knobs, verdict, status, reason, evidence, simTimeNs, events, traceHash, timingMode } = d;
  return { scenario, seed, patches, knobs, verdict, status, reason, evidence, simTimeNs, events, traceHash, timingMode };
}


const secs = (ns: number) => `${(ns / 1e9).toFixed(3)} s`;

function cutReason(status: RunStatus, verdict: Verdict, reason: string, raw: any, w: World): string {
  const by = status === "time-limit" ? `the simulated-time limit (${secs(w.timeLimitNs)})`
    : status === "event-budget" ? `the cost budget (${w.events} events, ${w.cost} units of work) at ${secs(w.now)} simulated`
    : `cancellation at ${secs(w.now)} simulated`;
  const cut = `cut short by ${by}`;
  if (verdict === "ok") return `${cut}: no detector fired before then; this is not a clean run (use a smaller workload)`;
  const hung = (raw?.hung ?? []) as { wchan: string; blockedNs: number }[];
  if (verdict === "hang" && hung.length) {
    return `${cut} with ${hung.length} task(s) reported by khungtaskd (blocked ${secs(hung[0].blockedNs)} in ${hung[0].wchan}); whether they would recover is unknown`;
  }
  return `${cut}, after the detectors found: ${reason}`;
}
