// net/sunrpc/xprtsock.c (3.5/3.6) and the sockets and link beneath it.
//
// UDP: an unconnected datagram socket (xs_udp_send_request sends to xs_addr(xprt)); its
// send buffer is charged until the NIC has sent a datagram; a full buffer makes sendmsg
// return -EAGAIN and xs_nospace waits for write space. Datagrams can be lost; while the
// server is down its host answers with ICMP port unreachable, which udp_err drops for an
// unconnected socket without IP_RECVERR, so xs_error_report never sees it.
//
// TCP: an asm/net/tcp.ts socket, whose state changes (connect, FIN, RST, shutdown) and
// freed send buffer come back through the callbacks installed on it (xs_tcp_state_change,
// xs_tcp_write_space, xs_error_report); xs_nospace on a full send buffer; xs_tcp_close
// (shutdown(SHUT_WR) or, with CONNECTION_CLOSE, xs_close); the connect worker with its
// reestablish backoff and the 15 s linger abort. With patch xs-tcp-close-on-close-wait
// the CLOSE_WAIT case clears XPRT_CONNECTED and forces a full close
// (xs_tcp_force_close), as a519fc7a + d0bea455 do.
// The data either goes as segments this file queues and drains at link rate as far as
// nfsd's receive window allows (sunrpc-tcp-close-wait), or, on a socket set up with
// xsTcpAttachSocket (nfs-odirect-retransmit), as the socket's own skbs: sendpage of the
// request's own pages, so what the NIC reads is the pages at that moment.
import { now, NSEC_PER_SEC, NSEC_PER_USEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_NET, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { klog } from "./klog";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew, deviceIrq } from "../kernel/sched";
import { stream, randChance, randDuration } from "../kernel/prng";
import { zeroed } from "../kernel/mem";
import {
  EAGAIN, ENOTCONN, ENOTSOCK, EPIPE, XPRT_UDP, XPRT_TCP, XPRT_CONNECTED, XPRT_CONNECTING,
  XPRT_CLOSE_WAIT, XPRT_CLOSING, XPRT_CONNECTION_ABORT, XPRT_CONNECTION_CLOSE, XPRT_BOUND,
  XS_TCP_INIT_REEST_TO, XS_TCP_MAX_REEST_TO, XS_TCP_LINGER_TO, NFS3PROC_WRITE, NFS3PROC_COMMIT,
  RPC_TASK_SENT, MAX_TASKS,
} from "./defs";
import {
  tcpSendRecord, sockCreate, sockRelease, skSetDataReady, skSetWriteSpace, skSetStateChange, skSetErrorReport,
  skStreamWspace, skStreamIsWriteable, skWmemQueuedAdd, tcpCheckSpace, tcpQueuedBytes, tcpState, tcpSendShutdown,
  tcpSockErr, tcpConnect, tcpDisconnect, tcpSendCheck, tcpShutdown, tcpRcvSynAck, tcpRcvFin, tcpRcvFinAck, tcpReset,
  TCP_ESTABLISHED, TCP_SYN_SENT, TCP_FIN_WAIT1, TCP_CLOSING, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK, N_TCP_STATE,
} from "../net/tcp";
import { REC_CALL, REC_REPLY } from "../net/skbuff";
import { capSlot, capRecType, capXid, capLen } from "../net/dev";
import { EV_RPC_TIMER, EV_DELAYED_WORK, rpcTimerFire, delayedWorkFire } from "./sched";
import { tkRqst, tkProc, tkEnt, tkFlags, tkCalldata, rpcTaskTap, queueDelayedWork, queueWork, cancelDelayedWork, workNew, setCurCpu, curCpu, setRpcRunWork } from "./sched";
import {
  xEnt, xprtInit, setTransportOps, rqXid, rqSlen, rqBytesSent, rqTask, xprtBit, xprtSetBit, xprtClearBit,
  xprtConnected, xprtWakePendingTasks, xprtDisconnectDone, xprtForceDisconnect, xprtWriteSpace,
  xprtWaitForBufferSpace, xprtLookupRqst, xprtAdjustCwnd, xprtUpdateRtt, xprtCompleteRqst,
  setRetransTimeoutRtt, setRetransTimeoutDef, bumpConnectCookie, reestablishTimeout, setReestablishTimeout,
  xprtAutoclose, xTransport, wAutoclose, EV_XPRT_IDLE, xprtInitAutodisconnect,
} from "./xprt";
import { setSendCost, C_xs_nospace_callback } from "./clnt";

export const EV_UDP_TX_DONE: i32 = eventKind("xs.udp_tx_done");
export const EV_UDP_AT_SERVER: i32 = eventKind("xs.udp_at_server");
export const EV_UDP_AT_CLIENT: i32 = eventKind("xs.udp_at_client");
export const EV_ICMP_AT_CLIENT: i32 = eventKind("xs.icmp_at_client");
export const EV_TCP_TX_DONE: i32 = eventKind("xs.tcp_tx_done");
export const EV_TCP_AT_SERVER: i32 = eventKind("xs.tcp_at_server");
export const EV_TCP_ACK: i32 = eventKind("xs.tcp_ack");
export const EV_TCP_CTRL_AT_CLIENT: i32 = eventKind("xs.tcp_ctrl_at_client");
export const EV_TCP_REPLY_AT_CLIENT: i32 = eventKind("xs.tcp_reply_at_client");
export const EV_TCP_CTRL_AT_SERVER: i32 = eventKind("xs.tcp_ctrl_at_server");
export const EV_LINK: i32 = eventKind("xs.link");

const S_NET = stream("sunrpc.net");

// control segments
export const CTRL_SYN: i32 = 1;
export const CTRL_SYNACK: i32 = 2;
export const CTRL_FIN: i32 = 3;
export const CTRL_RST: i32 = 4;
export const CTRL_FINACK: i32 = 5;    // the ACK of our FIN
export const CTRL_WINDOW: i32 = 6;    // a window update: the server read from its queue

