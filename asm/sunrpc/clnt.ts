// net/sunrpc/clnt.c (3.6): the rpc_task state machine
//   call_start -> call_reserve -> call_reserveresult -> call_refresh -> call_refreshresult
//   -> call_allocate -> call_bind -> call_connect -> call_transmit -> call_transmit_status
//   -> (asleep on xprt_pending) -> call_status -> call_decode -> rpc_exit_task
// plus call_timeout, call_connect_status and the tk_callbacks xprt_timer,
// xprt_connect_status, xs_nospace_callback and __rpc_atrun.
//
// tk_action holds what the kernel's tk_action would (the rpc_debug dump prints it). A few
// kernel functions that run inside one call_* get their own step, because a lock is
// held across them: xprt_alloc_slot after xprt_reserve took XPRT_LOCKED, xprt_connect
// after call_connect's test, xprt_transmit after xprt_prepare_transmit took the lock.
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { klog } from "./klog";
import { zeroed } from "../kernel/mem";
import {
  EAGAIN, ETIMEDOUT, ENOTCONN, ECONNRESET, EPIPE, ECONNREFUSED, EHOSTUNREACH, EIO, ENOMEM,
  RPC_CALL_MAJORSEEN, XPRT_BOUND, JIFFY, NFS3PROC_WRITE, NFS3PROC_GETATTR, NFS3PROC_COMMIT, XPRT_UDP,
} from "./defs";
import {
  tkEnt, tkStatus, tkAction, tkCallback, tkSub, tkRqst, tkFlags, tkProc, tkOps, tkUsed, tkPid,
  tkSyncThread, tkTimeouts, setRpcStepFns, setRpcExitAction, rpcExit, rpcDelay, rpcFreeTask, curCpu,
  rpcTaskTap,
} from "./sched";
import {
  xprtReserve, xprtAllocUnderLock, xprtConnect, xprtConnectStatus, xprtPrepareTransmit, xprtTransmit,
  xprtEndTransmit, xprtTimer, xprtAdjustTimeout, xprtRelease, xprtConnected, xprtBit, rqReplyRecvd,
  rqBytesSent, xSndTask, pReleaseOnEarlyExit, tkXprt,
} from "./xprt";

// tk_action values
export const A_NULL: i32 = 0;
export const A_call_start: i32 = 1;
export const A_call_reserve: i32 = 2;
export const A_call_reserveresult: i32 = 3;
export const A_call_refresh: i32 = 4;
export const A_call_refreshresult: i32 = 5;
export const A_call_allocate: i32 = 6;
export const A_call_bind: i32 = 7;
export const A_call_connect: i32 = 8;
export const A_call_connect_status: i32 = 9;
export const A_call_transmit: i32 = 10;
export const A_call_transmit_status: i32 = 11;
export const A_call_status: i32 = 12;
export const A_call_timeout: i32 = 13;
export const A_call_decode: i32 = 14;
export const A_rpc_exit_task: i32 = 15;
const NA: i32 = 16;
// sub-steps
export const M_xprt_alloc_slot: i32 = 1;
export const M_xprt_connect: i32 = 2;
export const M_xprt_transmit: i32 = 3;
// tk_callback values
export const C_xprt_timer: i32 = 1;
export const C_xprt_connect_status: i32 = 2;
export const C_xs_nospace_callback: i32 = 3;
export const C_rpc_atrun: i32 = 4;

