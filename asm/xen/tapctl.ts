// tap-ctl, the blktap2 control library linked into xl (tools/blktap2/control/): every
// request is a connection to a tapdisk's control socket, a message, and a wait for the
// reply in select() (tap_ctl_read_message) with a per-request timeout. These are
// subroutines of the calling thread's state machine: each takes the action to resume at
// and leaves its result in its record (tcErrOf/tcMinorOf/tcTdOf).
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_LOG, CAT_STEP } from "../kernel/names";
import { trace } from "../kernel/trace";
import { stream, randExp } from "../kernel/prng";
import { threadNext, threadSleep, threadSleepTimeout, TASK_INTERRUPTIBLE, MAX_ENTS } from "../kernel/sched";
import { wfDone } from "../kernel/waitfor";
import {
  MAX_TAPDISKS, MSG_PID, MSG_LIST, MSG_ATTACH, MSG_OPEN, MSG_CLOSE, MSG_DETACH, msgName,
  tapCtlConnectSend, connSetArg, connReplied, connEof, connErr, connR1, connR2, connR3, connClose,
  tapdiskReplyRes, tapdiskSpawn, tapdiskCount, tapdiskAlive,
} from "./tapdisk";
import { blktapAllocTap, blktapFreeTap } from "./blktap";
import { wfWaitChecked } from "../kernel/waitfor";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const EIO: i32 = -5;
const EPROTO: i32 = -71;
const ENOENT: i32 = -2;
const MAX_XL: i32 = 9;   // one slot per guest's xl, and the operator's `tap-ctl list`

// Each caller thread's tap-ctl state is one record of CALLER_WORDS (the deadline an i64
// in two of them), not twenty arrays of MAX_ENTS: the few callers' state then sits on one
// page or two, where each array put its first entries on a page of its own.
const C_TC_ERR: i32 = 0;
const C_TC_MINOR: i32 = 1;
const C_TC_TD: i32 = 2;
const C_TC_PARAMS: i32 = 3;
const C_TC_STATE: i32 = 4;
const C_SC_CONN: i32 = 5;
const C_SC_RET: i32 = 6;
const C_SC_TYPE: i32 = 7;
const C_SC_PID: i32 = 8;
const C_TL_N: i32 = 9;
const C_TL_I: i32 = 10;
const C_TL_SLOT: i32 = 11;
const C_TL_WANT: i32 = 12;
const C_TL_RET: i32 = 13;
const C_TL_MINOR: i32 = 14;
const C_TC_RET: i32 = 15;
const C_TC_IMAGE: i32 = 16;
const C_TC_OP_MINOR: i32 = 17;
const C_TC_CPU: i32 = 18;
const C_DEADLINE: i32 = 20;   // i64, 8-byte aligned
const CALLER_WORDS: i32 = C_DEADLINE + 2;
// (the instance reset zeroes the rows of the threads that called tap-ctl: in a world
// without Xen, none of its many entities)
let callerRows: i32 = 0;
rowsBegin(MAX_ENTS, (): i32 => callerRows);
const callers = zeroed<i32>(MAX_ENTS * CALLER_WORDS);
rowsEnd();
@inline function cg(t: i32, f: i32): i32 { return unchecked(callers[t * CALLER_WORDS + f]); }
@inline function written(t: i32): void { if (t >= callerRows) callerRows = t + 1; }
@inline function cs(t: i32, f: i32, v: i32): void { written(t); unchecked(callers[t * CALLER_WORDS + f] = v); }
@inline function deadline(t: i32): i64 { return load<i64>(changetype<usize>(callers) + ((<usize>(t * CALLER_WORDS + C_DEADLINE)) << 2)); }
@inline function setDeadline(t: i32, v: i64): void { written(t); store<i64>(changetype<usize>(callers) + ((<usize>(t * CALLER_WORDS + C_DEADLINE)) << 2), v); }
// What the last tap-ctl call of thread t returned: its error, minor and tapdisk2.
export function tcErrOf(t: i32): i32 { return cg(t, C_TC_ERR); }
export function tcMinorOf(t: i32): i32 { return cg(t, C_TC_MINOR); }
export function tcTdOf(t: i32): i32 { return cg(t, C_TC_TD); }
// tap_ctl_list state, per xl slot: a row per tapdisk2 listed (at most the tapdisk2s made),
// the xl slots side by side in it
@inline function tl(slot: i32, i: i32): i32 { return i * MAX_XL + slot; }
rowsBegin(MAX_TAPDISKS, tapdiskCount);
const tlIds = zeroed<i32>(MAX_XL * MAX_TAPDISKS);
const tlOk = zeroed<bool>(MAX_XL * MAX_TAPDISKS);
// each tapdisk's LIST reply: minor (-1: no VBD), params, state; tlListed: it answered
const tlRMinor = zeroed<i32>(MAX_XL * MAX_TAPDISKS);
const tlRParams = zeroed<i32>(MAX_XL * MAX_TAPDISKS);
const tlRState = zeroed<i32>(MAX_XL * MAX_TAPDISKS);
const tlListed = zeroed<bool>(MAX_XL * MAX_TAPDISKS);
rowsEnd();

