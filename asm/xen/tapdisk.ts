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
  TASK_UNINTERRUPTIBLE, MAX_ENTS,
} from "../kernel/sched";
import { resHold, resRelease, resNew, wfDone, wfWaitChecked } from "../kernel/waitfor";
import { fifoNew, fifoPush, fifoPop, popA } from "./fifo";
import {
  blktapRingAttach, blktapDeviceCreate, blktapRingVmClose, blktapDeviceTryDestroy, blktapPollWait,
  blktapRingReleased, blktapBdevRes,
} from "./blktap";
import { zeroed } from "../kernel/mem";

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
const cClient = zeroed<i32>(MAX_CONNS);
const cType = zeroed<i32>(MAX_CONNS);
const cReplied = zeroed<bool>(MAX_CONNS);
const cEof = zeroed<bool>(MAX_CONNS);        // the server closed without replying
const cClientGone = zeroed<bool>(MAX_CONNS);
const cServerDone = zeroed<bool>(MAX_CONNS);
const cErr = zeroed<i32>(MAX_CONNS);
const cR1 = zeroed<i32>(MAX_CONNS);
const cR3 = zeroed<i32>(MAX_CONNS);
const cR2 = zeroed<i32>(MAX_CONNS);   // LIST: the VBD's state
const cFree = zeroed<i32>(MAX_CONNS);
// Host-wide: the pool of control connections, the process table (pids) and the one
// installed tapdisk2 binary's behaviour; each tapdisk2 and connection is a row.
let nFreeConns: i32 = 0;
let connsUsed: i32 = 0;

// ---- tapdisk processes
const tdThread = zeroed<i32>(MAX_TAPDISKS);
const tdPid = zeroed<i32>(MAX_TAPDISKS);
const tdMinor = zeroed<i32>(MAX_TAPDISKS);
const tdImage = zeroed<i32>(MAX_TAPDISKS);     // which image (guest, disk key) it serves
const tdHasVbd = zeroed<bool>(MAX_TAPDISKS);
const tdAttached = zeroed<bool>(MAX_TAPDISKS);
const tdState = zeroed<i32>(MAX_TAPDISKS);
const tdRun = zeroed<bool>(MAX_TAPDISKS);
const tdSocket = zeroed<bool>(MAX_TAPDISKS);   // ctl<id> exists
const tdBacklog = zeroed<i32>(MAX_TAPDISKS);
const tdConn = zeroed<i32>(MAX_TAPDISKS);      // the request being served
const tdReplied = zeroed<bool>(MAX_TAPDISKS);
const tdRes = zeroed<i32>(MAX_TAPDISKS);       // "tapdisk control reply", for wait-for
let nTapdisks: i32 = 0;
let nextPid: i32 = 3100;
const tdOfThread = zeroed<i32>(MAX_ENTS);

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
  unchecked(tdThread[id] = t);
  unchecked(tdPid[id] = pid);
  unchecked(tdMinor[id] = -1);
  unchecked(tdImage[id] = image);
  unchecked(tdRun[id] = true);
  unchecked(tdSocket[id] = true);
  unchecked(tdBacklog[id] = fifoNew());
  unchecked(tdConn[id] = -1);
  const r = resNew(N_reply_res, pid);
  unchecked(tdRes[id] = r);
  resHold(r, t);
  trace(actor, N_spawn, pid, id);
  return id;
}

// ---- the client side of a connection (tap_ctl_connect_id / send / read)

function connNew(client: i32, td: i32, type: i32): i32 {
  let c: i32;
  if (nFreeConns > 0) c = unchecked(cFree[--nFreeConns]);
  else { assert(connsUsed < MAX_CONNS, "tap-ctl connection pool exhausted"); c = connsUsed++; }
  unchecked(cClient[c] = client);
  unchecked(cType[c] = type);
  unchecked(cReplied[c] = false);
  unchecked(cEof[c] = false);
  unchecked(cClientGone[c] = false);
  unchecked(cServerDone[c] = false);
  unchecked(cErr[c] = 0);
  return c;
}

function connMaybeFree(c: i32): void {
  if (unchecked(cClientGone[c]) && unchecked(cServerDone[c])) unchecked(cFree[nFreeConns++] = c);
}

// Connects and sends; returns the connection, or -ECONNREFUSED when ctl<id> is gone.
export function tapCtlConnectSend(client: i32, td: i32, type: i32): i32 {
  if (td < 0 || td >= nTapdisks || !unchecked(tdSocket[td])) return ECONNREFUSED;
  const c = connNew(client, td, type);
  fifoPush(unchecked(tdBacklog[td]), c, 0);
  wakeUpProcess(unchecked(tdThread[td]));
  return c;
}

export function connReplied(c: i32): bool { return unchecked(cReplied[c]); }
export function connEof(c: i32): bool { return unchecked(cEof[c]); }
export function connErr(c: i32): i32 { return unchecked(cErr[c]); }
export function connR1(c: i32): i32 { return unchecked(cR1[c]); }
export function connR3(c: i32): i32 { return unchecked(cR3[c]); }
export function connR2(c: i32): i32 { return unchecked(cR2[c]); }

// The client closes its end (after the reply, or after giving up).
export function connClose(c: i32): void {
  unchecked(cClientGone[c] = true);
  connMaybeFree(c);
}

// The wait-for resource a client waits on while in select() for this tapdisk.
export function tapdiskReplyRes(td: i32): i32 { return unchecked(tdRes[td]); }

// ---- the server side

