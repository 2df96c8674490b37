// The trace ring buffer: fixed-size 32-byte records in linear memory, decoded by the
// host with the name table. Layout (little endian):
//   0 i64 time ns | 8 i32 entity | 12 u16 name id | 14 u16 flags | 16..31 i32 a b c d
// Every record also feeds a running 64-bit hash, so the trace hash covers the whole run
// even when the ring wraps or tracing is off (sweeps run with capacity 0).
import { now } from "./clock";

export const RECORD_BYTES: i32 = 32;
export const FLAG_ANOMALY: u16 = 1;

let buf: usize = 0;
let cap: i64 = 0;
let written: i64 = 0;
let hash: u64 = 0xcbf29ce484222325;
let firstAnomaly: i64 = -1;

export function traceInit(capacity: i32): void {
  cap = capacity;
  buf = cap > 0 ? heap.alloc(<usize>cap * RECORD_BYTES) : 0;
}

@inline function mix(h: u64, v: u64): u64 {
  return (h ^ v) * 0x100000001b3;
}

export function traceFlags(ent: i32, nameId: i32, flags: u16, a: i32, b: i32, c: i32, d: i32): void {
  let h = hash;
  h = mix(h, <u64>now);
  h = mix(h, (<u64><u32>ent << 32) | (<u64>nameId << 16) | <u64>flags);
  h = mix(h, (<u64><u32>a << 32) | <u64><u32>b);
  h = mix(h, (<u64><u32>c << 32) | <u64><u32>d);
  hash = h;
  if (flags & FLAG_ANOMALY && firstAnomaly < 0) firstAnomaly = written;
  if (cap > 0) {
    const p = buf + <usize>(written % cap) * RECORD_BYTES;
    store<i64>(p, now);
    store<i32>(p, ent, 8);
    store<u16>(p, <u16>nameId, 12);
    store<u16>(p, flags, 14);
    store<i32>(p, a, 16);
    store<i32>(p, b, 20);
    store<i32>(p, c, 24);
    store<i32>(p, d, 28);
  }
  written++;
}

export function trace(ent: i32, nameId: i32, a: i32 = 0, b: i32 = 0, c: i32 = 0, d: i32 = 0): void {
  traceFlags(ent, nameId, 0, a, b, c, d);
}

export function traceAnomaly(ent: i32, nameId: i32, a: i32 = 0, b: i32 = 0, c: i32 = 0, d: i32 = 0): void {
  traceFlags(ent, nameId, FLAG_ANOMALY, a, b, c, d);
}

export function traceBuf(): usize { return buf; }
export function traceCap(): i64 { return cap; }
export function traceWritten(): i64 { return written; }
export function traceHash(): u64 { return hash; }
export function traceFirstAnomaly(): i64 { return firstAnomaly; }
