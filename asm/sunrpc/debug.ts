// What a kernel engineer would look at: rpc_show_tasks() (the rpc_debug dump), the
// transport's state, and the wait-for graph of a blocked process (kernel/waitfor.ts).
// Raw fields only; the host formats them (engine/scenarios/sunrpc/).
import { now } from "../kernel/clock";
import { name } from "../kernel/names";
import { entPidOf, entCommOf, MAX_ENTS } from "../kernel/sched";
import { resNew, resHold, resRelease, wfWait, wfDone, wfChainJson } from "../kernel/waitfor";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB, jKName, jInt, jName, jKN } from "../kernel/json";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { XPRT_LOCKED, JIFFY, MAX_TASKS, MAX_XPRT, MAX_RQST, RPC_CWNDSCALE } from "./defs";
import {
  tkUsed, tkEnt, tkPid, tkFlags, tkStatus, tkAction, tkTimeout, tkRqst, tkProc, tkOps, tkOwner, tkSleptIn,
  tkQueuedAt, tkKeep, tkCreated, rpcQueueNameOf, rpcTaskQueue, rpcStepName, rpcSyncDone,
  nKills, rpcKillsOn, rpcTaskSlots,
} from "./sched";
import { rpcqLen, rpcqLevelLen, rpcqLevelOf, rpcqName } from "./rpcq";
import {
  nXprts, xprtOps, tkXprt, xBits, xSndTask, xSndTaskPid, xCong, xCwnd, maxCwnd, xNumReqs, xMinReqs, xMaxReqs,
  nFreeSlots, xRecvCount, xConnectCookie, xSending, xPending, xBacklog, xBinding, autoclosePending,
  idleTimerArmed, xprtBit, N_BIT, creditHoldersInFlight, congested, livenessBroken, taskHoldsCredit,
  pAllocSlotOp, pLockBeforeAlloc, pReleaseOnEarlyExit, rqCong, rqXid, rqNtrans, xEnt, xFirstStuckAt,
  xNStuckEvents, xLeakedLockAt, xLeakedLockPid, xNCloseWaitDeferred, seriesLen, seriesT, seriesCwnd,
  seriesCong, seriesSending, xReestablishTimeout, xNCreditParked, xNConnectedRace,
} from "./xprt";
import { actName, N_proc_name } from "./clnt";
import { testBit } from "../kernel/bitops";

const N_null = name("(none)");

// the rpc_debug dump: every task of the client on transport x, in cl_tasks order (creation order)
export function rpcShowTasksJson(x: i32): void {
  jArr();
  // creation order: by pid
  for (let pass = 0; pass < 1; pass++) {
    let last = 0;
    while (true) {
      let best = -1, bestPid = 0x7fffffff;
      for (let t = 0; t < MAX_TASKS; t++) {
        if (!unchecked(tkUsed[t]) || unchecked(tkXprt[t]) != x) continue;
        const p = unchecked(tkPid[t]);
        if (p > last && p < bestPid) { bestPid = p; best = t; }
      }
      if (best < 0) break;
      last = bestPid;
      taskJson(best);
    }
  }
  jEndArr();
}

function taskJson(t: i32): void {
  jObj();
  jKI("pid", unchecked(tkPid[t]));
  jKI("ent", unchecked(tkEnt[t]));
  jKI("flags", unchecked(tkFlags[t]));
  jKI("status", unchecked(tkStatus[t]));
  jKI("rqstp", unchecked(tkRqst[t]));
  jKI("timeout", unchecked(tkTimeout[t]) / JIFFY);
  jKI("ops", unchecked(tkOps[t]));
  jKName("proc", unchecked(N_proc_name[unchecked(tkProc[t])]));
  jKName("action", unchecked(actName[unchecked(tkAction[t])]));
  jKName("queue", rpcQueueNameOf(t));
  const q = rpcTaskQueue(t);
  jKI("prio", q >= 0 ? rpcqLevelOf(t) - 1 : 0);
  jKName("sleptIn", unchecked(tkSleptIn[t]));
  jKName("next", rpcStepName(t));
  jKI("owner", unchecked(tkOwner[t]));
  jKI("queuedNs", q >= 0 ? now - unchecked(tkQueuedAt[t]) : 0);
  jKI("ageNs", now - unchecked(tkCreated[t]));
  jKB("credit", taskHoldsCredit(t));
  jKB("sndTask", unchecked(xSndTask[unchecked(tkXprt[t])]) == t);
  const r = unchecked(tkRqst[t]);
  jKI("xid", r >= 0 ? <i64>unchecked(rqXid[r]) : 0);
  jKI("ntrans", r >= 0 ? unchecked(rqNtrans[r]) : 0);
  jEndObj();
}

