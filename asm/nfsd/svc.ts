// A knfsd (NFSv3) server for the SUNRPC client scenarios: nfsd threads that take requests
// from the UDP socket or from TCP connections (svc_recv), a service time per procedure,
// storage stalls that block WRITE and COMMIT, restarts (while nfsd is down its host
// answers datagrams with ICMP port unreachable), and the closing of TCP connections:
// svc_age_temp_xprts (an idle connection is closed after one to two aging periods),
// optional random drops, and svc_delete_xprt's shutdown(SHUT_RDWR) + release.
//
// Each accepted connection is an asm/net/tcp.ts socket (state, receive queue and window).
// The client side reaches it through the hooks in asm/sunrpc/xprtsock.ts; the server
// answers through udpReplyToClient / tcpReplyToClient / tcpCtrlToClient.
import { now, NSEC_PER_SEC, NSEC_PER_USEC, NSEC_PER_MSEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_NET, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew } from "../kernel/sched";
import { stream, randExp, randF64, randDuration } from "../kernel/prng";
import { zeroed } from "../kernel/mem";
import { NFS3PROC_WRITE, NFS3PROC_COMMIT, NFS3PROC_GETATTR } from "../sunrpc/defs";
import {
  setServerHooks, udpReplyToClient, tcpReplyToClient, tcpCtrlToClient, CTRL_SYN, CTRL_SYNACK,
  CTRL_FIN, CTRL_RST, CTRL_FINACK, CTRL_WINDOW,
} from "../sunrpc/xprtsock";
import {
  tcpAccept, sockRelease, tcpState, tcpSendShutdown, tcpShutdown, tcpRcvFin, tcpReset, tcpQueueRcv, tcpRmem,
  tcpSelectWindow, tcpRecvmsg, TCP_ESTABLISHED, TCP_CLOSE,
} from "../net/tcp";

export const EV_NFSD_DONE: i32 = eventKind("nfsd.done");
export const EV_STORAGE: i32 = eventKind("nfsd.storage");
export const EV_RESTART: i32 = eventKind("nfsd.restart");
export const EV_SVC_AGE: i32 = eventKind("nfsd.svc_age");
export const EV_SVC_DROP: i32 = eventKind("nfsd.svc_drop");

const S_SRV = stream("sunrpc.server");

const N_nfsd = name("nfsd");
const N_server = name("knfsd 10.0.0.2");
const N_svc_process = fn("nfsd_dispatch", "xid=%x proc=%n wait=%t", CAT_STEP);
const N_svc_reply = fn("svc_send", "xid=%x proc=%n dropped=%d", CAT_NET);
const N_svc_drop = fn("svc_udp_recvfrom: socket buffer full, datagram dropped", "xid=%x", CAT_NET);
const N_stall = fn("storage stall", "on=%d", CAT_STATE);
const N_restart = fn("nfsd", "up=%d", CAT_LOG);
const N_age = fn("svc_age_temp_xprts", "closed=%d", CAT_STEP);
const N_delete = fn("svc_delete_xprt", "conn=%d refs=%d unread=%d", CAT_STEP);
const N_release = fn("svc_xprt_free: sock_release", "conn=%d rst=%d", CAT_STEP);
const N_accept = fn("svc_tcp_accept", "conn=%d", CAT_STEP);
const N_rst = fn("tcp: reset (data on a closed socket)", "conn=%d", CAT_NET);
export const N_PROC = zeroed<i32>(32);
N_PROC[NFS3PROC_GETATTR] = name("GETATTR");
N_PROC[NFS3PROC_WRITE] = name("WRITE");
N_PROC[NFS3PROC_COMMIT] = name("COMMIT");

export let srvEnt: i32 = -1;
export let srvUp: bool = true;
export let stalled: bool = false;
export let stallEnd: i64 = 0;
let nThreads: i32 = 8;
let busy: i32 = 0;
let stallEveryNs: f64 = 0;
let stallMeanNs: f64 = 0;
let stallMaxNs: i64 = 0;
let restartEveryNs: f64 = 0;
let downNs: i64 = 0;
let agePeriod: i64 = 0;
let dropEveryNs: f64 = 0;
let isTcp: bool = false;

// requests waiting for a thread (svc_xprt_enqueue, FIFO)
const RQ: i32 = 4096;
const rqXid = zeroed<u32>(RQ);
const rqProc = zeroed<i32>(RQ);
const rqBytes = zeroed<i32>(RQ);
const rqConn = zeroed<i32>(RQ);          // TCP connection gen, 0 = UDP
const rqArrive = zeroed<i64>(RQ);
let rqHead: i32 = 0;
let rqLen: i32 = 0;
let udpQueued: i32 = 0;
let udpQueueMax: i32 = 64;