export const actName = zeroed<i32>(NA);
actName[A_NULL] = name("NULL");
actName[A_call_start] = fn("call_start", "", CAT_STEP);
actName[A_call_reserve] = fn("call_reserve", "", CAT_STEP);
actName[A_call_reserveresult] = fn("call_reserveresult", "status=%e", CAT_STEP);
actName[A_call_refresh] = fn("call_refresh", "", CAT_STEP);
actName[A_call_refreshresult] = fn("call_refreshresult", "status=%e", CAT_STEP);
actName[A_call_allocate] = fn("call_allocate", "", CAT_STEP);
actName[A_call_bind] = fn("call_bind", "bound=%d", CAT_STEP);
actName[A_call_connect] = fn("call_connect", "connected=%d", CAT_STEP);
actName[A_call_connect_status] = fn("call_connect_status", "status=%e", CAT_STEP);
actName[A_call_transmit] = fn("call_transmit", "status=%e", CAT_STEP);
actName[A_call_transmit_status] = fn("call_transmit_status", "status=%e", CAT_STEP);
actName[A_call_status] = fn("call_status", "status=%e", CAT_STEP);
actName[A_call_timeout] = fn("call_timeout", "", CAT_STEP);
actName[A_call_decode] = fn("call_decode", "status=%e", CAT_STEP);
actName[A_rpc_exit_task] = fn("rpc_exit_task", "status=%e", CAT_STEP);
const N_release_task = fn("rpc_release_task", "status=%e", CAT_STEP);
const N_sub_alloc = fn("xprt_reserve: xprt_alloc_slot under XPRT_LOCKED", "", CAT_STEP);
const N_sub_connect = name("xprt_connect");
const N_sub_transmit = name("xprt_transmit");
const N_cb_timer = name("xprt_timer");
const N_cb_connect_status = name("xprt_connect_status");
const N_cb_nospace = fn("xs_nospace_callback", "", CAT_STEP);
const N_cb_atrun = fn("__rpc_atrun", "", CAT_STEP);
const N_not_responding = fn("nfs: server 10.0.0.2 not responding, still trying", "pid=%d", CAT_LOG);
const N_server_ok = fn("nfs: server 10.0.0.2 OK", "pid=%d", CAT_LOG);
// 2.6.2x names of steps 3.x folded into others (rpc_xdr_encode, rpc_encode_header,
// rpc_verify_header) and call_timeout's dprintk: seed 003's "tap:" log names them so.
const N_call_encode = name("call_encode");
const N_call_header = name("call_header");
const N_call_verify = name("call_verify");
const N_timeout_minor = name("timeout (minor)");
const N_lock_exit = fn("rpc_release_task: exits holding XPRT_LOCKED", "pid=%d", CAT_STEP);

export const N_proc_name = zeroed<i32>(32);
N_proc_name[NFS3PROC_GETATTR] = name("GETATTR");
N_proc_name[NFS3PROC_WRITE] = name("WRITE");
N_proc_name[NFS3PROC_COMMIT] = name("COMMIT");

// rpc_call_ops: rpc_call_done and rpc_release (the NFS layer sets them).
export let opsCallDone: (task: i32) => void = (task: i32): void => {};
export let opsRelease: (task: i32) => void = (task: i32): void => {};
export function setCallDone(done: (task: i32) => void): void { opsCallDone = done; }
export function setCallRelease(release: (task: i32) => void): void { opsRelease = release; }
// the transport's send cost (xprtsock.ts)
export let sendCost: (task: i32) => i64 = (task: i32): i64 => 5000;
export function setSendCost(f: (task: i32) => i64): void { sendCost = f; }

// A debugging delay between call_connect()'s xprt_connected() test and xprt_connect()'s
// xprt_lock_write(): the window of the report's interleaving, widened as a developer would
// with an mdelay() there. 0 = stock timing.
export let connectRaceNs: i64 = 0;
export function setConnectRace(ns: i64): void { connectRaceNs = ns; }
// The same for the other window: between xprt_reserve()'s xprt_lock_write() and
// xprt_alloc_slot(), while a slot allocator holds XPRT_LOCKED without a credit.
export let reserveRaceNs: i64 = 0;
// ... and between xprt_connect() returning and call_transmit(): the task is preempted
// before call_connect_status runs.
export let connectStatusRaceNs: i64 = 0;
export function setConnectStatusRace(ns: i64): void { connectStatusRaceNs = ns; }
// ... and in call_timeout: a task whose lock was released by a timeout (the write-space
// wait, or its retransmit timer) is preempted before it contends for the lock again.
export let timeoutRaceNs: i64 = 0;
export function setTimeoutRace(ns: i64): void { timeoutRaceNs = ns; }
export function setReserveRace(ns: i64): void { reserveRaceNs = ns; }

