// The SUNRPC test module: two NFS mounts (two rpc_xprts over UDP, each with its own
// sock_xprt) against ONE knfsd, in one world. Built to build/sunrpc-test.wasm and used only
// by engine/test/sunrpc-instances.test.ts; it is not part of the lab's catalog.
//
// Each mount issues `probe.writes` WRITEs. With `probe.wedge` = m, a task that never runs
// takes mount m's XPRT_LOCKED first (a slot allocator holding the lock, as in the
// reserve race), so every task of mount m sleeps on that mount's xprt_sending; the other
// mount must not notice.
export * from "../abi";
import { NSEC_PER_SEC } from "../kernel/clock";
import { name } from "../kernel/names";
import { knob, kvi, scenario } from "../kernel/config";
import { setHooks } from "../kernel/hooks";
import { cpusInit } from "../kernel/sched";
import { setTimeLimit } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB } from "../kernel/json";
import { zeroed } from "../kernel/mem";
import { Lookahead } from "../nfs/lookahead";
import { XPRT_UDP, XPRT_LOCKED, RPC_TASK_ASYNC, NFS3PROC_WRITE, JIFFY, MAX_XPRT } from "../sunrpc/defs";
import { rpcNewTask, rpcExecuteAsync, rpciodInit, isRpciod, rpciodStep } from "../sunrpc/sched";
import { rpcqLen } from "../sunrpc/rpcq";
import { clntInit, rpcCallStart, setCallDone } from "../sunrpc/clnt";
import {
  setPatches, rpcTaskSetXprt, tkXprt, xprtLockWrite, xprtBit, xCwnd, xCong, xSending, xPending, xBacklog,
  xSndTask, nFreeSlots,
} from "../sunrpc/xprt";
import { xsSetup, xsLinkInit, sunrpcEvent } from "../sunrpc/xprtsock";
import { svcNew, svcEvent, srvNServed } from "../nfsd/svc";
import { stream, prngSeed, prngArm, randRange, randExp } from "../kernel/prng";
import { linkNew, linkLost, linkSerializeNs, linkDelayNs } from "../net/link";

// the link model (asm/net/link.ts), on a stream of its own
const S_LINK = stream("test.link");
export function t_seed(seed: u32): void { prngSeed(<u64>seed); }
export function t_link_new(rateBps: f64, delayNs: f64, jitterMeanNs: f64, lossPerFrame: f64): i32 {
  return linkNew({ rateBps, delayNs: <i64>delayNs, jitterMeanNs: <i64>jitterMeanNs, lossPerFrame, stream: S_LINK });
}
export function t_link_lost(l: i32, frames: i32): i32 { return linkLost(l, frames) ? 1 : 0; }
export function t_link_serialize(l: i32, bytes: i32): f64 { return <f64>linkSerializeNs(l, bytes); }
export function t_link_delay(l: i32): f64 { return <f64>linkDelayNs(l); }

const K_WRITES = knob("probe.writes");
const K_WEDGE = knob("probe.wedge");      // -1: none; else the mount whose lock is taken
const N_write = name("probe WRITE");
const N_wedge = name("probe: XPRT_LOCKED taken by a task that never runs");
const MOUNTS: i32 = 2;

const mounts = zeroed<i32>(MAX_XPRT);
const done = zeroed<i32>(MAX_XPRT);
let wedgeTask: i32 = -1;
let srv: i32 = 0;                  // the one knfsd

function onStep(t: i32): void { if (isRpciod(t)) rpciodStep(t); }
function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (sunrpcEvent(kind, obj, arg)) return;
  svcEvent(kind, obj, arg);
}
function onCallDone(t: i32): void { unchecked(done[unchecked(tkXprt[t])] += 1); }