export function xprtJson(x: i32): void {
  const ops = xprtOps(x);
  const snd = unchecked(xSndTask[x]);
  jObj();
  jKName("ops", ops.name);
  jKName("reserve_xprt", ops.reserveXprtName);
  jKName("release_xprt", ops.releaseXprtName);
  jKName("alloc_slot", pAllocSlotOp ? ops.allocSlotName : N_null);
  jKB("lockBeforeAlloc", pLockBeforeAlloc);
  jKB("releaseOnEarlyExit", pReleaseOnEarlyExit);
  jKey("state");
  jArr();
  for (let b = 0; b < 9; b++) if (xprtBit(x, b)) jName(unchecked(N_BIT[b]));
  jEndArr();
  jKI("snd_task", snd >= 0 || xprtBit(x, XPRT_LOCKED) ? unchecked(xSndTaskPid[x]) : 0);
  jKB("sndTaskAlive", snd >= 0 && unchecked(tkUsed[snd]));
  jKB("sndTaskExited", snd >= 0 && !unchecked(tkUsed[snd]));
  jKI("cong", unchecked(xCong[x]));
  jKI("cwnd", unchecked(xCwnd[x]));
  jKI("maxcwnd", maxCwnd(x));
  jKB("congested", congested(x));
  jKI("num_reqs", unchecked(xNumReqs[x]));
  jKI("min_reqs", unchecked(xMinReqs[x]));
  jKI("max_reqs", unchecked(xMaxReqs[x]));
  jKI("free", nFreeSlots(x));
  jKI("recv", unchecked(xRecvCount[x]));
  jKI("connect_cookie", unchecked(xConnectCookie[x]));
  jKI("reestablish_timeout", unchecked(xReestablishTimeout[x]) / JIFFY);
  jKey("sending"); queueJson(unchecked(xSending[x]));
  jKey("pending"); queueJson(unchecked(xPending[x]));
  jKey("backlog"); queueJson(unchecked(xBacklog[x]));
  jKey("binding"); queueJson(unchecked(xBinding[x]));
  jKB("autoclosePending", autoclosePending(x));
  jKB("idleTimerArmed", idleTimerArmed(x));
  jKI("creditHoldersInFlight", creditHoldersInFlight(x));
  jKI("creditHolders", unchecked(xCong[x]) / RPC_CWNDSCALE);
  jKB("livenessBroken", livenessBroken(x));
  jKI("firstStuckAt", unchecked(xFirstStuckAt[x]));
  jKI("stuckEvents", unchecked(xNStuckEvents[x]));
  jKI("leakedLockAt", unchecked(xLeakedLockAt[x]));
  jKI("leakedLockPid", unchecked(xLeakedLockPid[x]));
  jKI("closeWaitDeferred", unchecked(xNCloseWaitDeferred[x]));
  jKI("creditParked", unchecked(xNCreditParked[x]));
  jKI("connectedRace", unchecked(xNConnectedRace[x]));
  jKI("kills", nKills);
  jKI("killsOnSending", rpcKillsOn(unchecked(xSending[x])));
  jEndObj();
}

function queueJson(q: i32): void {
  jObj();
  jKName("name", rpcqName(q));
  jKI("len", rpcqLen(q));
  jKey("levels");
  jArr();
  for (let l = 0; l < 4; l++) jInt(rpcqLevelLen(q, l));
  jEndArr();
  jEndObj();
}

export function seriesJson(x: i32): void {
  jArr();
  const n = seriesLen(x);
  for (let i = 0; i < n; i++) {
    jArr();
    jInt(seriesT(x, i));
    jInt(seriesCwnd(x, i));
    jInt(seriesCong(x, i));
    jInt(seriesSending(x, i));
    jEndArr();
  }
  jEndArr();
}