const N_eth = name("eth0");
const N_link = name("link");
const N_udp_send = fn("xs_udp_send_request", "xid=%x bytes=%d wmem=%d", CAT_NET);
const N_udp_lost = fn("udp: datagram lost", "xid=%x dir=%d", CAT_NET);
const N_udp_data_ready = fn("xs_udp_data_ready", "xid=%x found=%d", CAT_NET);
const N_icmp = fn("icmp: port unreachable from 10.0.0.2 (udp_err: unconnected socket, no IP_RECVERR: ignored)", "xid=%x", CAT_NET);
const N_nospace = fn("xs_nospace", "connected=%d ret=%e", CAT_STEP);
const N_udp_write_space = fn("xs_udp_write_space", "wmem=%d", CAT_NET);
const N_tcp_write_space = fn("xs_tcp_write_space", "queued=%d", CAT_NET);
const N_udp_setup = fn("xs_udp_setup_socket", "sock=%d", CAT_STEP);
const N_tcp_setup = fn("xs_tcp_setup_socket", "sock=%d reuse=%d abort=%d", CAT_STEP);
const N_xs_connect = fn("xs_connect", "delay=%t", CAT_STEP);
const N_xs_close = fn("xs_close", "sock=%d", CAT_STEP);
const N_tcp_shutdown = fn("xs_tcp_shutdown", "state=%n", CAT_STEP);
const N_tcp_close = fn("xs_tcp_close", "full=%d", CAT_STEP);
const N_state_change = fn("xs_tcp_state_change", "state=%n connected=%d", CAT_STATE);
const N_error_report = fn("xs_error_report", "err=%e", CAT_STATE);
const N_abort = fn("xs_abort_connection", "", CAT_STEP);
const N_tcp_send = fn("xs_tcp_send_request", "xid=%x sent=%d of=%d queued=%d", CAT_NET);
const N_tcp_seg = fn("tcp: segment to server", "xid=%x bytes=%d end=%d", CAT_NET);
const N_tcp_ctrl_c = fn("tcp: from server", "ctrl=%n", CAT_NET);
const N_tcp_ctrl_s = fn("tcp: to server", "ctrl=%n", CAT_NET);
const N_tcp_reply = fn("xs_tcp_data_ready", "xid=%x found=%d", CAT_NET);
const N_link_state = fn("link", "up=%d", CAT_STATE);
const N_linger = fn("xs_tcp_schedule_linger_timeout", "", CAT_STEP);
const N_CTRL = zeroed<i32>(8);
N_CTRL[1] = name("SYN");
N_CTRL[2] = name("SYN-ACK");
N_CTRL[3] = name("FIN");
N_CTRL[4] = name("RST");
N_CTRL[5] = name("ACK of FIN");
N_CTRL[6] = name("window update");
export const N_connect_worker = name("xs_connect_worker");

// ---- the link ----------------------------------------------------------------------
let linkBps: f64 = 1e9;
let latency: i64 = 100 * NSEC_PER_USEC;
let lossP: f64 = 0;
export let linkUp: bool = true;
// A NIC whose transmit queue hangs until the netdev watchdog resets it: the client sends
// nothing for a while, replies still come in.
export let txFrozen: bool = false;
let txHangP: f64 = 0;
let txHangNs: i64 = 0;
export let nTxHangs: i32 = 0;
const N_tx_hang = fn("NETDEV WATCHDOG: eth0: transmit queue 0 timed out", "frozen=%d", CAT_LOG);
export function nicTxHangs(perDatagram: f64, hangS: f64): void { txHangP = perDatagram; txHangNs = <i64>(hangS * <f64>NSEC_PER_SEC); }
export const EV_TX_RESET: i32 = eventKind("xs.tx_reset");
let nicBusyUntil: i64 = 0;
export let netEnt: i32 = -1;
export let irqCpu: i32 = 0;
export let nDatagramsLost: i32 = 0;
export let nIcmpIgnored: i32 = 0;

export function linkInit(mbps: f64, latencyUs: f64, loss: f64, cpuForIrq: i32): void {
  linkBps = mbps * 1e6;
  latency = <i64>(latencyUs * <f64>NSEC_PER_USEC);
  lossP = loss;
  irqCpu = cpuForIrq;
  netEnt = entNew(N_link, N_eth, 0);
}

// The NIC's interrupts on irqCpu (timing model, kernel/sched.ts deviceIrq): RX hardirq +
// NET_RX softirq ~4 us per datagram plus ~1 us per 1500-byte fragment reassembled and
// checksummed (e1000e-class NIC, 2012 x86; no interrupt coalescing at these packet rates);
// TX completion ~2 us.
const S_IRQ = stream("irq.nic");
function rxIrq(bytes: i32): void { deviceIrq(irqCpu, S_IRQ, 4000 + <i64>(bytes / 1500) * 1000); }
function txIrq(): void { deviceIrq(irqCpu, S_IRQ, 2000); }

// `lossP` is per Ethernet frame: a datagram is lost if any of its IP fragments is (a
// 32 KiB WRITE is 23 fragments of 1480 bytes; IP reassembly cannot recover one).
function datagramLoss(bytes: i32): f64 {
  if (lossP <= 0) return 0;
  const frags = (bytes + 1479) / 1480;
  let kept = 1.0;
  for (let f = 0; f < frags; f++) kept *= 1.0 - lossP;
  return 1.0 - kept;
}

function serialize(bytes: i32): i64 { return <i64>(<f64>bytes * 8.0 / linkBps * 1e9) + 1; }
function oneWay(): i64 { return randDuration(S_NET, latency); }

