// net/sunrpc/xprt.c as of 3.6-rc (after 43cedbf0, before f39c1bfb) with the 2012 fixes as
// switches on their code paths: struct rpc_xprt (state bits, snd_task, cong/cwnd, the slot
// table, the sending/pending/backlog/binding wait queues), the transport write lock and
// its hand-off, the congestion window, slot allocation, xprt_connect, transmit, timers,
// release, autoclose and the idle autodisconnect.
//
// The transport's ops table is chosen when the transport is set up, as in xprtsock.c:
//   xs_udp_ops: .reserve_xprt = xprt_reserve_xprt_cong, .release_xprt = xprt_release_xprt_cong
//   xs_tcp_ops: .reserve_xprt = xprt_reserve_xprt,      .release_xprt = xs_tcp_release_xprt
// and, only with patch xprt-alloc-slot-op (f39c1bfb), an .alloc_slot entry:
//   UDP: xprt_alloc_slot (no lock); TCP: xprt_lock_and_alloc_slot.
import { now } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_LOG, CAT_ANOMALY } from "../kernel/names";
import { trace, traceAnomaly } from "../kernel/trace";
import { klog } from "./klog";
import { scheduleAt, cancelEvent } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew } from "../kernel/sched";
import { bitsNew, testBit, setBit, clearBit, testAndSetBit, testAndClearBit, bitsWord } from "../kernel/bitops";
import { zeroed } from "../kernel/mem";
import {
  EAGAIN, ETIMEDOUT, ENOTCONN, EIO, XPRT_LOCKED, XPRT_CONNECTED, XPRT_CONNECTING, XPRT_CLOSE_WAIT,
  XPRT_BOUND, XPRT_CLOSING, XPRT_CONNECTION_CLOSE, RPC_PRIORITY_LOW, RPC_PRIORITY_NORMAL,
  RPC_PRIORITY_HIGH, RPC_CWNDSCALE, RPC_CWNDSHIFT, RPC_INITCWND, MAX_RQST, XPRT_UDP, XPRT_TCP,
  RPC_TASK_SENT, RPC_RTO_MAX, RPC_RTO_INIT, RPC_RTO_MIN, JIFFY, XS_IDLE_DISC_TO, procTimer,
} from "./defs";
import {
  tkEnt, tkPid, tkStatus, tkTimeout, tkRqst, tkFlags, tkProc, tkUsed, rpcSleepOnPriority, rpcSleepOn,
  rpcWakeUpFirst, rpcWakeUpNext, rpcWakeUpStatus, rpcWakeUp, rpcWakeUpQueuedTask, rpcWaitQueue,
  rpcIsQueued, rpcTimerArmed, queueWork, workNew, workPending, curCpu, rpcTaskQueue, tkSyncThread,
  rpcTaskTap, setRpcTimerTap, tkCallback,
} from "./sched";

export const EV_XPRT_IDLE: i32 = eventKind("xprt.idle");

// ---- names -----------------------------------------------------------------------
export const N_xprt_sending = name("xprt_sending");
export const N_xprt_pending = name("xprt_pending");
export const N_xprt_backlog = name("xprt_backlog");
export const N_xprt_binding = name("xprt_binding");
const N_rpc_xprt = name("rpc_xprt");
const N_xprt_comm_udp = name("xprt udp 10.0.0.2:2049");
const N_xprt_comm_tcp = name("xprt tcp 10.0.0.2:2049");
export const N_xprt_autoclose = name("xprt_autoclose");

const N_reserve_xprt = fn("xprt_reserve_xprt", "got=%d snd_task=%d", CAT_STEP);
const N_reserve_xprt_cong = fn("xprt_reserve_xprt_cong", "got=%d snd_task=%d cong=%d cwnd=%d", CAT_STEP);
const N_clear_locked = fn("xprt_clear_locked", "autoclose=%d", CAT_STATE);
const N_lock_next = fn("__xprt_lock_write_next", "woke=%d", CAT_STATE);
const N_lock_next_cong = fn("__xprt_lock_write_next_cong", "woke=%d cong=%d cwnd=%d congested=%d", CAT_STATE);
const N_get_cong = fn("__xprt_get_cong", "cong=%d cwnd=%d", CAT_STATE);
const N_put_cong = fn("__xprt_put_cong", "cong=%d cwnd=%d", CAT_STATE);
export const N_adjust_cwnd = fn("xprt_adjust_cwnd", "cong=%d cwnd=%d result=%e", CAT_STATE);
const N_alloc_slot = fn("xprt_alloc_slot", "status=%e slot=%d num_reqs=%d", CAT_STEP);
const N_free_slot = fn("xprt_free_slot", "slot=%d", CAT_STEP);
const N_xprt_reserve = fn("xprt_reserve", "path=%n", CAT_STEP);
const N_xprt_release = fn("xprt_release", "slot=%d", CAT_STEP);
const N_xprt_release_norq = fn("xprt_release: tk_rqstp == NULL", "snd_task_is_us=%d released=%d", CAT_STEP);
const N_lock_leaked = fn("XPRT_LOCKED leaked: the task that holds it exited", "pid=%d", CAT_ANOMALY);
const N_xprt_connect = fn("xprt_connect", "connected=%d got_lock=%d", CAT_STEP);
const N_xprt_connect_status = fn("xprt_connect_status", "status=%e", CAT_STEP);
const N_prepare_transmit = fn("xprt_prepare_transmit", "status=%e", CAT_STEP);
const N_xprt_transmit = fn("xprt_transmit", "xid=%x ntrans=%d status=%e", CAT_STEP);
const N_xprt_timer = fn("xprt_timer", "status=%e replied=%d", CAT_STEP);
const N_complete_rqst = fn("xprt_complete_rqst", "xid=%x copied=%d", CAT_STEP);
const N_dequeue_transmit = fn("xprt_request_dequeue_transmit", "xid=%x", CAT_STEP);
const N_timer_norecv = name("xprt_timer: !req->rq_received");
const N_autoclose = fn("xprt_autoclose", "", CAT_STEP);
const N_autodisconnect = fn("xprt_init_autodisconnect", "recv=%d locked=%d", CAT_STEP);
const N_disconnect_done = fn("xprt_disconnect_done", "", CAT_STATE);
const N_force_disconnect = fn("xprt_force_disconnect", "locked_before=%d", CAT_STATE);
export const N_force_disconnect_warn = fn("xprt_force_disconnect(): setting XPRT_CLOSE_WAIT", "autoclose_queued=%d", CAT_LOG);
const N_write_space = fn("xprt_write_space", "snd_task=%d", CAT_STEP);
const N_wait_buffer = fn("xprt_wait_for_buffer_space", "timeout=%t", CAT_STEP);
const N_adjust_timeout = fn("xprt_adjust_timeout", "major=%d rq_timeout=%t retries=%d", CAT_STEP);
const N_stuck = fn("liveness: sending non-empty, lock free, no credit holder in flight", "cong=%d cwnd=%d sending=%d", CAT_ANOMALY);
const N_set_bit = fn("set_bit", "bit=%n", CAT_STATE);
const N_credit_parked = fn("xprt_reserve_xprt_cong: asleep on xprt_sending holding a congestion credit", "cong=%d cwnd=%d", CAT_STATE);
const N_clear_bit = fn("clear_bit", "bit=%n", CAT_STATE);