// Host-wide: the installed tap-ctl's detach timeout, and dom0's syslog and its counts.
let detachTimeout: i64 = 5 * NSEC_PER_SEC;
const CTL_TIMEOUT: i64 = 5 * NSEC_PER_SEC;     // close, attach, open: (id, &message, 5)
const LIST_TIMEOUT: i64 = 2 * NSEC_PER_SEC;    // _tap_ctl_list_tapdisk, tap_ctl_get_pid

// The syslog: tap-err lines (EPRINTF → syslog(LOG_ERR, "tap-err:%s: ...", __func__)).
const MAX_SYSLOG: i32 = 512;
export const LOG_READ_FAILURE: i32 = 0;      // tap_ctl_read_message: failure reading message
export const LOG_RECEIVE_FAILED: i32 = 1;    // tap_ctl_send_and_receive: failed to receive '%s' message
export const LOG_CONNECT_FAILED: i32 = 2;    // tap_ctl_connect: couldn't connect
export const LOG_CLOSE_FAILED: i32 = 3;      // tap_ctl_close: close failed
const logTime = zeroed<i64>(MAX_SYSLOG);
const logPid = zeroed<i32>(MAX_SYSLOG);
const logKind = zeroed<i32>(MAX_SYSLOG);
const logArg = zeroed<i32>(MAX_SYSLOG);
let nLog: i32 = 0;
let nLogTotal: i32 = 0;
let nDetachTimeouts: i32 = 0;

const N_select = name("poll_schedule_timeout");
const N_send = fn("tap_ctl_send_and_receive", "%n id=%d timeout=%t");
const N_read_fail = fn("tap-err:tap_ctl_read_message: failure reading message", "", CAT_LOG);
const N_recv_fail = fn("tap-err:tap_ctl_send_and_receive: failed to receive message", "'%n'", CAT_LOG);
const N_connect_fail = fn("tap-err:tap_ctl_connect: couldn't connect", "id=%d err=%e", CAT_LOG);
const N_close_fail = fn("tap-err:tap_ctl_close: close failed", "err=%e", CAT_LOG);
const N_recv_ok = fn("tap_ctl_read_message", "%n_rsp err=%e");
const N_list = fn("tap_ctl_list", "tapdisks=%d", CAT_STEP);
const N_list_done = fn("tap_ctl_find", "err=%e id=%d minor=%d");
const N_create = fn("tap_ctl_create", "minor=%d err=%e");
const N_allocate = fn("tap_ctl_allocate", "minor=%d");
const N_destroy = fn("tap_ctl_destroy", "id=%d minor=%d");
const N_destroy_done = fn("tap_ctl_destroy", "err=%e minor=%d");
const N_free = fn("tap_ctl_free", "minor=%d err=%e");

// subroutine actions (the caller's own actions are below 100)
export const TC_FIRST: i32 = 100;
const SC_RECV: i32 = 100;
const TL_PID_NEXT: i32 = 110;
const TL_PID_DONE: i32 = 111;
const TL_LIST_NEXT: i32 = 112;
const TL_LIST_DONE: i32 = 113;
const TCC_SPAWN: i32 = 120;
const TCC_ATTACHED: i32 = 121;
const TCC_OPENED: i32 = 122;
const TCD_CLOSED: i32 = 130;
const TCD_DETACHED: i32 = 131;
const TCD_FREE: i32 = 132;