// A carrier flap (EV_LINK): while down the NIC sends nothing and packets are dropped.
export function linkSet(up: bool): void {
  linkUp = up;
  trace(netEnt, N_link_state, up ? 1 : 0);
  if (up) { udpKick(); tcpPump(); }
}

// ---- server hooks (asm/nfsd) ---------------------------------------------------------
export let srvUdpRecv: (xid: u32, proc: i32, bytes: i32) => bool = (xid: u32, proc: i32, bytes: i32): bool => true;
export let srvTcpCtrl: (gen: i32, ctrl: i32) => void = (gen: i32, ctrl: i32): void => {};
export let srvTcpData: (gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool) => bool =
  (gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool): bool => true;
export let srvTcpWindow: (gen: i32) => i32 = (gen: i32): i32 => 1 << 30;
export function setServerHooks(
  udpRecv: (xid: u32, proc: i32, bytes: i32) => bool,
  tcpCtrl: (gen: i32, ctrl: i32) => void,
  tcpData: (gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool) => bool,
  tcpWindow: (gen: i32) => i32,
): void {
  srvUdpRecv = udpRecv; srvTcpCtrl = tcpCtrl; srvTcpData = tcpData; srvTcpWindow = tcpWindow;
}

// sizes on the wire (RPC + NFSv3 headers; the data is wsize)
export let wsize: i32 = 32768;
export function setWsize(v: i32): void { wsize = v; }
export function callBytes(proc: i32): i32 {
  if (proc == NFS3PROC_WRITE) return wsize + 180;
  if (proc == NFS3PROC_COMMIT) return 140;
  return 120;
}
export function replyBytes(proc: i32): i32 {
  if (proc == NFS3PROC_WRITE) return 160;
  if (proc == NFS3PROC_COMMIT) return 140;
  return 112;
}

// ---- socket common ----------------------------------------------------------------------
export let sockGen: i32 = 0;          // transport->sock: 0 = NULL
let asyncNospace: bool = false;        // SOCK_ASYNC_NOSPACE
export let wConnect: i32 = -1;

// the cost of handing a request to the socket (copy into skbs for UDP, sendpage for TCP)
function sendCostFn(task: i32): i64 {
  const b = callBytes(unchecked(tkProc[task]));
  if (xTransport == XPRT_UDP) return 3000 + <i64>b / 4;
  return 2500 + <i64>b / 32;
}

// xs_nospace
function xsNospace(task: i32): i32 {
  let ret = -EAGAIN;
  if (xprtConnected()) {
    if (asyncNospace) xprtWaitForBufferSpace(task, C_xs_nospace_callback);
  } else {
    asyncNospace = false;
    ret = -ENOTCONN;
  }
  trace(unchecked(tkEnt[task]), N_nospace, xprtConnected() ? 1 : 0, ret);
  return ret;
}

// xs_write_space: only if a sender found the buffer full
function xsWriteSpace(): void {
  if (!asyncNospace) return;
  asyncNospace = false;
  xprtWriteSpace(netEnt);
}

// ---- UDP -------------------------------------------------------------------------------
let udpSndbuf: i32 = 229376;
export let udpWmem: i32 = 0;
const UQ: i32 = 256;
const uqXid = zeroed<u32>(UQ);
const uqProc = zeroed<i32>(UQ);
const uqBytes = zeroed<i32>(UQ);
const uqTrue = zeroed<i32>(UQ);
const uqGen = zeroed<i32>(UQ);
let uqHead: i32 = 0;
let uqLen: i32 = 0;
let udpTxBusy: bool = false;

function truesize(bytes: i32): i32 { return ((bytes + 1479) / 1480) * 2304; }

// xs_udp_send_request
function xsUdpSendRequest(task: i32): i32 {
  const req = unchecked(tkRqst[task]);
  const proc = unchecked(tkProc[task]);
  const bytes = callBytes(proc);
  unchecked(rqSlen[req] = bytes);
  if (!xprtBit(XPRT_BOUND)) return -ENOTCONN;
  if (sockGen == 0) return -ENOTCONN;               // -ENOTSOCK
  const ts = truesize(bytes);
  if (udpWmem + ts > udpSndbuf || uqLen >= UQ) {
    asyncNospace = true;                            // sock_alloc_send_pskb
    return xsNospace(task);
  }
  udpWmem += ts;
  const i = (uqHead + uqLen) % UQ;
  unchecked(uqXid[i] = unchecked(rqXid[req]));
  unchecked(uqProc[i] = proc);
  unchecked(uqBytes[i] = bytes);
  unchecked(uqTrue[i] = ts);
  unchecked(uqGen[i] = sockGen);
  uqLen++;
  trace(unchecked(tkEnt[task]), N_udp_send, <i32>unchecked(rqXid[req]), bytes, udpWmem);
  udpKick();
  return 0;
}

function udpKick(): void {
  if (udpTxBusy || uqLen == 0 || !linkUp || txFrozen) return;
  udpTxBusy = true;
  const start = nicBusyUntil > now ? nicBusyUntil : now;
  nicBusyUntil = start + serialize(unchecked(uqBytes[uqHead]));
  scheduleAt(nicBusyUntil, EV_UDP_TX_DONE, 0);
}