export const N_BIT = new StaticArray<i32>(9);
N_BIT[0] = name("XPRT_LOCKED");
N_BIT[1] = name("XPRT_CONNECTED");
N_BIT[2] = name("XPRT_CONNECTING");
N_BIT[3] = name("XPRT_CLOSE_WAIT");
N_BIT[4] = name("XPRT_BOUND");
N_BIT[5] = name("XPRT_BINDING");
N_BIT[6] = name("XPRT_CLOSING");
N_BIT[7] = name("XPRT_CONNECTION_ABORT");
N_BIT[8] = name("XPRT_CONNECTION_CLOSE");

const N_path_lock_alloc = name("xprt_lock_write+xprt_alloc_slot (43cedbf0)");
const N_path_alloc_op = name("xprt->ops->alloc_slot (f39c1bfb)");
const N_path_plain = name("xprt_alloc_slot (no lock)");

// ---- state -----------------------------------------------------------------------
export const xBits = bitsNew();
export let xTransport: i32 = XPRT_UDP;
export let xEnt: i32 = -1;
export let sndTask: i32 = -1;
export let sndTaskPid: i32 = 0;
export let cong: i32 = 0;
export let cwnd: i32 = RPC_INITCWND;
export let maxReqs: i32 = 16;
export let minReqs: i32 = 16;
export let numReqs: i32 = 0;
export let connectCookie: i32 = 0;
export let reestablishTimeout: i64 = 0;
export let idleTimeout: i64 = XS_IDLE_DISC_TO;
export let lastUsed: i64 = 0;
let idleTimer: i32 = 0;
export let recvCount: i32 = 0;
export let xShutdown: bool = false;

// patches (switches on the code paths above)
export let pLockBeforeAlloc: bool = true;    // 43cedbf0
export let pAllocSlotOp: bool = false;       // f39c1bfb
export let pReleaseOnEarlyExit: bool = false; // 87ed5003
export let pPutCongOnSleep: bool = false;     // later kernels: xprt_reserve_xprt_cong's out_sleep
export function setPutCongOnSleep(on: bool): void { pPutCongOnSleep = on; }
// >= 4.20: a request whose reply is in leaves the transmit queue (here: xprt_sending)
export let pDequeueOnComplete: bool = false;
export function setDequeueOnComplete(on: bool): void { pDequeueOnComplete = on; }
// xprt_wait_for_buffer_space arms rq_timeout (3.5 mainline) or, on hard mounts, nothing
export let wspaceTimeout: bool = true;

// rpc_timeout of the mount
export let toInitval: i64 = 0;
export let toMaxval: i64 = 0;
export let toIncrement: i64 = 0;
export let toRetries: i32 = 0;
export let toExponential: bool = false;

// struct rpc_rqst
export const rqUsed = zeroed<bool>(MAX_RQST);
export const rqTask = zeroed<i32>(MAX_RQST);
export const rqXid = zeroed<u32>(MAX_RQST);
export const rqCong = zeroed<i32>(MAX_RQST);
export const rqNtrans = zeroed<i32>(MAX_RQST);
export const rqBytesSent = zeroed<i32>(MAX_RQST);
export const rqSlen = zeroed<i32>(MAX_RQST);
export const rqReplyRecvd = zeroed<i32>(MAX_RQST);
export const rqTimeout = zeroed<i64>(MAX_RQST);
export const rqMajortimeo = zeroed<i64>(MAX_RQST);
export const rqRetries = zeroed<i32>(MAX_RQST);
export const rqOnRecv = zeroed<bool>(MAX_RQST);
export const rqXtime = zeroed<i64>(MAX_RQST);
export const rqConnectCookie = zeroed<i32>(MAX_RQST);
const freeList = zeroed<i32>(MAX_RQST);      // xprt->free
let nFree: i32 = 0;
const idPool = zeroed<i32>(MAX_RQST);        // rpc_rqst structs not allocated (dynamic slots)
let nPool: i32 = 0;
let nextXid: u32 = 0x5a3c0000;

export let qSending: i32 = -1;
export let qPending: i32 = -1;
export let qBacklog: i32 = -1;
export let qBinding: i32 = -1;

export let wAutoclose: i32 = -1;

