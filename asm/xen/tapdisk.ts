// tapdisk2: one single-threaded process per VBD, serving tap-ctl requests on its control
// socket /var/run/blktap-control/ctl<id> (drivers/tapdisk-control.c,
// tapdisk-server.c). One connection per request; the process exits when its last VBD
// is gone (tapdisk_server_check_state).
//
// DETACH (tapdisk_control_detach_vbd) unmaps the ring before it replies. The unmap's
// last fput runs blktap_ring_release → blktap_device_destroy_sync, which sleeps
// uninterruptibly until blkback has closed tapdevN: the whole event loop is frozen there,
// and every tap-ctl client of this process waits in select() meanwhile.
// Patch tapdisk-respond-before-teardown (79e3dbe, inferred): the reply goes out first.
import { fn, name, CAT_LOG, CAT_STATE } from "../kernel/names";
import { trace } from "../kernel/trace";
import { stream, randExp } from "../kernel/prng";
import {
  threadNew, threadNext, threadSleep, threadExit, threadAction, wakeUpProcess, TASK_INTERRUPTIBLE,
  TASK_UNINTERRUPTIBLE, MAX_ENTS, entCount,
} from "../kernel/sched";
import { resHold, resRelease, resNew, wfDone, wfWaitChecked } from "../kernel/waitfor";
import { fifoNew, fifoPush, fifoPop, popA } from "./fifo";
import {
  blktapRingAttach, blktapDeviceCreate, blktapRingVmClose, blktapDeviceTryDestroy, blktapPollWait,
  blktapRingReleased, blktapBdevRes,
} from "./blktap";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const MAX_TAPDISKS: i32 = 1200;
const MAX_CONNS: i32 = 4096;
const ECONNREFUSED: i32 = -111;

// TAPDISK_MESSAGE_*
export const MSG_PID: i32 = 0;
export const MSG_LIST: i32 = 1;
export const MSG_ATTACH: i32 = 2;
export const MSG_OPEN: i32 = 3;
export const MSG_CLOSE: i32 = 4;
export const MSG_DETACH: i32 = 5;
const MSG_NAMES = zeroed<i32>(6);
MSG_NAMES[0] = name("pid");
MSG_NAMES[1] = name("list");
MSG_NAMES[2] = name("attach");
MSG_NAMES[3] = name("open");
MSG_NAMES[4] = name("close");
MSG_NAMES[5] = name("detach");
export function msgName(type: i32): i32 { return unchecked(MSG_NAMES[type]); }

export const TD_VBD_CLOSED: i32 = 0x2;

// ---- connections: one per tap-ctl request
// A control connection and a tapdisk2 are each one record (bools as 0/1), not one array
// per field: the few in use sit on a page or two, where each array put its first entries
// on a page of its own.
const C_CLIENT: i32 = 0;
const C_TYPE: i32 = 1;
const C_ERR: i32 = 2;
const C_R1: i32 = 3;
const C_R3: i32 = 4;
const C_R2: i32 = 5;   // LIST: the VBD's state
const C_REPLIED: i32 = 6;
const C_EOF: i32 = 7;   // the server closed without replying
const C_CLIENT_GONE: i32 = 8;
const C_SERVER_DONE: i32 = 9;
const CONN_WORDS: i32 = 10;
let connsUsed: i32 = 0;
rowsBegin(MAX_CONNS, (): i32 => connsUsed);   // (fewer are free than were made)
const conns = zeroed<i32>(MAX_CONNS * CONN_WORDS);
@inline function cn(c: i32, f: i32): i32 { return unchecked(conns[c * CONN_WORDS + f]); }
@inline function cnSet(c: i32, f: i32, v: i32): void { unchecked(conns[c * CONN_WORDS + f] = v); }
const cFree = zeroed<i32>(MAX_CONNS);
rowsEnd();
// Host-wide: the pool of control connections, the process table (pids) and the one
// installed tapdisk2 binary's behaviour; each tapdisk2 and connection is a row.
let nFreeConns: i32 = 0;

