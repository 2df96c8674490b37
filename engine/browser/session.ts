// One workspace's simulation state, as the worker (engine/worker.ts) holds it: the finished
// run with its retained trace decoded into columns (for the timeline, trace filter and
// exports), and a second world that is re-run up to the UI's cursor for snapshots.
// Everything here runs off the main thread; results are plain, cloneable objects.
import { World, contractResult } from "../world";
import type { RunDetails } from "../world";
import type { ConfigInput, RunConfig } from "../config";
import { cliArgs, validateConfig } from "../config";
import { PcapWriter } from "../export/pcap";
import { CATEGORIES, FLAG_ANOMALY, RECORD_BYTES, formatRecord, recordAt } from "../trace";
import type { EntityInfo, TracePage } from "../trace";
import type { EvidenceBlock } from "../scenarios/types";
import type { RunStatus } from "../wasm";
import { stackPicture } from "../stack";
import type { StackPicture } from "../stack";
import type { CoreExports } from "../wasm";
import { preparer } from "../explain";
import type { Address } from "../explain";

export const ANOMALY_CAT = CATEGORIES.indexOf("anomaly");
const PCAP_CAP_BYTES = 128 << 20;
const MAX_CHECKPOINTS = 4;

export interface Lane { ent: number; label: string; kind: string }

export interface RunView {
  details: RunDetails;
  config: RunConfig;
  entities: EntityInfo[];
  lanes: Lane[];
  traceFirst: number;          // index of the first retained record
  traceCount: number;          // records retained
  firstAnomalyT: number;       // ns, or -1
  hasPcap: boolean;
}

// Activity per lane and time bin: counts and the most telling category (anomaly wins).
export interface Timeline {
  t0: number; t1: number; bins: number;
  counts: Uint16Array;         // lanes × bins
  cats: Uint8Array;            // lanes × bins: category index + 1, 0 = empty
  marks: Array<{ t: number; lane: number; index: number }>;   // anomaly records
}

export interface TraceFilter { text?: string; ent?: number; cats?: number[]; anomalies?: boolean }

export interface TraceLine { index: number; t: number; lane: number; cat: number; anomaly: boolean; text: string }

export interface SnapshotView {
  time: number;
  finished: boolean;
  entities: Array<EntityInfo & { state?: number; wchan?: string; cpu?: number; busyNs?: number; since?: number }>;
  hung: Array<{ ent: number; time: number; blockedNs: number; wchan: string }>;
  blocks: EvidenceBlock[];
  views: Record<string, EvidenceBlock[]>;   // the scenario's own views (spec.ownViews), by id
  stack: StackPicture | null;
}

// How far a run is: it ends at its time limit or its cost budget, whichever comes first.
export interface RunProgress { simNs: number; limitNs: number; cost: number; costBudget: number }

export class Session {
  private finished?: World;
  // Worlds re-run part way, for the state at the cursor: each is a checkpoint that a later
  // cursor can run forward from, most recently used last.
  private scrubs: World[] = [];
  private view?: RunView;
  private t = new Float64Array(0);
  private ent = new Int32Array(0);
  private cat = new Uint8Array(0);
  private flags = new Uint16Array(0);
  private page?: TracePage;
  private laneOf = new Map<number, number>();
  private filtered: Int32Array | null = null;
  private busyHistory: Array<{ time: number; busy: Map<number, number> }> = [];
  private prepare?: (x: CoreExports) => void;

  constructor(private module: WebAssembly.Module) {}

  // `onProgress` hears how far the run is, after each slice of about a million events.
  // `force`: decisions forced benign (explain's minimal replay), for the run and the scrub worlds.
  run(input: ConfigInput, onProgress?: (p: RunProgress) => void, force?: Address[]): RunView {
    this.prepare = force && preparer(this.module, { force });
    const world = World.create(this.module, input, { prepare: this.prepare });
    const details = world.run(onProgress && ((w) => onProgress({ simNs: w.now, limitNs: w.timeLimitNs, cost: w.cost, costBudget: w.costBudget })));
    this.finished = world;
    this.scrubs = [];
    this.filtered = null;
    this.busyHistory = [];
    const entities = world.entities();
    const lanes: Lane[] = entities.map((e) => ({ ent: e.id, label: e.pid ? `${e.comm}:${e.pid}` : e.comm, kind: e.kind }));
    this.laneOf = new Map(lanes.map((l, i) => [l.ent, i]));
    const { first, end } = world.traceRange();
    this.decode(world.tracePage(first, end - first), lanes);
    let firstAnomalyT = -1;
    if (details.firstAnomaly >= first) firstAnomalyT = recordAt(this.page!, details.firstAnomaly - first).t;
    this.view = {
      details, config: world.config, entities, lanes,
      traceFirst: first, traceCount: end - first, firstAnomalyT,
      hasPcap: typeof world.spec.pcap === "function",
    };
    return this.view;
  }