// the NIC finished a datagram: skb freed (sock_wfree), the datagram is on the wire
function udpTxDone(): void {
  udpTxBusy = false;
  if (uqLen == 0) return;
  const i = uqHead;
  uqHead = (uqHead + 1) % UQ;
  uqLen--;
  if (!linkUp) {
    // carrier lost while sending: dropped
  } else if (randChance(S_NET, datagramLoss(unchecked(uqBytes[i])))) {
    nDatagramsLost++;
    trace(netEnt, N_udp_lost, <i32>unchecked(uqXid[i]), 0);
  } else {
    scheduleIn(oneWay(), EV_UDP_AT_SERVER, <i32>unchecked(uqXid[i]), (unchecked(uqProc[i]) << 24) | unchecked(uqBytes[i]));
  }
  if (txHangP > 0 && randChance(S_NET, txHangP)) {
    txFrozen = true;
    nTxHangs++;
    trace(netEnt, N_tx_hang, 1);
    klog(N_tx_hang, 1);
    scheduleIn(txHangNs, EV_TX_RESET, 0);
  }
  txIrq();
  if (unchecked(uqGen[i]) == sockGen) {
    udpWmem -= unchecked(uqTrue[i]);
    setCurCpu(irqCpu);
    // xs_udp_write_space: sock_writeable() = wmem below half the buffer
    if (udpWmem < udpSndbuf / 2 && asyncNospace) {
      trace(netEnt, N_udp_write_space, udpWmem);
      xsWriteSpace();
    }
  }
  udpKick();
}

function udpAtServer(xid: i32, arg: i32): void {
  const proc = arg >>> 24, bytes = arg & 0xffffff;
  if (!srvUdpRecv(<u32>xid, proc, bytes)) {
    // nfsd is not listening: ICMP port unreachable back to the client
    scheduleIn(oneWay(), EV_ICMP_AT_CLIENT, xid);
  }
}

// called by the server: a reply datagram
export function udpReplyToClient(xid: u32, proc: i32): void {
  if (!linkUp || randChance(S_NET, datagramLoss(replyBytes(proc)))) {
    nDatagramsLost++;
    trace(netEnt, N_udp_lost, <i32>xid, 1);
    return;
  }
  scheduleIn(serialize(replyBytes(proc)) + oneWay(), EV_UDP_AT_CLIENT, <i32>xid, replyBytes(proc));
}

// xs_udp_data_ready (softirq on the NIC's CPU)
function udpAtClient(xid: i32, copied: i32): void {
  rxIrq(copied);
  setCurCpu(irqCpu);
  if (sockGen == 0) return;
  const r = xprtLookupRqst(<u32>xid);
  trace(netEnt, N_udp_data_ready, xid, r >= 0 ? 1 : 0);
  if (r < 0) return;
  const task = unchecked(rqTask[r]);
  xprtAdjustCwnd(netEnt, task, copied);
  xprtUpdateRtt(task);
  xprtCompleteRqst(netEnt, task, copied);
}

// xs_udp_setup_socket (the connect worker)
function xsUdpSetupSocket(): void {
  sockGen = ++lastGen;                        // xs_reset_transport + sock_create_kern + xs_bind
  udpWmem = 0;
  asyncNospace = false;
  trace(xEnt, N_udp_setup, sockGen);
  xprtSetBit(xEnt, XPRT_CONNECTED);           // xs_udp_finish_connecting
  xprtClearBit(xEnt, XPRT_CONNECTING);
  xprtWakePendingTasks(0);
}

// ---- TCP -------------------------------------------------------------------------------
export let xsSk: i32 = -1;               // transport->inet: the asm/net socket, -1 = none
let tcpSndbuf: i32 = 262144;
// the segments queued on xsSk and not yet on the wire (sunrpc-tcp-close-wait)
const TQ: i32 = 1024;
const tqXid = zeroed<u32>(TQ);
const tqProc = zeroed<i32>(TQ);
const tqBytes = zeroed<i32>(TQ);        // unsent bytes of this segment
const tqEnd = zeroed<bool>(TQ);          // the record ends with this segment
const tqFin = zeroed<bool>(TQ);
let tqHead: i32 = 0;
let tqLen: i32 = 0;
let tcpTxBusy: bool = false;
let tcpWindowBlocked: bool = false;
export let pCloseOnCloseWait: bool = false;
export let closeWaitSince: i64 = -1;
export let closeWaitTotal: i64 = 0;
export let nCloseWait: i32 = 0;
export let nHalfCloses: i32 = 0;
export let nFullCloses: i32 = 0;
export let nConnects: i32 = 0;
export let nResets: i32 = 0;

export function setCloseOnCloseWait(on: bool): void { pCloseOnCloseWait = on; }

// the socket's state, 0 without a socket
export function xsSkState(): i32 { return xsSk < 0 ? 0 : tcpState(xsSk); }

// how long the socket sits in CLOSE_WAIT (evidence)
function closeWaitEnd(): void {
  if (closeWaitSince < 0) return;
  closeWaitTotal += now - closeWaitSince;
  closeWaitSince = -1;
}

// the socket's queued segments go with it (a reset, a release, a disconnect)
function tcpFlushQueue(): void {
  if (xsSk >= 0) skWmemQueuedAdd(xsSk, -tcpQueuedBytes(xsSk));
  tqHead = 0; tqLen = 0; tcpTxBusy = false; tcpWindowBlocked = false;
}

// xs_tcp_send_request
function xsTcpSendRequest(task: i32): i32 {
  const req = unchecked(tkRqst[task]);
  const proc = unchecked(tkProc[task]);
  const total = callBytes(proc);
  unchecked(rqSlen[req] = total);
  if (sockGen == 0) return -ENOTCONN;                       // -ENOTSOCK
  const err = tcpSendCheck(xsSk);
  if (err == -EAGAIN) { asyncNospace = true; return xsNospace(task); }
  if (err != 0) {
    if (err == -EPIPE) xsTcpShutdown();
    asyncNospace = false;
    return err;
  }
  const sent0 = unchecked(rqBytesSent[req]);
  const want = total - sent0;
  let room = skStreamWspace(xsSk);
  if (room < 0) room = 0;
  const n = want < room ? want : room;
  if (n > 0 && tqLen < TQ) {
    const i = (tqHead + tqLen) % TQ;
    unchecked(tqXid[i] = unchecked(rqXid[req]));
    unchecked(tqProc[i] = proc);
    unchecked(tqBytes[i] = n);
    unchecked(tqEnd[i] = n == want);
    unchecked(tqFin[i] = false);
    tqLen++;
    skWmemQueuedAdd(xsSk, n);
    unchecked(rqBytesSent[req] = sent0 + n);
    tcpPump();
  }
  trace(unchecked(tkEnt[task]), N_tcp_send, <i32>unchecked(rqXid[req]), unchecked(rqBytesSent[req]), total, tcpQueuedBytes(xsSk));
  if (unchecked(rqBytesSent[req]) >= total) {
    unchecked(rqBytesSent[req] = 0);
    return 0;
  }
  asyncNospace = true;
  return xsNospace(task);
}