// requests in service
const SV: i32 = 256;
const svXid = zeroed<u32>(SV);
const svProc = zeroed<i32>(SV);
const svConn = zeroed<i32>(SV);
const svEpoch = zeroed<i32>(SV);
const svUsed = zeroed<bool>(SV);
let epoch: i32 = 0;

// TCP connections (svc_xprt), keyed by the client socket generation (mod NC): the
// accepted socket (-1 once released: data gets a reset), the nfsd threads using it
// (xpt_ref) and XPT_OLD
const NC: i32 = 64;
const cGen = zeroed<i32>(NC);
const cSk = zeroed<i32>(NC);
const cRefs = zeroed<i32>(NC);
const cOld = zeroed<bool>(NC);
let rcvbuf: i32 = 262144;
export let nSrvCloses: i32 = 0;
export let nServed: i32 = 0;
export let nStalls: i32 = 0;
export let nRestarts: i32 = 0;
export let nUdpDrops: i32 = 0;
export let lastStallStart: i64 = -1;
export let lastStallLen: i64 = 0;

function slot(gen: i32): i32 { return gen % NC; }
function conn(gen: i32): i32 {
  const s = slot(gen);
  return unchecked(cGen[s]) == gen ? s : -1;
}
function established(c: i32): bool {
  const sk = unchecked(cSk[c]);
  return sk >= 0 && tcpState(sk) == TCP_ESTABLISHED;
}

export function svcInit(tcp: bool, threads: i32, rcvbufBytes: i32, udpQueue: i32): void {
  isTcp = tcp;
  nThreads = threads;
  rcvbuf = rcvbufBytes;
  udpQueueMax = udpQueue;
  srvEnt = entNew(N_nfsd, N_server, 0);
  for (let c = 0; c < NC; c++) unchecked(cSk[c] = -1);
  setServerHooks(udpRecv, tcpCtrl, tcpData, tcpWindow);
}

// storage stalls: mean interval between them and mean length (0 = none)
export function svcStorageStalls(everyS: f64, meanS: f64, maxS: f64): void {
  stallEveryNs = everyS * <f64>NSEC_PER_SEC;
  stallMeanNs = meanS * <f64>NSEC_PER_SEC;
  stallMaxNs = <i64>(maxS * <f64>NSEC_PER_SEC);
  if (stallEveryNs > 0 && stallMeanNs > 0) scheduleIn(<i64>randExp(S_SRV, stallEveryNs), EV_STORAGE, 1);
}

export function svcRestarts(everyS: f64, downS: f64): void {
  restartEveryNs = everyS * <f64>NSEC_PER_SEC;
  downNs = <i64>(downS * <f64>NSEC_PER_SEC);
  if (restartEveryNs > 0 && downNs > 0) scheduleIn(<i64>randExp(S_SRV, restartEveryNs), EV_RESTART, 0);
}

export function svcAging(periodS: f64, dropEveryS: f64): void {
  agePeriod = <i64>(periodS * <f64>NSEC_PER_SEC);
  if (agePeriod > 0) scheduleIn(agePeriod, EV_SVC_AGE, 0);
  dropEveryNs = dropEveryS * <f64>NSEC_PER_SEC;
  if (dropEveryNs > 0) scheduleIn(<i64>randExp(S_SRV, dropEveryNs), EV_SVC_DROP, 0);
}

function serviceNs(proc: i32): i64 {
  if (proc == NFS3PROC_WRITE) return randDuration(S_SRV, 250 * NSEC_PER_USEC);
  if (proc == NFS3PROC_COMMIT) return randDuration(S_SRV, 3 * NSEC_PER_MSEC);
  return randDuration(S_SRV, 40 * NSEC_PER_USEC);
}

function enqueue(xid: u32, proc: i32, bytes: i32, gen: i32): void {
  assert(rqLen < RQ, "nfsd request queue overflow");
  const i = (rqHead + rqLen) % RQ;
  unchecked(rqXid[i] = xid);
  unchecked(rqProc[i] = proc);
  unchecked(rqBytes[i] = bytes);
  unchecked(rqConn[i] = gen);
  unchecked(rqArrive[i] = now);
  rqLen++;
  dispatch();
}