// ---- tapdisk processes
const TDF_THREAD: i32 = 0;
const TDF_PID: i32 = 1;
const TDF_MINOR: i32 = 2;
const TDF_IMAGE: i32 = 3;   // which image (guest, disk key) it serves
const TDF_STATE: i32 = 4;
const TDF_BACKLOG: i32 = 5;
const TDF_CONN: i32 = 6;   // the request being served
const TDF_RES: i32 = 7;   // "tapdisk control reply", for wait-for
const TDF_HAS_VBD: i32 = 8;
const TDF_ATTACHED: i32 = 9;
const TDF_RUN: i32 = 10;
const TDF_SOCKET: i32 = 11;   // ctl<id> exists
const TDF_REPLIED: i32 = 12;
const TD_WORDS: i32 = 13;
let nTapdisks: i32 = 0;
rowsBegin(MAX_TAPDISKS, (): i32 => nTapdisks);
const tapdisks = zeroed<i32>(MAX_TAPDISKS * TD_WORDS);
rowsEnd();
@inline function tdf(td: i32, f: i32): i32 { return unchecked(tapdisks[td * TD_WORDS + f]); }
@inline function tdSet(td: i32, f: i32, v: i32): void { unchecked(tapdisks[td * TD_WORDS + f] = v); }
let nextPid: i32 = 3100;
rowsBegin(MAX_ENTS, entCount);
const tdOfThread = zeroed<i32>(MAX_ENTS);
rowsEnd();

const N_tapdisk2 = name("tapdisk2");
const N_reply_res = name("tapdisk control reply");
const N_iterate = name("tapdisk_server_iterate");
const N_destroy_sync = name("blktap_device_destroy_sync");
const N_spawn = fn("tap_ctl_spawn", "pid=%d id=%d");
const N_ctl_msg = fn("tapdisk_control_handle_request", "%n conn=%d");
const N_attach = fn("tapdisk_control_attach_vbd", "minor=%d");
const N_open = fn("tapdisk_control_open_image", "minor=%d");
const N_close = fn("tapdisk_control_close_image", "minor=%d err=%e state=%d");
const N_detach = fn("tapdisk_control_detach_vbd", "minor=%d");
const N_unmap = fn("tapdisk_vbd_unmap_device", "minor=%d");
const N_remove_vbd = fn("tapdisk_server_remove_vbd", "minor=%d");
const N_write_rsp = fn("tapdisk_control_write_message", "%n_rsp err=%e", CAT_STATE);
const N_write_fail = fn("tapdisk_control_write_message: failure writing message", "%n_rsp", CAT_LOG);
const N_check_state = fn("tapdisk_server_check_state", "run=%d", CAT_STATE);
const N_exit = fn("tapdisk_server_exit", "pid=%d");

// thread actions
const TD_LOOP: i32 = 1;
const TD_UNMAP: i32 = 2;
const TD_RELEASE: i32 = 3;
const TD_DETACH_DONE: i32 = 4;

const LOOP_NS: i64 = 40000;
// The steps that race tap-ctl's FREE_TAP after an early DETACH reply: munmap of the ring (a
// TLB shootdown across dom0's vCPUs) and blktap_device_destroy's del_gendisk (an RCU grace
// period, the bdi flush). Their time is mostly waiting, so it is drawn per call from an
// exponential with this mean (stream "tapdisk"), not concentrated around it.
const UNMAP_NS: f64 = 150000;
const DEL_GENDISK_NS: f64 = 400000;
const S_TAPDISK = stream("tapdisk");

let respondBeforeTeardown: bool = false;

export function tapdiskInit(respondFirst: bool): void { respondBeforeTeardown = respondFirst; }

// tap_ctl_spawn: fork/exec of tapdisk2; the control socket exists from the start.
export function tapdiskSpawn(actor: i32, cpu: i32, image: i32): i32 {
  assert(nTapdisks < MAX_TAPDISKS, "too many tapdisk2 processes");
  const id = nTapdisks++;
  const pid = nextPid++;
  const t = threadNew(N_tapdisk2, pid, cpu, TD_LOOP, LOOP_NS);
  unchecked(tdOfThread[t] = id);
  tdSet(id, TDF_THREAD, t);
  tdSet(id, TDF_PID, pid);
  tdSet(id, TDF_MINOR, -1);
  tdSet(id, TDF_IMAGE, image);
  tdSet(id, TDF_RUN, 1);
  tdSet(id, TDF_SOCKET, 1);
  tdSet(id, TDF_BACKLOG, fifoNew());
  tdSet(id, TDF_CONN, -1);
  const r = resNew(N_reply_res, pid);
  tdSet(id, TDF_RES, r);
  resHold(r, t);
  trace(actor, N_spawn, pid, id);
  return id;
}

// ---- the client side of a connection (tap_ctl_connect_id / send / read)