// r1: pid or minor; r3: LIST's params (the image the VBD serves), -1: none; r2: LIST's state.
function reply(t: i32, td: i32, err: i32, r1: i32, r3: i32, r2: i32 = -1): void {
  const c = unchecked(tdConn[td]);
  unchecked(tdReplied[td] = true);
  if (unchecked(cClientGone[c])) {
    // tap-ctl gave up (its select timed out) and closed: EPIPE, SIGPIPE is ignored
    trace(t, N_write_fail, msgName(unchecked(cType[c])));
  } else {
    unchecked(cErr[c] = err);
    unchecked(cR1[c] = r1);
    unchecked(cR3[c] = r3);
    unchecked(cR2[c] = r2);
    unchecked(cReplied[c] = true);
    trace(t, N_write_rsp, msgName(unchecked(cType[c])), err);
    wakeUpProcess(unchecked(cClient[c]));
  }
  unchecked(cServerDone[c] = true);
  connMaybeFree(c);
}

function exitServer(t: i32, td: i32): void {
  // the socket goes; clients still queued on it read EOF at once
  unchecked(tdSocket[td] = false);
  const q = unchecked(tdBacklog[td]);
  while (fifoPop(q)) {
    const c = popA;
    unchecked(cEof[c] = true);
    unchecked(cServerDone[c] = true);
    if (!unchecked(cClientGone[c])) wakeUpProcess(unchecked(cClient[c]));
    connMaybeFree(c);
  }
  resRelease(unchecked(tdRes[td]));
  trace(t, N_exit, unchecked(tdPid[td]));
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
  if (!unchecked(tdRun[td])) { exitServer(t, td); return; }
  if (!fifoPop(unchecked(tdBacklog[td]))) {
    threadSleep(t, TASK_INTERRUPTIBLE, N_iterate, TD_LOOP, LOOP_NS);
    return;
  }
  const c = popA;
  unchecked(tdConn[td] = c);
  unchecked(tdReplied[td] = false);
  const type = unchecked(cType[c]);
  const m = unchecked(tdMinor[td]);
  trace(t, N_ctl_msg, msgName(type), c);
  if (type == MSG_PID) {
    reply(t, td, 0, unchecked(tdPid[td]), 0);
  } else if (type == MSG_LIST) {
    // one entry per VBD: minor, params (the image key); none: an orphaned tapdisk
    if (unchecked(tdHasVbd[td])) reply(t, td, 0, m, unchecked(tdImage[td]), unchecked(tdState[td]));
    else reply(t, td, 0, -1, -1);
  } else if (type == MSG_ATTACH) {
    const minor = unchecked(cR1[c]);
    unchecked(tdMinor[td] = minor);
    unchecked(tdHasVbd[td] = true);
    unchecked(tdAttached[td] = true);
    trace(t, N_attach, minor);
    blktapRingAttach(t, minor);
    reply(t, td, 0, minor, 0);
  } else if (type == MSG_OPEN) {
    trace(t, N_open, m);
    unchecked(tdState[td] = 0);
    blktapDeviceCreate(t, m);
    reply(t, td, 0, m, 0);
  } else if (type == MSG_CLOSE) {
    // tapdisk_vbd_close_vdi: the images close; the ring and tapdevN are untouched
    unchecked(tdState[td] |= TD_VBD_CLOSED);
    trace(t, N_close, m, 0, unchecked(tdState[td]));
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
  const m = unchecked(tdMinor[td]);
  trace(t, N_unmap, m);
  blktapRingVmClose(t, m);
  threadNext(t, TD_RELEASE, <i64>randExp(S_TAPDISK, DEL_GENDISK_NS) + 1);
}

// blktap_device_destroy_sync: wait_event(ring.poll_wait, !blktap_device_try_destroy(tap)).
function release(t: i32, td: i32): void {
  const m = unchecked(tdMinor[td]);
  if (blktapDeviceTryDestroy(t, m) != 0) {
    blktapPollWait(t, m);
    wfWaitChecked(t, blktapBdevRes(m));
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_destroy_sync, TD_RELEASE, <i64>randExp(S_TAPDISK, DEL_GENDISK_NS) + 1);
    return;
  }
  wfDone(t);
  blktapRingReleased(t, m);
  unchecked(tdAttached[td] = false);
  threadNext(t, TD_DETACH_DONE, LOOP_NS);
}

// The rest of tapdisk_control_detach_vbd: the VBD goes, then the reply, then
// tapdisk_server_check_state stops the loop when no VBD is left.
function detachDone(t: i32, td: i32): void {
  trace(t, N_remove_vbd, unchecked(tdMinor[td]));
  unchecked(tdHasVbd[td] = false);
  if (!unchecked(tdReplied[td])) reply(t, td, 0, 0, 0);
  unchecked(tdRun[td] = false);
  trace(t, N_check_state, 0);
  threadNext(t, TD_LOOP, LOOP_NS);
}

// Sets the ATTACH request's minor (the message payload) before it is sent.
export function connSetArg(c: i32, v: i32): void { unchecked(cR1[c] = v); }

export function tapdiskCount(): i32 { return nTapdisks; }
export function tapdiskAlive(td: i32): bool { return unchecked(tdSocket[td]); }
export function tapdiskPid(td: i32): i32 { return unchecked(tdPid[td]); }
export function tapdiskMinor(td: i32): i32 { return unchecked(tdMinor[td]); }
export function tapdiskHasVbd(td: i32): bool { return unchecked(tdHasVbd[td]); }
export function tapdiskState(td: i32): i32 { return unchecked(tdState[td]); }
export function tapdiskImage(td: i32): i32 { return unchecked(tdImage[td]); }
export function tapdiskThread(td: i32): i32 { return unchecked(tdThread[td]); }