// svc_recv: free threads take queued requests
function dispatch(): void {
  while (srvUp && busy < nThreads && rqLen > 0) {
    const i = rqHead;
    rqHead = (rqHead + 1) % RQ;
    rqLen--;
    const gen = unchecked(rqConn[i]);
    const xid = unchecked(rqXid[i]);
    const proc = unchecked(rqProc[i]);
    if (gen == 0) udpQueued--;
    else {
      const c = conn(gen);
      if (c < 0 || !established(c)) continue;   // the connection went away
      unchecked(cRefs[c] += 1);
      unchecked(cOld[c] = false);
      if (tcpRecvmsg(unchecked(cSk[c]), unchecked(rqBytes[i]))) tcpCtrlToClient(gen, CTRL_WINDOW);
    }
    let s = 0;
    while (s < SV && unchecked(svUsed[s])) s++;
    assert(s < SV, "too many requests in service");
    unchecked(svUsed[s] = true);
    unchecked(svXid[s] = xid);
    unchecked(svProc[s] = proc);
    unchecked(svConn[s] = gen);
    unchecked(svEpoch[s] = epoch);
    busy++;
    let start = now;
    // a storage stall blocks writes to the backing store
    if (stalled && (proc == NFS3PROC_WRITE || proc == NFS3PROC_COMMIT)) start = stallEnd;
    trace(srvEnt, N_svc_process, <i32>xid, unchecked(N_PROC[proc]), <i32>((start - now) / 1000000));
    scheduleAt(start + serviceNs(proc), EV_NFSD_DONE, s);
  }
}

function done(s: i32): void {
  unchecked(svUsed[s] = false);
  busy--;
  nServed++;
  const gen = unchecked(svConn[s]);
  const xid = unchecked(svXid[s]);
  const proc = unchecked(svProc[s]);
  let dropped = unchecked(svEpoch[s]) != epoch || !srvUp;
  if (gen == 0) {
    if (!dropped) udpReplyToClient(xid, proc);
  } else {
    const c = conn(gen);
    if (c < 0) dropped = true;
    else {
      if (established(c) && !dropped) tcpReplyToClient(gen, xid, proc);
      else dropped = true;                    // XPT_DEAD: svc_send drops it
      unchecked(cRefs[c] -= 1);
      if (unchecked(cRefs[c]) == 0 && closed(c)) release(c);
    }
  }
  trace(srvEnt, N_svc_reply, <i32>xid, unchecked(N_PROC[proc]), dropped ? 1 : 0);
  dispatch();
}

// ---- UDP ----------------------------------------------------------------------------
function udpRecv(xid: u32, proc: i32, bytes: i32): bool {
  if (!srvUp) return false;
  if (udpQueued >= udpQueueMax) { nUdpDrops++; trace(srvEnt, N_svc_drop, <i32>xid); return true; }
  udpQueued++;
  enqueue(xid, proc, bytes, 0);
  return true;
}

// ---- TCP ----------------------------------------------------------------------------
function tcpWindow(gen: i32): i32 {
  const c = conn(gen);
  if (c < 0 || !established(c)) return 1 << 30;   // it will be reset
  return tcpSelectWindow(unchecked(cSk[c]));
}

function tcpData(gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool): bool {
  const c = conn(gen);
  if (c < 0 || !established(c)) {
    // data for a socket that was shut down for reading or released: tcp_reset
    trace(srvEnt, N_rst, gen);
    tcpCtrlToClient(gen, CTRL_RST);
    if (c >= 0 && unchecked(cSk[c]) >= 0) tcpReset(unchecked(cSk[c]));
    return false;
  }
  tcpQueueRcv(unchecked(cSk[c]), bytes);
  if (recEnd) enqueue(xid, proc, callBytesOf(proc), gen);
  return true;
}

function callBytesOf(proc: i32): i32 {
  return proc == NFS3PROC_WRITE ? wsizeSrv + 180 : proc == NFS3PROC_COMMIT ? 140 : 120;
}
let wsizeSrv: i32 = 32768;
export function svcWsize(v: i32): void { wsizeSrv = v; }

function tcpCtrl(gen: i32, ctrl: i32): void {
  if (ctrl == CTRL_SYN) {
    const s = slot(gen);
    // the connection NC generations back, if a thread still held it
    if (unchecked(cSk[s]) >= 0) sockRelease(unchecked(cSk[s]));
    unchecked(cGen[s] = gen);
    unchecked(cSk[s] = tcpAccept(srvEnt, rcvbuf, rcvbuf));
    unchecked(cRefs[s] = 0);
    unchecked(cOld[s] = false);
    trace(srvEnt, N_accept, gen);
    tcpCtrlToClient(gen, CTRL_SYNACK);
    return;
  }
  const c = conn(gen);
  const sk = c < 0 ? -1 : unchecked(cSk[c]);
  if (ctrl == CTRL_FIN) {
    tcpCtrlToClient(gen, CTRL_FINACK);
    if (sk < 0) return;
    const est = tcpState(sk) == TCP_ESTABLISHED;
    tcpRcvFin(sk);
    // the client closed: svc_tcp_recvfrom reads EOF and closes this xprt too
    if (est) close(c);
    return;
  }
  if (ctrl == CTRL_RST && sk >= 0 && tcpReset(sk) && unchecked(cRefs[c]) == 0) release(c);
}