export let nMajorTimeouts: i32 = 0;
export let nMinorTimeouts: i32 = 0;
export let nRetransmits: i32 = 0;

function e(t: i32): i32 { return unchecked(tkEnt[t]); }
function st(t: i32): i32 { return unchecked(tkStatus[t]); }
function setSt(t: i32, s: i32): void { unchecked(tkStatus[t] = s); }
function act(t: i32, a: i32): void { unchecked(tkAction[t] = a); }

// rpc_task_force_reencode
function forceReencode(t: i32): void {
  const r = unchecked(tkRqst[t]);
  if (r >= 0) unchecked(rqBytesSent[r] = 0);
}

function callStart(t: i32): void {
  trace(e(t), actName[A_call_start]);
  act(t, A_call_reserve);
}

function callReserve(t: i32): void {
  trace(e(t), actName[A_call_reserve]);
  setSt(t, 0);
  act(t, A_call_reserveresult);
  if (xprtReserve(t)) unchecked(tkSub[t] = M_xprt_alloc_slot);
}

function callReserveresult(t: i32): void {
  const status = st(t);
  trace(e(t), actName[A_call_reserveresult], status);
  setSt(t, 0);
  if (status >= 0) {
    if (unchecked(tkRqst[t]) >= 0) { act(t, A_call_refresh); return; }
    rpcExit(t, -EIO);
    return;
  }
  if (unchecked(tkRqst[t]) >= 0) xprtRelease(t);
  if (status == -ENOMEM) { rpcDelay(t, 250 * JIFFY, C_rpc_atrun, actName[A_call_reserveresult]); act(t, A_call_reserve); return; }
  if (status == -EAGAIN) { act(t, A_call_reserve); return; }
  rpcExit(t, status);
}

function callRefresh(t: i32): void {
  trace(e(t), actName[A_call_refresh]);
  act(t, A_call_refreshresult);
  setSt(t, 0);      // AUTH_UNIX: rpcauth_refreshcred succeeds at once
}

function callRefreshresult(t: i32): void {
  const status = st(t);
  trace(e(t), actName[A_call_refreshresult], status);
  setSt(t, 0);
  act(t, A_call_allocate);
}

function callAllocate(t: i32): void {
  trace(e(t), actName[A_call_allocate]);
  setSt(t, 0);
  act(t, A_call_bind);
}

function callBind(t: i32): void {
  // NFS mounts name the server's port (2049): the transport stays bound.
  trace(e(t), actName[A_call_bind], xprtBit(unchecked(tkXprt[t]), XPRT_BOUND) ? 1 : 0);
  act(t, A_call_connect);
}

function callConnect(t: i32): void {
  const c = xprtConnected(unchecked(tkXprt[t]));
  trace(e(t), actName[A_call_connect], c ? 1 : 0);
  act(t, A_call_transmit);
  if (!c) {
    act(t, A_call_connect_status);
    if (st(t) < 0) return;
    unchecked(tkSub[t] = M_xprt_connect);     // xprt_connect(task) runs next
  }
}

function callConnectStatus(t: i32): void {
  const status = st(t);
  trace(e(t), actName[A_call_connect_status], status);
  setSt(t, 0);
  if (status >= 0 || status == -EAGAIN) { act(t, A_call_transmit); return; }
  if (status == -ETIMEDOUT) { act(t, A_call_timeout); return; }
  rpcExit(t, -EIO);
}

function callTransmit(t: i32): void {
  trace(e(t), actName[A_call_transmit], st(t));
  act(t, A_call_status);
  if (st(t) < 0) return;
  const s = xprtPrepareTransmit(t);
  setSt(t, s);
  if (s != 0) return;                          // -EAGAIN: asleep on xprt_sending
  act(t, A_call_transmit_status);
  rpcTaskTap(t, N_call_encode, 0);
  rpcTaskTap(t, N_call_header, 0);
  unchecked(tkSub[t] = M_xprt_transmit);       // rpc_xdr_encode + xprt_transmit
}

