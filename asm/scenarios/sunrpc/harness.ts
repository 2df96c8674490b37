// The hooks both sunrpc-* scenarios share: step and event dispatch, stop conditions, the
// evidence object (rpc_debug dump, transport state, hung tasks with their wait-for chains,
// kernel log, cwnd/cong series) and the snapshot for the State/Tasks views.
import { now, NSEC_PER_SEC } from "../../kernel/clock";
import { name } from "../../kernel/names";
import { scheduleIn } from "../../kernel/events";
import { setHooks } from "../../kernel/hooks";
import { eventKind } from "../../kernel/events";
import { entPidOf, entCommOf, cpuCount } from "../../kernel/sched";
import { hungReports, hungReportEnt } from "../../kernel/hungtask";
import { worldStop, getVerdict, setVerdict, VERDICT_HANG, VERDICT_OK } from "../../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB, jKName, jKN } from "../../kernel/json";
import { XPRT_UDP, XPRT_TCP } from "../../sunrpc/defs";
import { isRpciod, rpciodStep, rpcLiveTasks, rpcTotalTasks, rpciodBacklog, rpciodCurrent } from "../../sunrpc/sched";
import { xProt, xCwnd, xCong, livenessBroken, sndTaskExited } from "../../sunrpc/xprt";
import {
  sunrpcEvent, EV_LINK, linkSet, xsSk, xsSkState, xsSockGen, xsUdpWmem,
  xsCloseWaitSince, xsCloseWaitTotal, xsNCloseWait, xsNHalfCloses, xsNFullCloses, xsNConnects, xsNResets,
  nDatagramsLost, nIcmpIgnored, linkUp, tcpSendQueueLen, tcpWindowIsBlocked, sockWaitsForSpace,
  pCloseOnCloseWait,
} from "../../sunrpc/xprtsock";
import { N_TCP_STATE, TCP_CLOSE_WAIT, tcpSendShutdown, tcpQueuedBytes, tcpState, tcpRmem } from "../../net/tcp";
import { nMajorTimeouts, nMinorTimeouts } from "../../sunrpc/clnt";
import { rpcShowTasksJson, xprtJson, seriesJson, waitforRefresh, waitforProcess, waitforChainJson } from "../../sunrpc/debug";
import { klogJson } from "../../sunrpc/klog";
import {
  svcEvent, srvUp, srvStalled, srvNCloses, srvNServed, srvNStalls, srvNRestarts, srvNUdpDrops, svcBusy, svcQueued,
  svcConnSk, srvLastStallStart, srvLastStallLen,
} from "../../nfsd/svc";
import {
  workloadStep, workloadEvent, workloadDone, setOnWorkloadDone, threadWaitFile, burstsDone, mCyclesDone, mmap3Skipped, threadRoleIsDd, budgetStop,
} from "../../nfs/workload";
import { firstWritebackTask, firstWritebackChunk, totalDirty, totalWb, writesDone, commitsDone, fileIno } from "../../nfs/writeback";

export const EV_CHECK: i32 = eventKind("harness.check");
const N_udp = name("udp");
const N_tcp = name("tcp");
const N_ctx_close = name("close");
const N_ctx_exit = name("exit");

let absorbingAt: i64 = -1;
let mnt: i32 = 0;                 // the mount's rpc_xprt (harnessMount)
let srv: i32 = 0;                 // the knfsd (harnessServer)
let stopOnHangAfter: i64 = 0;     // TCP: keep running after the first report, this long at most
let firstHungAt: i64 = -1;
let closeWaitStop: i64 = 0;
let flapEveryNs: f64 = 0;
let flapNs: i64 = 0;
let flapStream: i32 = -1;

function onStep(t: i32): void {
  if (isRpciod(t)) { rpciodStep(t); return; }
  workloadStep(t);
}

import { randExp } from "../../kernel/prng";

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_CHECK) { check(); return; }
  if (kind == EV_LINK) {
    linkSet(obj == 1);
    if (obj == 0) scheduleIn(flapNs, EV_LINK, 1);
    else scheduleIn(<i64>randExp(flapStream, flapEveryNs) + NSEC_PER_SEC, EV_LINK, 0);
    return;
  }
  if (sunrpcEvent(kind, obj, arg)) return;
  if (svcEvent(kind, obj, arg)) return;
  workloadEvent(kind, obj, arg);
}

function onHung(t: i32): void {
  if (firstHungAt < 0) firstHungAt = now;
  armCheck();
}

