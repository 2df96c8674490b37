// net/sunrpc/xprt.c as of 3.6-rc (after 43cedbf0, before f39c1bfb) with the 2012 fixes as
// switches on their code paths: struct rpc_xprt (state bits, snd_task, cong/cwnd, the slot
// table, the sending/pending/backlog/binding wait queues), the transport write lock and
// its hand-off, the congestion window, slot allocation, xprt_connect, transmit, timers,
// release, autoclose and the idle autodisconnect.
//
// An rpc_xprt is an instance: xprtNew() returns a handle x and every field is xXxx[x]; a
// task names its transport in tkXprt[task] (task->tk_xprt). The ops row (struct
// rpc_xprt_ops) is chosen once when the transport is set up, as in xprtsock.c:
//   xs_udp_ops: .reserve_xprt = xprt_reserve_xprt_cong, .release_xprt = xprt_release_xprt_cong
//   xs_tcp_ops: .reserve_xprt = xprt_reserve_xprt,      .release_xprt = xs_tcp_release_xprt
// and, only with patch xprt-alloc-slot-op (f39c1bfb), an .alloc_slot entry:
//   UDP: xprt_alloc_slot (no lock); TCP: xprt_lock_and_alloc_slot.
// The patch switches model one kernel's code and stay per world.
import { now } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_LOG, CAT_ANOMALY } from "../kernel/names";
import { trace, traceAnomaly } from "../kernel/trace";
import { klog } from "./klog";
import { scheduleAt, cancelEvent } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew } from "../kernel/sched";
import { bitsNew, testBit, setBit, clearBit, testAndSetBit, testAndClearBit, bitsWord } from "../kernel/bitops";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import {
  EAGAIN, ETIMEDOUT, ENOTCONN, EIO, XPRT_LOCKED, XPRT_CONNECTED, XPRT_CONNECTING, XPRT_CLOSE_WAIT,
  XPRT_BOUND, XPRT_CLOSING, XPRT_CONNECTION_CLOSE, RPC_PRIORITY_LOW, RPC_PRIORITY_NORMAL,
  RPC_PRIORITY_HIGH, RPC_CWNDSCALE, RPC_CWNDSHIFT, RPC_INITCWND, MAX_RQST, XPRT_UDP, XPRT_TCP,
  RPC_TASK_SENT, RPC_RTO_MAX, RPC_RTO_INIT, RPC_RTO_MIN, JIFFY, XS_IDLE_DISC_TO, procTimer, MAX_XPRT, MAX_TASKS,
} from "./defs";
import {
  tkEnt, tkPid, tkStatus, tkTimeout, tkRqst, tkFlags, tkProc, tkUsed, rpcSleepOnPriority, rpcSleepOn,
  rpcWakeUpFirst, rpcWakeUpNext, rpcWakeUpStatus, rpcWakeUp, rpcWakeUpQueuedTask, rpcWaitQueue,
  rpcIsQueued, rpcTimerArmed, queueWork, workNew, workPending, curCpu, rpcTaskQueue, tkSyncThread,
  rpcTaskTap, setRpcTimerTap, tkCallback, rpcTaskSlots,
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

// ---- struct rpc_xprt_ops ------------------------------------------------------------
// One row per transport (xprtsock.ts: xs_udp_ops, xs_tcp_ops), chosen once at creation.
// Ops the transport leaves NULL in the kernel are no-ops here. The names are what the
// rpc_debug dump prints; connectWorker (transport->connect_worker) and sendCost (the CPU
// time of handing a request to the socket) are the model's, beside the ops.
export class RpcXprtOps {
  name: i32 = 0;
  reserveXprtName: i32 = 0;
  releaseXprtName: i32 = 0;
  allocSlotName: i32 = 0;
  reserveXprt: (x: i32, task: i32, sleptIn: i32) => bool = (x: i32, task: i32, sleptIn: i32): bool => true;
  releaseXprt: (x: i32, ctx: i32, task: i32) => void = (x: i32, ctx: i32, task: i32): void => {};
  // returns true if the allocation follows under XPRT_LOCKED (xprt_lock_and_alloc_slot)
  allocSlot: (x: i32, task: i32) => bool = (x: i32, task: i32): bool => false;
  sendRequest: (task: i32) => i32 = (task: i32): i32 => 0;
  setRetransTimeout: (task: i32) => void = (task: i32): void => {};
  timer: (task: i32) => void = (task: i32): void => {};
  releaseRequest: (task: i32) => void = (task: i32): void => {};
  connect: (task: i32) => void = (task: i32): void => {};
  close: (x: i32) => void = (x: i32): void => {};
  connectWorker: (x: i32) => void = (x: i32): void => {};
  sendCost: (task: i32) => i64 = (task: i32): i64 => 0;
}

// ---- state: struct rpc_xprt, one row per handle -------------------------------------
export let nXprts: i32 = 0;
const xOps = new StaticArray<RpcXprtOps>(MAX_XPRT);
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // the reset zeroes the transports a run made
export const xBits = zeroed<i32>(MAX_XPRT);          // xprt->state (a bit word)
export const xProt = zeroed<i32>(MAX_XPRT);          // XPRT_UDP / XPRT_TCP
export const xEnt = zeroed<i32>(MAX_XPRT);
export const xSndTask = zeroed<i32>(MAX_XPRT);       // -1 = none
export const xSndTaskPid = zeroed<i32>(MAX_XPRT);
export const xCong = zeroed<i32>(MAX_XPRT);
export const xCwnd = zeroed<i32>(MAX_XPRT);
export const xMaxReqs = zeroed<i32>(MAX_XPRT);
export const xMinReqs = zeroed<i32>(MAX_XPRT);
export const xNumReqs = zeroed<i32>(MAX_XPRT);
export const xConnectCookie = zeroed<i32>(MAX_XPRT);
export const xReestablishTimeout = zeroed<i64>(MAX_XPRT);
export const xIdleTimeout = zeroed<i64>(MAX_XPRT);
const xLastUsed = zeroed<i64>(MAX_XPRT);
const xIdleTimer = zeroed<i32>(MAX_XPRT);
export const xRecvCount = zeroed<i32>(MAX_XPRT);
const xShutdown = zeroed<bool>(MAX_XPRT);
const xNextXid = zeroed<u32>(MAX_XPRT);
export const xSending = zeroed<i32>(MAX_XPRT);       // the wait queues
export const xPending = zeroed<i32>(MAX_XPRT);
export const xBacklog = zeroed<i32>(MAX_XPRT);
export const xBinding = zeroed<i32>(MAX_XPRT);
export const xAutoclose = zeroed<i32>(MAX_XPRT);     // xprt->task_cleanup (work)
// xprt_wait_for_buffer_space arms rq_timeout (3.5 mainline) or, on hard mounts, nothing
const xWspaceTimeout = zeroed<bool>(MAX_XPRT);
// rpc_timeout of the mount (xprt->timeout)
const xToInitval = zeroed<i64>(MAX_XPRT);
export const xToMaxval = zeroed<i64>(MAX_XPRT);
const xToIncrement = zeroed<i64>(MAX_XPRT);
const xToRetries = zeroed<i32>(MAX_XPRT);
const xToExponential = zeroed<bool>(MAX_XPRT);

rowsEnd();
// the task's transport (task->tk_xprt); 0 until a world binds tasks to another one
rowsBegin(MAX_TASKS, rpcTaskSlots);
export const tkXprt = zeroed<i32>(MAX_TASKS);
rowsEnd();
export function rpcTaskSetXprt(task: i32, x: i32): void { unchecked(tkXprt[task] = x); }
// the transport of a task, as the kernel's task->tk_xprt
function xOf(task: i32): i32 { return unchecked(tkXprt[task]); }
export function xprtOps(x: i32): RpcXprtOps { return unchecked(xOps[x]); }

// patches (switches on the code paths above)
export let pLockBeforeAlloc: bool = true;    // 43cedbf0
export let pAllocSlotOp: bool = false;       // f39c1bfb
export let pReleaseOnEarlyExit: bool = false; // 87ed5003
export let pPutCongOnSleep: bool = false;     // later kernels: xprt_reserve_xprt_cong's out_sleep
export function setPutCongOnSleep(on: bool): void { pPutCongOnSleep = on; }
// >= 4.20: a request whose reply is in leaves the transmit queue (here: xprt_sending)
export let pDequeueOnComplete: bool = false;
export function setDequeueOnComplete(on: bool): void { pDequeueOnComplete = on; }

rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row: a transport's MAX_RQST slots
// struct rpc_rqst: the slots of transport x are x * MAX_RQST .. x * MAX_RQST + max_reqs - 1
export const rqUsed = zeroed<bool>(MAX_XPRT * MAX_RQST);
export const rqTask = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqXid = zeroed<u32>(MAX_XPRT * MAX_RQST);
export const rqCong = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqNtrans = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqBytesSent = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqSlen = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqReplyRecvd = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqTimeout = zeroed<i64>(MAX_XPRT * MAX_RQST);
export const rqMajortimeo = zeroed<i64>(MAX_XPRT * MAX_RQST);
export const rqRetries = zeroed<i32>(MAX_XPRT * MAX_RQST);
export const rqOnRecv = zeroed<bool>(MAX_XPRT * MAX_RQST);
export const rqXtime = zeroed<i64>(MAX_XPRT * MAX_RQST);
export const rqConnectCookie = zeroed<i32>(MAX_XPRT * MAX_RQST);
const freeList = zeroed<i32>(MAX_XPRT * MAX_RQST);      // xprt->free
const xNFree = zeroed<i32>(MAX_XPRT);
const idPool = zeroed<i32>(MAX_XPRT * MAX_RQST);        // rpc_rqst structs not allocated (dynamic slots)
const xNPool = zeroed<i32>(MAX_XPRT);

// counters
export const xNStuckEvents = zeroed<i32>(MAX_XPRT);
export const xFirstStuckAt = zeroed<i64>(MAX_XPRT);
export const xLeakedLockAt = zeroed<i64>(MAX_XPRT);
export const xLeakedLockPid = zeroed<i32>(MAX_XPRT);
export const xNCloseWaitDeferred = zeroed<i32>(MAX_XPRT);
export const xNCreditParked = zeroed<i32>(MAX_XPRT);      // a credit holder went to sleep on xprt_sending
export const xNConnectedRace = zeroed<i32>(MAX_XPRT);     // xprt_connect found the transport connected
export const xNDequeuedOnComplete = zeroed<i32>(MAX_XPRT);   // with pDequeueOnComplete
export const xNRemounts = zeroed<i32>(MAX_XPRT);
rowsEnd();

// The mount's options for its transport, checked at xprtNew.
export class XprtOptions {
  transport: i32 = XPRT_UDP;
  slots: i32 = 0;                 // min_reqs, preallocated
  dynamicSlotsMax: i32 = 0;       // max_reqs with dynamic slots (0: = slots)
  timeoInitNs: i64 = 0;           // rpc_timeout: to_initval
  timeoMaxNs: i64 = 0;            //              to_maxval
  timeoIncrementNs: i64 = 0;      //              to_increment
  retrans: i32 = 0;               //              to_retries
  exponential: bool = false;      //              to_exponential
  wspaceTimeout: bool = true;     // xprt_wait_for_buffer_space arms rq_timeout (false: hard mount, none)
}

// xprt_alloc + xprt_init: a new rpc_xprt, bound, with its slot table and RTT estimator.
export function xprtNew(o: XprtOptions, ops: RpcXprtOps): i32 {
  assert(nXprts < MAX_XPRT, "too many rpc_xprts");
  assert(o.slots >= 1 && o.slots <= MAX_RQST, "xprtNew: slots out of range");
  assert(o.dynamicSlotsMax >= 0, "xprtNew: dynamicSlotsMax < 0");
  assert(o.timeoInitNs > 0 && o.timeoMaxNs >= o.timeoInitNs, "xprtNew: needs 0 < timeoInitNs <= timeoMaxNs");
  assert(o.timeoIncrementNs >= 0 && o.retrans >= 0, "xprtNew: negative timeout increment or retrans");
  const x = nXprts++;
  unchecked(xOps[x] = ops);
  unchecked(xBits[x] = bitsNew());
  unchecked(xProt[x] = o.transport);
  unchecked(xSndTask[x] = -1);
  unchecked(xEnt[x] = entNew(N_rpc_xprt, o.transport == XPRT_UDP ? N_xprt_comm_udp : N_xprt_comm_tcp, 0));
  unchecked(xBinding[x] = rpcWaitQueue(N_xprt_binding, false));
  unchecked(xPending[x] = rpcWaitQueue(N_xprt_pending, false));
  unchecked(xSending[x] = rpcWaitQueue(N_xprt_sending, true));
  unchecked(xBacklog[x] = rpcWaitQueue(N_xprt_backlog, true));
  unchecked(xAutoclose[x] = workNew(N_xprt_autoclose, 3000));
  const minReqs = o.slots;
  let maxReqs = o.dynamicSlotsMax > minReqs ? o.dynamicSlotsMax : minReqs;
  if (maxReqs > MAX_RQST) maxReqs = MAX_RQST;
  unchecked(xMinReqs[x] = minReqs);
  unchecked(xMaxReqs[x] = maxReqs);
  // xprt_alloc: min_reqs preallocated on xprt->free, the rest allocated on demand
  const base = x * MAX_RQST;
  let n = 0;
  for (let i = maxReqs - 1; i >= minReqs; i--) unchecked(idPool[base + n++] = base + i);
  unchecked(xNPool[x] = n);
  n = 0;
  for (let i = minReqs - 1; i >= 0; i--) unchecked(freeList[base + n++] = base + i);
  unchecked(xNFree[x] = n);
  unchecked(xNumReqs[x] = minReqs);
  unchecked(xCwnd[x] = RPC_INITCWND);
  unchecked(xIdleTimeout[x] = XS_IDLE_DISC_TO);
  unchecked(xNextXid[x] = 0x5a3c0000);
  unchecked(xFirstStuckAt[x] = -1);
  unchecked(xLeakedLockAt[x] = -1);
  unchecked(xSerStride[x] = 1);
  unchecked(xLastSerCwnd[x] = -1);
  unchecked(xLastSerCong[x] = -1);
  unchecked(xLastSerSending[x] = -1);
  unchecked(xToInitval[x] = o.timeoInitNs);
  unchecked(xToMaxval[x] = o.timeoMaxNs);
  unchecked(xToIncrement[x] = o.timeoIncrementNs);
  unchecked(xToRetries[x] = o.retrans);
  unchecked(xToExponential[x] = o.exponential);
  unchecked(xWspaceTimeout[x] = o.wspaceTimeout);
  rttInit(x, o.timeoInitNs);
  setBit(unchecked(xBits[x]), XPRT_BOUND);
  setRpcTimerTap(xprtTimerTap);
  unchecked(xLastUsed[x] = now);
  return x;
}

// xprt_init_xid: a random first XID
export function xprtInitXid(x: i32, xid: u32): void { unchecked(xNextXid[x] = xid); }

export function setPatches(lockBeforeAlloc: bool, allocSlotOp: bool, releaseOnEarlyExit: bool): void {
  pLockBeforeAlloc = lockBeforeAlloc;
  pAllocSlotOp = allocSlotOp;
  pReleaseOnEarlyExit = releaseOnEarlyExit;
}

export function xprtBit(x: i32, b: i32): bool { return testBit(unchecked(xBits[x]), b); }
export function xprtState(x: i32): u32 { return bitsWord(unchecked(xBits[x])); }
export function xprtConnected(x: i32): bool { return testBit(unchecked(xBits[x]), XPRT_CONNECTED); }
export function xprtSetBit(x: i32, ent: i32, b: i32): void {
  const w = unchecked(xBits[x]);
  if (!testBit(w, b)) { setBit(w, b); trace(ent, N_set_bit, unchecked(N_BIT[b])); }
}
export function xprtClearBit(x: i32, ent: i32, b: i32): void {
  const w = unchecked(xBits[x]);
  if (testBit(w, b)) { clearBit(w, b); trace(ent, N_clear_bit, unchecked(N_BIT[b])); }
}

function ent(x: i32, task: i32): i32 { return task >= 0 ? unchecked(tkEnt[task]) : unchecked(xEnt[x]); }
function pidOf(task: i32): i32 { return task >= 0 ? unchecked(tkPid[task]) : 0; }

// RPCXPRT_CONGESTED
export function congested(x: i32): bool { return unchecked(xCong[x]) >= unchecked(xCwnd[x]); }
export function maxCwnd(x: i32): i32 { return unchecked(xMaxReqs[x]) << RPC_CWNDSHIFT; }

// ---- series for the Metrics view: cwnd, cong, sending length over time --------------
const SER_MAX: i32 = 2048;
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row: a transport's SER_MAX samples
const serT = zeroed<i64>(MAX_XPRT * SER_MAX);
const serCwnd = zeroed<i32>(MAX_XPRT * SER_MAX);
const serCong = zeroed<i32>(MAX_XPRT * SER_MAX);
const serSending = zeroed<i32>(MAX_XPRT * SER_MAX);
const xNSer = zeroed<i32>(MAX_XPRT);
const xSerStride = zeroed<i32>(MAX_XPRT);
const xSerSkip = zeroed<i32>(MAX_XPRT);
const xLastSerCwnd = zeroed<i32>(MAX_XPRT);
const xLastSerCong = zeroed<i32>(MAX_XPRT);
const xLastSerSending = zeroed<i32>(MAX_XPRT);
rowsEnd();

export function sampleSeries(x: i32): void {
  const s = rpcqLenOf(unchecked(xSending[x]));
  const cw = unchecked(xCwnd[x]), cg = unchecked(xCong[x]);
  if (cw == unchecked(xLastSerCwnd[x]) && cg == unchecked(xLastSerCong[x]) && s == unchecked(xLastSerSending[x])) return;
  unchecked(xLastSerCwnd[x] = cw); unchecked(xLastSerCong[x] = cg); unchecked(xLastSerSending[x] = s);
  const stride = unchecked(xSerStride[x]);
  const skip = unchecked(xSerSkip[x]) + 1;
  if (skip < stride) { unchecked(xSerSkip[x] = skip); return; }
  unchecked(xSerSkip[x] = 0);
  const base = x * SER_MAX;
  let n = unchecked(xNSer[x]);
  if (n == SER_MAX) {
    // keep every other sample, halve the rate
    for (let i = 0; i < SER_MAX / 2; i++) {
      unchecked(serT[base + i] = serT[base + 2 * i]);
      unchecked(serCwnd[base + i] = serCwnd[base + 2 * i]);
      unchecked(serCong[base + i] = serCong[base + 2 * i]);
      unchecked(serSending[base + i] = serSending[base + 2 * i]);
    }
    n = SER_MAX / 2;
    unchecked(xSerStride[x] = stride * 2);
  }
  unchecked(serT[base + n] = now);
  unchecked(serCwnd[base + n] = cw);
  unchecked(serCong[base + n] = cg);
  unchecked(serSending[base + n] = s);
  unchecked(xNSer[x] = n + 1);
}
export function seriesLen(x: i32): i32 { return unchecked(xNSer[x]); }
export function seriesT(x: i32, i: i32): i64 { return unchecked(serT[x * SER_MAX + i]); }
export function seriesCwnd(x: i32, i: i32): i32 { return unchecked(serCwnd[x * SER_MAX + i]); }
export function seriesCong(x: i32, i: i32): i32 { return unchecked(serCong[x * SER_MAX + i]); }
export function seriesSending(x: i32, i: i32): i32 { return unchecked(serSending[x * SER_MAX + i]); }

import { rpcqLen as rpcqLenOf } from "./rpcq";

// ---- the congestion window ---------------------------------------------------------
// __xprt_get_cong
function getCong(x: i32, task: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (unchecked(rqCong[req]) != 0) return true;
  if (congested(x)) return false;
  unchecked(rqCong[req] = 1);
  const c = unchecked(xCong[x]) + RPC_CWNDSCALE;
  unchecked(xCong[x] = c);
  trace(ent(x, task), N_get_cong, c, unchecked(xCwnd[x]));
  sampleSeries(x);
  return true;
}

// __xprt_put_cong
function putCong(x: i32, ctx: i32, req: i32): void {
  if (unchecked(rqCong[req]) == 0) return;
  unchecked(rqCong[req] = 0);
  const c = unchecked(xCong[x]) - RPC_CWNDSCALE;
  unchecked(xCong[x] = c);
  trace(ctx, N_put_cong, c, unchecked(xCwnd[x]));
  sampleSeries(x);
  lockWriteNextCong(x, ctx);
}

// xprt_adjust_cwnd: grow by ~1/cwnd on a reply when the window is full, halve on a
// timeout; the hand-off it tries first still sees the OLD cwnd and the request's credit.
export function xprtAdjustCwnd(ctx: i32, task: i32, result: i32): void {
  const x = xOf(task);
  let c = unchecked(xCwnd[x]);
  if (result >= 0 && c <= unchecked(xCong[x])) {
    c += (RPC_CWNDSCALE * RPC_CWNDSCALE + (c >> 1)) / c;
    if (c > maxCwnd(x)) c = maxCwnd(x);
    lockWriteNextCong(x, ctx);
  } else if (result == -ETIMEDOUT) {
    c >>= 1;
    if (c < RPC_CWNDSCALE) c = RPC_CWNDSCALE;
  }
  unchecked(xCwnd[x] = c);
  trace(ctx, N_adjust_cwnd, unchecked(xCong[x]), c, result);
  sampleSeries(x);
  putCong(x, ctx, unchecked(tkRqst[task]));
}

// xprt_release_rqst_cong (UDP .release_request)
export function xprtReleaseRqstCong(task: i32): void {
  const x = xOf(task);
  putCong(x, ent(x, task), unchecked(tkRqst[task]));
}

// ---- the transport write lock --------------------------------------------------------
function priorityFor(req: i32): i32 {
  if (req < 0) return RPC_PRIORITY_LOW;                       // slot allocator
  if (unchecked(rqNtrans[req]) == 0) return RPC_PRIORITY_NORMAL;
  return RPC_PRIORITY_HIGH;                                   // retransmission
}

function setSnd(x: i32, task: i32): void {
  unchecked(xSndTask[x] = task);
  unchecked(xSndTaskPid[x] = pidOf(task));
}

// xprt_reserve_xprt (TCP .reserve_xprt)
export function xprtReserveXprt(x: i32, task: i32, sleptIn: i32): bool {
  const req = unchecked(tkRqst[task]);
  if (testAndSetBit(unchecked(xBits[x]), XPRT_LOCKED)) {
    if (task == unchecked(xSndTask[x])) return true;
  } else {
    setSnd(x, task);
    if (req >= 0) { unchecked(rqBytesSent[req] = 0); unchecked(rqNtrans[req] += 1); }
    trace(ent(x, task), N_reserve_xprt, 1, pidOf(task));
    return true;
  }
  trace(ent(x, task), N_reserve_xprt, 0, unchecked(xSndTaskPid[x]));
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  rpcSleepOnPriority(unchecked(xSending[x]), task, 0, priorityFor(req), sleptIn);
  sampleSeries(x);
  return false;
}

// xprt_reserve_xprt_cong (UDP .reserve_xprt)
export function xprtReserveXprtCong(x: i32, task: i32, sleptIn: i32): bool {
  const req = unchecked(tkRqst[task]);
  const e = ent(x, task);
  if (testAndSetBit(unchecked(xBits[x]), XPRT_LOCKED)) {
    if (task == unchecked(xSndTask[x])) return true;
  } else {
    if (req < 0) {                       // a slot allocator: the lock, no credit
      setSnd(x, task);
      trace(e, N_reserve_xprt_cong, 1, pidOf(task), unchecked(xCong[x]), unchecked(xCwnd[x]));
      return true;
    }
    if (getCong(x, task)) {
      setSnd(x, task);
      unchecked(rqBytesSent[req] = 0);
      unchecked(rqNtrans[req] += 1);
      trace(e, N_reserve_xprt_cong, 1, pidOf(task), unchecked(xCong[x]), unchecked(xCwnd[x]));
      return true;
    }
    clearLocked(x, e);                   // no credit: drop the lock, wake nobody
  }
  trace(e, N_reserve_xprt_cong, 0, unchecked(xSndTaskPid[x]), unchecked(xCong[x]), unchecked(xCwnd[x]));
  if (req >= 0 && unchecked(rqCong[req]) != 0) {
    if (pPutCongOnSleep) putCong(x, e, req);   // later kernels: no credit while asleep
    else { unchecked(xNCreditParked[x] += 1); trace(e, N_credit_parked, unchecked(xCong[x]), unchecked(xCwnd[x])); }
  }
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  rpcSleepOnPriority(unchecked(xSending[x]), task, 0, priorityFor(req), sleptIn);
  sampleSeries(x);
  return false;
}

// xprt_clear_locked: release, or hand the lock to xprt_autoclose if CLOSE_WAIT is set.
function clearLocked(x: i32, ctx: i32): void {
  setSnd(x, -1);
  const w = unchecked(xBits[x]);
  if (!testBit(w, XPRT_CLOSE_WAIT)) {
    clearBit(w, XPRT_LOCKED);
    trace(ctx, N_clear_locked, 0);
  } else {
    trace(ctx, N_clear_locked, 1);
    queueWork(unchecked(xAutoclose[x]), curCpu);
  }
  checkLiveness(x, ctx);
}

// __xprt_lock_write_func / __xprt_lock_write_next (TCP: always hands the lock on)
function lockWriteFunc(task: i32): bool {
  const req = unchecked(tkRqst[task]);
  setSnd(xOf(task), task);
  if (req >= 0) { unchecked(rqBytesSent[req] = 0); unchecked(rqNtrans[req] += 1); }
  return true;
}

function lockWriteNext(x: i32, ctx: i32): void {
  if (testAndSetBit(unchecked(xBits[x]), XPRT_LOCKED)) return;
  const t = rpcWakeUpFirst(unchecked(xSending[x]), lockWriteFunc);
  trace(ctx, N_lock_next, t >= 0 ? pidOf(t) : 0);
  sampleSeries(x);
  if (t >= 0) return;
  clearLocked(x, ctx);
}

// __xprt_lock_write_cong_func / __xprt_lock_write_next_cong (UDP: gated by the window,
// for everyone, slot allocators included)
function lockWriteCongFunc(task: i32): bool {
  const req = unchecked(tkRqst[task]);
  const x = xOf(task);
  if (req < 0) { setSnd(x, task); return true; }
  if (getCong(x, task)) {
    setSnd(x, task);
    unchecked(rqBytesSent[req] = 0);
    unchecked(rqNtrans[req] += 1);
    return true;
  }
  return false;
}

function lockWriteNextCong(x: i32, ctx: i32): void {
  if (testAndSetBit(unchecked(xBits[x]), XPRT_LOCKED)) return;
  let t = -1;
  const isCongested = congested(x);
  if (!isCongested) t = rpcWakeUpFirst(unchecked(xSending[x]), lockWriteCongFunc);
  trace(ctx, N_lock_next_cong, t >= 0 ? pidOf(t) : 0, unchecked(xCong[x]), unchecked(xCwnd[x]), isCongested ? 1 : 0);
  sampleSeries(x);
  if (t >= 0) return;
  clearLocked(x, ctx);
}

// xprt_release_xprt (TCP .release_xprt, through xs_tcp_release_xprt) / xprt_release_xprt_cong (UDP)
export function xprtReleaseXprt(x: i32, ctx: i32, task: i32): void {
  if (unchecked(xSndTask[x]) != task) return;
  clearLocked(x, ctx);
  lockWriteNext(x, ctx);
}

export function xprtReleaseXprtCong(x: i32, ctx: i32, task: i32): void {
  if (unchecked(xSndTask[x]) != task) return;
  clearLocked(x, ctx);
  lockWriteNextCong(x, ctx);
}

// xprt_lock_write / xprt_release_write
export function xprtLockWrite(task: i32, sleptIn: i32): bool {
  const x = xOf(task);
  return unchecked(xOps[x]).reserveXprt(x, task, sleptIn);
}
export function xprtReleaseWrite(task: i32): void {
  const x = xOf(task);
  unchecked(xOps[x]).releaseXprt(x, ent(x, task), task);
}

// ---- slots ---------------------------------------------------------------------------
export function nFreeSlots(x: i32): i32 { return unchecked(xNFree[x]); }

// xprt_request_init
function requestInit(x: i32, task: i32, req: i32): void {
  unchecked(rqUsed[req] = true);
  unchecked(rqTask[req] = task);
  const xid = unchecked(xNextXid[x]);
  unchecked(xNextXid[x] = xid + 1);
  unchecked(rqXid[req] = xid);
  unchecked(rqCong[req] = 0);
  unchecked(rqNtrans[req] = 0);
  unchecked(rqBytesSent[req] = 0);
  unchecked(rqReplyRecvd[req] = 0);
  unchecked(rqRetries[req] = 0);
  unchecked(rqOnRecv[req] = false);
  unchecked(rqTimeout[req] = unchecked(xToInitval[x]));
  resetMajortimeo(x, req);
}

// xprt_alloc_slot (3.6-rc: called with reserve_lock held; xprt_dynamic_alloc_slot)
export function xprtAllocSlot(task: i32): void {
  const x = xOf(task);
  const base = x * MAX_RQST;
  let req = -1;
  const nFree = unchecked(xNFree[x]);
  if (nFree > 0) { req = unchecked(freeList[base + nFree - 1]); unchecked(xNFree[x] = nFree - 1); }
  else if (unchecked(xNumReqs[x]) < unchecked(xMaxReqs[x]) && unchecked(xNPool[x]) > 0) {
    const nPool = unchecked(xNPool[x]) - 1;
    req = unchecked(idPool[base + nPool]);
    unchecked(xNPool[x] = nPool);
    unchecked(xNumReqs[x] += 1);
  }
  if (req < 0) {
    // table full: -EAGAIN, wait on the backlog for a freed slot
    rpcSleepOn(unchecked(xBacklog[x]), task, 0, N_alloc_slot);
    unchecked(tkStatus[task] = -EAGAIN);
    trace(ent(x, task), N_alloc_slot, -EAGAIN, -1, unchecked(xNumReqs[x]));
    return;
  }
  unchecked(tkStatus[task] = 0);
  unchecked(tkRqst[task] = req);
  requestInit(x, task, req);
  trace(ent(x, task), N_alloc_slot, 0, req, unchecked(xNumReqs[x]));
}

// xprt_free_slot: back to the table (or kfree above min_reqs), wake ONE backlog waiter.
function freeSlot(x: i32, ctx: i32, req: i32): void {
  unchecked(rqUsed[req] = false);
  unchecked(rqTask[req] = -1);
  const base = x * MAX_RQST;
  if (unchecked(xNumReqs[x]) > unchecked(xMinReqs[x])) {
    unchecked(xNumReqs[x] -= 1);
    const n = unchecked(xNPool[x]);
    unchecked(idPool[base + n] = req);
    unchecked(xNPool[x] = n + 1);
  } else {
    const n = unchecked(xNFree[x]);
    unchecked(freeList[base + n] = req);
    unchecked(xNFree[x] = n + 1);
  }
  trace(ctx, N_free_slot, req);
  rpcWakeUpNext(unchecked(xBacklog[x]));
}

// xs_udp_ops .alloc_slot (f39c1bfb): no lock, no second step
export function xprtAllocSlotOp(x: i32, task: i32): bool { xprtAllocSlot(task); return false; }
// xs_tcp_ops .alloc_slot (f39c1bfb): the allocation follows under XPRT_LOCKED
export function xprtLockAndAllocSlot(x: i32, task: i32): bool { return xprtLockWrite(task, N_xprt_reserve); }

// xprt_reserve: returns true if a second step (the allocation under the lock) follows.
export function xprtReserve(task: i32): bool {
  unchecked(tkStatus[task] = 0);
  if (unchecked(tkRqst[task]) >= 0) return false;
  const x = xOf(task);
  unchecked(tkTimeout[task] = 0);
  unchecked(tkStatus[task] = -EAGAIN);
  if (pAllocSlotOp) {
    trace(ent(x, task), N_xprt_reserve, N_path_alloc_op);
    return unchecked(xOps[x]).allocSlot(x, task);
  }
  if (pLockBeforeAlloc) {
    trace(ent(x, task), N_xprt_reserve, N_path_lock_alloc);
    return xprtLockWrite(task, N_xprt_reserve);
  }
  trace(ent(x, task), N_xprt_reserve, N_path_plain);
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
  const x = xOf(task);
  const w = unchecked(xBits[x]);
  if (!testBit(w, XPRT_BOUND)) { unchecked(tkStatus[task] = -EAGAIN); return; }
  const got = xprtLockWrite(task, N_xprt_connect);
  trace(ent(x, task), N_xprt_connect, xprtConnected(x) ? 1 : 0, got ? 1 : 0);
  if (!got) return;
  const ops = unchecked(xOps[x]);
  if (testAndClearBit(w, XPRT_CLOSE_WAIT)) ops.close(x);
  if (xprtConnected(x)) {
    // already connected: drop the lock. On UDP the congestion credit stays with the task.
    unchecked(xNConnectedRace[x] += 1);
    xprtReleaseWrite(task);
    return;
  }
  const req = unchecked(tkRqst[task]);
  unchecked(rqBytesSent[req] = 0);
  unchecked(tkTimeout[task] = unchecked(rqTimeout[req]));
  rpcSleepOn(unchecked(xPending[x]), task, connectStatusCb, N_xprt_connect);
  if (testBit(w, XPRT_CLOSING)) return;
  if (testAndSetBit(w, XPRT_CONNECTING)) return;
  ops.connect(task);
}

// xprt_connect_status (tk_callback)
export function xprtConnectStatus(task: i32): void {
  const st = unchecked(tkStatus[task]);
  trace(ent(xOf(task), task), N_xprt_connect_status, st);
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
  else if (!xprtLockWrite(task, N_prepare_transmit)) err = -EAGAIN;
  trace(unchecked(tkEnt[task]), N_prepare_transmit, err);
  return err;
}

// xprt_transmit (the send, the retransmit timer, and the sleep on pending for the reply)
let timerCallback: i32 = -1;     // the tk_callback it sleeps with (clnt.ts: C_xprt_timer)
export function xprtTransmit(task: i32, timerCb: i32): void {
  timerCallback = timerCb;
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  if (unchecked(rqReplyRecvd[req]) == 0) {
    if (!unchecked(rqOnRecv[req])) {
      unchecked(rqOnRecv[req] = true);
      unchecked(xRecvCount[x] += 1);
      resetMajortimeo(x, req);
      cancelEvent(unchecked(xIdleTimer[x]));          // turn off autodisconnect
      unchecked(xIdleTimer[x] = 0);
    }
  } else if (unchecked(rqBytesSent[req]) == 0) return;
  unchecked(rqConnectCookie[req] = unchecked(xConnectCookie[x]));
  unchecked(rqXtime[req] = now);
  const ops = unchecked(xOps[x]);
  const status = ops.sendRequest(task);
  trace(unchecked(tkEnt[task]), N_xprt_transmit, <i32>unchecked(rqXid[req]), unchecked(rqNtrans[req]), status);
  if (status != 0) { unchecked(tkStatus[task] = status); return; }
  unchecked(tkFlags[task] |= RPC_TASK_SENT);
  ops.setRetransTimeout(task);
  if (!xprtConnected(x)) unchecked(tkStatus[task] = -ENOTCONN);
  else if (unchecked(rqReplyRecvd[req]) == 0) rpcSleepOn(unchecked(xPending[x]), task, timerCb, N_xprt_transmit);
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
  const e = unchecked(tkEnt[task]);
  if (st != -ETIMEDOUT) { trace(e, N_xprt_timer, st, 0); return; }
  const req = unchecked(tkRqst[task]);
  const replied = unchecked(rqReplyRecvd[req]) != 0;
  trace(e, N_xprt_timer, st, replied ? 1 : 0);
  if (!replied) unchecked(xOps[xOf(task)]).timer(task);
  else unchecked(tkStatus[task] = 0);
}

// xs_udp_timer (UDP .timer)
export function xsUdpTimer(task: i32): void { xprtAdjustCwnd(unchecked(tkEnt[task]), task, -ETIMEDOUT); }

// xprt_reset_majortimeo
function resetMajortimeo(x: i32, req: i32): void {
  let m = unchecked(rqTimeout[req]);
  if (unchecked(xToExponential[x])) m <<= unchecked(xToRetries[x]);
  else m += unchecked(xToIncrement[x]) * unchecked(xToRetries[x]);
  const maxval = unchecked(xToMaxval[x]);
  if (m > maxval || m == 0) m = maxval;
  unchecked(rqMajortimeo[req] = now + m);
}

// xprt_adjust_timeout: 0 for a minor timeout, -ETIMEDOUT for a major one.
export function xprtAdjustTimeout(task: i32): i32 {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  let status = 0;
  const maxval = unchecked(xToMaxval[x]);
  if (now < unchecked(rqMajortimeo[req])) {
    if (unchecked(xToExponential[x])) unchecked(rqTimeout[req] <<= 1);
    else unchecked(rqTimeout[req] += unchecked(xToIncrement[x]));
    if (maxval > 0 && unchecked(rqTimeout[req]) >= maxval) unchecked(rqTimeout[req] = maxval);
    unchecked(rqRetries[req] += 1);
  } else {
    const initval = unchecked(xToInitval[x]);
    unchecked(rqTimeout[req] = initval);
    unchecked(rqRetries[req] = 0);
    resetMajortimeo(x, req);
    rttInit(x, initval);
    status = -ETIMEDOUT;
  }
  trace(unchecked(tkEnt[task]), N_adjust_timeout, status != 0 ? 1 : 0, <i32>(unchecked(rqTimeout[req]) / 1000000), unchecked(rqRetries[req]));
  return status;
}

// ---- replies -----------------------------------------------------------------------------
// xprt_lookup_rqst: a request on xprt->recv with this XID
export function xprtLookupRqst(x: i32, xid: u32): i32 {
  const base = x * MAX_RQST, end = base + unchecked(xMaxReqs[x]);
  for (let r = base; r < end; r++) {
    if (unchecked(rqUsed[r]) && unchecked(rqOnRecv[r]) && unchecked(rqXid[r]) == xid) return r;
  }
  return -1;
}

// xprt_complete_rqst
export function xprtCompleteRqst(ctx: i32, task: i32, copied: i32): void {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  unchecked(rqReplyRecvd[req] = copied);
  if (unchecked(rqOnRecv[req])) { unchecked(rqOnRecv[req] = false); unchecked(xRecvCount[x] -= 1); }
  trace(ctx, N_complete_rqst, <i32>unchecked(rqXid[req]), copied);
  rpcWakeUpQueuedTask(unchecked(xPending[x]), task);
  if (pDequeueOnComplete && rpcTaskQueue(task) == unchecked(xSending[x])) {
    trace(ctx, N_dequeue_transmit, <i32>unchecked(rqXid[req]));
    unchecked(xNDequeuedOnComplete[x] += 1);
    rpcWakeUpQueuedTask(unchecked(xSending[x]), task);
  }
}

// ---- the RTT estimator (net/sunrpc/timer.c), UDP: 5 timers per transport ----------------
const RTT_TIMERS: i32 = 5;
const srtt = zeroed<i64>(MAX_XPRT * RTT_TIMERS);
const sdrtt = zeroed<i64>(MAX_XPRT * RTT_TIMERS);
const ntimeouts = zeroed<i32>(MAX_XPRT * RTT_TIMERS);
const xRttTimeo = zeroed<i64>(MAX_XPRT);

export function rttInit(x: i32, timeoNs: i64): void {
  const timeo = timeoNs / JIFFY;
  unchecked(xRttTimeo[x] = timeo);
  let init: i64 = 0;
  if (timeo > RPC_RTO_INIT) init = (timeo - RPC_RTO_INIT) << 3;
  const base = x * RTT_TIMERS;
  for (let i = base; i < base + RTT_TIMERS; i++) {
    unchecked(srtt[i] = init);
    unchecked(sdrtt[i] = RPC_RTO_INIT);
    unchecked(ntimeouts[i] = 0);
  }
}

function rttUpdate(x: i32, timer: i32, mIn: i64): void {
  if (timer == 0) return;
  const i = x * RTT_TIMERS + timer - 1;
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

function rttCalcRto(x: i32, timer: i32): i64 {
  if (timer == 0) return unchecked(xRttTimeo[x]);
  const i = x * RTT_TIMERS + timer - 1;
  let res = ((unchecked(srtt[i]) + 7) >> 3) + unchecked(sdrtt[i]);
  if (res > RPC_RTO_MAX) res = RPC_RTO_MAX;
  return res;
}

function rttSetTimeo(x: i32, timer: i32, ntimeo: i32): void {
  if (timer == 0) return;
  const i = x * RTT_TIMERS + timer - 1;
  const t = unchecked(ntimeouts[i]);
  if (ntimeo < t) { if (t > 0) unchecked(ntimeouts[i] = t - 1); }
  else { unchecked(ntimeouts[i] = ntimeo > 8 ? 8 : ntimeo); }
}

// xprt_update_rtt
export function xprtUpdateRtt(task: i32): void {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  const timer = procTimer(unchecked(tkProc[task]));
  if (timer == 0) return;
  const m = (now - unchecked(rqXtime[req]) + JIFFY - 1) / JIFFY;
  if (unchecked(rqNtrans[req]) == 1) rttUpdate(x, timer, m);
  rttSetTimeo(x, timer, unchecked(rqNtrans[req]) - 1);
}

// xprt_set_retrans_timeout_rtt (UDP) / _def (TCP)
export function setRetransTimeoutRtt(task: i32): void {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  const timer = procTimer(unchecked(tkProc[task]));
  let to = rttCalcRto(x, timer);
  const shift = (timer > 0 ? unchecked(ntimeouts[x * RTT_TIMERS + timer - 1]) : 0) + unchecked(rqRetries[req]);
  to = shift >= 30 ? i64.MAX_VALUE : to << shift;
  const maxTo = unchecked(xToMaxval[x]) / JIFFY;
  if (to > maxTo || to <= 0) to = maxTo;
  unchecked(tkTimeout[task] = to * JIFFY);
}

export function setRetransTimeoutDef(task: i32): void {
  unchecked(tkTimeout[task] = unchecked(rqTimeout[unchecked(tkRqst[task])]));
}

// ---- write space ---------------------------------------------------------------------------
export function xprtWaitForBufferSpace(task: i32, cb: i32): void {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  unchecked(tkTimeout[task] = unchecked(xWspaceTimeout[x]) ? unchecked(rqTimeout[req]) : 0);
  trace(unchecked(tkEnt[task]), N_wait_buffer, <i32>(unchecked(tkTimeout[task]) / 1000000));
  rpcSleepOn(unchecked(xPending[x]), task, cb, N_wait_buffer);
}

export function xprtWriteSpace(x: i32, ctx: i32): void {
  const snd = unchecked(xSndTask[x]);
  trace(ctx, N_write_space, unchecked(xSndTaskPid[x]));
  if (snd >= 0) rpcWakeUpQueuedTask(unchecked(xPending[x]), snd);
}

// xprt_wake_pending_tasks
export function xprtWakePendingTasks(x: i32, status: i32): void {
  if (status < 0) rpcWakeUpStatus(unchecked(xPending[x]), status);
  else rpcWakeUp(unchecked(xPending[x]));
}

// ---- release -------------------------------------------------------------------------------
// xprt_release (3.6); with 87ed5003 a task that holds the write lock without a slot
// releases it here too.
export function xprtRelease(task: i32): void {
  const x = xOf(task);
  const req = unchecked(tkRqst[task]);
  const c = ent(x, task);
  if (req < 0) {
    const ours = unchecked(xSndTask[x]) == task;
    let released = false;
    if (pReleaseOnEarlyExit && ours) { xprtReleaseWrite(task); released = true; }
    trace(c, N_xprt_release_norq, ours ? 1 : 0, released ? 1 : 0);
    if (ours && !released) {
      const pid = unchecked(tkPid[task]);
      unchecked(xLeakedLockAt[x] = now);
      unchecked(xLeakedLockPid[x] = pid);
      traceAnomaly(c, N_lock_leaked, pid);
      klog(N_lock_leaked, pid);
    }
    return;
  }
  trace(c, N_xprt_release, req);
  const ops = unchecked(xOps[x]);
  ops.releaseXprt(x, c, task);
  ops.releaseRequest(task);
  if (unchecked(rqOnRecv[req])) { unchecked(rqOnRecv[req] = false); unchecked(xRecvCount[x] -= 1); }
  unchecked(xLastUsed[x] = now);
  const idle = unchecked(xIdleTimeout[x]);
  if (unchecked(xRecvCount[x]) == 0 && idle > 0) {
    cancelEvent(unchecked(xIdleTimer[x]));
    unchecked(xIdleTimer[x] = scheduleAt(now + idle, EV_XPRT_IDLE, x));
  }
  unchecked(tkRqst[task] = -1);
  freeSlot(x, c, req);
}

// ---- autoclose / disconnect -------------------------------------------------------------
// xprt_init_autodisconnect (timer)
export function xprtInitAutodisconnect(x: i32): void {
  unchecked(xIdleTimer[x] = 0);
  const w = unchecked(xBits[x]);
  const e = unchecked(xEnt[x]);
  trace(e, N_autodisconnect, unchecked(xRecvCount[x]), testBit(w, XPRT_LOCKED) ? 1 : 0);
  if (unchecked(xRecvCount[x]) != 0) return;
  if (testAndSetBit(w, XPRT_LOCKED)) return;
  xprtSetBit(x, e, XPRT_CONNECTION_CLOSE);
  queueWork(unchecked(xAutoclose[x]), curCpu);
}

// xprt_autoclose (the task_cleanup work)
export function xprtAutoclose(x: i32, ctx: i32): void {
  trace(ctx, N_autoclose);
  unchecked(xOps[x]).close(x);
  xprtClearBit(x, ctx, XPRT_CLOSE_WAIT);
  unchecked(xOps[x]).releaseXprt(x, ctx, -1);
}

// xprt_disconnect_done
export function xprtDisconnectDone(x: i32, ctx: i32): void {
  trace(ctx, N_disconnect_done);
  xprtClearBit(x, ctx, XPRT_CONNECTED);
  xprtWakePendingTasks(x, -EAGAIN);
}

// xprt_force_disconnect: CLOSE_WAIT; autoclose only if the lock could be taken now.
export function xprtForceDisconnect(x: i32, ctx: i32): void {
  xprtSetBit(x, ctx, XPRT_CLOSE_WAIT);
  const wasLocked = testAndSetBit(unchecked(xBits[x]), XPRT_LOCKED);
  trace(ctx, N_force_disconnect, wasLocked ? 1 : 0);
  if (!wasLocked) queueWork(unchecked(xAutoclose[x]), curCpu);
  else unchecked(xNCloseWaitDeferred[x] += 1);
  // Simon Kirby's debugging printk, right after the test_and_set_bit
  trace(ctx, N_force_disconnect_warn, wasLocked ? 0 : 1);
  klog(N_force_disconnect_warn, wasLocked ? 0 : 1);
  xprtWakePendingTasks(x, -EAGAIN);
}

// ---- liveness (UDP): the invariant 43cedbf0 broke ------------------------------------------
// "sending is non-empty, the lock is free, and no request holding a credit is in flight or
// has a timer armed": nothing can ever call __xprt_put_cong again. (On TCP cong stays 0, so
// the window is never full.)
export function creditHoldersInFlight(x: i32): i32 {
  let n = 0;
  const base = x * MAX_RQST, end = base + unchecked(xMaxReqs[x]);
  const q = unchecked(xSending[x]);
  for (let r = base; r < end; r++) {
    if (!unchecked(rqUsed[r]) || unchecked(rqCong[r]) == 0) continue;
    const t = unchecked(rqTask[r]);
    if (rpcTaskQueue(t) != q) n++;       // running, on pending, on a timer, on rpciod
  }
  return n;
}

export function livenessBroken(x: i32): bool {
  if (!congested(x)) return false;
  if (rpcqLenOf(unchecked(xSending[x])) == 0 || testBit(unchecked(xBits[x]), XPRT_LOCKED)) return false;
  return creditHoldersInFlight(x) == 0;
}

function checkLiveness(x: i32, ctx: i32): void {
  if (!livenessBroken(x)) return;
  unchecked(xNStuckEvents[x] += 1);
  if (unchecked(xFirstStuckAt[x]) < 0) {
    unchecked(xFirstStuckAt[x] = now);
    traceAnomaly(ctx, N_stuck, unchecked(xCong[x]), unchecked(xCwnd[x]), rpcqLenOf(unchecked(xSending[x])));
  }
}

// XPRT_LOCKED held by an rpc_task that has been freed: nothing can release it
export function sndTaskExited(x: i32): bool {
  const snd = unchecked(xSndTask[x]);
  return snd >= 0 && !unchecked(tkUsed[snd]) && testBit(unchecked(xBits[x]), XPRT_LOCKED);
}

export function idleTimerArmed(x: i32): bool { return unchecked(xIdleTimer[x]) != 0; }

// autofs: the share was unmounted after its expiry and is mounted again: a new rpc_xprt,
// with cwnd back at RPC_INITCWND and a fresh RTT estimator. Only between bursts, with no
// task left on the old transport.
const N_remount = fn("mount: new rpc_xprt (autofs)", "cwnd=%d", CAT_LOG);
export function xprtRemount(x: i32): void {
  if (unchecked(xRecvCount[x]) != 0 || unchecked(xCong[x]) != 0 || testBit(unchecked(xBits[x]), XPRT_LOCKED)) return;
  unchecked(xNRemounts[x] += 1);
  unchecked(xCwnd[x] = RPC_INITCWND);
  rttInit(x, unchecked(xToInitval[x]));
  unchecked(xConnectCookie[x] = 0);
  trace(unchecked(xEnt[x]), N_remount, RPC_INITCWND);
  klog(N_remount, RPC_INITCWND);
  sampleSeries(x);
}
export function autoclosePending(x: i32): bool { return workPending(unchecked(xAutoclose[x])); }
export function taskHoldsCredit(task: i32): bool {
  const r = unchecked(tkRqst[task]);
  return r >= 0 && unchecked(rqCong[r]) != 0;
}
export function bumpConnectCookie(x: i32): void { unchecked(xConnectCookie[x] += 1); }