// shut down by svc_delete_xprt or reset: released when the last thread lets go
function closed(c: i32): bool {
  const sk = unchecked(cSk[c]);
  return sk >= 0 && (tcpSendShutdown(sk) || tcpState(sk) == TCP_CLOSE);
}

// svc_delete_xprt: shutdown(SHUT_RDWR) (a FIN), then the socket is released once no
// nfsd thread holds the transport.
function close(c: i32): void {
  const gen = unchecked(cGen[c]);
  const sk = unchecked(cSk[c]);
  trace(srvEnt, N_delete, gen, unchecked(cRefs[c]), tcpRmem(sk));
  nSrvCloses++;
  if (tcpShutdown(sk)) tcpCtrlToClient(gen, CTRL_FIN);
  if (unchecked(cRefs[c]) == 0) release(c);
}

function release(c: i32): void {
  const gen = unchecked(cGen[c]);
  const sk = unchecked(cSk[c]);
  const unread = tcpRmem(sk) > 0;
  // tcp_close: a reset only for unread data on a socket not closed already
  const rst = sockRelease(sk) && unread;
  unchecked(cSk[c] = -1);
  trace(srvEnt, N_release, gen, rst ? 1 : 0);
  if (rst) tcpCtrlToClient(gen, CTRL_RST);
}

// svc_age_temp_xprts: an xprt not used since the last pass (XPT_OLD) and not busy is closed
function age(): void {
  let closed = 0;
  for (let c = 0; c < NC; c++) {
    if (!established(c)) continue;
    if (unchecked(cRefs[c]) > 0) continue;
    if (!unchecked(cOld[c])) { unchecked(cOld[c] = true); continue; }
    close(c);
    closed++;
  }
  trace(srvEnt, N_age, closed);
  scheduleIn(agePeriod, EV_SVC_AGE, 0);
}

function dropOne(): void {
  for (let c = 0; c < NC; c++) {
    if (established(c)) { close(c); break; }
  }
  scheduleIn(<i64>randExp(S_SRV, dropEveryNs) + NSEC_PER_SEC, EV_SVC_DROP, 0);
}

export function svcEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_NFSD_DONE) { done(obj); return true; }
  if (kind == EV_STORAGE) {
    if (obj == 1) {
      let len = <i64>(stallMeanNs * (0.5 + randF64(S_SRV)));
      if (len > stallMaxNs) len = stallMaxNs;
      stalled = true;
      stallEnd = now + len;
      nStalls++;
      lastStallStart = now;
      lastStallLen = len;
      trace(srvEnt, N_stall, 1);
      scheduleAt(stallEnd, EV_STORAGE, 0);
    } else {
      stalled = false;
      trace(srvEnt, N_stall, 0);
      scheduleIn(<i64>randExp(S_SRV, stallEveryNs) + NSEC_PER_SEC, EV_STORAGE, 1);
    }
    return true;
  }
  if (kind == EV_RESTART) {
    if (obj == 0) {
      // nfsd stops: queued requests are discarded, replies in progress are lost
      srvUp = false;
      nRestarts++;
      epoch++;
      rqLen = 0;
      udpQueued = 0;
      trace(srvEnt, N_restart, 0);
      scheduleIn(downNs, EV_RESTART, 1);
    } else {
      srvUp = true;
      trace(srvEnt, N_restart, 1);
      scheduleIn(<i64>randExp(S_SRV, restartEveryNs) + downNs, EV_RESTART, 0);
      dispatch();
    }
    return true;
  }
  if (kind == EV_SVC_AGE) { age(); return true; }
  if (kind == EV_SVC_DROP) { dropOne(); return true; }
  return false;
}

export function svcBusy(): i32 { return busy; }
export function svcQueued(): i32 { return rqLen; }
// the server's socket of client connection `gen`: -1 if never accepted or released
export function svcConnSk(gen: i32): i32 { const c = gen == 0 ? -1 : conn(gen); return c < 0 ? -1 : unchecked(cSk[c]); }