function subTransmit(t: i32): void {
  xprtTransmit(t, C_xprt_timer);
  if (st(t) < 0) return;
  callTransmitStatusInline(t);
}

function callTransmitStatusInline(t: i32): void {
  rpcTaskTap(t, actName[A_call_transmit_status], 0);
  act(t, A_call_status);
  const s = st(t);
  if (s == 0) { xprtEndTransmit(t); forceReencode(t); return; }
  if (s == -EAGAIN) return;                    // waiting for buffer space: keep the lock
  if (s == -ECONNREFUSED || s == -EHOSTUNREACH || s == -ECONNRESET || s == -ENOTCONN || s == -EPIPE) {
    forceReencode(t);                          // keep the lock: reconnect first
    return;
  }
  xprtEndTransmit(t);
  forceReencode(t);
}

function callTransmitStatus(t: i32): void {
  trace(e(t), actName[A_call_transmit_status], st(t));
  callTransmitStatusInline(t);
}

function callStatus(t: i32): void {
  const r = unchecked(tkRqst[t]);
  if (unchecked(rqReplyRecvd[r]) > 0 && unchecked(rqBytesSent[r]) == 0) setSt(t, unchecked(rqReplyRecvd[r]));
  const status = st(t);
  trace(e(t), actName[A_call_status], status);
  rpcTaskTap(t, actName[A_call_status], status);
  if (status >= 0) { act(t, A_call_decode); return; }
  setSt(t, 0);
  if (status == -EHOSTUNREACH) { rpcDelay(t, 3 * 1000 * JIFFY, C_rpc_atrun, actName[A_call_status]); act(t, A_call_timeout); return; }
  if (status == -ETIMEDOUT) { act(t, A_call_timeout); return; }
  if (status == -ECONNRESET || status == -ECONNREFUSED) {
    rpcDelay(t, 3 * 1000 * JIFFY, C_rpc_atrun, actName[A_call_status]);
    act(t, A_call_bind);
    return;
  }
  if (status == -EPIPE || status == -ENOTCONN) { act(t, A_call_bind); return; }
  if (status == -EAGAIN) { act(t, A_call_transmit); return; }
  rpcExit(t, status);
}

function callTimeout(t: i32): void {
  trace(e(t), actName[A_call_timeout]);
  if (xprtAdjustTimeout(t) == 0) {
    nMinorTimeouts++;
    rpcTaskTap(t, N_timeout_minor, 0);
  } else {
    nMajorTimeouts++;
    unchecked(tkTimeouts[t] += 1);
    if ((unchecked(tkFlags[t]) & RPC_CALL_MAJORSEEN) == 0) {
      unchecked(tkFlags[t] |= RPC_CALL_MAJORSEEN);
      trace(e(t), N_not_responding, unchecked(tkPid[t]));
      klog(N_not_responding, unchecked(tkPid[t]));
    }
    // rpc_force_rebind: a no-op without autobind; rpcauth_invalcred
  }
  act(t, A_call_bind);
  setSt(t, 0);
}

function callDecode(t: i32): void {
  trace(e(t), actName[A_call_decode], st(t));
  rpcTaskTap(t, N_call_verify, 0);
  if ((unchecked(tkFlags[t]) & RPC_CALL_MAJORSEEN) != 0) {
    trace(e(t), N_server_ok, unchecked(tkPid[t]));
    klog(N_server_ok, unchecked(tkPid[t]));
    unchecked(tkFlags[t] &= ~RPC_CALL_MAJORSEEN);
  }
  act(t, A_rpc_exit_task);
  setSt(t, 0);
}

function rpcExitTask(t: i32): void {
  trace(e(t), actName[A_rpc_exit_task], st(t));
  act(t, A_NULL);
  opsCallDone(t);
}

// rpc_release_task -> rpc_release_resources_task: xprt_release only if there is a slot,
// unless 87ed5003, which calls it always (and makes it drop a lock held without one).
function rpcReleaseTask(t: i32): void {
  trace(e(t), N_release_task, st(t));
  const x = unchecked(tkXprt[t]);
  const holds = unchecked(xSndTask[x]) == t;
  if (unchecked(tkRqst[t]) >= 0 || pReleaseOnEarlyExit) xprtRelease(t);
  else if (holds) xprtRelease(t);      // traces the early return and the leak
  if (holds && unchecked(xSndTask[x]) == t) trace(e(t), N_lock_exit, unchecked(tkPid[t]));
  opsRelease(t);
  rpcFreeTask(t, unchecked(xSndTask[x]) == t);
}