// the transmit engine: the head segment goes out as far as the peer's window allows
function tcpPump(): void {
  if (tcpTxBusy || tqLen == 0 || !linkUp || txFrozen || sockGen == 0) return;
  const i = tqHead;
  let bytes = unchecked(tqBytes[i]);
  if (!unchecked(tqFin[i])) {
    const win = srvTcpWindow(sockGen);
    if (win <= 0) { tcpWindowBlocked = true; return; }
    if (bytes > win) bytes = win;
  }
  tcpWindowBlocked = false;
  tcpTxBusy = true;
  const start = nicBusyUntil > now ? nicBusyUntil : now;
  nicBusyUntil = start + serialize(bytes + 52);
  scheduleAt(nicBusyUntil, EV_TCP_TX_DONE, sockGen, bytes);
}

// a segment left the NIC
const inflXid = zeroed<u32>(TQ);
const inflProc = zeroed<i32>(TQ);
const inflBytes = zeroed<i32>(TQ);
const inflEnd = zeroed<bool>(TQ);
const inflFin = zeroed<bool>(TQ);
const inflGen = zeroed<i32>(TQ);
let inflNext: i32 = 0;

function tcpTxDone(gen: i32, bytes: i32): void {
  tcpTxBusy = false;
  if (gen != sockGen || tqLen == 0) { tcpPump(); return; }
  const i = tqHead;
  const fin = unchecked(tqFin[i]);
  const slot = inflNext;
  inflNext = (inflNext + 1) % TQ;
  unchecked(inflXid[slot] = unchecked(tqXid[i]));
  unchecked(inflProc[slot] = unchecked(tqProc[i]));
  unchecked(inflBytes[slot] = bytes);
  unchecked(inflFin[slot] = fin);
  unchecked(inflGen[slot] = gen);
  if (fin || bytes >= unchecked(tqBytes[i])) {
    unchecked(inflEnd[slot] = unchecked(tqEnd[i]));
    tqHead = (tqHead + 1) % TQ;
    tqLen--;
  } else {
    unchecked(inflEnd[slot] = false);
    unchecked(tqBytes[i] -= bytes);
  }
  if (fin) trace(netEnt, N_tcp_ctrl_s, N_CTRL[CTRL_FIN]);
  else trace(netEnt, N_tcp_seg, <i32>unchecked(inflXid[slot]), bytes, unchecked(inflEnd[slot]) ? 1 : 0);
  scheduleIn(oneWay(), EV_TCP_AT_SERVER, slot);
  tcpPump();
}

function tcpAtServer(slot: i32): void {
  const gen = unchecked(inflGen[slot]);
  if (unchecked(inflFin[slot])) { srvTcpCtrl(gen, CTRL_FIN); return; }
  const bytes = unchecked(inflBytes[slot]);
  if (srvTcpData(gen, unchecked(inflXid[slot]), unchecked(inflProc[slot]), bytes, unchecked(inflEnd[slot]))) {
    scheduleIn(oneWay(), EV_TCP_ACK, gen, bytes);
  }
}

// the server ACKed bytes: they leave sk_wmem_queued (not what a flush already dropped)
function tcpAck(gen: i32, bytes: i32): void {
  if (gen != sockGen) return;
  const q = tcpQueuedBytes(xsSk);
  skWmemQueuedAdd(xsSk, -(bytes < q ? bytes : q));
  setCurCpu(irqCpu);
  tcpCheckSpace(xsSk);
}

// called by the server
export function tcpReplyToClient(gen: i32, xid: u32, proc: i32): void {
  scheduleIn(serialize(replyBytes(proc)) + oneWay(), EV_TCP_REPLY_AT_CLIENT, gen, <i32>xid);
}
export function tcpCtrlToClient(gen: i32, ctrl: i32): void {
  scheduleIn(oneWay(), EV_TCP_CTRL_AT_CLIENT, gen, ctrl);
}
function tcpCtrlToServer(gen: i32, ctrl: i32): void {
  trace(netEnt, N_tcp_ctrl_s, N_CTRL[ctrl]);
  scheduleIn(oneWay(), EV_TCP_CTRL_AT_SERVER, gen, ctrl);
}

// xs_tcp_data_ready -> xs_tcp_read_reply -> xprt_complete_rqst
function tcpReplyAtClient(gen: i32, xid: i32): void {
  if (gen != sockGen || tcpState(xsSk) == TCP_CLOSE) return;
  setCurCpu(irqCpu);
  const r = xprtLookupRqst(<u32>xid);
  rxIrq(r >= 0 ? replyBytes(unchecked(tkProc[unchecked(rqTask[r])])) : 0);
  trace(netEnt, N_tcp_reply, xid, r >= 0 ? 1 : 0);
  if (r < 0) return;
  xprtCompleteRqst(netEnt, unchecked(rqTask[r]), replyBytes(unchecked(tkProc[unchecked(rqTask[r])])));
}

