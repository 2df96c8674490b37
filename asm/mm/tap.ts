// Ian Campbell's "tap:" instrumentation from seed 003: a short per-request log of every
// step that touches one O_DIRECT request's pages (rpc_task steps, sendpage, the skb's
// transmissions, the completion, the unmap), kept per request so the evidence can print
// "tap: i/n at <t> <function> <a> <b>" for the victim request.
import { now } from "../kernel/clock";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const MAX_OWNERS: i32 = 4096;
const PER_OWNER: i32 = 96;
let tapOwners: i32 = 0;   // owners below it have rows: the instance reset zeroes those
rowsBegin(MAX_OWNERS, (): i32 => tapOwners);
const tapT = zeroed<i64>(MAX_OWNERS * PER_OWNER);
const tapName = zeroed<i32>(MAX_OWNERS * PER_OWNER);
const tapA = zeroed<i32>(MAX_OWNERS * PER_OWNER);
const tapB = zeroed<i32>(MAX_OWNERS * PER_OWNER);
const tapN = zeroed<i32>(MAX_OWNERS);
rowsEnd();

export function tap(owner: i32, nameId: i32, a: i32, b: i32): void {
  if (owner < 0 || owner >= MAX_OWNERS) return;
  const n = unchecked(tapN[owner]);
  if (n >= PER_OWNER) return;
  const k = owner * PER_OWNER + n;
  if (owner >= tapOwners) tapOwners = owner + 1;
  unchecked(tapT[k] = now);
  unchecked(tapName[k] = nameId);
  unchecked(tapA[k] = a);
  unchecked(tapB[k] = b);
  unchecked(tapN[owner] = n + 1);
}

export function tapCount(owner: i32): i32 { return owner >= 0 && owner < MAX_OWNERS ? unchecked(tapN[owner]) : 0; }
export function tapTime(owner: i32, i: i32): i64 { return unchecked(tapT[owner * PER_OWNER + i]); }
export function tapNameAt(owner: i32, i: i32): i32 { return unchecked(tapName[owner * PER_OWNER + i]); }
export function tapAAt(owner: i32, i: i32): i32 { return unchecked(tapA[owner * PER_OWNER + i]); }
export function tapBAt(owner: i32, i: i32): i32 { return unchecked(tapB[owner * PER_OWNER + i]); }