function mountsJson(): void {
  jObj();
  jKI("served", unchecked(srvNServed[srv]));
  jKey("mounts");
  jArr();
  for (let m = 0; m < MOUNTS; m++) {
    const x = unchecked(mounts[m]);
    jObj();
    jKI("xprt", x);
    jKI("done", unchecked(done[x]));
    jKB("locked", xprtBit(x, XPRT_LOCKED));
    jKB("lockedByWedge", wedgeTask >= 0 && unchecked(xSndTask[x]) == wedgeTask);
    jKI("cwnd", unchecked(xCwnd[x]));
    jKI("cong", unchecked(xCong[x]));
    jKI("sending", rpcqLen(unchecked(xSending[x])));
    jKI("pending", rpcqLen(unchecked(xPending[x])));
    jKI("backlog", rpcqLen(unchecked(xBacklog[x])));
    jKI("freeSlots", nFreeSlots(x));
    jEndObj();
  }
  jEndArr();
  jEndObj();
}

scenario("two-mounts-probe", (): void => {
  setHooks(onStep, onEvent, (t: i32): void => {}, (): void => {}, mountsJson, mountsJson);
  cpusInit(2);
  setPatches(true, false, false);       // 3.6-rc: xprt_reserve takes XPRT_LOCKED (43cedbf0)
  for (let m = 0; m < MOUNTS; m++) {
    unchecked(mounts[m] = xsSetup({
      transport: XPRT_UDP, slots: 4, dynamicSlotsMax: 0, sndbufBytes: 229376,
      timeoInitNs: 1100 * JIFFY, timeoMaxNs: 60 * NSEC_PER_SEC, timeoIncrementNs: 1100 * JIFFY, retrans: 3,
      exponential: true, wspaceTimeout: true,
    }));
  }
  clntInit();
  setCallDone(onCallDone);
  rpciodInit(2, 90);
  xsLinkInit({ rateBps: 1e9, delayNs: 0, jitterMeanNs: 100000 }, 0);
  srv = svcNew({ threads: 8, rcvbufBytes: 0, udpQueueMax: 64, wsizeBytes: 32768 });
  const wedge = <i32>kvi(K_WEDGE);
  if (wedge >= 0) {
    wedgeTask = rpcNewTask(N_write, NFS3PROC_WRITE, RPC_TASK_ASYNC, 999, -1, 0, 0);
    rpcTaskSetXprt(wedgeTask, unchecked(mounts[wedge]));
    xprtLockWrite(wedgeTask, N_wedge);
  }
  const writes = <i32>kvi(K_WRITES);
  for (let i = 0; i < writes; i++) {
    for (let m = 0; m < MOUNTS; m++) {
      const t = rpcNewTask(N_write, NFS3PROC_WRITE, RPC_TASK_ASYNC, 1000 + m, -1, 0, i);
      rpcTaskSetXprt(t, unchecked(mounts[m]));
      rpcCallStart(t);
      rpcExecuteAsync(t, i & 1);
    }
  }
  setTimeLimit(600 * NSEC_PER_SEC);
});

// ---- think loops planned ahead (asm/nfs/lookahead.ts) beside the same loops run one
// iteration at a time. LA_LOOPS loops share LA_CHUNKS dirty flags and one attribute time,
// as one mmap3 instance's workers do: an iteration ending at E refreshes the attributes
// when they are older than the timeout, and dirties its drawn chunk; a writeback cleans
// drawn chunks at drawn times. Each loop draws from a stream of its own, so both ways see
// the same draws. t_la_run returns how many state changes there were; t_la_hash their
// (time, loop, chunk) sequence; t_la_iterations the iterations run as steps.
const LA_LOOPS: i32 = 3;
const LA_CHUNKS: i32 = 12;
const LA_STEP_NS: i64 = 50000;
const LA_THINK_NS: f64 = 40e6;
const LA_ACTIMEO_NS: i64 = 200000000;
const LA_CLEANS: i32 = 400;
const S_LA = [stream("test.la0"), stream("test.la1"), stream("test.la2")];
const S_LA_ENV = stream("test.la.env");
const laDirty = zeroed<bool>(LA_CHUNKS);
const laCleanAt = zeroed<i64>(LA_CLEANS);
const laCleanChunk = zeroed<i32>(LA_CLEANS);
const laEnd = zeroed<i64>(LA_LOOPS);          // when each loop's next iteration ends
let laAttrAt: i64 = -1;
let laHash: u64 = 0;
let laChanges: i32 = 0;
let laIterations: i32 = 0;