function tcpCtrlAtClient(gen: i32, ctrl: i32): void {
  if (gen != sockGen) return;
  rxIrq(0);
  setCurCpu(irqCpu);
  trace(netEnt, N_tcp_ctrl_c, N_CTRL[ctrl]);
  if (ctrl == CTRL_WINDOW) tcpPump();
  else if (ctrl == CTRL_SYNACK) tcpRcvSynAck(xsSk);
  else if (ctrl == CTRL_FIN) tcpRcvFin(xsSk);
  else if (ctrl == CTRL_FINACK) tcpRcvFinAck(xsSk);
  else if (ctrl == CTRL_RST && tcpState(xsSk) != TCP_CLOSE) {
    nResets++;
    tcpFlushQueue();
    tcpReset(xsSk);
  }
}

// xs_error_report
function xsErrorReport(sk: i32): void {
  trace(xEnt, N_error_report, -tcpSockErr(sk));
  xprtWakePendingTasks(-EAGAIN);
}

// xs_tcp_write_space: sk_stream_is_writeable, then xs_write_space
function xsTcpWriteSpace(sk: i32): void {
  if (!skStreamIsWriteable(sk) || !asyncNospace) return;
  trace(netEnt, N_tcp_write_space, tcpQueuedBytes(sk));
  xsWriteSpace();
}

// xs_tcp_state_change
function xsTcpStateChange(sk: i32): void {
  const skState = tcpState(sk);
  if (skState == TCP_CLOSE_WAIT) { closeWaitSince = now; nCloseWait++; }
  else closeWaitEnd();
  trace(xEnt, N_state_change, unchecked(N_TCP_STATE[skState]), xprtConnected() ? 1 : 0);
  klog(unchecked(N_TCP_STATE[skState]), sockGen);
  if (skState == TCP_ESTABLISHED) {
    if (!xprtConnected()) {
      xprtSetBit(xEnt, XPRT_CONNECTED);
      nConnects++;
      xprtWakePendingTasks(-EAGAIN);
    }
    return;
  }
  if (skState == TCP_FIN_WAIT1) {
    bumpConnectCookie();
    setReestablishTimeout(0);
    xprtSetBit(xEnt, XPRT_CLOSING);
    xprtClearBit(xEnt, XPRT_CONNECTED);
    xprtClearBit(xEnt, XPRT_CLOSE_WAIT);
    lingerTimeout();
    return;
  }
  if (skState == TCP_CLOSE_WAIT) {
    // the server initiated a shutdown of the socket
    if (pCloseOnCloseWait) {
      bumpConnectCookie();
      xprtClearBit(xEnt, XPRT_CONNECTED);       // d0bea455
      xprtSetBit(xEnt, XPRT_CONNECTION_CLOSE);  // xs_tcp_force_close (a519fc7a)
      xprtForceDisconnect(xEnt);
    } else {
      xprtForceDisconnect(xEnt);
      bumpConnectCookie();
    }
    if (reestablishTimeout < XS_TCP_INIT_REEST_TO) setReestablishTimeout(XS_TCP_INIT_REEST_TO);
    return;
  }
  if (skState == TCP_CLOSING) {
    // the server closed too: back off before reconnecting
    if (reestablishTimeout < XS_TCP_INIT_REEST_TO) setReestablishTimeout(XS_TCP_INIT_REEST_TO);
    return;
  }
  if (skState == TCP_LAST_ACK) {
    xprtSetBit(xEnt, XPRT_CLOSING);
    lingerTimeout();
    xprtClearBit(xEnt, XPRT_CONNECTED);
    return;
  }
  if (skState == TCP_CLOSE) {
    // xs_tcp_cancel_linger_timeout, xs_sock_mark_closed
    if (xprtBit(XPRT_CONNECTION_ABORT) && cancelDelayedWork(wConnect)) {
      xprtClearBit(xEnt, XPRT_CONNECTION_ABORT);
      xprtClearBit(xEnt, XPRT_CONNECTING);
    }
    xprtClearBit(xEnt, XPRT_CLOSE_WAIT);
    xprtClearBit(xEnt, XPRT_CLOSING);
    xprtDisconnectDone(xEnt);
  }
}

// xs_tcp_schedule_linger_timeout: abort a connection the server does not close in time
function lingerTimeout(): void {
  if (xprtBit(XPRT_CONNECTING)) return;
  xprtSetBit(xEnt, XPRT_CONNECTING);
  xprtSetBit(xEnt, XPRT_CONNECTION_ABORT);
  trace(xEnt, N_linger);
  queueDelayedWork(wConnect, XS_TCP_LINGER_TO, curCpu);
}

// xs_tcp_shutdown: shutdown(SHUT_WR) — a FIN queued behind whatever is unsent
function xsTcpShutdown(): void {
  if (sockGen == 0 || tcpSendShutdown(xsSk)) return;
  trace(xEnt, N_tcp_shutdown, unchecked(N_TCP_STATE[tcpState(xsSk)]));
  nHalfCloses++;
  if (!tcpShutdown(xsSk)) return;
  if (tqLen < TQ) {
    const i = (tqHead + tqLen) % TQ;
    unchecked(tqFin[i] = true);
    unchecked(tqBytes[i] = 0);
    unchecked(tqEnd[i] = false);
    tqLen++;
  }
  tcpPump();
}

// xs_reset_transport: sock_release. The orphaned socket's unsent data is dropped and the
// server gets a reset.
function xsResetTransport(): void {
  if (sockGen == 0) return;
  tcpFlushQueue();
  if (sockRelease(xsSk)) tcpCtrlToServer(sockGen, CTRL_RST);
  xsSk = -1;
  sockGen = 0;
  closeWaitEnd();
}

// xs_close
function xsClose(): void {
  trace(xEnt, N_xs_close, sockGen);
  if (xTransport == XPRT_TCP) xsResetTransport();
  else { sockGen = 0; udpWmem = 0; }
  setReestablishTimeout(0);
  xprtClearBit(xEnt, XPRT_CONNECTION_ABORT);
  xprtClearBit(xEnt, XPRT_CLOSE_WAIT);
  xprtClearBit(xEnt, XPRT_CLOSING);
  xprtDisconnectDone(xEnt);
}