// transport hooks (xprtsock.ts)
export let opSendRequest: (task: i32) => i32 = (task: i32): i32 => 0;
export let opConnect: (task: i32) => void = (task: i32): void => {};
export let opClose: () => void = (): void => {};
export let opSetRetransTimeout: (task: i32) => void = (task: i32): void => {};
export function setTransportOps(
  send: (task: i32) => i32, connect: (task: i32) => void, close: () => void, retrans: (task: i32) => void,
): void {
  opSendRequest = send; opConnect = connect; opClose = close; opSetRetransTimeout = retrans;
}

// counters
export let nStuckEvents: i32 = 0;
export let firstStuckAt: i64 = -1;
export let leakedLockAt: i64 = -1;
export let leakedLockPid: i32 = 0;
export let nCloseWaitDeferred: i32 = 0;
export let nCreditParked: i32 = 0;      // a credit holder went to sleep on xprt_sending
export let nConnectedRace: i32 = 0;
export let nDequeuedOnComplete: i32 = 0;   // with pDequeueOnComplete     // xprt_connect found the transport connected
export let lastForceDisconnectLocked: bool = false;

export function xprtInit(transport: i32, slots: i32, dynamicMax: i32): void {
  xTransport = transport;
  xEnt = entNew(N_rpc_xprt, transport == XPRT_UDP ? N_xprt_comm_udp : N_xprt_comm_tcp, 0);
  qBinding = rpcWaitQueue(N_xprt_binding, false);
  qPending = rpcWaitQueue(N_xprt_pending, false);
  qSending = rpcWaitQueue(N_xprt_sending, true);
  qBacklog = rpcWaitQueue(N_xprt_backlog, true);
  wAutoclose = workNew(N_xprt_autoclose, 3000);
  minReqs = slots;
  maxReqs = dynamicMax > slots ? dynamicMax : slots;
  if (maxReqs > MAX_RQST) maxReqs = MAX_RQST;
  // xprt_alloc: min_reqs preallocated on xprt->free, the rest allocated on demand
  for (let i = maxReqs - 1; i >= minReqs; i--) unchecked(idPool[nPool++] = i);
  for (let i = minReqs - 1; i >= 0; i--) unchecked(freeList[nFree++] = i);
  numReqs = minReqs;
  cwnd = RPC_INITCWND;
  setBit(xBits, XPRT_BOUND);
  setRpcTimerTap(xprtTimerTap);
  lastUsed = now;
}

// xprt_init_xid: a random first XID
export function xprtInitXid(xid: u32): void { nextXid = xid; }

export function setPatches(lockBeforeAlloc: bool, allocSlotOp: bool, releaseOnEarlyExit: bool): void {
  pLockBeforeAlloc = lockBeforeAlloc;
  pAllocSlotOp = allocSlotOp;
  pReleaseOnEarlyExit = releaseOnEarlyExit;
}

export function setTimeouts(initval: i64, maxval: i64, increment: i64, retries: i32, exponential: bool): void {
  toInitval = initval; toMaxval = maxval; toIncrement = increment; toRetries = retries; toExponential = exponential;
}

export function setWspaceTimeout(on: bool): void { wspaceTimeout = on; }

export function xprtBit(b: i32): bool { return testBit(xBits, b); }
export function xprtState(): u32 { return bitsWord(xBits); }
export function xprtConnected(): bool { return testBit(xBits, XPRT_CONNECTED); }
export function xprtSetBit(ent: i32, b: i32): void {
  if (!testBit(xBits, b)) { setBit(xBits, b); trace(ent, N_set_bit, unchecked(N_BIT[b])); }
}
export function xprtClearBit(ent: i32, b: i32): void {
  if (testBit(xBits, b)) { clearBit(xBits, b); trace(ent, N_clear_bit, unchecked(N_BIT[b])); }
}

function ent(task: i32): i32 { return task >= 0 ? unchecked(tkEnt[task]) : xEnt; }
function pidOf(task: i32): i32 { return task >= 0 ? unchecked(tkPid[task]) : 0; }

// RPCXPRT_CONGESTED
export function congested(): bool { return cong >= cwnd; }
export function maxCwnd(): i32 { return maxReqs << RPC_CWNDSHIFT; }

// ---- series for the Metrics view: cwnd, cong, sending length over time --------------
const SER_MAX: i32 = 2048;
const serT = zeroed<i64>(SER_MAX);
const serCwnd = zeroed<i32>(SER_MAX);
const serCong = zeroed<i32>(SER_MAX);
const serSending = zeroed<i32>(SER_MAX);
let nSer: i32 = 0;
let serStride: i32 = 1;
let serSkip: i32 = 0;
let lastSerCwnd: i32 = -1;
let lastSerCong: i32 = -1;
let lastSerSending: i32 = -1;

export function sampleSeries(): void {
  const s = rpcqLenOf(qSending);
  if (cwnd == lastSerCwnd && cong == lastSerCong && s == lastSerSending) return;
  lastSerCwnd = cwnd; lastSerCong = cong; lastSerSending = s;
  if (++serSkip < serStride) return;
  serSkip = 0;
  if (nSer == SER_MAX) {
    // keep every other sample, halve the rate
    for (let i = 0; i < SER_MAX / 2; i++) {
      unchecked(serT[i] = serT[2 * i]);
      unchecked(serCwnd[i] = serCwnd[2 * i]);
      unchecked(serCong[i] = serCong[2 * i]);
      unchecked(serSending[i] = serSending[2 * i]);
    }
    nSer = SER_MAX / 2;
    serStride *= 2;
  }
  unchecked(serT[nSer] = now);
  unchecked(serCwnd[nSer] = cwnd);
  unchecked(serCong[nSer] = cong);
  unchecked(serSending[nSer] = s);
  nSer++;
}
export function seriesLen(): i32 { return nSer; }
export function seriesT(i: i32): i64 { return unchecked(serT[i]); }
export function seriesCwnd(i: i32): i32 { return unchecked(serCwnd[i]); }
export function seriesCong(i: i32): i32 { return unchecked(serCong[i]); }
export function seriesSending(i: i32): i32 { return unchecked(serSending[i]); }