  // Records whose entity is not a known entity land on an extra "kernel" lane.
  private decode(page: TracePage, lanes: Lane[]): void {
    this.page = page;
    const n = page.count, v = new DataView(page.data), cats = this.finished!.names.categories;
    this.t = new Float64Array(n);
    this.ent = new Int32Array(n);
    this.cat = new Uint8Array(n);
    this.flags = new Uint16Array(n);
    let orphan = false;
    for (let i = 0; i < n; i++) {
      const o = i * RECORD_BYTES;
      this.t[i] = Number(v.getBigInt64(o, true));
      const e = v.getInt32(o + 8, true);
      const lane = this.laneOf.get(e);
      this.ent[i] = lane ?? lanes.length;
      if (lane === undefined) orphan = true;
      const fl = v.getUint16(o + 14, true);
      this.flags[i] = fl;
      this.cat[i] = fl & FLAG_ANOMALY ? ANOMALY_CAT : cats[v.getUint16(o + 12, true)] ?? 0;
    }
    if (orphan) lanes.push({ ent: -1, label: "kernel", kind: "kernel" });
  }

  private current(): World {
    if (!this.finished) throw new Error("no run yet");
    return this.finished;
  }

  // First retained record at or after time t (binary search on the time column).
  indexAt(tNs: number): number {
    let lo = 0, hi = this.t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid] < tNs) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  timeline(t0: number, t1: number, bins: number): Timeline {
    const lanes = this.view!.lanes.length;
    const counts = new Uint16Array(lanes * bins);
    const cats = new Uint8Array(lanes * bins);
    const marks: Timeline["marks"] = [];
    const span = Math.max(1, t1 - t0);
    const end = this.indexAt(t1 + 1);
    for (let i = this.indexAt(t0); i < end; i++) {
      const b = Math.min(bins - 1, Math.floor(((this.t[i] - t0) / span) * bins));
      const k = this.ent[i] * bins + b;
      if (counts[k] < 65535) counts[k]++;
      const c = this.cat[i];
      if (c === ANOMALY_CAT) {
        cats[k] = c + 1;
        if (marks.length < 500) marks.push({ t: this.t[i], lane: this.ent[i], index: i + this.view!.traceFirst });
      } else if (cats[k] !== ANOMALY_CAT + 1) cats[k] = c + 1;
    }
    return { t0, t1, bins, counts, cats, marks };
  }

  private line(i: number): TraceLine {
    const w = this.current();
    const r = recordAt(this.page!, i);
    return { index: r.index, t: r.t, lane: this.ent[i], cat: this.cat[i], anomaly: (this.flags[i] & FLAG_ANOMALY) !== 0, text: formatRecord(w.names, this.view!.entities, r) };
  }

  // Applies a filter; returns how many records match. Lines are then read by position.
  filter(f: TraceFilter): number {
    const text = f.text?.trim().toLowerCase() ?? "";
    const catSet = f.cats && f.cats.length ? new Set(f.cats) : null;
    const hasEnt = f.ent !== undefined && f.ent >= 0;
    if (!text && !catSet && !hasEnt && !f.anomalies) {
      this.filtered = null;
      return this.t.length;
    }
    const out: number[] = [];
    for (let i = 0; i < this.t.length; i++) {
      if (hasEnt && this.ent[i] !== f.ent) continue;
      if (catSet && !catSet.has(this.cat[i])) continue;
      if (f.anomalies && !(this.flags[i] & FLAG_ANOMALY)) continue;
      if (text && !this.line(i).text.toLowerCase().includes(text)) continue;
      out.push(i);
    }
    this.filtered = Int32Array.from(out);
    return out.length;
  }

  lines(from: number, count: number): TraceLine[] {
    const n = this.filtered ? this.filtered.length : this.t.length;
    const out: TraceLine[] = [];
    for (let k = Math.max(0, from); k < Math.min(n, from + count); k++) out.push(this.line(this.filtered ? this.filtered[k] : k));
    return out;
  }

  // Lines by record position, ignoring the trace view's filter: Compare reads two runs in step.
  linesAt(from: number, count: number): TraceLine[] {
    const out: TraceLine[] = [];
    for (let i = Math.max(0, from); i < Math.min(this.t.length, from + count); i++) out.push(this.line(i));
    return out;
  }

  // The last record of a lane in [t0, t1] (the timeline's hover detail), or null.
  laneRecord(lane: number, t0: number, t1: number): TraceLine | null {
    for (let i = this.indexAt(t1 + 1) - 1, lo = this.indexAt(t0); i >= lo; i--) if (this.ent[i] === lane) return this.line(i);
    return null;
  }

  // Position (in the filtered list) of the first line at or after time t.
  positionAt(tNs: number): number {
    const i = this.indexAt(tNs);
    if (!this.filtered) return i;
    let lo = 0, hi = this.filtered.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.filtered[mid] < i) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // Time of the next record after t (dir > 0) or of the last one before t: the step keys.
  stepFrom(tNs: number, dir: number): number {
    if (dir > 0) {
      const i = this.indexAt(tNs + 1);
      return i < this.t.length ? this.t[i] : tNs;
    }
    const i = this.indexAt(tNs) - 1;
    return i >= 0 ? this.t[i] : 0;
  }

  // The world whose state answers for time t: the finished run itself at or after its end;
  // else the checkpoint latest at or before t, run forward; only when every checkpoint is
  // past t does a world start again from 0 (it then becomes a checkpoint too).
  private worldAt(tNs: number): World {
    const w = this.current();
    if (tNs >= w.now) return w;
    let best = -1;
    this.scrubs.forEach((s, i) => { if (s.now <= tNs && (best < 0 || s.now > this.scrubs[best].now)) best = i; });
    let s: World;
    if (best >= 0) s = this.scrubs.splice(best, 1)[0];
    else {
      s = World.create(this.module, w.config, { traceCapacity: 1, prepare: this.prepare });
      if (this.scrubs.length >= MAX_CHECKPOINTS) this.scrubs.shift();
    }
    this.scrubs.push(s);
    s.runUntil(tNs);
    return s;
  }

  // The state at simulated time t, with the model's snapshot blocks.
  snapshotAt(tNs: number): SnapshotView {
    const w = this.current();
    tNs = Math.floor(tNs);    // World.runUntil never returns for a fractional time (now is whole ns)
    const snap = this.worldAt(tNs).snapshot();
    const ctx = { entities: snap.entities, simTimeNs: snap.time, patches: w.config.patches, knobs: w.config.knobs };
    // A formatter that throws shows its error in place of its blocks.
    const safely = (what: string, read: () => EvidenceBlock[] | undefined): EvidenceBlock[] => {
      try {
        return read() ?? [];
      } catch (e) {
        return [{ id: "error", title: "snapshot", lines: [`${what} failed: ${(e as Error).message}`] }];
      }
    };
    const blocks = safely("snapshotBlocks", () => w.spec.snapshotBlocks?.(snap.model, ctx));
    const views = Object.fromEntries((w.spec.ownViews ?? []).map((v) => [v.id, safely(`view ${v.id}`, () => v.read(snap.model, ctx))]));
    const stack = stackPicture(w.spec, {
      time: snap.time, model: snap.model, entities: snap.entities, waits: snap.waits ?? [], knobs: w.config.knobs,
      recentBusy: this.recentBusy(snap.time, snap.entities),
    });
    return { time: snap.time, finished: snap.finished, entities: snap.entities, hung: snap.hung, blocks, views, stack };
  }

  // A thread's CPU share over the last ~5% of the run before t, from the busy times of
  // earlier pictures (play and scrubbing leave a trail); since the start after a jump.
  private recentBusy(t: number, ents: Array<{ id: number; busyNs?: number }>): (ent: number) => number {
    const busy = new Map(ents.filter((e) => e.busyNs !== undefined).map((e) => [e.id, e.busyNs!]));
    const hist = this.busyHistory.filter((h) => h.time < t);
    const horizon = t - 0.05 * Math.max(1, this.view?.details.simTimeNs ?? t);
    let base = { time: 0, busy: new Map<number, number>() };
    for (const h of hist) if (h.time <= horizon) base = h;
    hist.push({ time: t, busy });
    this.busyHistory = hist.slice(-256);
    const dt = t - base.time;
    return (ent) => (dt > 0 ? Math.max(0, Math.min(1, ((busy.get(ent) ?? 0) - (base.busy.get(ent) ?? 0)) / dt)) : 0);
  }

  // The finished run (exporters read it).
  get world(): World {
    return this.current();
  }

  // The capture, up to PCAP_CAP_BYTES: past that the worker stops building it (a 3600 s
  // run's is 614 MB) and says to export it from the CLI, which streams it to a file.
  pcap(capBytes = PCAP_CAP_BYTES): Uint8Array | null {
    const w = this.current();
    if (!w.spec.pcap) return null;
    const parts: Uint8Array[] = [];
    let size = 0;
    const writer = new PcapWriter((b) => {
      size += b.length;
      if (size > capBytes) {
        throw new Error(`the capture is over ${capBytes >> 20} MiB, more than the lab builds in the browser; export it with the CLI, which streams it to a file: npx iostack export pcap ${cliArgs(w.config)} -o capture.pcap`);
      }
      parts.push(b);
    });
    w.spec.pcap(w.rawEvidence(), w.describeContext(), writer);
    writer.bytes();
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  runJson(): string {
    return JSON.stringify(contractResult(this.current().result()), null, 2);
  }
}
