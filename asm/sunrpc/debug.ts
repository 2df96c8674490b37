// What a kernel engineer would look at: rpc_show_tasks() (the rpc_debug dump), the
// transport's state, and the wait-for graph of a blocked process (kernel/waitfor.ts).
// Raw fields only; the host formats them (engine/scenarios/sunrpc/).
import { now } from "../kernel/clock";
import { name } from "../kernel/names";
import { entPidOf, entCommOf, MAX_ENTS } from "../kernel/sched";
import { resNew, resHold, resRelease, wfWait, wfDone, wfChainJson } from "../kernel/waitfor";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB, jKName, jInt, jName, jKN } from "../kernel/json";
import { zeroed } from "../kernel/mem";
import { XPRT_LOCKED, JIFFY, MAX_TASKS, XPRT_UDP, RPC_CWNDSCALE } from "./defs";
import {
  tkUsed, tkEnt, tkPid, tkFlags, tkStatus, tkAction, tkTimeout, tkRqst, tkProc, tkOps, tkOwner, tkSleptIn,
  tkQueuedAt, tkKeep, tkCreated, rpcQueueNameOf, rpcTaskQueue, rpcStepName, rpcSyncDone,
  nKills, rpcKillsOn,
} from "./sched";
import { rpcqLen, rpcqLevelLen, rpcqLevelOf, rpcqName } from "./rpcq";
import {
  xTransport, xBits, sndTask, sndTaskPid, cong, cwnd, maxCwnd, numReqs, minReqs, maxReqs, nFreeSlots,
  recvCount, connectCookie, qSending, qPending, qBacklog, qBinding, autoclosePending, idleTimerArmed,
  xprtBit, N_BIT, creditHoldersInFlight, congested, livenessBroken, taskHoldsCredit, pAllocSlotOp,
  pLockBeforeAlloc, pReleaseOnEarlyExit, rqCong, rqXid, rqNtrans, xEnt, firstStuckAt, nStuckEvents,
  leakedLockAt, leakedLockPid, nCloseWaitDeferred, seriesLen, seriesT, seriesCwnd, seriesCong,
  seriesSending, reestablishTimeout, nCreditParked, nConnectedRace,
} from "./xprt";
import { actName, N_proc_name } from "./clnt";
import { testBit } from "../kernel/bitops";

const N_xprt_reserve_xprt = name("xprt_reserve_xprt");
const N_xprt_reserve_xprt_cong = name("xprt_reserve_xprt_cong");
const N_xprt_release_xprt_cong = name("xprt_release_xprt_cong");
const N_xs_tcp_release_xprt = name("xs_tcp_release_xprt");
const N_xprt_alloc_slot = name("xprt_alloc_slot");
const N_xprt_lock_and_alloc_slot = name("xprt_lock_and_alloc_slot");
const N_null = name("(none)");
const N_xs_udp_ops = name("xs_udp_ops");
const N_xs_tcp_ops = name("xs_tcp_ops");

