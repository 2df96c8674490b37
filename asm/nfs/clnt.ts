// The rpc_task path of a 2.6.2x-3.x NFSv3-over-TCP client that seed 003 walks through:
// call_start -> call_reserve -> call_reserveresult -> call_allocate -> call_bind ->
// call_connect -> call_transmit (call_encode, call_header, xprt_prepare_transmit,
// xs_tcp_send_request) -> call_transmit_status -> asleep on xprt->pending with the
// retransmit timer -> xprt_timer / xprt_complete_rqst -> call_status -> call_timeout
// (minor: same rpc_rqst, same XID, same pages) | call_decode -> call_verify -> rpc_exit_task.
//
// STAND-IN: asm/sunrpc (rpc_xprt, the full rpc_task FSM, xprtsock) is being written for
// the sunrpc-* scenarios and had not landed when this scenario was built. This file is
// only the TCP path this scenario needs, with the same names; the seam to keep when
// switching over is xsTcpSendRequest() -> tcpSendRecord() (zero-copy vs copy decided by
// RPC_TASK_SENT) and the completion callback rpcCallDone().
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_QUEUE, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { scheduleIn, cancelEvent } from "../kernel/events";
import { KIND_MODEL } from "../kernel/hooks";
import { entNew, threadNext, threadSleep, wakeUpProcess, TASK_INTERRUPTIBLE } from "../kernel/sched";
import { wqNew, wqAdd, wqPop, wqRemove, wqOf, wqLen } from "../kernel/waitq";
import { bitsNew, testAndSetBit, clearBit, testBit } from "../kernel/bitops";
import { tcpSendRecord } from "../net/tcp";
import { REC_CALL } from "../net/skbuff";
import { tap } from "../mm/tap";
import { zeroed } from "../kernel/mem";

export const EV_RPC_TIMER: i32 = KIND_MODEL + 50;

export const RPC_TASK_ASYNC: i32 = 0x0001;
export const RPC_TASK_SENT: i32 = 0x0800;
export const XPRT_LOCKED: i32 = 0;

// WRITE call record: marker 4 + RPC header 68 (AUTH_UNIX "client") + WRITE3args 56 + data;
// reply: marker 4 + accepted reply 24 + WRITE3res 28 (no attributes)
export const RPC_WRITE_CALL_HDR: i32 = 128;
export const RPC_WRITE_REPLY_LEN: i32 = 56;

// tk_action values, named as the kernel functions
export const N_rpc_init_task = fn("rpc_init_task", "task=%x");
export const N_call_start = fn("call_start", "task=%x");
export const N_call_reserve = fn("call_reserve", "task=%x");
export const N_call_reserveresult = fn("call_reserveresult", "task=%x");
export const N_call_allocate = fn("call_allocate", "task=%x");
export const N_call_bind = fn("call_bind", "task=%x");
export const N_call_connect = fn("call_connect", "task=%x");
export const N_call_transmit = fn("call_transmit", "task=%x");
export const N_call_encode = fn("call_encode", "task=%x xid=%x");
export const N_call_header = fn("call_header", "task=%x xid=%x");
export const N_xs_tcp_send_request = fn("xs_tcp_send_request", "task=%x zerocopy=%d");
export const N_call_transmit_status = fn("call_transmit_status", "task=%x status=%e");
export const N_xprt_timer = fn("xprt_timer", "task=%x");
export const N_xprt_timer_norecv = fn("xprt_timer: !req->rq_received", "task=%x");
export const N_rpc_make_runnable = fn("rpc_make_runnable", "task=%x");
export const N_call_status = fn("call_status", "task=%x status=%d");
export const N_timeout_minor = fn("timeout (minor)", "task=%x retries=%d rq_timeout=%t");
export const N_timeout_major = fn("server not responding, still trying", "task=%x", CAT_LOG);
export const N_call_decode = fn("call_decode", "task=%x");
export const N_call_verify = fn("call_verify", "task=%x");
export const N_rpc_exit_task = fn("rpc_exit_task", "task=%x");
export const N_xprt_complete_rqst = fn("xprt_complete_rqst", "task=%x xid=%x");
export const N_xid_not_found = fn("xs_tcp_read_reply: XID not found", "xid=%x", CAT_LOG);
export const N_xprt_prepare_transmit_done = fn("xprt_prepare_transmit: reply already received", "task=%x");
export const N_xprt_dequeue_transmit = fn("xprt_request_dequeue_transmit", "task=%x xid=%x");
export const N_xs_nospace = fn("xs_nospace", "task=%x", CAT_QUEUE);
const N_sleep_on = fn("rpc_sleep_on", "task=%x q=%n timeout=%t", CAT_QUEUE);
const N_rpc_task = name("rpc_task");
const N_rpciod = name("rpciod");
export const N_xprt_pending = name("xprt_pending");
export const N_xprt_sending = name("xprt_sending");
const N_rpciod_q = name("rpciod_workqueue");