const IPC_NS: i64 = 30000;
// tap-ctl waking on a reply (select() returns on a shared dom0 vCPU) and its FREE_TAP
// ioctl race tapdisk2's ring teardown; like those, their time is drawn per call from an
// exponential with this mean (stream "tapctl").
const REPLY_NS: f64 = 30000;
const IOCTL_NS: f64 = 20000;
const S_TAPCTL = stream("tapctl");
const SPAWN_NS: i64 = 4000000;

export function tapCtlInit(detachTimeoutNs: i64): void { detachTimeout = detachTimeoutNs; }

function syslog(t: i32, kind: i32, arg: i32): void {
  nLogTotal++;
  if (nLog >= MAX_SYSLOG) return;
  unchecked(logTime[nLog] = now);
  unchecked(logPid[nLog] = cg(t, C_SC_PID));
  unchecked(logKind[nLog] = kind);
  unchecked(logArg[nLog] = arg);
  nLog++;
}

export function setCallerPid(t: i32, pid: i32): void { cs(t, C_SC_PID, pid); }

// tap_ctl_connect_send_and_receive(id, &message, timeout); 0 = no timeout (blktap 2.5).
function sendAndReceive(t: i32, td: i32, type: i32, arg: i32, timeout: i64, ret: i32): void {
  trace(t, N_send, msgName(type), td, <i32>(timeout / 1000000));
  const c = tapCtlConnectSend(t, td, type);
  if (c < 0) {
    trace(t, N_connect_fail, td, c);
    syslog(t, LOG_CONNECT_FAILED, td);
    cs(t, C_TC_ERR, c);
    threadNext(t, ret, IPC_NS);
    return;
  }
  connSetArg(c, arg);
  cs(t, C_SC_CONN, c);
  cs(t, C_SC_RET, ret);
  cs(t, C_SC_TYPE, type);
  setDeadline(t, timeout > 0 ? now + timeout : -1);
  wfWaitChecked(t, tapdiskReplyRes(td));
  selectWait(t);
}

function selectWait(t: i32): void {
  const d = deadline(t);
  if (d >= 0) threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_select, d - now, SC_RECV, IPC_NS);
  else threadSleep(t, TASK_INTERRUPTIBLE, N_select, SC_RECV, IPC_NS);
}

// tap_ctl_read_message: the select() returned (reply, EOF, timeout, or another fd).
function receive(t: i32): void {
  const c = cg(t, C_SC_CONN);
  const type = cg(t, C_SC_TYPE);
  if (!connReplied(c) && !connEof(c)) {
    const d = deadline(t);
    if (d < 0 || now < d) { selectWait(t); return; }   // woken for something else
  }
  wfDone(t);
  if (connReplied(c)) {
    cs(t, C_TC_ERR, connErr(c));
    cs(t, C_TC_MINOR, connR1(c));
    cs(t, C_TC_PARAMS, connR3(c));
    cs(t, C_TC_STATE, connR2(c));
    trace(t, N_recv_ok, msgName(type), connErr(c));
  } else {
    trace(t, N_read_fail);
    syslog(t, LOG_READ_FAILURE, 0);
    trace(t, N_recv_fail, msgName(type));
    syslog(t, LOG_RECEIVE_FAILED, msgName(type));
    cs(t, C_TC_ERR, EIO);
    if (type == MSG_DETACH) nDetachTimeouts++;
  }
  connClose(c);
  threadNext(t, cg(t, C_SC_RET), <i64>randExp(S_TAPCTL, REPLY_NS) + 1);
}

// ---- tap_ctl_list → tap_ctl_find: PID to every ctl socket (failures skipped), then LIST
// to each (any failure fails the whole list with -EPROTO); the first VBD serving `image`.
export function tapCtlFind(t: i32, slot: i32, image: i32, ret: i32): void {
  let n = 0;
  for (let td = 0; td < tapdiskCount(); td++) {
    if (!tapdiskAlive(td)) continue;
    unchecked(tlIds[tl(slot, n)] = td);
    unchecked(tlOk[tl(slot, n)] = false);
    unchecked(tlListed[tl(slot, n)] = false);
    n++;
  }
  cs(t, C_TL_N, n);
  cs(t, C_TL_I, 0);
  cs(t, C_TL_SLOT, slot);
  cs(t, C_TL_WANT, image);
  cs(t, C_TL_RET, ret);
  cs(t, C_TC_TD, -1);
  trace(t, N_list, n);
  threadNext(t, TL_PID_NEXT, IPC_NS);
}