function connNew(client: i32, td: i32, type: i32): i32 {
  let c: i32;
  if (nFreeConns > 0) c = unchecked(cFree[--nFreeConns]);
  else { assert(connsUsed < MAX_CONNS, "tap-ctl connection pool exhausted"); c = connsUsed++; }
  cnSet(c, C_CLIENT, client);
  cnSet(c, C_TYPE, type);
  cnSet(c, C_REPLIED, 0);
  cnSet(c, C_EOF, 0);
  cnSet(c, C_CLIENT_GONE, 0);
  cnSet(c, C_SERVER_DONE, 0);
  cnSet(c, C_ERR, 0);
  return c;
}

function connMaybeFree(c: i32): void {
  if (cn(c, C_CLIENT_GONE) != 0 && cn(c, C_SERVER_DONE) != 0) unchecked(cFree[nFreeConns++] = c);
}

// Connects and sends; returns the connection, or -ECONNREFUSED when ctl<id> is gone.
export function tapCtlConnectSend(client: i32, td: i32, type: i32): i32 {
  if (td < 0 || td >= nTapdisks || tdf(td, TDF_SOCKET) == 0) return ECONNREFUSED;
  const c = connNew(client, td, type);
  fifoPush(tdf(td, TDF_BACKLOG), c, 0);
  wakeUpProcess(tdf(td, TDF_THREAD));
  return c;
}

export function connReplied(c: i32): bool { return cn(c, C_REPLIED) != 0; }
export function connEof(c: i32): bool { return cn(c, C_EOF) != 0; }
export function connErr(c: i32): i32 { return cn(c, C_ERR); }
export function connR1(c: i32): i32 { return cn(c, C_R1); }
export function connR3(c: i32): i32 { return cn(c, C_R3); }
export function connR2(c: i32): i32 { return cn(c, C_R2); }

// The client closes its end (after the reply, or after giving up).
export function connClose(c: i32): void {
  cnSet(c, C_CLIENT_GONE, 1);
  connMaybeFree(c);
}

// The wait-for resource a client waits on while in select() for this tapdisk.
export function tapdiskReplyRes(td: i32): i32 { return tdf(td, TDF_RES); }

// ---- the server side

// r1: pid or minor; r3: LIST's params (the image the VBD serves), -1: none; r2: LIST's state.
function reply(t: i32, td: i32, err: i32, r1: i32, r3: i32, r2: i32 = -1): void {
  const c = tdf(td, TDF_CONN);
  tdSet(td, TDF_REPLIED, 1);
  if (cn(c, C_CLIENT_GONE) != 0) {
    // tap-ctl gave up (its select timed out) and closed: EPIPE, SIGPIPE is ignored
    trace(t, N_write_fail, msgName(cn(c, C_TYPE)));
  } else {
    cnSet(c, C_ERR, err);
    cnSet(c, C_R1, r1);
    cnSet(c, C_R3, r3);
    cnSet(c, C_R2, r2);
    cnSet(c, C_REPLIED, 1);
    trace(t, N_write_rsp, msgName(cn(c, C_TYPE)), err);
    wakeUpProcess(cn(c, C_CLIENT));
  }
  cnSet(c, C_SERVER_DONE, 1);
  connMaybeFree(c);
}

function exitServer(t: i32, td: i32): void {
  // the socket goes; clients still queued on it read EOF at once
  tdSet(td, TDF_SOCKET, 0);
  const q = tdf(td, TDF_BACKLOG);
  while (fifoPop(q)) {
    const c = popA;
    cnSet(c, C_EOF, 1);
    cnSet(c, C_SERVER_DONE, 1);
    if (cn(c, C_CLIENT_GONE) == 0) wakeUpProcess(cn(c, C_CLIENT));
    connMaybeFree(c);
  }
  resRelease(tdf(td, TDF_RES));
  trace(t, N_exit, tdf(td, TDF_PID));
  threadExit(t);
}

export function tapdiskStep(t: i32): void {
  const td = unchecked(tdOfThread[t]);
  const action = threadAction(t);
  if (action == TD_LOOP) loop(t, td);
  else if (action == TD_UNMAP) unmap(t, td);
  else if (action == TD_RELEASE) release(t, td);
  else if (action == TD_DETACH_DONE) detachDone(t, td);
}

