// The wait-for graph: entities wait on resources, resources are held by entities.
// A hang is explained by following the chain from a blocked entity: who waits on
// what, held by whom, until a resource nobody holds (a lost wake-up: nobody will ever
// release it) or an entity seen before (a deadlock cycle). Models record the edges as
// the kernel code takes and drops the things they stand for; the analysis is generic.
import { jArr, jEndArr, jObj, jEndObj, jKI, jKName, jKB, jKey } from "./json";
import { MAX_ENTS, entCount } from "./sched";
import { now } from "./clock";
import { fn, CAT_ANOMALY } from "./names";
import { traceAnomaly } from "./trace";
import { zeroed, rowsBegin, rowsEnd } from "./mem";

const MAX_RES: i32 = 4096;
let nRes: i32 = 0;
rowsBegin(MAX_RES, (): i32 => nRes);
const resName = zeroed<i32>(MAX_RES);
const resObj = zeroed<i32>(MAX_RES);
const resHolder = zeroed<i32>(MAX_RES);   // holder entity + 1; 0 = free
rowsEnd();
rowsBegin(MAX_ENTS, entCount);
const waitsOn = zeroed<i32>(MAX_ENTS);    // resource + 1; 0 = not waiting
rowsEnd();

export function resNew(nameId: i32, obj: i32 = 0): i32 {
  assert(nRes < MAX_RES, "too many wait-for resources");
  const r = nRes++;
  unchecked(resName[r] = nameId);
  unchecked(resObj[r] = obj);
  return r;
}

export function resHold(r: i32, ent: i32): void { unchecked(resHolder[r] = ent + 1); }
export function resRelease(r: i32): void { unchecked(resHolder[r] = 0); }
export function resHolderOf(r: i32): i32 { return unchecked(resHolder[r]) - 1; }
export function resNameOf(r: i32): i32 { return unchecked(resName[r]); }
export function resObjOf(r: i32): i32 { return unchecked(resObj[r]); }
export function wfWait(ent: i32, r: i32): void { unchecked(waitsOn[ent] = r + 1); }
export function wfDone(ent: i32): void { unchecked(waitsOn[ent] = 0); }
export function wfWaitsOn(ent: i32): i32 { return unchecked(waitsOn[ent]) - 1; }

// Follows the chain from `ent`. Returns the entity that closes a cycle, or -1 when the
// chain ends (at a free resource or an entity that waits on nothing).
export function wfCycleFrom(ent: i32): i32 {
  let e = ent;
  // A chain longer than the number of resources must repeat.
  for (let steps = 0; steps <= nRes; steps++) {
    const r = wfWaitsOn(e);
    if (r < 0) return -1;
    const h = resHolderOf(r);
    if (h < 0) return -1;
    if (h == ent) return ent;
    e = h;
  }
  return e;
}

// Any entity on a wait-for cycle, or -1.
export function wfFindCycle(nEnts: i32): i32 {
  for (let e = 0; e < nEnts; e++) {
    if (wfWaitsOn(e) >= 0 && wfCycleFrom(e) == e) return e;
  }
  return -1;
}

// Writes the chain from `ent` as [{ent, waitsOn, obj, heldBy}...] into the JSON writer.
export function wfChainJson(ent: i32): void {
  jObj();
  jKey("links");
  jArr();
  let e = ent;
  let cycle = false;
  for (let steps = 0; steps <= nRes; steps++) {
    const r = wfWaitsOn(e);
    if (r < 0) break;
    const h = resHolderOf(r);
    jObj();
    jKI("ent", e);
    jKName("waitsOn", unchecked(resName[r]));
    jKI("obj", unchecked(resObj[r]));
    jKI("heldBy", h);
    jEndObj();
    if (h < 0) break;
    if (h == ent) { cycle = true; break; }
    e = h;
  }
  jEndArr();
  jKB("cycle", cycle);
  jEndObj();
}

// Every edge now: [{ent, waitsOn, obj, heldBy}] for each entity that waits (snapshots:
// the Stack view draws who waits on what, held by whom, and a cycle while it exists).
export function wfEdgesJson(nEnts: i32): void {
  jArr();
  for (let e = 0; e < nEnts; e++) {
    const r = wfWaitsOn(e);
    if (r < 0) continue;
    jObj();
    jKI("ent", e);
    jKName("waitsOn", unchecked(resName[r]));
    jKI("obj", unchecked(resObj[r]));
    jKI("heldBy", resHolderOf(r));
    jEndObj();
  }
  jEndArr();
}

// Waiting with a check, as lockdep does at acquire time: if this edge closes a cycle,
// the cycle is recorded (the first one, for the evidence, since a timeout may break it
// later) and marked in the trace.
const MAX_CYCLE: i32 = 16;
const cycEnt = zeroed<i32>(MAX_CYCLE);
const cycRes = zeroed<i32>(MAX_CYCLE);
let cycLen: i32 = 0;
let cycTime: i64 = -1;
let cyclesFound: i32 = 0;
const N_cycle = fn("wait_for_cycle", "len=%d", CAT_ANOMALY);

export function wfWaitChecked(ent: i32, r: i32): void {
  wfWait(ent, r);
  if (wfCycleFrom(ent) != ent) return;
  cyclesFound++;
  if (cycTime >= 0) return;
  cycTime = now;
  let e = ent;
  cycLen = 0;
  do {
    const w = wfWaitsOn(e);
    unchecked(cycEnt[cycLen] = e);
    unchecked(cycRes[cycLen] = w);
    cycLen++;
    e = resHolderOf(w);
  } while (e != ent && cycLen < MAX_CYCLE);
  traceAnomaly(ent, N_cycle, cycLen);
}

export function wfCycleLen(): i32 { return cycLen; }
export function wfCycleEnt(i: i32): i32 { return unchecked(cycEnt[i]); }
export function wfCycleRes(i: i32): i32 { return unchecked(cycRes[i]); }
export function wfCycleTime(): i64 { return cycTime; }
export function wfCyclesSeen(): i32 { return cyclesFound; }