function laChoice(l: i32): i32 { return <i32>randRange(unchecked(S_LA[l]), 0, LA_CHUNKS - 1); }
function laThink(l: i32): i64 { return <i64>randExp(unchecked(S_LA[l]), LA_THINK_NS) + 1000; }
function laNoop(l: i32, c: i32, at: i64): bool { return laAttrAt >= 0 && at - laAttrAt < LA_ACTIMEO_NS && unchecked(laDirty[c]); }
function laDelay(l: i32): i64 { return 0; }
const la = new Lookahead(LA_LOOPS, (): i32 => LA_LOOPS, LA_STEP_NS, laNoop, laChoice, laThink, laDelay);

function laRecord(at: i64, l: i32, c: i32): void {
  laHash = (laHash ^ <u64>at ^ (<u64>(l * 1000 + c + 1) << 48)) * 0x100000001b3;
  laChanges++;
}

// One iteration of loop l ending at `at`, with its choice; true if it changed state.
function laIterate(l: i32, at: i64, c: i32): bool {
  laIterations++;
  let changed = false;
  if (laAttrAt < 0 || at - laAttrAt >= LA_ACTIMEO_NS) { laAttrAt = at; laRecord(at, l, -1); changed = true; }
  if (!unchecked(laDirty[c])) { unchecked(laDirty[c] = true); laRecord(at, l, c); changed = true; }
  return changed;
}

// Runs the loops until `endNs`, one iteration at a time (planned 0) or planned ahead.
export function t_la_run(seed: u32, endNs: f64, planned: i32): i32 {
  const end = <i64>endNs;
  prngSeed(<u64>seed);
  prngArm();                              // no decision forced
  let t: i64 = 0;
  for (let i = 0; i < LA_CLEANS; i++) {
    t += <i64>randExp(S_LA_ENV, 150e6) + 1;
    unchecked(laCleanAt[i] = t);
    unchecked(laCleanChunk[i] = <i32>randRange(S_LA_ENV, 0, LA_CHUNKS - 1));
  }
  for (let c = 0; c < LA_CHUNKS; c++) unchecked(laDirty[c] = false);
  laAttrAt = -1; laHash = 0xcbf29ce484222325; laChanges = 0; laIterations = 0;
  for (let l = 0; l < LA_LOOPS; l++) {
    la.reset(l);
    const first = <i64>(l + 1) * 7000000;
    unchecked(laEnd[l] = (planned ? la.sleep(l, first, end) : first) + LA_STEP_NS);
  }
  let nextClean = 0;
  while (true) {
    let l = -1;
    for (let m = 0; m < LA_LOOPS; m++) if (l < 0 || unchecked(laEnd[m]) < unchecked(laEnd[l])) l = m;
    const cleanAt = nextClean < LA_CLEANS ? unchecked(laCleanAt[nextClean]) : i64.MAX_VALUE;
    const now = cleanAt <= unchecked(laEnd[l]) ? cleanAt : unchecked(laEnd[l]);
    if (now > end) break;
    if (cleanAt == now) {
      const c = unchecked(laCleanChunk[nextClean]);
      unchecked(laDirty[c] = false);
      nextClean++;
      if (planned) for (let m = 0; m < LA_LOOPS; m++) unchecked(laEnd[m] = la.replan(m, now, end, c) + LA_STEP_NS);
      continue;
    }
    if (!planned) {
      laIterate(l, now, laChoice(l));
      unchecked(laEnd[l] = now + laThink(l) + LA_STEP_NS);
      continue;
    }
    la.woke(l);
    const attrAt = laAttrAt;
    const c = la.nextChoice(l);
    const changed = laIterate(l, now, c);
    const wake = now + la.nextThink(l);
    if (changed) {
      // the attributes refreshed: every iteration may answer otherwise; else chunk c's
      const only = laAttrAt != attrAt ? -1 : c;
      for (let m = 0; m < LA_LOOPS; m++) if (m != l) unchecked(laEnd[m] = la.replan(m, now, end, only) + LA_STEP_NS);
    }
    unchecked(laEnd[l] = la.sleep(l, wake, end) + LA_STEP_NS);
  }
  return laChanges;
}
export function t_la_hash(): f64 { return <f64>(laHash >> 12); }
export function t_la_iterations(): i32 { return laIterations; }