// the rpc_debug dump: every task of the client, in cl_tasks order (creation order)
export function rpcShowTasksJson(): void {
  jArr();
  // creation order: by pid
  for (let pass = 0; pass < 1; pass++) {
    let last = 0;
    while (true) {
      let best = -1, bestPid = 0x7fffffff;
      for (let t = 0; t < MAX_TASKS; t++) {
        if (!unchecked(tkUsed[t])) continue;
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
  jKB("sndTask", sndTask == t);
  const r = unchecked(tkRqst[t]);
  jKI("xid", r >= 0 ? <i64>unchecked(rqXid[r]) : 0);
  jKI("ntrans", r >= 0 ? unchecked(rqNtrans[r]) : 0);
  jEndObj();
}

export function xprtJson(): void {
  jObj();
  jKName("ops", xTransport == XPRT_UDP ? N_xs_udp_ops : N_xs_tcp_ops);
  jKName("reserve_xprt", xTransport == XPRT_UDP ? N_xprt_reserve_xprt_cong : N_xprt_reserve_xprt);
  jKName("release_xprt", xTransport == XPRT_UDP ? N_xprt_release_xprt_cong : N_xs_tcp_release_xprt);
  jKName("alloc_slot", !pAllocSlotOp ? N_null : xTransport == XPRT_UDP ? N_xprt_alloc_slot : N_xprt_lock_and_alloc_slot);
  jKB("lockBeforeAlloc", pLockBeforeAlloc);
  jKB("releaseOnEarlyExit", pReleaseOnEarlyExit);
  jKey("state");
  jArr();
  for (let b = 0; b < 9; b++) if (xprtBit(b)) jName(unchecked(N_BIT[b]));
  jEndArr();
  jKI("snd_task", sndTask >= 0 || xprtBit(XPRT_LOCKED) ? sndTaskPid : 0);
  jKB("sndTaskAlive", sndTask >= 0 && unchecked(tkUsed[sndTask]));
  jKB("sndTaskExited", sndTask >= 0 && !unchecked(tkUsed[sndTask]));
  jKI("cong", cong);
  jKI("cwnd", cwnd);
  jKI("maxcwnd", maxCwnd());
  jKB("congested", congested());
  jKI("num_reqs", numReqs);
  jKI("min_reqs", minReqs);
  jKI("max_reqs", maxReqs);
  jKI("free", nFreeSlots());
  jKI("recv", recvCount);
  jKI("connect_cookie", connectCookie);
  jKI("reestablish_timeout", reestablishTimeout / JIFFY);
  jKey("sending"); queueJson(qSending);
  jKey("pending"); queueJson(qPending);
  jKey("backlog"); queueJson(qBacklog);
  jKey("binding"); queueJson(qBinding);
  jKB("autoclosePending", autoclosePending());
  jKB("idleTimerArmed", idleTimerArmed());
  jKI("creditHoldersInFlight", creditHoldersInFlight());
  jKI("creditHolders", cong / RPC_CWNDSCALE);
  jKB("livenessBroken", livenessBroken());
  jKI("firstStuckAt", firstStuckAt);
  jKI("stuckEvents", nStuckEvents);
  jKI("leakedLockAt", leakedLockAt);
  jKI("leakedLockPid", leakedLockPid);
  jKI("closeWaitDeferred", nCloseWaitDeferred);
  jKI("creditParked", nCreditParked);
  jKI("connectedRace", nConnectedRace);
  jKI("kills", nKills);
  jKI("killsOnSending", rpcKillsOn(qSending));
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

export function seriesJson(): void {
  jArr();
  const n = seriesLen();
  for (let i = 0; i < n; i++) {
    jArr();
    jInt(seriesT(i));
    jInt(seriesCwnd(i));
    jInt(seriesCong(i));
    jInt(seriesSending(i));
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
let rLock: i32 = -1;
let rCredit: i32 = -1;
let rPutCong: i32 = -1;
let rSlot: i32 = -1;
let rReply: i32 = -1;
const rPage = zeroed<i32>(64);
const taskInGraph = zeroed<bool>(MAX_TASKS);

export function waitforInit(nFiles: i32): void {
  rLock = resNew(N_res_lock, 0);
  rCredit = resNew(N_res_credit, 0);
  rPutCong = resNew(N_res_putcong, 0);
  rSlot = resNew(N_res_slot, 0);
  rReply = resNew(N_res_reply, 0);
  for (let f = 0; f < nFiles && f < 64; f++) unchecked(rPage[f] = resNew(N_pg_writeback, f));
}

// Record the edges as they stand now, for a task blocked on something the transport owns.
function taskEdges(t: i32): void {
  const e = unchecked(tkEnt[t]);
  const q = rpcTaskQueue(t);
  wfDone(e);
  if (q == qSending) {
    if (testBit(xBits, XPRT_LOCKED)) wfWait(e, rLock);
    else if (congested()) {
      // the lock is free; the window is full: it needs someone's credit back
      wfWait(e, taskHoldsCredit(t) ? rPutCong : rCredit);
    }
  } else if (q == qBacklog) wfWait(e, rSlot);
  else if (q == qPending) wfWait(e, rReply);
}

// holders: XPRT_LOCKED by snd_task (dead or alive) or the xprt (autoclose); a credit by a
// credit-holding task (the first one parked on xprt_sending, else any)
export function waitforRefresh(): void {
  if (testBit(xBits, XPRT_LOCKED)) {
    if (sndTask >= 0) resHold(rLock, unchecked(tkEnt[sndTask]));
    else resHold(rLock, xEnt);
  } else resRelease(rLock);
  resRelease(rCredit);
  let holder = -1;
  for (let r = 0; r < maxReqs; r++) {
    if (unchecked(rqCong[r]) == 0) continue;
    for (let t = 0; t < MAX_TASKS; t++) {
      if (unchecked(tkUsed[t]) && unchecked(tkRqst[t]) == r) {
        if (holder < 0 || rpcTaskQueue(t) == qSending) holder = t;
        break;
      }
    }
  }
  if (holder >= 0) resHold(rCredit, unchecked(tkEnt[holder]));
  resRelease(rPutCong);
  resRelease(rSlot);
  resRelease(rReply);
  for (let t = 0; t < MAX_TASKS; t++) {
    if (unchecked(tkUsed[t])) taskEdges(t);
    else if (unchecked(tkKeep[t])) wfDone(unchecked(tkEnt[t]));   // exited: waits on nothing
  }
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