// After khungtaskd's first report: is the state absorbing? A lock held by a task that no
// longer exists (nothing will release it), or the UDP liveness invariant broken (no credit
// holder in flight or with a timer armed) with no work queued on any rpciod that could
// change it. Otherwise the blocked task may still make progress: slow, not hung.
export function stateAbsorbing(): bool {
  if (sndTaskExited(mnt)) return true;
  if (!livenessBroken(mnt)) return false;
  for (let c = 0; c < cpuCount(); c++) {
    if (rpciodBacklog(c) > 0 || rpciodCurrent(c) != -1) return false;
  }
  return true;
}

function check(): void {
  if (workloadDone && rpcLiveTasks() == 0) { worldStop(); return; }
  if (firstHungAt >= 0) {
    // UDP stops as soon as it is permanent; TCP runs on to show the socket in CLOSE_WAIT
    if (stateAbsorbing() && absorbingAt < 0) absorbingAt = now;
    if (unchecked(xProt[mnt]) == XPRT_UDP && absorbingAt >= 0) { worldStop(); return; }
    const since = unchecked(xsCloseWaitSince[mnt]);
    if (unchecked(xProt[mnt]) == XPRT_TCP && xsSkState(mnt) == TCP_CLOSE_WAIT && since >= 0 && now - since >= closeWaitStop) { worldStop(); return; }
    if (now - firstHungAt >= stopOnHangAfter) { worldStop(); return; }
  }
  if (!workloadDone && firstHungAt < 0) { checkArmed = false; return; }    // re-armed by either
  scheduleIn(5 * NSEC_PER_SEC, EV_CHECK, 0);
}

// The check only has something to do once the workload is done or khungtaskd has reported:
// no periodic tick before.
let checkArmed: bool = false;
function armCheck(): void {
  if (checkArmed) return;
  checkArmed = true;
  scheduleIn(5 * NSEC_PER_SEC, EV_CHECK, 0);
}

// `hang` only for an absorbing state; a task blocked past the khungtaskd timeout in a state
// that can still move is slow progress (the evidence says which).
function onFinish(): void {
  if (getVerdict() != VERDICT_HANG) return;
  if (absorbingAt < 0 && stateAbsorbing()) absorbingAt = now;
  if (absorbingAt < 0) setVerdict(VERDICT_OK);
}

function hungJson(): void {
  jArr();
  const n = hungReports();
  waitforRefresh();
  for (let i = 0; i < n; i++) {
    const th = hungReportEnt(i);
    const f = threadWaitFile(th);
    const wt = firstWritebackTask(f);
    waitforProcess(th, f, wt);
    jObj();
    jKI("ent", th);
    jKI("pid", entPidOf(th));
    jKName("comm", entCommOf(th));
    jKName("context", threadRoleIsDd(th) ? N_ctx_close : N_ctx_exit);
    jKI("ino", fileIno(f));
    jKI("chunk", firstWritebackChunk(f));
    jKey("chain"); waitforChainJson(th);
    jEndObj();
  }
  jEndArr();
}

function sockJson(): void {
  jObj();
  const gen = unchecked(xsSockGen[mnt]);
  jKI("gen", gen);
  if (unchecked(xProt[mnt]) == XPRT_TCP) {
    const sk = unchecked(xsSk[mnt]);
    const since = unchecked(xsCloseWaitSince[mnt]);
    jKName("state", unchecked(N_TCP_STATE[xsSkState(mnt)]));
    jKB("sendShutdown", sk >= 0 && tcpSendShutdown(sk));
    jKI("queued", sk >= 0 ? tcpQueuedBytes(sk) : 0);
    jKI("sendQueueSegs", tcpSendQueueLen(mnt));
    jKB("windowBlocked", tcpWindowIsBlocked(mnt));
    jKI("closeWaitSince", since);
    jKI("closeWaitTotalNs", unchecked(xsCloseWaitTotal[mnt]) + (since >= 0 ? now - since : 0));
    jKI("closeWaits", unchecked(xsNCloseWait[mnt]));
    jKI("halfCloses", unchecked(xsNHalfCloses[mnt]));
    jKI("fullCloses", unchecked(xsNFullCloses[mnt]));
    jKI("connects", unchecked(xsNConnects[mnt]));
    jKI("resets", unchecked(xsNResets[mnt]));
    jKB("closeOnCloseWait", pCloseOnCloseWait);
    const srvSk = svcConnSk(srv, gen);
    jKName("serverState", unchecked(N_TCP_STATE[srvSk < 0 ? 0 : tcpState(srvSk)]));
    jKI("serverUnread", srvSk < 0 ? 0 : tcpRmem(srvSk));
  } else {
    jKI("wmem", unchecked(xsUdpWmem[mnt]));
    jKI("datagramsLost", nDatagramsLost);
    jKI("icmpIgnored", nIcmpIgnored);
  }
  jKB("asyncNospace", sockWaitsForSpace(mnt));
  jKB("linkUp", linkUp);
  jEndObj();
}