const MAX_TASKS: i32 = 8192;
const tkAction = zeroed<i32>(MAX_TASKS);
const tkStatus = zeroed<i32>(MAX_TASKS);
const tkFlags = zeroed<i32>(MAX_TASKS);
const tkXid = zeroed<u32>(MAX_TASKS);
const tkEnt = zeroed<i32>(MAX_TASKS);
const tkTimer = zeroed<i32>(MAX_TASKS);
const tkTimeout = zeroed<i64>(MAX_TASKS);     // rq_timeout
const tkMajortimeo = zeroed<i64>(MAX_TASKS);
const tkRetries = zeroed<i32>(MAX_TASKS);
const tkReceived = zeroed<i32>(MAX_TASKS);    // rq_reply_bytes_recvd
const tkNtrans = zeroed<i32>(MAX_TASKS);
const tkTransmits = zeroed<i32>(MAX_TASKS);   // records handed to the socket
const tkCalldata = zeroed<i32>(MAX_TASKS);
const tkPages = zeroed<i32>(MAX_TASKS);       // first index into the caller's pfn array
const tkNpages = zeroed<i32>(MAX_TASKS);
const tkCount = zeroed<i32>(MAX_TASKS);       // payload bytes
const tkOffsetBlk = zeroed<i32>(MAX_TASKS);
let nTasks: i32 = 0;
// Wait-queue items are entity ids (unique across every queue in the world).
const entTask = zeroed<i32>(1 << 14);
const XID_HASH: i32 = 1024;

// the transport
let xprtSk: i32 = -1;
let xprtState: i32 = 0;
let xprtSndTask: i32 = -1;
let qPending: i32 = 0;
let qSending: i32 = 0;
let qRunnable: i32 = 0;
let rpciod: i32 = -1;
let rpciodCurrent: i32 = -1;
let nextXid: u32 = 0;
let toInitval: i64 = 60 * NSEC_PER_SEC;
let toIncrement: i64 = 60 * NSEC_PER_SEC;
let toRetries: i32 = 2;
let pfnArray: StaticArray<i32> = zeroed<i32>(0);
let copyOnResend: bool = false;
let dequeueOnComplete: bool = false;
let destructorArgs: bool = false;
let retransmits: i32 = 0;
let cancelledRetransmits: i32 = 0;
const STEP_NS: i64 = 3000;

// The caller (NFS) is told when a task exits: rpc_call_done / rpc_release.
export let rpcCallDone: (task: i32, calldata: i32) => void = (task: i32, calldata: i32): void => {};

export function taskAddr(t: i32): i32 { return <i32>(0xc8790000 + (t << 6) + 4); }
export function taskEnt(t: i32): i32 { return unchecked(tkEnt[t]); }
export function taskXid(t: i32): u32 { return unchecked(tkXid[t]); }
export function taskFlags(t: i32): i32 { return unchecked(tkFlags[t]); }
export function taskTransmits(t: i32): i32 { return unchecked(tkTransmits[t]); }
export function rpcRetransmits(): i32 { return retransmits; }
export function rpcCancelledRetransmits(): i32 { return cancelledRetransmits; }