function cbNospace(t: i32): void { trace(e(t), N_cb_nospace); }
function cbAtrun(t: i32): void { trace(e(t), N_cb_atrun); setSt(t, 0); }

// __rpc_execute: one function
function runOne(t: i32): void {
  const sub = unchecked(tkSub[t]);
  if (sub != 0) {
    unchecked(tkSub[t] = 0);
    if (sub == M_xprt_alloc_slot) { trace(e(t), N_sub_alloc); xprtAllocUnderLock(t); }
    else if (sub == M_xprt_connect) xprtConnect(t, C_xprt_connect_status);
    else if (sub == M_xprt_transmit) subTransmit(t);
    return;
  }
  const cb = unchecked(tkCallback[t]);
  if (cb != 0) {
    unchecked(tkCallback[t] = 0);
    if (cb == C_xprt_timer) xprtTimer(t);
    else if (cb == C_xprt_connect_status) xprtConnectStatus(t);
    else if (cb == C_xs_nospace_callback) cbNospace(t);
    else if (cb == C_rpc_atrun) cbAtrun(t);
    return;
  }
  const a = unchecked(tkAction[t]);
  // call_status taps its status; call_transmit_status runs inline from xprt_transmit
  if (a != A_NULL && a != A_call_status && a != A_call_transmit_status) rpcTaskTap(t, unchecked(actName[a]), 0);
  switch (a) {
    case A_call_start: callStart(t); break;
    case A_call_reserve: callReserve(t); break;
    case A_call_reserveresult: callReserveresult(t); break;
    case A_call_refresh: callRefresh(t); break;
    case A_call_refreshresult: callRefreshresult(t); break;
    case A_call_allocate: callAllocate(t); break;
    case A_call_bind: callBind(t); break;
    case A_call_connect: callConnect(t); break;
    case A_call_connect_status: callConnectStatus(t); break;
    case A_call_transmit: callTransmit(t); break;
    case A_call_transmit_status: callTransmitStatus(t); break;
    case A_call_status: callStatus(t); break;
    case A_call_timeout: callTimeout(t); break;
    case A_call_decode: callDecode(t); break;
    case A_rpc_exit_task: rpcExitTask(t); break;
    case A_NULL: rpcReleaseTask(t); break;
    default: assert(false, "bad tk_action");
  }
}

// A function that touches only the task itself: no lock, no transport or request state, no
// wake-up, nothing another thread reads. __rpc_execute runs it and the next function back
// to back; a preemption between the two (CONFIG_PREEMPT) would change nothing another CPU
// can observe except the time, so it runs in the step of the function after it and that
// step's drawn time covers both (stepCost). Reads of state that never changes here
// (XPRT_BOUND) count as the task's own.
function actTaskOnly(a: i32, status: i32, rqst: i32): bool {
  if (a == A_call_reserveresult) return (status >= 0 && rqst >= 0) || (status == -EAGAIN && rqst < 0);
  return a == A_call_start || a == A_call_refresh || a == A_call_refreshresult || a == A_call_allocate
    || a == A_call_bind || a == A_call_decode;
}
// tk_callbacks that return at once: xprt_timer woken by the reply, xprt_connect_status
// without an error to act on, xs_nospace_callback, __rpc_atrun.
function cbTaskOnly(cb: i32, status: i32): bool {
  if (cb == C_xprt_timer) return status != -ETIMEDOUT;
  if (cb == C_xprt_connect_status) return status == 0 || status == -EAGAIN || status == -ETIMEDOUT;
  return cb == C_xs_nospace_callback || cb == C_rpc_atrun;
}
function taskOnly(t: i32): bool {
  if (unchecked(tkSub[t]) != 0) return false;
  const cb = unchecked(tkCallback[t]);
  if (cb != 0) return cbTaskOnly(cb, st(t));
  return actTaskOnly(unchecked(tkAction[t]), st(t), unchecked(tkRqst[t]));
}
// the tk_action a task-only function leaves
function actFoldNext(a: i32, status: i32): i32 {
  if (a == A_call_start) return A_call_reserve;
  if (a == A_call_reserveresult) return status >= 0 ? A_call_refresh : A_call_reserve;
  if (a == A_call_refresh) return A_call_refreshresult;
  if (a == A_call_refreshresult) return A_call_allocate;
  if (a == A_call_allocate) return A_call_bind;
  if (a == A_call_bind) return A_call_connect;
  return A_rpc_exit_task;      // call_decode
}