import { rpcqLen as rpcqLenOf } from "./rpcq";

// ---- the congestion window ---------------------------------------------------------
// __xprt_get_cong
function getCong(task: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (unchecked(rqCong[req]) != 0) return true;
  if (congested()) return false;
  unchecked(rqCong[req] = 1);
  cong += RPC_CWNDSCALE;
  trace(ent(task), N_get_cong, cong, cwnd);
  sampleSeries();
  return true;
}

// __xprt_put_cong
function putCong(ctx: i32, req: i32): void {
  if (unchecked(rqCong[req]) == 0) return;
  unchecked(rqCong[req] = 0);
  cong -= RPC_CWNDSCALE;
  trace(ctx, N_put_cong, cong, cwnd);
  sampleSeries();
  lockWriteNextCong(ctx);
}

// xprt_adjust_cwnd: grow by ~1/cwnd on a reply when the window is full, halve on a
// timeout; the hand-off it tries first still sees the OLD cwnd and the request's credit.
export function xprtAdjustCwnd(ctx: i32, task: i32, result: i32): void {
  const req = unchecked(tkRqst[task]);
  let c = cwnd;
  if (result >= 0 && c <= cong) {
    c += (RPC_CWNDSCALE * RPC_CWNDSCALE + (c >> 1)) / c;
    if (c > maxCwnd()) c = maxCwnd();
    lockWriteNextCong(ctx);
  } else if (result == -ETIMEDOUT) {
    c >>= 1;
    if (c < RPC_CWNDSCALE) c = RPC_CWNDSCALE;
  }
  cwnd = c;
  trace(ctx, N_adjust_cwnd, cong, cwnd, result);
  sampleSeries();
  putCong(ctx, req);
}

// xprt_release_rqst_cong (UDP .release_request)
function releaseRqstCong(task: i32): void {
  putCong(ent(task), unchecked(tkRqst[task]));
}

// ---- the transport write lock --------------------------------------------------------
function priorityFor(req: i32): i32 {
  if (req < 0) return RPC_PRIORITY_LOW;                       // slot allocator
  if (unchecked(rqNtrans[req]) == 0) return RPC_PRIORITY_NORMAL;
  return RPC_PRIORITY_HIGH;                                   // retransmission
}

function setSnd(task: i32): void {
  sndTask = task;
  sndTaskPid = pidOf(task);
}

// xprt_reserve_xprt (TCP .reserve_xprt)
function reserveXprt(task: i32, sleptIn: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (testAndSetBit(xBits, XPRT_LOCKED)) {
    if (task == sndTask) return true;
  } else {
    setSnd(task);
    if (req >= 0) { unchecked(rqBytesSent[req] = 0); unchecked(rqNtrans[req] += 1); }
    trace(ent(task), N_reserve_xprt, 1, pidOf(task));
    return true;
  }
  trace(ent(task), N_reserve_xprt, 0, sndTaskPid);
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  rpcSleepOnPriority(qSending, task, 0, priorityFor(req), sleptIn);
  sampleSeries();
  return false;
}

// xprt_reserve_xprt_cong (UDP .reserve_xprt)
function reserveXprtCong(task: i32, sleptIn: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (testAndSetBit(xBits, XPRT_LOCKED)) {
    if (task == sndTask) return true;
  } else {
    if (req < 0) {                       // a slot allocator: the lock, no credit
      setSnd(task);
      trace(ent(task), N_reserve_xprt_cong, 1, pidOf(task), cong, cwnd);
      return true;
    }
    if (getCong(task)) {
      setSnd(task);
      unchecked(rqBytesSent[req] = 0);
      unchecked(rqNtrans[req] += 1);
      trace(ent(task), N_reserve_xprt_cong, 1, pidOf(task), cong, cwnd);
      return true;
    }
    clearLocked(ent(task));              // no credit: drop the lock, wake nobody
  }
  trace(ent(task), N_reserve_xprt_cong, 0, sndTaskPid, cong, cwnd);
  if (req >= 0 && unchecked(rqCong[req]) != 0) {
    if (pPutCongOnSleep) putCong(ent(task), req);   // later kernels: no credit while asleep
    else { nCreditParked++; trace(ent(task), N_credit_parked, cong, cwnd); }
  }
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  rpcSleepOnPriority(qSending, task, 0, priorityFor(req), sleptIn);
  sampleSeries();
  return false;
}

export function reserveXprtOp(task: i32, sleptIn: i32): bool {
  return xTransport == XPRT_UDP ? reserveXprtCong(task, sleptIn) : reserveXprt(task, sleptIn);
}

// xprt_clear_locked: release, or hand the lock to xprt_autoclose if CLOSE_WAIT is set.
function clearLocked(ctx: i32): void {
  setSnd(-1);
  if (!testBit(xBits, XPRT_CLOSE_WAIT) || xShutdown) {
    clearBit(xBits, XPRT_LOCKED);
    trace(ctx, N_clear_locked, 0);
  } else {
    trace(ctx, N_clear_locked, 1);
    queueWork(wAutoclose, curCpu);
  }
  checkLiveness(ctx);
}

// __xprt_lock_write_func / __xprt_lock_write_next (TCP: always hands the lock on)
function lockWriteFunc(task: i32): bool {
  const req = unchecked(tkRqst[task]);
  setSnd(task);
  if (req >= 0) { unchecked(rqBytesSent[req] = 0); unchecked(rqNtrans[req] += 1); }
  return true;
}

function lockWriteNext(ctx: i32): void {
  if (testAndSetBit(xBits, XPRT_LOCKED)) return;
  const t = rpcWakeUpFirst(qSending, lockWriteFunc);
  trace(ctx, N_lock_next, t >= 0 ? pidOf(t) : 0);
  sampleSeries();
  if (t >= 0) return;
  clearLocked(ctx);
}