// xs_setup_tcp + rpc_create: `sk` is the connected socket, `pfns` the array callers'
// page indices refer to. timeo in ns (NFS: 600 deciseconds), linear backoff.
export function rpcClntInit(
  sk: i32, cpu: i32, xid0: u32, timeo: i64, retrans: i32, pfns: StaticArray<i32>,
  done: (task: i32, calldata: i32) => void, copyResend: bool, dequeue: bool, destructors: bool,
): void {
  xprtSk = sk;
  xprtState = bitsNew();
  qPending = wqNew(N_xprt_pending);
  qSending = wqNew(N_xprt_sending, 4);
  qRunnable = wqNew(N_rpciod_q);
  toInitval = timeo;
  toIncrement = timeo;
  toRetries = retrans;
  nextXid = xid0;
  pfnArray = pfns;
  rpcCallDone = done;
  copyOnResend = copyResend;
  dequeueOnComplete = dequeue;
  destructorArgs = destructors;
  rpciod = -1;
  rpciodCpu = cpu;
}
let rpciodCpu: i32 = 0;
export let rpciodThread: i32 = -1;

// The rpciod thread runs one tk_action per step (__rpc_execute).
export function rpciodStart(threadNewFn: (cpu: i32) => i32): void {
  rpciodThread = threadNewFn(rpciodCpu);
}

// rpc_run_task(): an async WRITE of `count` bytes from pfns[first..first+npages).
export function rpcRunTask(pid: i32, calldata: i32, first: i32, npages: i32, count: i32, offsetBlk: i32): i32 {
  assert(nTasks < MAX_TASKS, "too many rpc_tasks");
  const t = nTasks++;
  unchecked(tkEnt[t] = entNew(N_rpc_task, N_rpciod, pid));
  unchecked(entTask[tkEnt[t]] = t);
  unchecked(tkFlags[t] = RPC_TASK_ASYNC);
  unchecked(tkCalldata[t] = calldata);
  unchecked(tkPages[t] = first);
  unchecked(tkNpages[t] = npages);
  unchecked(tkCount[t] = count);
  unchecked(tkOffsetBlk[t] = offsetBlk);
  unchecked(tkAction[t] = N_call_start);
  trace(unchecked(tkEnt[t]), N_rpc_init_task, taskAddr(t));
  tap(calldata, N_rpc_init_task, taskAddr(t), 0);
  makeRunnable(t, false);
  return t;
}

function makeRunnable(t: i32, traceIt: bool): void {
  if (traceIt) {
    trace(unchecked(tkEnt[t]), N_rpc_make_runnable, taskAddr(t));
    tap(unchecked(tkCalldata[t]), N_rpc_make_runnable, taskAddr(t), 0);
  }
  wqRemove(unchecked(tkEnt[t]));
  wqAdd(qRunnable, unchecked(tkEnt[t]));
  wakeUpProcess(rpciodThread);
}

function sleepOn(t: i32, q: i32, timeout: i64): void {
  trace(unchecked(tkEnt[t]), N_sleep_on, taskAddr(t), q == qPending ? N_xprt_pending : N_xprt_sending, <i32>(timeout / 1000000));
  wqAdd(q, unchecked(tkEnt[t]));
  if (timeout > 0) unchecked(tkTimer[t] = scheduleIn(timeout, EV_RPC_TIMER, t));
}

// rpciod's step: run the current task's next action, or pick the next runnable task.
export function rpciodStep(th: i32): void {
  if (rpciodCurrent < 0) {
    const e = wqPop(qRunnable);
    if (e >= 0) rpciodCurrent = unchecked(entTask[e]);
  }
  if (rpciodCurrent < 0) {
    threadSleep(th, TASK_INTERRUPTIBLE, N_rpciod, 0, STEP_NS);
    return;
  }
  const t = rpciodCurrent;
  const going = runAction(t);
  if (!going) rpciodCurrent = -1;
  threadNext(th, 0, STEP_NS);
}

@inline function ent(t: i32): i32 { return unchecked(tkEnt[t]); }