function listStep(t: i32, action: i32): void {
  const slot = cg(t, C_TL_SLOT);
  const i = cg(t, C_TL_I);
  const n = cg(t, C_TL_N);
  if (action == TL_PID_NEXT) {
    if (i < n) { sendAndReceive(t, unchecked(tlIds[tl(slot, i)]), MSG_PID, 0, LIST_TIMEOUT, TL_PID_DONE); return; }
    cs(t, C_TL_I, 0);
    threadNext(t, TL_LIST_NEXT, IPC_NS);
  } else if (action == TL_PID_DONE) {
    unchecked(tlOk[tl(slot, i)] = cg(t, C_TC_ERR) >= 0);
    cs(t, C_TL_I, i + 1);
    threadNext(t, TL_PID_NEXT, IPC_NS);
  } else if (action == TL_LIST_NEXT) {
    let j = i;
    while (j < n && !unchecked(tlOk[tl(slot, j)])) j++;
    cs(t, C_TL_I, j);
    if (j < n) { sendAndReceive(t, unchecked(tlIds[tl(slot, j)]), MSG_LIST, 0, LIST_TIMEOUT, TL_LIST_DONE); return; }
    const found = cg(t, C_TC_TD);
    cs(t, C_TC_ERR, found >= 0 ? 0 : ENOENT);
    cs(t, C_TC_MINOR, found >= 0 ? cg(t, C_TL_MINOR) : -1);
    trace(t, N_list_done, cg(t, C_TC_ERR), found, cg(t, C_TC_MINOR));
    threadNext(t, cg(t, C_TL_RET), IPC_NS);
  } else if (action == TL_LIST_DONE) {
    if (cg(t, C_TC_ERR) < 0) {
      cs(t, C_TC_ERR, EPROTO);
      cs(t, C_TC_TD, -1);
      trace(t, N_list_done, EPROTO, -1, -1);
      threadNext(t, cg(t, C_TL_RET), IPC_NS);
      return;
    }
    const params = cg(t, C_TC_PARAMS);
    unchecked(tlListed[tl(slot, i)] = true);
    unchecked(tlRMinor[tl(slot, i)] = cg(t, C_TC_MINOR));
    unchecked(tlRParams[tl(slot, i)] = params);
    unchecked(tlRState[tl(slot, i)] = cg(t, C_TC_STATE));
    if (cg(t, C_TC_TD) < 0 && params >= 0 && params == cg(t, C_TL_WANT)) {
      cs(t, C_TC_TD, unchecked(tlIds[tl(slot, i)]));
      cs(t, C_TL_MINOR, cg(t, C_TC_MINOR));
    }
    cs(t, C_TL_I, i + 1);
    threadNext(t, TL_LIST_NEXT, IPC_NS);
  }
}

// ---- tap_ctl_create: allocate (ALLOC_TAP + mknod), spawn tapdisk2, attach, open.
export function tapCtlCreate(t: i32, image: i32, cpu: i32, ret: i32): void {
  cs(t, C_TC_RET, ret);
  cs(t, C_TC_IMAGE, image);
  cs(t, C_TC_CPU, cpu);
  const m = blktapAllocTap(t);
  cs(t, C_TC_OP_MINOR, m);
  if (m < 0) {
    cs(t, C_TC_ERR, m);
    trace(t, N_create, -1, m);
    threadNext(t, ret, <i64>randExp(S_TAPCTL, IOCTL_NS) + 1);
    return;
  }
  trace(t, N_allocate, m);
  threadNext(t, TCC_SPAWN, SPAWN_NS);
}

function createStep(t: i32, action: i32): void {
  const m = cg(t, C_TC_OP_MINOR);
  if (action == TCC_SPAWN) {
    const td = tapdiskSpawn(t, cg(t, C_TC_CPU), cg(t, C_TC_IMAGE));
    cs(t, C_TC_TD, td);
    sendAndReceive(t, td, MSG_ATTACH, m, CTL_TIMEOUT, TCC_ATTACHED);
  } else if (action == TCC_ATTACHED) {
    if (cg(t, C_TC_ERR) < 0) { finish(t, N_create, m); return; }
    sendAndReceive(t, cg(t, C_TC_TD), MSG_OPEN, m, CTL_TIMEOUT, TCC_OPENED);
  } else if (action == TCC_OPENED) {
    finish(t, N_create, m);
  }
}

