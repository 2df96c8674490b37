// Decoding and formatting of the core's 32-byte trace records (layout: asm/kernel/trace.ts).
import type { NameTable } from "./wasm";

export const RECORD_BYTES = 32;
export const FLAG_ANOMALY = 1;
export const CATEGORIES = ["step", "state", "queue", "net", "log", "sched", "anomaly"] as const;

export interface TraceRecord {
  index: number;
  t: number;        // ns
  ent: number;
  name: number;
  flags: number;
  a: number; b: number; c: number; d: number;
}

export interface EntityInfo { id: number; kind: string; comm: string; pid: number }

// A page of raw records as copied out of linear memory: cheap to transfer to the UI.
export interface TracePage {
  first: number;    // index of the first record in the page
  count: number;
  data: ArrayBuffer;
}

export function recordAt(page: TracePage, i: number): TraceRecord {
  const v = new DataView(page.data, i * RECORD_BYTES, RECORD_BYTES);
  return {
    index: page.first + i,
    t: Number(v.getBigInt64(0, true)),
    ent: v.getInt32(8, true),
    name: v.getUint16(12, true),
    flags: v.getUint16(14, true),
    a: v.getInt32(16, true), b: v.getInt32(20, true), c: v.getInt32(24, true), d: v.getInt32(28, true),
  };
}

export function* records(page: TracePage): Generator<TraceRecord> {
  for (let i = 0; i < page.count; i++) yield recordAt(page, i);
}

const ERRNO: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM",
  13: "EACCES", 14: "EFAULT", 16: "EBUSY", 22: "EINVAL", 28: "ENOSPC", 32: "EPIPE",
  71: "EPROTO", 101: "ENETUNREACH", 103: "ECONNABORTED", 104: "ECONNRESET", 105: "ENOBUFS",
  107: "ENOTCONN", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 112: "EHOSTDOWN",
  113: "EHOSTUNREACH", 116: "ESTALE", 512: "ERESTARTSYS",
};

export function errnoName(v: number): string {
  if (v >= 0) return String(v);
  const n = ERRNO[-v];
  return n ? `-${n}` : String(v);
}

export function formatSeconds(ns: number, digits = 6): string {
  return (ns / 1e9).toFixed(digits);
}

export function formatArgs(table: NameTable, r: TraceRecord): string {
  const fmt = table.formats[r.name] ?? "";
  if (!fmt) return "";
  const args = [r.a, r.b, r.c, r.d];
  let k = 0;
  return fmt.replace(/%([dxnte%])/g, (_, c: string) => {
    if (c === "%") return "%";
    const v = args[k++] ?? 0;
    switch (c) {
      case "d": return String(v);
      case "x": return (v >>> 0).toString(16).padStart(8, "0");
      case "n": return table.names[v] ?? `?${v}`;
      case "t": return (v / 1000).toFixed(3);
      case "e": return errnoName(v);
      default: return String(v);
    }
  });
}

export function actorLabel(ents: EntityInfo[], id: number): string {
  const e = ents[id];
  if (!e) return `#${id}`;
  return e.pid ? `${e.comm}:${e.pid}` : e.comm;
}

// One kernel-log-like line: "[   12.345678] rpciod:3 xprt_alloc_slot status=-EAGAIN".
export function formatRecord(table: NameTable, ents: EntityInfo[], r: TraceRecord): string {
  const args = formatArgs(table, r);
  const mark = r.flags & FLAG_ANOMALY ? " !" : "";
  return `[${formatSeconds(r.t).padStart(13)}] ${actorLabel(ents, r.ent)} ${table.names[r.name]}${args ? " " + args : ""}${mark}`;
}