// One step: the task-only functions ahead, then the first one another thread can observe.
function runStep(t: i32): void {
  while (taskOnly(t)) runOne(t);
  runOne(t);
}

// Mean CPU cost of each function (ns).
const actCost = zeroed<i64>(NA);
actCost[A_NULL] = 1500;
actCost[A_call_start] = 400;
actCost[A_call_reserve] = 500;
actCost[A_call_reserveresult] = 300;
actCost[A_call_refresh] = 400;
actCost[A_call_refreshresult] = 250;
actCost[A_call_allocate] = 800;
actCost[A_call_bind] = 250;
actCost[A_call_connect] = 300;
actCost[A_call_connect_status] = 250;
actCost[A_call_transmit] = 600;
actCost[A_call_transmit_status] = 300;
actCost[A_call_status] = 300;
actCost[A_call_timeout] = 500;
actCost[A_call_decode] = 1200;
actCost[A_rpc_exit_task] = 1800;

const CB_COST: i64 = 400;
function actionCost(a: i32): i64 {
  if (a == A_call_connect_status) return unchecked(actCost[a]) + connectStatusRaceNs;
  if (a == A_call_timeout) return unchecked(actCost[a]) + timeoutRaceNs;
  return unchecked(actCost[a]);
}

// The mean cost of the step runStep will run: the task-only functions ahead (walked as
// runStep will take them; none of them changes tk_rqstp) and the function after them.
function stepCost(t: i32): i64 {
  const sub = unchecked(tkSub[t]);
  if (sub == M_xprt_alloc_slot) return 900 + reserveRaceNs;
  if (sub == M_xprt_connect) return 700 + connectRaceNs;
  if (sub == M_xprt_transmit) return sendCost(t);
  let cost: i64 = 0;
  let status = st(t);
  const cb = unchecked(tkCallback[t]);
  if (cb != 0) {
    if (!cbTaskOnly(cb, status)) return CB_COST;
    cost += CB_COST;
    if (cb == C_rpc_atrun) status = 0;
  }
  const rqst = unchecked(tkRqst[t]);
  let a = unchecked(tkAction[t]);
  while (actTaskOnly(a, status, rqst)) {
    cost += unchecked(actCost[a]);
    a = actFoldNext(a, status);
    status = 0;      // each clears tk_status, or is followed by one that does not read it
  }
  return cost + actionCost(a);
}

function stepName(t: i32): i32 {
  const sub = unchecked(tkSub[t]);
  if (sub == M_xprt_alloc_slot) return N_sub_alloc;
  if (sub == M_xprt_connect) return N_sub_connect;
  if (sub == M_xprt_transmit) return N_sub_transmit;
  const cb = unchecked(tkCallback[t]);
  if (cb == C_xprt_timer) return N_cb_timer;
  if (cb == C_xprt_connect_status) return N_cb_connect_status;
  if (cb == C_xs_nospace_callback) return N_cb_nospace;
  if (cb == C_rpc_atrun) return N_cb_atrun;
  return unchecked(actName[unchecked(tkAction[t])]);
}

export function clntInit(): void {
  setRpcStepFns(runStep, stepCost, stepName);
  setRpcExitAction(A_rpc_exit_task);
}

// rpc_call_start: a new task begins at call_start.
export function rpcCallStart(t: i32): void { act(t, A_call_start); }