function finish(t: i32, fnName: i32, minor: i32): void {
  cs(t, C_TC_MINOR, minor);
  trace(t, fnName, minor, cg(t, C_TC_ERR));
  threadNext(t, cg(t, C_TC_RET), IPC_NS);
}

// ---- tap_ctl_destroy = tap_ctl_close; tap_ctl_detach; tap_ctl_free, stopping at the
// first error: a detach that timed out never reaches FREE_TAP.
export function tapCtlDestroy(t: i32, td: i32, minor: i32, ret: i32): void {
  cs(t, C_TC_RET, ret);
  cs(t, C_TC_TD, td);
  cs(t, C_TC_OP_MINOR, minor);
  trace(t, N_destroy, td, minor);
  sendAndReceive(t, td, MSG_CLOSE, 0, CTL_TIMEOUT, TCD_CLOSED);
}

function destroyStep(t: i32, action: i32): void {
  const minor = cg(t, C_TC_OP_MINOR);
  const err = cg(t, C_TC_ERR);
  if (action == TCD_CLOSED) {
    if (err < 0) {
      trace(t, N_close_fail, err);
      syslog(t, LOG_CLOSE_FAILED, err);
      destroyDone(t, minor);
      return;
    }
    sendAndReceive(t, cg(t, C_TC_TD), MSG_DETACH, 0, detachTimeout, TCD_DETACHED);
  } else if (action == TCD_DETACHED) {
    if (err < 0) { destroyDone(t, minor); return; }
    threadNext(t, TCD_FREE, <i64>randExp(S_TAPCTL, IOCTL_NS) + 1);
  } else if (action == TCD_FREE) {
    // open(/dev/xen/blktap-2/control); ioctl(fd, BLKTAP2_IOCTL_FREE_TAP, minor)
    const e = blktapFreeTap(t, minor);
    trace(t, N_free, minor, e);
    cs(t, C_TC_ERR, e);
    destroyDone(t, minor);
  }
}

function destroyDone(t: i32, minor: i32): void {
  trace(t, N_destroy_done, cg(t, C_TC_ERR), minor);
  cs(t, C_TC_MINOR, minor);
  threadNext(t, cg(t, C_TC_RET), IPC_NS);
}

// Dispatches a subroutine action (>= TC_FIRST) of thread t.
export function tapCtlStep(t: i32, action: i32): void {
  if (action == SC_RECV) receive(t);
  else if (action < TCC_SPAWN) listStep(t, action);
  else if (action < TCD_CLOSED) createStep(t, action);
  else destroyStep(t, action);
}

// What the last tap_ctl_list of `slot` heard: the tapdisks asked, and each one's answers.
export function tapCtlListCount(t: i32): i32 { return cg(t, C_TL_N); }
export function tapCtlListTd(slot: i32, i: i32): i32 { return unchecked(tlIds[tl(slot, i)]); }
export function tapCtlListPidOk(slot: i32, i: i32): bool { return unchecked(tlOk[tl(slot, i)]); }
export function tapCtlListed(slot: i32, i: i32): bool { return unchecked(tlListed[tl(slot, i)]); }
export function tapCtlListMinor(slot: i32, i: i32): i32 { return unchecked(tlRMinor[tl(slot, i)]); }
export function tapCtlListParams(slot: i32, i: i32): i32 { return unchecked(tlRParams[tl(slot, i)]); }
export function tapCtlListState(slot: i32, i: i32): i32 { return unchecked(tlRState[tl(slot, i)]); }
export const TAPCTL_LIST_SLOT: i32 = MAX_XL - 1;

export function syslogCount(): i32 { return nLog; }
export function syslogTotal(): i32 { return nLogTotal; }
export function detachFailures(): i32 { return nDetachTimeouts; }
export function syslogTime(i: i32): i64 { return unchecked(logTime[i]); }
export function syslogPid(i: i32): i32 { return unchecked(logPid[i]); }
export function syslogKind(i: i32): i32 { return unchecked(logKind[i]); }
export function syslogArg(i: i32): i32 { return unchecked(logArg[i]); }