// One tk_action. Returns false when the task went to sleep or exited.
function runAction(t: i32): bool {
  const a = unchecked(tkAction[t]);
  const A = taskAddr(t);
  const b = a == N_call_status ? unchecked(tkStatus[t]) : 0;
  if (a != N_xs_tcp_send_request) {
    trace(ent(t), a, A, b);
    tap(unchecked(tkCalldata[t]), a, A, b);
  }
  if (a == N_call_start) { unchecked(tkAction[t] = N_call_reserve); return true; }
  if (a == N_call_reserve) {
    // xprt_reserve(): TCP slot tables grow on demand; the XID is fixed for the request's life
    unchecked(tkXid[t] = nextXid++);
    unchecked(tkAction[t] = N_call_reserveresult);
    return true;
  }
  if (a == N_call_reserveresult) { unchecked(tkAction[t] = N_call_allocate); return true; }
  if (a == N_call_allocate) { unchecked(tkAction[t] = N_call_bind); return true; }
  if (a == N_call_bind) { unchecked(tkAction[t] = N_call_connect); return true; }
  if (a == N_call_connect) { unchecked(tkAction[t] = N_call_transmit); return true; }
  if (a == N_call_transmit) {
    // xprt_prepare_transmit(): a reply that arrived while we waited ends it here
    if (unchecked(tkReceived[t]) > 0) {
      trace(ent(t), N_xprt_prepare_transmit_done, A);
      unchecked(tkAction[t] = N_call_status);
      return true;
    }
    if (testAndSetBit(xprtState, XPRT_LOCKED) && xprtSndTask != t) {
      unchecked(tkAction[t] = N_call_transmit);
      sleepOn(t, qSending, 0);
      return false;
    }
    xprtSndTask = t;
    unchecked(tkNtrans[t] += 1);
    unchecked(tkAction[t] = N_call_encode);
    return true;
  }
  if (a == N_call_encode) { unchecked(tkAction[t] = N_call_header); return true; }
  if (a == N_call_header) { unchecked(tkAction[t] = N_xs_tcp_send_request); return true; }
  if (a == N_xs_tcp_send_request) return xsTcpSendRequest(t);
  if (a == N_call_transmit_status) {
    // xprt_end_transmit(): release XPRT_LOCKED and hand it on; then wait for the reply
    xprtReleaseXprt(t);
    if (unchecked(tkReceived[t]) > 0) { unchecked(tkAction[t] = N_call_status); return true; }
    unchecked(tkAction[t] = N_call_status);
    unchecked(tkStatus[t] = 0);
    sleepOn(t, qPending, unchecked(tkTimeout[t]));
    return false;
  }
  if (a == N_call_status) {
    const st = unchecked(tkStatus[t]);
    if (unchecked(tkReceived[t]) > 0) { unchecked(tkAction[t] = N_call_decode); return true; }
    if (st == -110) { unchecked(tkAction[t] = N_timeout_minor); return true; }
    unchecked(tkAction[t] = N_call_transmit);
    return true;
  }
  if (a == N_timeout_minor) {
    // call_timeout() -> xprt_adjust_timeout(): minor while before rq_majortimeo
    unchecked(tkStatus[t] = 0);
    if (now < unchecked(tkMajortimeo[t])) {
      unchecked(tkTimeout[t] += toIncrement);
      unchecked(tkRetries[t] += 1);
    } else {
      trace(ent(t), N_timeout_major, A);
      unchecked(tkTimeout[t] = toInitval);
      unchecked(tkRetries[t] = 0);
      resetMajortimeo(t);
    }
    retransmits++;
    unchecked(tkAction[t] = N_call_bind);
    return true;
  }
  if (a == N_call_decode) { unchecked(tkAction[t] = N_call_verify); return true; }
  if (a == N_call_verify) { unchecked(tkAction[t] = N_rpc_exit_task); return true; }
  if (a == N_rpc_exit_task) {
    unchecked(tkAction[t] = 0);
    rpcCallDone(t, unchecked(tkCalldata[t]));
    return false;
  }
  return false;
}

function resetMajortimeo(t: i32): void {
  let to = unchecked(tkTimeout[t]) + toIncrement * toRetries;
  const maxval = toInitval + toIncrement * toRetries;
  if (to > maxval) to = maxval;
  unchecked(tkMajortimeo[t] = now + to);
}

