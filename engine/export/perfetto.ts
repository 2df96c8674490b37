// Chrome trace-event JSON (loads in ui.perfetto.dev and chrome://tracing) from any
// scenario's trace records: one process per host, one thread track per simulated
// thread / rpc_task / entity, each record a slice lasting until that entity's next
// record (capped), and one async track per RPC XID (any record whose format names an
// "xid=%x" argument) spanning its first to last record.
import type { World } from "../world";
import { recordAt, formatArgs, FLAG_ANOMALY, CATEGORIES } from "../trace";
import type { EntityInfo } from "../trace";

export interface TraceEvent {
  name: string; ph: string; ts: number; pid: number; tid?: number; dur?: number;
  cat?: string; id?: string; args?: Record<string, unknown>; s?: string;
}
export interface PerfettoTrace { traceEvents: TraceEvent[]; displayTimeUnit: "ns"; metadata: Record<string, unknown> }

const MAX_SLICE_US = 1000;   // a record's slice ends at the entity's next record, or after 1 ms

// Which host an entity belongs to. Scenarios name hosts through their comms; unknown
// entities land in the process named after their kind.
const SERVER_COMMS = /^(nfsd|nfs-server|knfsd|tapdisk|xenstored|xl|blkback|ost|lnet|socknal)/;
export function defaultHostOf(e: EntityInfo | undefined): string {
  if (!e) return "kernel";
  if (e.kind === "host") return e.comm;
  if (SERVER_COMMS.test(e.comm) && e.comm.startsWith("nfsd")) return "nfs-server";
  return "client";
}

// Emits the trace's events one by one: a slice as soon as its entity's next record ends
// it, the rest (open slices, XID spans, names) at the end. Only the open slices and the
// per-XID and per-track summaries are held, not the events.
export function emitPerfettoEvents(w: World, emit: (ev: TraceEvent) => void, hostOf: (e: EntityInfo | undefined) => string = defaultHostOf): Record<string, unknown> {
  const ents = w.entities();
  const { first, end } = w.traceRange();
  const page = w.tracePage(first, end - first);
  const hosts = new Map<string, number>();
  const pidOf = (h: string) => { let p = hosts.get(h); if (p === undefined) { p = hosts.size + 1; hosts.set(h, p); } return p; };
  const open = new Map<number, TraceEvent>();
  const tracks = new Map<string, { pid: number; tid: number }>();
  const xids = new Map<number, { first: number; last: number; pid: number; names: Set<string> }>();
  const xidArgOf = new Map<number, number>();
  for (let i = 0; i < page.count; i++) {
    const r = recordAt(page, i);
    const e = ents[r.ent];
    const pid = pidOf(hostOf(e));
    const tid = r.ent + 1;
    const ts = r.t / 1000;
    const prev = open.get(tid);
    if (prev) {
      prev.dur = Math.max(0.001, Math.min(MAX_SLICE_US, ts - prev.ts));
      emit(prev);
    }
    const cat = CATEGORIES[w.names.categories[r.name]] ?? "step";
    const ev: TraceEvent = {
      name: w.names.names[r.name], ph: "X", ts, dur: 0.001, pid, tid, cat,
      args: { args: formatArgs(w.names, r), record: r.index },
    };
    if (r.flags & FLAG_ANOMALY) ev.args!.anomaly = true;
    open.set(tid, ev);
    if (!tracks.has(`${pid}/${tid}`)) tracks.set(`${pid}/${tid}`, { pid, tid });
    let xidArg = xidArgOf.get(r.name);
    if (xidArg === undefined) xidArgOf.set(r.name, (xidArg = xidArgIndex(w.names.formats[r.name] ?? "")));
    if (xidArg >= 0) {
      const xid = [r.a, r.b, r.c, r.d][xidArg] >>> 0;
      const x = xids.get(xid);
      if (x) { x.last = ts; x.names.add(ev.name); } else xids.set(xid, { first: ts, last: ts, pid, names: new Set([ev.name]) });
    }
  }
  for (const ev of open.values()) emit(ev);
  for (const [xid, x] of xids) {
    const id = "0x" + xid.toString(16).padStart(8, "0");
    emit({ name: `xid ${id}`, ph: "b", ts: x.first, pid: x.pid, cat: "rpc", id });
    emit({ name: `xid ${id}`, ph: "e", ts: Math.max(x.last, x.first + 0.001), pid: x.pid, cat: "rpc", id, args: { steps: [...x.names].join(", ") } });
  }
  for (const [h, pid] of hosts) emit({ name: "process_name", ph: "M", ts: 0, pid, args: { name: h } });
  for (const { pid, tid } of tracks.values()) {
    const e = ents[tid - 1];
    emit({ name: "thread_name", ph: "M", ts: 0, pid, tid, args: { name: e ? `${e.comm}${e.pid ? ":" + e.pid : ""} (${e.kind})` : `#${tid - 1}` } });
  }
  return { scenario: w.config.scenario, seed: w.config.seed, patches: w.config.patches, knobs: w.config.knobs, traceRecords: end, firstRetained: first };
}

// Which argument of a record format is the RPC XID ("xid=%x"), or -1.
function xidArgIndex(fmt: string): number {
  const m = /%[dxnte]/g;
  let k = 0, mm: RegExpExecArray | null;
  while ((mm = m.exec(fmt)) !== null) {
    if (fmt.slice(Math.max(0, mm.index - 4), mm.index) === "xid=") return k;
    k++;
  }
  return -1;
}

export function perfettoTrace(w: World, hostOf: (e: EntityInfo | undefined) => string = defaultHostOf): PerfettoTrace {
  const events: TraceEvent[] = [];
  const metadata = emitPerfettoEvents(w, (ev) => events.push(ev), hostOf);
  return { traceEvents: events, displayTimeUnit: "ns", metadata };
}

// The trace as JSON text handed to `sink` in chunks of about 1 MiB as its events are
// made: neither the events nor the text of the whole file (141 MB for a heavy TCP run)
// are ever held at once.
export function writePerfettoJson(w: World, sink: (chunk: Uint8Array) => void): void {
  const enc = new TextEncoder();
  let buf = `{"displayTimeUnit":"ns","traceEvents":[`;
  let n = 0;
  const metadata = emitPerfettoEvents(w, (ev) => {
    buf += (n++ ? "," : "") + JSON.stringify(ev);
    if (buf.length >= 1 << 20) { sink(enc.encode(buf)); buf = ""; }
  });
  sink(enc.encode(`${buf}],"metadata":${JSON.stringify(metadata)}}`));
}