function loop(t: i32, td: i32): void {
  if (tdf(td, TDF_RUN) == 0) { exitServer(t, td); return; }
  if (!fifoPop(tdf(td, TDF_BACKLOG))) {
    threadSleep(t, TASK_INTERRUPTIBLE, N_iterate, TD_LOOP, LOOP_NS);
    return;
  }
  const c = popA;
  tdSet(td, TDF_CONN, c);
  tdSet(td, TDF_REPLIED, 0);
  const type = cn(c, C_TYPE);
  const m = tdf(td, TDF_MINOR);
  trace(t, N_ctl_msg, msgName(type), c);
  if (type == MSG_PID) {
    reply(t, td, 0, tdf(td, TDF_PID), 0);
  } else if (type == MSG_LIST) {
    // one entry per VBD: minor, params (the image key); none: an orphaned tapdisk
    if (tdf(td, TDF_HAS_VBD) != 0) reply(t, td, 0, m, tdf(td, TDF_IMAGE), tdf(td, TDF_STATE));
    else reply(t, td, 0, -1, -1);
  } else if (type == MSG_ATTACH) {
    const minor = cn(c, C_R1);
    tdSet(td, TDF_MINOR, minor);
    tdSet(td, TDF_HAS_VBD, 1);
    tdSet(td, TDF_ATTACHED, 1);
    trace(t, N_attach, minor);
    blktapRingAttach(t, minor);
    reply(t, td, 0, minor, 0);
  } else if (type == MSG_OPEN) {
    trace(t, N_open, m);
    tdSet(td, TDF_STATE, 0);
    blktapDeviceCreate(t, m);
    reply(t, td, 0, m, 0);
  } else if (type == MSG_CLOSE) {
    // tapdisk_vbd_close_vdi: the images close; the ring and tapdevN are untouched
    tdSet(td, TDF_STATE, tdf(td, TDF_STATE) | TD_VBD_CLOSED);
    trace(t, N_close, m, 0, tdf(td, TDF_STATE));
    reply(t, td, 0, 0, 0);
  } else if (type == MSG_DETACH) {
    trace(t, N_detach, m);
    if (respondBeforeTeardown) reply(t, td, 0, 0, 0);
    threadNext(t, TD_UNMAP, <i64>randExp(S_TAPDISK, UNMAP_NS) + 1);
    return;
  }
  threadNext(t, TD_LOOP, LOOP_NS);
}

// tapdisk_vbd_unmap_device: close(ring.fd); munmap(ring.mem) → blktap_ring_vm_close, and
// the last fput → blktap_ring_release.
function unmap(t: i32, td: i32): void {
  const m = tdf(td, TDF_MINOR);
  trace(t, N_unmap, m);
  blktapRingVmClose(t, m);
  threadNext(t, TD_RELEASE, <i64>randExp(S_TAPDISK, DEL_GENDISK_NS) + 1);
}

// blktap_device_destroy_sync: wait_event(ring.poll_wait, !blktap_device_try_destroy(tap)).
function release(t: i32, td: i32): void {
  const m = tdf(td, TDF_MINOR);
  if (blktapDeviceTryDestroy(t, m) != 0) {
    blktapPollWait(t, m);
    wfWaitChecked(t, blktapBdevRes(m));
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_destroy_sync, TD_RELEASE, <i64>randExp(S_TAPDISK, DEL_GENDISK_NS) + 1);
    return;
  }
  wfDone(t);
  blktapRingReleased(t, m);
  tdSet(td, TDF_ATTACHED, 0);
  threadNext(t, TD_DETACH_DONE, LOOP_NS);
}

// The rest of tapdisk_control_detach_vbd: the VBD goes, then the reply, then
// tapdisk_server_check_state stops the loop when no VBD is left.
function detachDone(t: i32, td: i32): void {
  trace(t, N_remove_vbd, tdf(td, TDF_MINOR));
  tdSet(td, TDF_HAS_VBD, 0);
  if (tdf(td, TDF_REPLIED) == 0) reply(t, td, 0, 0, 0);
  tdSet(td, TDF_RUN, 0);
  trace(t, N_check_state, 0);
  threadNext(t, TD_LOOP, LOOP_NS);
}

// Sets the ATTACH request's minor (the message payload) before it is sent.
export function connSetArg(c: i32, v: i32): void { cnSet(c, C_R1, v); }

export function tapdiskCount(): i32 { return nTapdisks; }
export function tapdiskAlive(td: i32): bool { return tdf(td, TDF_SOCKET) != 0; }
export function tapdiskPid(td: i32): i32 { return tdf(td, TDF_PID); }
export function tapdiskMinor(td: i32): i32 { return tdf(td, TDF_MINOR); }
export function tapdiskHasVbd(td: i32): bool { return tdf(td, TDF_HAS_VBD) != 0; }
export function tapdiskState(td: i32): i32 { return tdf(td, TDF_STATE); }
export function tapdiskImage(td: i32): i32 { return tdf(td, TDF_IMAGE); }
export function tapdiskThread(td: i32): i32 { return tdf(td, TDF_THREAD); }