// ops->close: xs_close (UDP) / xs_tcp_close
function opsClose(): void {
  if (xTransport == XPRT_UDP) { xsClose(); return; }
  const full = xprtBit(XPRT_CONNECTION_CLOSE);
  trace(xEnt, N_tcp_close, full ? 1 : 0);
  if (full) { xprtClearBit(xEnt, XPRT_CONNECTION_CLOSE); nFullCloses++; xsClose(); }
  else xsTcpShutdown();
}

// xs_connect
function xsConnect(task: i32): void {
  if (sockGen != 0) {
    const d = reestablishTimeout;
    trace(unchecked(tkEnt[task]), N_xs_connect, <i32>(d / 1000000));
    queueDelayedWork(wConnect, d, curCpu);
    let n = reestablishTimeout << 1;
    if (n < XS_TCP_INIT_REEST_TO) n = XS_TCP_INIT_REEST_TO;
    if (n > XS_TCP_MAX_REEST_TO) n = XS_TCP_MAX_REEST_TO;
    setReestablishTimeout(n);
  } else {
    trace(unchecked(tkEnt[task]), N_xs_connect, 0);
    queueWork(wConnect, curCpu);
  }
}

// xs_tcp_setup_socket (the connect worker; also the linger abort)
function xsTcpSetupSocket(): void {
  let abort = false;
  let reuse = false;
  if (sockGen == 0) {
    xprtClearBit(xEnt, XPRT_CONNECTION_ABORT);
    sockGen = ++lastGen;
    xsTcpCreateSock();
  } else {
    reuse = true;
    abort = xprtBit(XPRT_CONNECTION_ABORT);
    xprtClearBit(xEnt, XPRT_CONNECTION_ABORT);
    // xs_tcp_reuse_connection: abort unless cleanly unconnected or established
    const st = tcpState(xsSk);
    const clean = (st == TCP_CLOSE || st == TCP_ESTABLISHED || st == TCP_SYN_SENT) && !tcpSendShutdown(xsSk);
    if (!clean) {
      trace(xEnt, N_abort);
      tcpFlushQueue();
      // AF_UNSPEC connect succeeded: the socket is unconnected again, same port
      if (tcpDisconnect(xsSk)) tcpCtrlToServer(sockGen, CTRL_RST);
      closeWaitEnd();
      sockGen = ++lastGen;
      xprtClearBit(xEnt, XPRT_CLOSE_WAIT);
      xprtClearBit(xEnt, XPRT_CLOSING);
      xprtDisconnectDone(xEnt);
    }
  }
  trace(xEnt, N_tcp_setup, sockGen, reuse ? 1 : 0, abort ? 1 : 0);
  if (abort) {
    xprtClearBit(xEnt, XPRT_CONNECTING);
    xprtWakePendingTasks(-EAGAIN);
    return;
  }
  // xs_tcp_finish_connecting: kernel_connect -> -EINPROGRESS
  if (tcpState(xsSk) == TCP_CLOSE) {
    xprtClearBit(xEnt, XPRT_CONNECTED);
    tcpConnect(xsSk);
    trace(xEnt, N_state_change, unchecked(N_TCP_STATE[TCP_SYN_SENT]), 0);
    bumpConnectCookie();
    tcpCtrlToServer(sockGen, CTRL_SYN);
  }
  xprtClearBit(xEnt, XPRT_CONNECTING);
}
let lastGen: i32 = 0;

// xs_create_sock
function xsTcpCreateSock(): void {
  xsSk = sockCreate(xEnt, tcpSndbuf);
  xsTcpSetCallbacks(xsSk);
}
// the callbacks xs_tcp_finish_connecting installs (sk_data_ready only where the replies
// arrive as the socket's records)
function xsTcpSetCallbacks(sk: i32): void {
  skSetWriteSpace(sk, xsTcpWriteSpace);
  skSetStateChange(sk, xsTcpStateChange);
  skSetErrorReport(sk, xsErrorReport);
}

function runConnectWorker(): void {
  if (xTransport == XPRT_UDP) xsUdpSetupSocket();
  else xsTcpSetupSocket();
}

function retransTimeout(task: i32): void {
  if (xTransport == XPRT_UDP) setRetransTimeoutRtt(task);
  else setRetransTimeoutDef(task);
}

function sendRequest(task: i32): i32 {
  if (xTransport == XPRT_UDP) return xsUdpSendRequest(task);
  return skbRecords ? xsTcpSendRecord(task) : xsTcpSendRequest(task);
}

// ---- TCP data as the socket's own skbs (nfs-odirect-retransmit) ---------------------------
// xsTcpAttachSocket() puts the transport on an asm/net socket that is already established
// (mount time): xs_tcp_send_request hands each record to tcpSendRecord (sendpage of the
// request's pages, the skbs as the NIC sees them), and replies come back through
// xs_tcp_data_ready.
let skbRecords: bool = false;
let netPfns = zeroed<i32>(0);
let pCopyOnResend: bool = false;     // a6b31d18: a retransmission is sent by copy
let pFragDestructors: bool = false;  // Ian Campbell: skb fragments carry a destructor
// rq_snd_buf of each task: the RPC header's length and the page list (indices into netPfns),
// and a tag the capture carries with the record (the NFS file offset in pages)
const sbHead = zeroed<i32>(MAX_TASKS);
const sbFirst = zeroed<i32>(MAX_TASKS);
const sbNpages = zeroed<i32>(MAX_TASKS);
const sbPageLen = zeroed<i32>(MAX_TASKS);
const sbTag = zeroed<i32>(MAX_TASKS);
const N_tcp_send_rec = fn("xs_tcp_send_request", "xid=%x zerocopy=%d", CAT_NET);
const N_xid_not_found = fn("xs_tcp_read_reply: XID not found", "xid=%x", CAT_LOG);