// __xprt_lock_write_cong_func / __xprt_lock_write_next_cong (UDP: gated by the window,
// for everyone, slot allocators included)
function lockWriteCongFunc(task: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (req < 0) { setSnd(task); return true; }
  if (getCong(task)) {
    setSnd(task);
    unchecked(rqBytesSent[req] = 0);
    unchecked(rqNtrans[req] += 1);
    return true;
  }
  return false;
}

function lockWriteNextCong(ctx: i32): void {
  if (testAndSetBit(xBits, XPRT_LOCKED)) return;
  let t = -1;
  const isCongested = congested();
  if (!isCongested) t = rpcWakeUpFirst(qSending, lockWriteCongFunc);
  trace(ctx, N_lock_next_cong, t >= 0 ? pidOf(t) : 0, cong, cwnd, isCongested ? 1 : 0);
  sampleSeries();
  if (t >= 0) return;
  clearLocked(ctx);
}

// xprt_release_xprt / xprt_release_xprt_cong / xs_tcp_release_xprt
function releaseXprt(ctx: i32, task: i32): void {
  if (sndTask != task) return;
  clearLocked(ctx);
  lockWriteNext(ctx);
}

function releaseXprtCong(ctx: i32, task: i32): void {
  if (sndTask != task) return;
  clearLocked(ctx);
  lockWriteNextCong(ctx);
}

function xsTcpReleaseXprt(ctx: i32, task: i32): void {
  if (task != sndTask) return;
  if (task >= 0) {
    const req = unchecked(tkRqst[task]);
    if (req >= 0) {
      const sent = unchecked(rqBytesSent[req]);
      // a record only partly in the socket: the stream must be reset
      if (sent != 0 && sent != unchecked(rqSlen[req])) xprtSetBit(ctx, XPRT_CLOSE_WAIT);
    }
  }
  releaseXprt(ctx, task);
}

export function releaseXprtOp(ctx: i32, task: i32): void {
  if (xTransport == XPRT_UDP) releaseXprtCong(ctx, task);
  else xsTcpReleaseXprt(ctx, task);
}

// xprt_lock_write / xprt_release_write
export function xprtLockWrite(task: i32, sleptIn: i32): bool { return reserveXprtOp(task, sleptIn); }
export function xprtReleaseWrite(task: i32): void { releaseXprtOp(ent(task), task); }

// ---- slots ---------------------------------------------------------------------------
export function rqOf(task: i32): i32 { return unchecked(tkRqst[task]); }
export function nFreeSlots(): i32 { return nFree; }

// xprt_request_init
function requestInit(task: i32, req: i32): void {
  unchecked(rqUsed[req] = true);
  unchecked(rqTask[req] = task);
  unchecked(rqXid[req] = nextXid++);
  unchecked(rqCong[req] = 0);
  unchecked(rqNtrans[req] = 0);
  unchecked(rqBytesSent[req] = 0);
  unchecked(rqReplyRecvd[req] = 0);
  unchecked(rqRetries[req] = 0);
  unchecked(rqOnRecv[req] = false);
  unchecked(rqTimeout[req] = toInitval);
  resetMajortimeo(req);
}

// xprt_alloc_slot (3.6-rc: called with reserve_lock held; xprt_dynamic_alloc_slot)
export function xprtAllocSlot(task: i32): void {
  let req = -1;
  if (nFree > 0) req = unchecked(freeList[--nFree]);
  else if (numReqs < maxReqs && nPool > 0) { req = unchecked(idPool[--nPool]); numReqs++; }
  if (req < 0) {
    // table full: -EAGAIN, wait on the backlog for a freed slot
    rpcSleepOn(qBacklog, task, 0, N_alloc_slot);
    unchecked(tkStatus[task] = -EAGAIN);
    trace(ent(task), N_alloc_slot, -EAGAIN, -1, numReqs);
    return;
  }
  unchecked(tkStatus[task] = 0);
  unchecked(tkRqst[task] = req);
  requestInit(task, req);
  trace(ent(task), N_alloc_slot, 0, req, numReqs);
}

// xprt_free_slot: back to the table (or kfree above min_reqs), wake ONE backlog waiter.
function freeSlot(ctx: i32, req: i32): void {
  unchecked(rqUsed[req] = false);
  unchecked(rqTask[req] = -1);
  if (numReqs > minReqs) { numReqs--; unchecked(idPool[nPool++] = req); }
  else unchecked(freeList[nFree++] = req);
  trace(ctx, N_free_slot, req);
  rpcWakeUpNext(qBacklog);
}

// xprt_reserve: returns true if a second step (the allocation under the lock) follows.
export function xprtReserve(task: i32): bool {
  unchecked(tkStatus[task] = 0);
  if (unchecked(tkRqst[task]) >= 0) return false;
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  if (pAllocSlotOp) {
    trace(ent(task), N_xprt_reserve, N_path_alloc_op);
    if (xTransport == XPRT_UDP) { xprtAllocSlot(task); return false; }   // .alloc_slot = xprt_alloc_slot
    return xprtLockWrite(task, N_xprt_reserve);                        // xprt_lock_and_alloc_slot
  }
  if (pLockBeforeAlloc) {
    trace(ent(task), N_xprt_reserve, N_path_lock_alloc);
    return xprtLockWrite(task, N_xprt_reserve);
  }
  trace(ent(task), N_xprt_reserve, N_path_plain);
  unchecked(tkStatus[task] = -EIO);
  xprtAllocSlot(task);
  return false;
}

// the second half of xprt_reserve / xprt_lock_and_alloc_slot: allocate, release the lock
export function xprtAllocUnderLock(task: i32): void {
  xprtAllocSlot(task);
  xprtReleaseWrite(task);
}

