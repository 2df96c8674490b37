// The hooks both sunrpc-* scenarios share: step and event dispatch, stop conditions, the
// evidence object (rpc_debug dump, transport state, hung tasks with their wait-for chains,
// kernel log, cwnd/cong series) and the snapshot for the State/Tasks views.
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { name } from "../kernel/names";
import { scheduleIn } from "../kernel/events";
import { setHooks, KIND_MODEL } from "../kernel/hooks";
import { entPidOf, entCommOf, cpuCount } from "../kernel/sched";
import { hungReports, hungReportEnt } from "../kernel/hungtask";
import { worldStop, getVerdict, setVerdict, VERDICT_HANG, VERDICT_OK } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB, jKName, jKN } from "../kernel/json";
import { XPRT_UDP, XPRT_TCP } from "./defs";
import { isRpciod, rpciodStep, rpcLiveTasks, rpcTotalTasks, rpciodBacklog, rpciodCurrent } from "./sched";
import { xTransport, cwnd, cong, livenessBroken, sndTaskExited } from "./xprt";
import {
  sunrpcEvent, EV_LINK, linkSet, xsSk, xsSkState, sockGen, udpWmem,
  closeWaitSince, closeWaitTotal, nCloseWait, nHalfCloses, nFullCloses, nConnects, nResets,
  nDatagramsLost, nIcmpIgnored, linkUp, tcpSendQueueLen, tcpWindowIsBlocked, sockWaitsForSpace,
  pCloseOnCloseWait,
} from "./xprtsock";
import { N_TCP_STATE, TCP_CLOSE_WAIT, tcpSendShutdown, tcpQueuedBytes, tcpState, tcpRmem } from "../net/tcp";
import { nMajorTimeouts, nMinorTimeouts } from "./clnt";
import { rpcShowTasksJson, xprtJson, seriesJson, waitforRefresh, waitforProcess, waitforChainJson } from "./debug";
import { klogJson } from "./klog";
import {
  svcEvent, srvUp, stalled, nSrvCloses, nServed, nStalls, nRestarts, nUdpDrops, svcBusy, svcQueued,
  svcConnSk, lastStallStart, lastStallLen,
} from "../nfsd/svc";
import {
  workloadStep, workloadEvent, workloadDone, setOnWorkloadDone, threadWaitFile, burstsDone, mCyclesDone, threadRoleIsDd, budgetStop,
} from "../nfs/workload";
import { firstWritebackTask, firstWritebackChunk, totalDirty, totalWb, writesDone, commitsDone, fileIno } from "../nfs/writeback";

export const EV_CHECK: i32 = KIND_MODEL + 40;
const N_udp = name("udp");
const N_tcp = name("tcp");
const N_ctx_close = name("close");
const N_ctx_exit = name("exit");

let absorbingAt: i64 = -1;
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

import { randExp } from "../kernel/prng";

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
  if (sndTaskExited()) return true;
  if (!livenessBroken()) return false;
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
    if (xTransport == XPRT_UDP && absorbingAt >= 0) { worldStop(); return; }
    if (xTransport == XPRT_TCP && xsSkState() == TCP_CLOSE_WAIT && closeWaitSince >= 0 && now - closeWaitSince >= closeWaitStop) { worldStop(); return; }
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
  jKI("gen", sockGen);
  if (xTransport == XPRT_TCP) {
    jKName("state", unchecked(N_TCP_STATE[xsSkState()]));
    jKB("sendShutdown", xsSk >= 0 && tcpSendShutdown(xsSk));
    jKI("queued", xsSk >= 0 ? tcpQueuedBytes(xsSk) : 0);
    jKI("sendQueueSegs", tcpSendQueueLen());
    jKB("windowBlocked", tcpWindowIsBlocked());
    jKI("closeWaitSince", closeWaitSince);
    jKI("closeWaitTotalNs", closeWaitTotal + (closeWaitSince >= 0 ? now - closeWaitSince : 0));
    jKI("closeWaits", nCloseWait);
    jKI("halfCloses", nHalfCloses);
    jKI("fullCloses", nFullCloses);
    jKI("connects", nConnects);
    jKI("resets", nResets);
    jKB("closeOnCloseWait", pCloseOnCloseWait);
    const srvSk = svcConnSk(sockGen);
    jKName("serverState", unchecked(N_TCP_STATE[srvSk < 0 ? 0 : tcpState(srvSk)]));
    jKI("serverUnread", srvSk < 0 ? 0 : tcpRmem(srvSk));
  } else {
    jKI("wmem", udpWmem);
    jKI("datagramsLost", nDatagramsLost);
    jKI("icmpIgnored", nIcmpIgnored);
  }
  jKB("asyncNospace", sockWaitsForSpace());
  jKB("linkUp", linkUp);
  jEndObj();
}

function serverJson(): void {
  jObj();
  jKB("up", srvUp);
  jKB("stalled", stalled);
  jKI("busy", svcBusy());
  jKI("queued", svcQueued());
  jKI("served", nServed);
  jKI("stalls", nStalls);
  jKI("lastStallStart", lastStallStart);
  jKI("lastStallLen", lastStallLen);
  jKI("restarts", nRestarts);
  jKI("closes", nSrvCloses);
  jKI("udpDrops", nUdpDrops);
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
  jKB("workloadDone", workloadDone);
  jKB("budgetStop", budgetStop);
  jKI("firstHungAt", firstHungAt);
  jKI("absorbingAt", absorbingAt);
  jKB("slowProgress", firstHungAt >= 0 && absorbingAt < 0);
  jEndObj();
}

function onEvidence(): void {
  jObj();
  jKName("transport", xTransport == XPRT_UDP ? N_udp : N_tcp);
  jKI("now", now);
  jKey("xprt"); xprtJson();
  jKey("sock"); sockJson();
  jKey("tasks"); rpcShowTasksJson();
  jKey("hung"); hungJson();
  jKey("server"); serverJson();
  jKey("counters"); countersJson();
  jKey("klog"); klogJson();
  jKey("series"); seriesJson();
  jEndObj();
}

function onSnapshot(): void {
  jObj();
  jKName("transport", xTransport == XPRT_UDP ? N_udp : N_tcp);
  jKey("xprt"); xprtJson();
  jKey("sock"); sockJson();
  jKey("tasks"); rpcShowTasksJson();
  jKey("server"); serverJson();
  jKey("counters"); countersJson();
  jKN("cwnd", <f64>cwnd);
  jKN("cong", <f64>cong);
  jEndObj();
}

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