export function xsTcpAttachSocket(sk: i32, pfns: StaticArray<i32>, copyOnResend: bool, fragDestructors: bool): void {
  xsSk = sk;
  sockGen = ++lastGen;
  skbRecords = true;
  netPfns = pfns;
  pCopyOnResend = copyOnResend;
  pFragDestructors = fragDestructors;
  skSetDataReady(sk, xsTcpDataReady);
  xsTcpSetCallbacks(sk);
  xprtSetBit(xEnt, XPRT_CONNECTED);      // connected at mount time
}

// rpc_call_setup: the request's xdr_buf
export function xsSetSndBuf(task: i32, head: i32, first: i32, npages: i32, pageLen: i32, tag: i32): void {
  unchecked(sbHead[task] = head);
  unchecked(sbFirst[task] = first);
  unchecked(sbNpages[task] = npages);
  unchecked(sbPageLen[task] = pageLen);
  unchecked(sbTag[task] = tag);
}

// xs_tcp_send_request -> xs_sendpages: before a6b31d18 always by sendpage (zero-copy);
// after it a retransmission (RPC_TASK_SENT) goes by sendmsg, a copy.
function xsTcpSendRecord(task: i32): i32 {
  const req = unchecked(tkRqst[task]);
  const xid = unchecked(rqXid[req]);
  const zerocopy = !(pCopyOnResend && (unchecked(tkFlags[task]) & RPC_TASK_SENT) != 0);
  const cd = unchecked(tkCalldata[task]);
  unchecked(rqSlen[req] = unchecked(sbHead[task]) + unchecked(sbPageLen[task]));
  trace(unchecked(tkEnt[task]), N_tcp_send_rec, <i32>xid, zerocopy ? 1 : 0);
  rpcTaskTap(task, N_tcp_send_rec, 0);
  const skb = tcpSendRecord(
    xsSk, unchecked(tkEnt[task]), REC_CALL, xid, cd, unchecked(sbTag[task]), unchecked(sbHead[task]),
    netPfns, unchecked(sbFirst[task]), unchecked(sbNpages[task]), unchecked(sbPageLen[task]),
    zerocopy, pFragDestructors && zerocopy ? cd : -1,
  );
  if (skb >= 0) return 0;
  if (skb != -EAGAIN) return skb;
  asyncNospace = true;
  return xsNospace(task);
}

// xs_tcp_data_ready -> xs_tcp_read_reply: a reply record, xprt_lookup_rqst by XID,
// xprt_complete_rqst
function xsTcpDataReady(sk: i32, ci: i32): void {
  const c = capSlot(ci);
  if (unchecked(capRecType[c]) != REC_REPLY) return;
  const xid = unchecked(capXid[c]);
  const r = xprtLookupRqst(xid);
  if (r < 0) { trace(xEnt, N_xid_not_found, <i32>xid); return; }
  xprtCompleteRqst(xEnt, unchecked(rqTask[r]), unchecked(capLen[c]));
}

// xs_setup_udp / xs_setup_tcp
export function xsSetup(transport: i32, slots: i32, dynamicMax: i32, sndbuf: i32): void {
  xprtInit(transport, slots, dynamicMax);
  wConnect = workNew(N_connect_worker, 12000);
  setTransportOps(sendRequest, xsConnect, opsClose, retransTimeout);
  setRpcRunWork(runWork);
  setSendCost(sendCostFn);
  if (transport == XPRT_UDP) udpSndbuf = sndbuf; else tcpSndbuf = sndbuf;
}

// the rpciod work items: xprt->task_cleanup and transport->connect_worker
function runWork(w: i32): void {
  if (w == wAutoclose) xprtAutoclose(xEnt);
  else if (w == wConnect) runConnectWorker();
}

// The client's events: task timers, delayed work, the idle autodisconnect, the sockets.
export function sunrpcEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_RPC_TIMER) { rpcTimerFire(obj); return true; }
  if (kind == EV_DELAYED_WORK) { delayedWorkFire(obj); return true; }
  if (kind == EV_XPRT_IDLE) { xprtInitAutodisconnect(); return true; }
  return xsEvent(kind, obj, arg);
}

function xsEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_UDP_TX_DONE) { udpTxDone(); return true; }
  if (kind == EV_TX_RESET) { txFrozen = false; trace(netEnt, N_tx_hang, 0); udpKick(); tcpPump(); return true; }
  if (kind == EV_UDP_AT_SERVER) { udpAtServer(obj, arg); return true; }
  if (kind == EV_UDP_AT_CLIENT) { udpAtClient(obj, arg); return true; }
  if (kind == EV_ICMP_AT_CLIENT) { nIcmpIgnored++; trace(netEnt, N_icmp, obj); return true; }
  if (kind == EV_TCP_TX_DONE) { tcpTxDone(obj, arg); return true; }
  if (kind == EV_TCP_AT_SERVER) { tcpAtServer(obj); return true; }
  if (kind == EV_TCP_ACK) { tcpAck(obj, arg); return true; }
  if (kind == EV_TCP_CTRL_AT_CLIENT) { tcpCtrlAtClient(obj, arg); return true; }
  if (kind == EV_TCP_REPLY_AT_CLIENT) { tcpReplyAtClient(obj, arg); return true; }
  if (kind == EV_TCP_CTRL_AT_SERVER) { srvTcpCtrl(obj, arg); return true; }
  return false;
}

export function tcpSendQueueLen(): i32 { return tqLen; }
export function tcpWindowIsBlocked(): bool { return tcpWindowBlocked; }
export function sockWaitsForSpace(): bool { return asyncNospace; }