// ---- connect ----------------------------------------------------------------------------
// xprt_connect (3.6). Returns nothing; the task may now sleep on sending or pending.
export function xprtConnect(task: i32, connectStatusCb: i32): void {
  if (!testBit(xBits, XPRT_BOUND)) { unchecked(tkStatus[task] = -EAGAIN); return; }
  const got = xprtLockWrite(task, N_xprt_connect);
  trace(ent(task), N_xprt_connect, xprtConnected() ? 1 : 0, got ? 1 : 0);
  if (!got) return;
  if (testAndClearBit(xBits, XPRT_CLOSE_WAIT)) opClose();
  if (xprtConnected()) {
    // already connected: drop the lock. On UDP the congestion credit stays with the task.
    nConnectedRace++;
    xprtReleaseWrite(task);
    return;
  }
  const req = unchecked(tkRqst[task]);
  unchecked(rqBytesSent[req] = 0);
  unchecked(tkTimeout[task] = unchecked(rqTimeout[req]));
  rpcSleepOn(qPending, task, connectStatusCb, N_xprt_connect);
  if (testBit(xBits, XPRT_CLOSING)) return;
  if (testAndSetBit(xBits, XPRT_CONNECTING)) return;
  opConnect(task);
}

// xprt_connect_status (tk_callback)
export function xprtConnectStatus(task: i32): void {
  const st = unchecked(tkStatus[task]);
  trace(ent(task), N_xprt_connect_status, st);
  if (st == 0 || st == -EAGAIN || st == -ETIMEDOUT) return;
  xprtReleaseWrite(task);
  unchecked(tkStatus[task] = -EIO);
}

// ---- transmit ---------------------------------------------------------------------------
// xprt_prepare_transmit
export function xprtPrepareTransmit(task: i32): i32 {
  const req = unchecked(tkRqst[task]);
  let err = 0;
  if (unchecked(rqReplyRecvd[req]) != 0 && unchecked(rqBytesSent[req]) == 0) err = unchecked(rqReplyRecvd[req]);
  else if (!reserveXprtOp(task, N_prepare_transmit)) err = -EAGAIN;
  trace(ent(task), N_prepare_transmit, err);
  return err;
}

// xprt_transmit (the send, the retransmit timer, and the sleep on pending for the reply)
let timerCallback: i32 = -1;     // the tk_callback it sleeps with (clnt.ts: C_xprt_timer)
export function xprtTransmit(task: i32, timerCb: i32): void {
  timerCallback = timerCb;
  const req = unchecked(tkRqst[task]);
  if (unchecked(rqReplyRecvd[req]) == 0) {
    if (!unchecked(rqOnRecv[req])) {
      unchecked(rqOnRecv[req] = true);
      recvCount++;
      resetMajortimeo(req);
      cancelEvent(idleTimer);          // turn off autodisconnect
      idleTimer = 0;
    }
  } else if (unchecked(rqBytesSent[req]) == 0) return;
  unchecked(rqConnectCookie[req] = connectCookie);
  unchecked(rqXtime[req] = now);
  const status = opSendRequest(task);
  trace(ent(task), N_xprt_transmit, <i32>unchecked(rqXid[req]), unchecked(rqNtrans[req]), status);
  if (status != 0) { unchecked(tkStatus[task] = status); return; }
  unchecked(tkFlags[task] |= RPC_TASK_SENT);
  opSetRetransTimeout(task);
  if (!xprtConnected()) unchecked(tkStatus[task] = -ENOTCONN);
  else if (unchecked(rqReplyRecvd[req]) == 0) rpcSleepOn(qPending, task, timerCb, N_xprt_transmit);
}

// xprt_end_transmit
export function xprtEndTransmit(task: i32): void { xprtReleaseWrite(task); }

// Seed 003's kernel (2.6.2x) ran xprt_timer as tk_timeout_fn from the timer, before the
// task was woken; its "tap:" log shows the timer there.
function xprtTimerTap(task: i32): void {
  if (unchecked(tkCallback[task]) != timerCallback) return;
  rpcTaskTap(task, N_xprt_timer, 0);
  if (unchecked(rqReplyRecvd[unchecked(tkRqst[task])]) == 0) rpcTaskTap(task, N_timer_norecv, 0);
}

// xprt_timer (tk_callback when the retransmit timer fires)
export function xprtTimer(task: i32): void {
  const st = unchecked(tkStatus[task]);
  if (st != -ETIMEDOUT) { trace(ent(task), N_xprt_timer, st, 0); return; }
  const req = unchecked(tkRqst[task]);
  const replied = unchecked(rqReplyRecvd[req]) != 0;
  trace(ent(task), N_xprt_timer, st, replied ? 1 : 0);
  if (!replied) {
    if (xTransport == XPRT_UDP) xprtAdjustCwnd(ent(task), task, -ETIMEDOUT);   // xs_udp_timer
  } else unchecked(tkStatus[task] = 0);
}

// xprt_reset_majortimeo
function resetMajortimeo(req: i32): void {
  let m = unchecked(rqTimeout[req]);
  if (toExponential) m <<= toRetries;
  else m += toIncrement * toRetries;
  if (m > toMaxval || m == 0) m = toMaxval;
  unchecked(rqMajortimeo[req] = now + m);
}

// xprt_adjust_timeout: 0 for a minor timeout, -ETIMEDOUT for a major one.
export function xprtAdjustTimeout(task: i32): i32 {
  const req = unchecked(tkRqst[task]);
  let status = 0;
  if (now < unchecked(rqMajortimeo[req])) {
    if (toExponential) unchecked(rqTimeout[req] <<= 1);
    else unchecked(rqTimeout[req] += toIncrement);
    if (toMaxval > 0 && unchecked(rqTimeout[req]) >= toMaxval) unchecked(rqTimeout[req] = toMaxval);
    unchecked(rqRetries[req] += 1);
  } else {
    unchecked(rqTimeout[req] = toInitval);
    unchecked(rqRetries[req] = 0);
    resetMajortimeo(req);
    rttInit(toInitval);
    status = -ETIMEDOUT;
  }
  trace(ent(task), N_adjust_timeout, status != 0 ? 1 : 0, <i32>(unchecked(rqTimeout[req]) / 1000000), unchecked(rqRetries[req]));
  return status;
}

