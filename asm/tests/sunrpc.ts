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
import { stream, prngSeed } from "../kernel/prng";
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
