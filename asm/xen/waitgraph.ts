// Blocking with a wait-for edge. Every sleep that waits on another party records the
// edge and asks the core's wait-for graph whether it closed a cycle; the first cycle
// found is kept for the evidence (who waited on what, held by whom).
import { wfWait, wfCycleFrom, wfWaitsOn, resHolderOf, resNew } from "../kernel/waitfor";
import { traceAnomaly } from "../kernel/trace";
import { fn, CAT_ANOMALY } from "../kernel/names";
import { now } from "../kernel/clock";
import { zeroed } from "../kernel/mem";

const MAX_CHAIN: i32 = 16;
const cycEnt = zeroed<i32>(MAX_CHAIN);
const cycRes = zeroed<i32>(MAX_CHAIN);
let cycLen: i32 = 0;
let cycTime: i64 = -1;
let cyclesFound: i32 = 0;

const MAX_RES: i32 = 4096;
const resNameOf = zeroed<i32>(MAX_RES);
const resObjOf = zeroed<i32>(MAX_RES);

// resNew, remembering the name so that a cycle can be described after it broke.
export function xenRes(nameId: i32, obj: i32): i32 {
  const r = resNew(nameId, obj);
  unchecked(resNameOf[r] = nameId);
  unchecked(resObjOf[r] = obj);
  return r;
}
export function resName(r: i32): i32 { return unchecked(resNameOf[r]); }
export function resObj(r: i32): i32 { return unchecked(resObjOf[r]); }

const N_cycle = fn("wait_for_cycle", "len=%d", CAT_ANOMALY);

export function waitOn(ent: i32, res: i32): void {
  wfWait(ent, res);
  if (wfCycleFrom(ent) != ent) return;
  cyclesFound++;
  if (cycTime >= 0) return;
  cycTime = now;
  let e = ent;
  cycLen = 0;
  do {
    const r = wfWaitsOn(e);
    unchecked(cycEnt[cycLen] = e);
    unchecked(cycRes[cycLen] = r);
    cycLen++;
    e = resHolderOf(r);
  } while (e != ent && cycLen < MAX_CHAIN);
  traceAnomaly(ent, N_cycle, cycLen);
}

export function cycleLen(): i32 { return cycLen; }
export function cycleEnt(i: i32): i32 { return unchecked(cycEnt[i]); }
export function cycleRes(i: i32): i32 { return unchecked(cycRes[i]); }
export function cycleTime(): i64 { return cycTime; }
export function cyclesSeen(): i32 { return cyclesFound; }