// ---- replies -----------------------------------------------------------------------------
// xprt_lookup_rqst: a request on xprt->recv with this XID
export function xprtLookupRqst(xid: u32): i32 {
  for (let r = 0; r < maxReqs; r++) {
    if (unchecked(rqUsed[r]) && unchecked(rqOnRecv[r]) && unchecked(rqXid[r]) == xid) return r;
  }
  return -1;
}

// xprt_complete_rqst
export function xprtCompleteRqst(ctx: i32, task: i32, copied: i32): void {
  const req = unchecked(tkRqst[task]);
  unchecked(rqReplyRecvd[req] = copied);
  if (unchecked(rqOnRecv[req])) { unchecked(rqOnRecv[req] = false); recvCount--; }
  trace(ctx, N_complete_rqst, <i32>unchecked(rqXid[req]), copied);
  rpcWakeUpQueuedTask(qPending, task);
  if (pDequeueOnComplete && rpcTaskQueue(task) == qSending) {
    trace(ctx, N_dequeue_transmit, <i32>unchecked(rqXid[req]));
    nDequeuedOnComplete++;
    rpcWakeUpQueuedTask(qSending, task);
  }
}

// ---- the RTT estimator (net/sunrpc/timer.c), UDP ----------------------------------------
const srtt = zeroed<i64>(5);
const sdrtt = zeroed<i64>(5);
const ntimeouts = zeroed<i32>(5);
let rttTimeo: i64 = 0;

export function rttInit(timeoNs: i64): void {
  const timeo = timeoNs / JIFFY;
  rttTimeo = timeo;
  let init: i64 = 0;
  if (timeo > RPC_RTO_INIT) init = (timeo - RPC_RTO_INIT) << 3;
  for (let i = 0; i < 5; i++) {
    unchecked(srtt[i] = init);
    unchecked(sdrtt[i] = RPC_RTO_INIT);
    unchecked(ntimeouts[i] = 0);
  }
}

function rttUpdate(timer: i32, mIn: i64): void {
  if (timer == 0) return;
  const i = timer - 1;
  let m = mIn;
  if (m < 0) return;
  if (m == 0) m = 1;
  m -= unchecked(srtt[i]) >> 3;
  unchecked(srtt[i] += m);
  if (m < 0) m = -m;
  m -= unchecked(sdrtt[i]) >> 2;
  unchecked(sdrtt[i] += m);
  if (unchecked(sdrtt[i]) < RPC_RTO_MIN) unchecked(sdrtt[i] = RPC_RTO_MIN);
}

function rttCalcRto(timer: i32): i64 {
  if (timer == 0) return rttTimeo;
  const i = timer - 1;
  let res = ((unchecked(srtt[i]) + 7) >> 3) + unchecked(sdrtt[i]);
  if (res > RPC_RTO_MAX) res = RPC_RTO_MAX;
  return res;
}

function rttSetTimeo(timer: i32, ntimeo: i32): void {
  if (timer == 0) return;
  const i = timer - 1;
  const t = unchecked(ntimeouts[i]);
  if (ntimeo < t) { if (t > 0) unchecked(ntimeouts[i] = t - 1); }
  else { unchecked(ntimeouts[i] = ntimeo > 8 ? 8 : ntimeo); }
}

// xprt_update_rtt
export function xprtUpdateRtt(task: i32): void {
  const req = unchecked(tkRqst[task]);
  const timer = procTimer(unchecked(tkProc[task]));
  if (timer == 0) return;
  const m = (now - unchecked(rqXtime[req]) + JIFFY - 1) / JIFFY;
  if (unchecked(rqNtrans[req]) == 1) rttUpdate(timer, m);
  rttSetTimeo(timer, unchecked(rqNtrans[req]) - 1);
}

// xprt_set_retrans_timeout_rtt (UDP) / _def (TCP)
export function setRetransTimeoutRtt(task: i32): void {
  const req = unchecked(tkRqst[task]);
  const timer = procTimer(unchecked(tkProc[task]));
  let to = rttCalcRto(timer);
  const shift = (timer > 0 ? unchecked(ntimeouts[timer - 1]) : 0) + unchecked(rqRetries[req]);
  to = shift >= 30 ? i64.MAX_VALUE : to << shift;
  const maxTo = toMaxval / JIFFY;
  if (to > maxTo || to <= 0) to = maxTo;
  unchecked(tkTimeout[task] = to * JIFFY);
}

export function setRetransTimeoutDef(task: i32): void {
  unchecked(tkTimeout[task] = unchecked(rqTimeout[unchecked(tkRqst[task])]));
}

// ---- write space ---------------------------------------------------------------------------
export function xprtWaitForBufferSpace(task: i32, cb: i32): void {
  const req = unchecked(tkRqst[task]);
  unchecked(tkTimeout[task] = wspaceTimeout ? unchecked(rqTimeout[req]) : 0);
  trace(ent(task), N_wait_buffer, <i32>(unchecked(tkTimeout[task]) / 1000000));
  rpcSleepOn(qPending, task, cb, N_wait_buffer);
}

export function xprtWriteSpace(ctx: i32): void {
  trace(ctx, N_write_space, sndTaskPid);
  if (sndTask >= 0) rpcWakeUpQueuedTask(qPending, sndTask);
}

// xprt_wake_pending_tasks
export function xprtWakePendingTasks(status: i32): void {
  if (status < 0) rpcWakeUpStatus(qPending, status);
  else rpcWakeUp(qPending);
}