// ---- the wait-for graph -----------------------------------------------------------------
const N_pg_writeback = name("PG_writeback");
const N_res_lock = name("XPRT_LOCKED");
const N_res_credit = name("a congestion credit (cong >= cwnd)");
const N_res_putcong = name("__xprt_put_cong: a reply or retransmit timeout of a credit holder");
const N_res_slot = name("an rpc_rqst slot");
const N_res_reply = name("the server's reply");
// the transport's resources, one set per rpc_xprt
const rLock = zeroed<i32>(MAX_XPRT);
const rCredit = zeroed<i32>(MAX_XPRT);
const rPutCong = zeroed<i32>(MAX_XPRT);
const rSlot = zeroed<i32>(MAX_XPRT);
const rReply = zeroed<i32>(MAX_XPRT);
const rPage = zeroed<i32>(64);
rowsBegin(MAX_TASKS, rpcTaskSlots);
const taskInGraph = zeroed<bool>(MAX_TASKS);
rowsEnd();

export function waitforInit(nFiles: i32): void {
  for (let x = 0; x < nXprts; x++) {
    unchecked(rLock[x] = resNew(N_res_lock, x));
    unchecked(rCredit[x] = resNew(N_res_credit, x));
    unchecked(rPutCong[x] = resNew(N_res_putcong, x));
    unchecked(rSlot[x] = resNew(N_res_slot, x));
    unchecked(rReply[x] = resNew(N_res_reply, x));
  }
  for (let f = 0; f < nFiles && f < 64; f++) unchecked(rPage[f] = resNew(N_pg_writeback, f));
}

// Record the edges as they stand now, for a task blocked on something the transport owns.
function taskEdges(t: i32): void {
  const e = unchecked(tkEnt[t]);
  const q = rpcTaskQueue(t);
  const x = unchecked(tkXprt[t]);
  wfDone(e);
  if (q == unchecked(xSending[x])) {
    if (testBit(unchecked(xBits[x]), XPRT_LOCKED)) wfWait(e, unchecked(rLock[x]));
    else if (congested(x)) {
      // the lock is free; the window is full: it needs someone's credit back
      wfWait(e, taskHoldsCredit(t) ? unchecked(rPutCong[x]) : unchecked(rCredit[x]));
    }
  } else if (q == unchecked(xBacklog[x])) wfWait(e, unchecked(rSlot[x]));
  else if (q == unchecked(xPending[x])) wfWait(e, unchecked(rReply[x]));
}

// holders: XPRT_LOCKED by snd_task (dead or alive) or the xprt (autoclose); a credit by a
// credit-holding task (the first one parked on xprt_sending, else any)
export function waitforRefresh(): void {
  for (let x = 0; x < nXprts; x++) xprtHolders(x);
  for (let t = 0; t < MAX_TASKS; t++) {
    if (unchecked(tkUsed[t])) taskEdges(t);
    else if (unchecked(tkKeep[t])) wfDone(unchecked(tkEnt[t]));   // exited: waits on nothing
  }
}

function xprtHolders(x: i32): void {
  const rl = unchecked(rLock[x]);
  if (testBit(unchecked(xBits[x]), XPRT_LOCKED)) {
    const snd = unchecked(xSndTask[x]);
    if (snd >= 0) resHold(rl, unchecked(tkEnt[snd]));
    else resHold(rl, unchecked(xEnt[x]));
  } else resRelease(rl);
  resRelease(unchecked(rCredit[x]));
  let holder = -1;
  const base = x * MAX_RQST, end = base + unchecked(xMaxReqs[x]);
  for (let r = base; r < end; r++) {
    if (unchecked(rqCong[r]) == 0) continue;
    for (let t = 0; t < MAX_TASKS; t++) {
      if (unchecked(tkUsed[t]) && unchecked(tkRqst[t]) == r) {
        if (holder < 0 || rpcTaskQueue(t) == unchecked(xSending[x])) holder = t;
        break;
      }
    }
  }
  if (holder >= 0) resHold(unchecked(rCredit[x]), unchecked(tkEnt[holder]));
  resRelease(unchecked(rPutCong[x]));
  resRelease(unchecked(rSlot[x]));
  resRelease(unchecked(rReply[x]));
}

// a process waiting for the writeback of file f: the page's WRITE task holds PG_writeback
export function waitforProcess(th: i32, f: i32, writeTask: i32): void {
  if (f < 0 || f >= 64) return;
  const r = unchecked(rPage[f]);
  if (writeTask >= 0) resHold(r, unchecked(tkEnt[writeTask]));
  else resRelease(r);
  wfWait(th, r);
}

export function waitforChainJson(th: i32): void { wfChainJson(th); }