// xs_tcp_send_request(): hand the record to the socket. Before a6b31d18 always by
// sendpage (zero-copy); after it, a resend (RPC_TASK_SENT) goes by sendmsg (a copy).
function xsTcpSendRequest(t: i32): bool {
  const sent = (unchecked(tkFlags[t]) & RPC_TASK_SENT) != 0;
  const zerocopy = !(copyOnResend && sent);
  trace(ent(t), N_xs_tcp_send_request, taskAddr(t), zerocopy ? 1 : 0);
  tap(unchecked(tkCalldata[t]), N_xs_tcp_send_request, taskAddr(t), 0);
  const skb = tcpSendRecord(
    xprtSk, ent(t), REC_CALL, unchecked(tkXid[t]), unchecked(tkCalldata[t]), unchecked(tkOffsetBlk[t]),
    RPC_WRITE_CALL_HDR, pfnArray, unchecked(tkPages[t]), unchecked(tkNpages[t]), unchecked(tkCount[t]),
    zerocopy, destructorArgs && zerocopy ? unchecked(tkCalldata[t]) : -1,
  );
  if (skb < 0) {
    // xs_nospace(): keep XPRT_LOCKED, wait for write space on xprt->pending
    trace(ent(t), N_xs_nospace, taskAddr(t));
    unchecked(tkAction[t] = N_call_transmit);
    unchecked(tkNtrans[t] -= 1);
    sleepOn(t, qPending, 0);
    return false;
  }
  if (!sent) {
    // xprt_transmit(): first transmission arms the major timeout
    unchecked(tkTimeout[t] = toInitval);
    resetMajortimeo(t);
  }
  unchecked(tkFlags[t] |= RPC_TASK_SENT);
  unchecked(tkTransmits[t] += 1);
  unchecked(tkAction[t] = N_call_transmit_status);
  return true;
}

function xprtReleaseXprt(t: i32): void {
  if (xprtSndTask != t) return;
  xprtSndTask = -1;
  clearBit(xprtState, XPRT_LOCKED);
  // __xprt_lock_write_next(): TCP hands the lock to the first waiter
  const w = wqPop(qSending);
  if (w >= 0) makeRunnable(unchecked(entTask[w]), true);
}

// xs_tcp_write_space(): wake the task waiting in xs_nospace.
export function xprtWriteSpace(): void {
  if (xprtSndTask >= 0 && wqOf(unchecked(tkEnt[xprtSndTask])) == qPending) makeRunnable(xprtSndTask, true);
}

// xs_tcp_data_ready() -> xs_tcp_read_reply(): xprt_lookup_rqst() by XID, then
// xprt_complete_rqst(): the reply is in, wake the task.
export function xprtReplyReceived(xid: u32): void {
  let t = -1;
  for (let i = nTasks - 1; i >= 0; i--) {
    if (unchecked(tkXid[i]) == xid && unchecked(tkAction[i]) != 0 && unchecked(tkReceived[i]) == 0) { t = i; break; }
  }
  if (t < 0) { trace(-1, N_xid_not_found, <i32>xid); return; }
  trace(ent(t), N_xprt_complete_rqst, taskAddr(t), <i32>xid);
  unchecked(tkReceived[t] = RPC_WRITE_REPLY_LEN);
  unchecked(tkStatus[t] = RPC_WRITE_REPLY_LEN);
  const q = wqOf(unchecked(tkEnt[t]));
  if (q == qPending) {
    cancelEvent(unchecked(tkTimer[t]));
    unchecked(tkTimer[t] = 0);
    makeRunnable(t, true);
  } else if (q == qSending && dequeueOnComplete) {
    // >= 4.20: the completed request leaves the transmit queue
    trace(ent(t), N_xprt_dequeue_transmit, taskAddr(t), <i32>xid);
    cancelledRetransmits++;
    unchecked(tkAction[t] = N_call_status);
    makeRunnable(t, true);
  }
}

// The retransmit timer (rpc_sleep_on(&xprt->pending, task, xprt_timer) timed out).
export function rpcEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind != EV_RPC_TIMER) return false;
  const t = obj;
  unchecked(tkTimer[t] = 0);
  if (wqOf(unchecked(tkEnt[t])) != qPending) return true;
  trace(ent(t), N_xprt_timer, taskAddr(t));
  tap(unchecked(tkCalldata[t]), N_xprt_timer, taskAddr(t), 0);
  if (unchecked(tkReceived[t]) == 0) {
    trace(ent(t), N_xprt_timer_norecv, taskAddr(t));
    tap(unchecked(tkCalldata[t]), N_xprt_timer_norecv, taskAddr(t), 0);
    unchecked(tkStatus[t] = -110);
  }
  makeRunnable(t, true);
  return true;
}

export function rpcTaskCount(): i32 { return nTasks; }
export function rpcPendingLen(): i32 { return wqLen(qPending); }
export function rpcSendingLen(): i32 { return wqLen(qSending); }
export function xprtLocked(): bool { return testBit(xprtState, XPRT_LOCKED); }