// ---- release -------------------------------------------------------------------------------
// xprt_release (3.6); with 87ed5003 a task that holds the write lock without a slot
// releases it here too.
export function xprtRelease(task: i32): void {
  const req = unchecked(tkRqst[task]);
  const c = ent(task);
  if (req < 0) {
    const ours = sndTask == task;
    let released = false;
    if (pReleaseOnEarlyExit && ours) { xprtReleaseWrite(task); released = true; }
    trace(c, N_xprt_release_norq, ours ? 1 : 0, released ? 1 : 0);
    if (ours && !released) {
      leakedLockAt = now;
      leakedLockPid = unchecked(tkPid[task]);
      traceAnomaly(c, N_lock_leaked, leakedLockPid);
      klog(N_lock_leaked, leakedLockPid);
    }
    return;
  }
  trace(c, N_xprt_release, req);
  releaseXprtOp(c, task);
  if (xTransport == XPRT_UDP) releaseRqstCong(task);     // .release_request
  if (unchecked(rqOnRecv[req])) { unchecked(rqOnRecv[req] = false); recvCount--; }
  lastUsed = now;
  if (recvCount == 0 && idleTimeout > 0) {
    cancelEvent(idleTimer);
    idleTimer = scheduleAt(lastUsed + idleTimeout, EV_XPRT_IDLE, 0);
  }
  unchecked(tkRqst[task] = -1);
  freeSlot(c, req);
}

// ---- autoclose / disconnect -------------------------------------------------------------
// xprt_init_autodisconnect (timer)
export function xprtInitAutodisconnect(): void {
  idleTimer = 0;
  const locked = testBit(xBits, XPRT_LOCKED);
  trace(xEnt, N_autodisconnect, recvCount, locked ? 1 : 0);
  if (recvCount != 0 || xShutdown) return;
  if (testAndSetBit(xBits, XPRT_LOCKED)) return;
  xprtSetBit(xEnt, XPRT_CONNECTION_CLOSE);
  queueWork(wAutoclose, curCpu);
}

// xprt_autoclose (the task_cleanup work)
export function xprtAutoclose(ctx: i32): void {
  trace(ctx, N_autoclose);
  opClose();
  xprtClearBit(ctx, XPRT_CLOSE_WAIT);
  releaseXprtOp(ctx, -1);
}

// xprt_disconnect_done
export function xprtDisconnectDone(ctx: i32): void {
  trace(ctx, N_disconnect_done);
  xprtClearBit(ctx, XPRT_CONNECTED);
  xprtWakePendingTasks(-EAGAIN);
}

// xprt_force_disconnect: CLOSE_WAIT; autoclose only if the lock could be taken now.
export function xprtForceDisconnect(ctx: i32): void {
  xprtSetBit(ctx, XPRT_CLOSE_WAIT);
  const wasLocked = testAndSetBit(xBits, XPRT_LOCKED);
  trace(ctx, N_force_disconnect, wasLocked ? 1 : 0);
  lastForceDisconnectLocked = wasLocked;
  if (!wasLocked) queueWork(wAutoclose, curCpu);
  else nCloseWaitDeferred++;
  // Simon Kirby's debugging printk, right after the test_and_set_bit
  trace(ctx, N_force_disconnect_warn, wasLocked ? 0 : 1);
  klog(N_force_disconnect_warn, wasLocked ? 0 : 1);
  xprtWakePendingTasks(-EAGAIN);
}

// ---- liveness (UDP): the invariant 43cedbf0 broke ------------------------------------------
// "sending is non-empty, the lock is free, and no request holding a credit is in flight or
// has a timer armed": nothing can ever call __xprt_put_cong again.
export function creditHoldersInFlight(): i32 {
  let n = 0;
  for (let r = 0; r < maxReqs; r++) {
    if (!unchecked(rqUsed[r]) || unchecked(rqCong[r]) == 0) continue;
    const t = unchecked(rqTask[r]);
    if (rpcTaskQueue(t) != qSending) n++;       // running, on pending, on a timer, on rpciod
  }
  return n;
}

export function livenessBroken(): bool {
  if (xTransport != XPRT_UDP) return false;
  if (rpcqLenOf(qSending) == 0 || testBit(xBits, XPRT_LOCKED)) return false;
  if (!congested()) return false;
  return creditHoldersInFlight() == 0;
}

function checkLiveness(ctx: i32): void {
  if (!livenessBroken()) return;
  nStuckEvents++;
  if (firstStuckAt < 0) {
    firstStuckAt = now;
    traceAnomaly(ctx, N_stuck, cong, cwnd, rpcqLenOf(qSending));
  }
}

// XPRT_LOCKED held by an rpc_task that has been freed: nothing can release it
export function sndTaskExited(): bool { return sndTask >= 0 && !unchecked(tkUsed[sndTask]) && testBit(xBits, XPRT_LOCKED); }

export function idleTimerArmed(): bool { return idleTimer != 0; }

// autofs: the share was unmounted after its expiry and is mounted again: a new rpc_xprt,
// with cwnd back at RPC_INITCWND and a fresh RTT estimator. Only between bursts, with no
// task left on the old transport.
const N_remount = fn("mount: new rpc_xprt (autofs)", "cwnd=%d", CAT_LOG);
export let nRemounts: i32 = 0;
export function xprtRemount(): void {
  if (recvCount != 0 || cong != 0 || testBit(xBits, XPRT_LOCKED)) return;
  nRemounts++;
  cwnd = RPC_INITCWND;
  rttInit(toInitval);
  connectCookie = 0;
  trace(xEnt, N_remount, cwnd);
  klog(N_remount, cwnd);
  sampleSeries();
}
export function autoclosePending(): bool { return workPending(wAutoclose); }
export function taskHoldsCredit(task: i32): bool {
  const r = unchecked(tkRqst[task]);
  return r >= 0 && unchecked(rqCong[r]) != 0;
}
export function xprtTaskEnt(task: i32): i32 { return ent(task); }
export function xprtSetShutdown(): void { xShutdown = true; }
export function setConnectCookie(v: i32): void { connectCookie = v; }
export function bumpConnectCookie(): void { connectCookie++; }
export function setReestablishTimeout(v: i64): void { reestablishTimeout = v; }
export function setIdleTimeout(v: i64): void { idleTimeout = v; }