function serverJson(): void {
  jObj();
  jKB("up", unchecked(srvUp[srv]));
  jKB("stalled", unchecked(srvStalled[srv]));
  jKI("busy", svcBusy(srv));
  jKI("queued", svcQueued(srv));
  jKI("served", unchecked(srvNServed[srv]));
  jKI("stalls", unchecked(srvNStalls[srv]));
  jKI("lastStallStart", unchecked(srvLastStallStart[srv]));
  jKI("lastStallLen", unchecked(srvLastStallLen[srv]));
  jKI("restarts", unchecked(srvNRestarts[srv]));
  jKI("closes", unchecked(srvNCloses[srv]));
  jKI("udpDrops", unchecked(srvNUdpDrops[srv]));
  jEndObj();
}

function countersJson(): void {
  jObj();
  jKI("tasksCreated", rpcTotalTasks());
  jKI("tasksLive", rpcLiveTasks());
  jKI("majorTimeouts", nMajorTimeouts);
  jKI("minorTimeouts", nMinorTimeouts);
  jKI("writesDone", writesDone);
  jKI("commitsDone", commitsDone);
  jKI("dirtyChunks", totalDirty);
  jKI("writebackChunks", totalWb);
  jKI("burstsDone", burstsDone);
  jKI("mmap3Runs", mCyclesDone);
  jKI("mmap3IterationsSkipped", mmap3Skipped());
  jKB("workloadDone", workloadDone);
  jKB("budgetStop", budgetStop);
  jKI("firstHungAt", firstHungAt);
  jKI("absorbingAt", absorbingAt);
  jKB("slowProgress", firstHungAt >= 0 && absorbingAt < 0);
  jEndObj();
}

function onEvidence(): void {
  jObj();
  jKName("transport", unchecked(xProt[mnt]) == XPRT_UDP ? N_udp : N_tcp);
  jKI("now", now);
  jKey("xprt"); xprtJson(mnt);
  jKey("sock"); sockJson();
  jKey("tasks"); rpcShowTasksJson(mnt);
  jKey("hung"); hungJson();
  jKey("server"); serverJson();
  jKey("counters"); countersJson();
  jKey("klog"); klogJson();
  jKey("series"); seriesJson(mnt);
  jEndObj();
}

function onSnapshot(): void {
  jObj();
  jKName("transport", unchecked(xProt[mnt]) == XPRT_UDP ? N_udp : N_tcp);
  jKey("xprt"); xprtJson(mnt);
  jKey("sock"); sockJson();
  jKey("tasks"); rpcShowTasksJson(mnt);
  jKey("server"); serverJson();
  jKey("counters"); countersJson();
  jKN("cwnd", <f64>unchecked(xCwnd[mnt]));
  jKN("cong", <f64>unchecked(xCong[mnt]));
  jEndObj();
}

// the scenario's mount: its rpc_xprt (xsSetup's handle)
export function harnessMount(x: i32): void { mnt = x; }
export function harnessServer(k: i32): void { srv = k; }

export function harnessInstall(stopAfterHungNs: i64, stopAfterCloseWaitNs: i64): void {
  setHooks(onStep, onEvent, onHung, onFinish, onEvidence, onSnapshot);
  stopOnHangAfter = stopAfterHungNs;
  closeWaitStop = stopAfterCloseWaitNs;
  setOnWorkloadDone(armCheck);
}

export function harnessLinkFlaps(everyS: f64, downS: f64, s: i32): void {
  flapEveryNs = everyS * <f64>NSEC_PER_SEC;
  flapNs = <i64>(downS * <f64>NSEC_PER_SEC);
  flapStream = s;
  if (flapEveryNs > 0 && flapNs > 0) scheduleIn(<i64>randExp(s, flapEveryNs), EV_LINK, 0);
}
