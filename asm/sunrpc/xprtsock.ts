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
//
// A sock_xprt is an instance, the same handle as its rpc_xprt: every field is xsXxx[x].
// Its socket generations carry the handle in their top bits (xsGen), so the wire's events
// and the server's connections name the transport they belong to.
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_NET, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { klog } from "./klog";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew, deviceIrq } from "../kernel/sched";
import { stream, randChance } from "../kernel/prng";
import { LinkOptions, linkNew, linkLost, linkSerializeNs, linkDelayNs } from "../net/link";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import {
  EAGAIN, ENOTCONN, EPIPE, XPRT_UDP, XPRT_TCP, XPRT_CONNECTED, XPRT_CONNECTING,
  XPRT_CLOSE_WAIT, XPRT_CLOSING, XPRT_CONNECTION_ABORT, XPRT_CONNECTION_CLOSE, XPRT_BOUND,
  XS_TCP_INIT_REEST_TO, XS_TCP_MAX_REEST_TO, XS_TCP_LINGER_TO, NFS3PROC_WRITE, NFS3PROC_COMMIT,
  RPC_TASK_SENT, MAX_TASKS, MAX_XPRT,
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
import { tkRqst, tkProc, tkEnt, tkFlags, tkCalldata, rpcTaskTap, queueDelayedWork, queueWork, cancelDelayedWork, workNew, setCurCpu, curCpu, setRpcRunWork, rpcTaskSlots } from "./sched";
import {
  RpcXprtOps, XprtOptions, xprtNew, xprtOps, nXprts, tkXprt, xEnt, xSndTask, xAutoclose, xReestablishTimeout, rqXid, rqSlen,
  rqBytesSent, rqTask, rqNtrans, xprtBit, xprtSetBit, xprtClearBit, xprtConnected, xprtWakePendingTasks,
  xprtDisconnectDone, xprtForceDisconnect, xprtWriteSpace, xprtWaitForBufferSpace, xprtLookupRqst, xprtAdjustCwnd,
  xprtUpdateRtt, xprtCompleteRqst, setRetransTimeoutRtt, setRetransTimeoutDef, bumpConnectCookie, xprtAutoclose,
  xprtReserveXprt, xprtReserveXprtCong, xprtReleaseXprt, xprtReleaseXprtCong, xprtAllocSlotOp, xprtLockAndAllocSlot,
  xprtReleaseRqstCong, xsUdpTimer, EV_XPRT_IDLE, xprtInitAutodisconnect,
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

// ---- the client's NIC, on its link (asm/net/link.ts) ---------------------------------
let link: i32 = -1;
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

// the wire to the server (its delays and losses drawn on "sunrpc.net"); the NIC's
// interrupts land on cpuForIrq
export function xsLinkInit(o: LinkOptions, cpuForIrq: i32): void {
  o.stream = S_NET;
  link = linkNew(o);
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

// A datagram goes as IP fragments of 1480 bytes, one Ethernet frame each (a 32 KiB WRITE
// is 23; IP reassembly cannot recover a lost one).
function datagramLost(bytes: i32): bool { return linkLost(link, (bytes + 1479) / 1480); }
function serialize(bytes: i32): i64 { return linkSerializeNs(link, bytes); }
function oneWay(): i64 { return linkDelayNs(link); }

// A carrier flap (EV_LINK): while down the NIC sends nothing and packets are dropped.
export function linkSet(up: bool): void {
  linkUp = up;
  trace(netEnt, N_link_state, up ? 1 : 0);
  if (up) kickAll();
}
// the NIC can send again: every transport's queue
function kickAll(): void {
  for (let x = 0; x < nXprts; x++) { udpKick(x); tcpPump(x); }
}

// ---- server hooks (asm/nfsd): each names the knfsd `k` the transport talks to; a UDP
// datagram its source transport `x`, a TCP segment its connection by socket generation ----
export let srvUdpRecv: (k: i32, x: i32, xid: u32, proc: i32, bytes: i32) => bool = (k: i32, x: i32, xid: u32, proc: i32, bytes: i32): bool => true;
export let srvTcpCtrl: (k: i32, gen: i32, ctrl: i32) => void = (k: i32, gen: i32, ctrl: i32): void => {};
export let srvTcpData: (k: i32, gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool) => bool =
  (k: i32, gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool): bool => true;
export let srvTcpWindow: (k: i32, gen: i32) => i32 = (k: i32, gen: i32): i32 => 1 << 30;
export function setServerHooks(
  udpRecv: (k: i32, x: i32, xid: u32, proc: i32, bytes: i32) => bool,
  tcpCtrl: (k: i32, gen: i32, ctrl: i32) => void,
  tcpData: (k: i32, gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool) => bool,
  tcpWindow: (k: i32, gen: i32) => i32,
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

// ---- struct sock_xprt, one row per handle ---------------------------------------------------
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row per transport (nXprts made)
export const xsSockGen = zeroed<i32>(MAX_XPRT);     // transport->sock: 0 = NULL, else a generation
const xsAsyncNospace = zeroed<bool>(MAX_XPRT);      // SOCK_ASYNC_NOSPACE
const xsConnectWork = zeroed<i32>(MAX_XPRT);        // transport->connect_worker
const xsSndbuf = zeroed<i32>(MAX_XPRT);
export const xsSk = zeroed<i32>(MAX_XPRT);          // transport->inet: the asm/net socket, -1 = none
const xsSkbRecords = zeroed<bool>(MAX_XPRT);        // data as the socket's own skbs (xsTcpAttachSocket)
const xsServer = zeroed<i32>(MAX_XPRT);             // the knfsd the mount talks to (asm/nfsd svcNew)
rowsEnd();
// Socket generations: the low 24 bits count sockets across all transports (the server
// keys its connections by them), the top bits are the handle.
const GEN_SHIFT: i32 = 24;
let lastGen: i32 = 0;
function xsGen(x: i32): i32 { return (x << GEN_SHIFT) | ++lastGen; }
export function xprtOfGen(gen: i32): i32 { return gen >>> GEN_SHIFT; }
function serverOfGen(gen: i32): i32 { return unchecked(xsServer[xprtOfGen(gen)]); }
// sk->sk_user_data: the transport whose socket this is
function xprtOfSk(sk: i32): i32 {
  for (let x = 0; x < nXprts; x++) if (unchecked(xsSk[x]) == sk) return x;
  assert(false, "a socket callback for a socket no transport owns");
  return -1;
}

// xs_nospace
function xsNospace(task: i32): i32 {
  const x = unchecked(tkXprt[task]);
  let ret = -EAGAIN;
  if (xprtConnected(x)) {
    if (unchecked(xsAsyncNospace[x])) xprtWaitForBufferSpace(task, C_xs_nospace_callback);
  } else {
    unchecked(xsAsyncNospace[x] = false);
    ret = -ENOTCONN;
  }
  trace(unchecked(tkEnt[task]), N_nospace, xprtConnected(x) ? 1 : 0, ret);
  return ret;
}

// xs_write_space: only if a sender found the buffer full
function xsWriteSpace(x: i32): void {
  if (!unchecked(xsAsyncNospace[x])) return;
  unchecked(xsAsyncNospace[x] = false);
  xprtWriteSpace(x, netEnt);
}

// ---- UDP -------------------------------------------------------------------------------
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row: a transport's UQ ring
export const xsUdpWmem = zeroed<i32>(MAX_XPRT);
// each transport's datagrams not yet sent by the NIC: a ring of UQ per handle
const UQ: i32 = 256;
const uqXid = zeroed<u32>(MAX_XPRT * UQ);
const uqProc = zeroed<i32>(MAX_XPRT * UQ);
const uqBytes = zeroed<i32>(MAX_XPRT * UQ);
const uqTrue = zeroed<i32>(MAX_XPRT * UQ);
const uqGen = zeroed<i32>(MAX_XPRT * UQ);
const xsUqHead = zeroed<i32>(MAX_XPRT);
const xsUqLen = zeroed<i32>(MAX_XPRT);
const xsUdpTxBusy = zeroed<bool>(MAX_XPRT);
rowsEnd();
// a datagram's event argument: proc, source transport and size (a UDP WRITE is < 1 MiB)
const DGRAM_X_SHIFT: i32 = 20;
const DGRAM_BYTES_MASK: i32 = (1 << DGRAM_X_SHIFT) - 1;

function truesize(bytes: i32): i32 { return ((bytes + 1479) / 1480) * 2304; }

// xs_udp_send_request
function xsUdpSendRequest(task: i32): i32 {
  const x = unchecked(tkXprt[task]);
  const req = unchecked(tkRqst[task]);
  const proc = unchecked(tkProc[task]);
  const bytes = callBytes(proc);
  unchecked(rqSlen[req] = bytes);
  if (!xprtBit(x, XPRT_BOUND)) return -ENOTCONN;
  const gen = unchecked(xsSockGen[x]);
  if (gen == 0) return -ENOTCONN;                   // -ENOTSOCK
  const ts = truesize(bytes);
  const wmem = unchecked(xsUdpWmem[x]);
  const len = unchecked(xsUqLen[x]);
  if (wmem + ts > unchecked(xsSndbuf[x]) || len >= UQ) {
    unchecked(xsAsyncNospace[x] = true);            // sock_alloc_send_pskb
    return xsNospace(task);
  }
  unchecked(xsUdpWmem[x] = wmem + ts);
  const i = x * UQ + (unchecked(xsUqHead[x]) + len) % UQ;
  unchecked(uqXid[i] = unchecked(rqXid[req]));
  unchecked(uqProc[i] = proc);
  unchecked(uqBytes[i] = bytes);
  unchecked(uqTrue[i] = ts);
  unchecked(uqGen[i] = gen);
  unchecked(xsUqLen[x] = len + 1);
  trace(unchecked(tkEnt[task]), N_udp_send, <i32>unchecked(rqXid[req]), bytes, wmem + ts);
  udpKick(x);
  return 0;
}

function udpKick(x: i32): void {
  if (unchecked(xsUdpTxBusy[x]) || unchecked(xsUqLen[x]) == 0 || !linkUp || txFrozen) return;
  unchecked(xsUdpTxBusy[x] = true);
  const start = nicBusyUntil > now ? nicBusyUntil : now;
  nicBusyUntil = start + serialize(unchecked(uqBytes[x * UQ + unchecked(xsUqHead[x])]));
  scheduleAt(nicBusyUntil, EV_UDP_TX_DONE, x);
}

// the NIC finished a datagram: skb freed (sock_wfree), the datagram is on the wire
function udpTxDone(x: i32): void {
  unchecked(xsUdpTxBusy[x] = false);
  const len = unchecked(xsUqLen[x]);
  if (len == 0) return;
  const head = unchecked(xsUqHead[x]);
  const i = x * UQ + head;
  unchecked(xsUqHead[x] = (head + 1) % UQ);
  unchecked(xsUqLen[x] = len - 1);
  if (!linkUp) {
    // carrier lost while sending: dropped
  } else if (datagramLost(unchecked(uqBytes[i]))) {
    nDatagramsLost++;
    trace(netEnt, N_udp_lost, <i32>unchecked(uqXid[i]), 0);
  } else {
    const arg = (unchecked(uqProc[i]) << 24) | (x << DGRAM_X_SHIFT) | unchecked(uqBytes[i]);
    scheduleIn(oneWay(), EV_UDP_AT_SERVER, <i32>unchecked(uqXid[i]), arg);
  }
  if (txHangP > 0 && randChance(S_NET, txHangP)) {
    txFrozen = true;
    nTxHangs++;
    trace(netEnt, N_tx_hang, 1);
    klog(N_tx_hang, 1);
    scheduleIn(txHangNs, EV_TX_RESET, 0);
  }
  txIrq();
  if (unchecked(uqGen[i]) == unchecked(xsSockGen[x])) {
    const wmem = unchecked(xsUdpWmem[x]) - unchecked(uqTrue[i]);
    unchecked(xsUdpWmem[x] = wmem);
    setCurCpu(irqCpu);
    // xs_udp_write_space: sock_writeable() = wmem below half the buffer
    if (wmem < unchecked(xsSndbuf[x]) / 2 && unchecked(xsAsyncNospace[x])) {
      trace(netEnt, N_udp_write_space, wmem);
      xsWriteSpace(x);
    }
  }
  udpKick(x);
}

function udpAtServer(xid: i32, arg: i32): void {
  const proc = arg >>> 24, x = (arg >>> DGRAM_X_SHIFT) & 0xf, bytes = arg & DGRAM_BYTES_MASK;
  if (!srvUdpRecv(unchecked(xsServer[x]), x, <u32>xid, proc, bytes)) {
    // nfsd is not listening: ICMP port unreachable back to the client
    scheduleIn(oneWay(), EV_ICMP_AT_CLIENT, xid, x);
  }
}

// called by the server: a reply datagram to transport x
export function udpReplyToClient(x: i32, xid: u32, proc: i32): void {
  if (!linkUp || datagramLost(replyBytes(proc))) {
    nDatagramsLost++;
    trace(netEnt, N_udp_lost, <i32>xid, 1);
    return;
  }
  scheduleIn(serialize(replyBytes(proc)) + oneWay(), EV_UDP_AT_CLIENT, <i32>xid, (x << DGRAM_X_SHIFT) | replyBytes(proc));
}

// xs_udp_data_ready (softirq on the NIC's CPU)
function udpAtClient(xid: i32, arg: i32): void {
  const x = arg >>> DGRAM_X_SHIFT, copied = arg & DGRAM_BYTES_MASK;
  rxIrq(copied);
  setCurCpu(irqCpu);
  if (unchecked(xsSockGen[x]) == 0) return;
  const r = xprtLookupRqst(x, <u32>xid);
  trace(netEnt, N_udp_data_ready, xid, r >= 0 ? 1 : 0);
  if (r < 0) return;
  const task = unchecked(rqTask[r]);
  xprtAdjustCwnd(netEnt, task, copied);
  xprtUpdateRtt(task);
  xprtCompleteRqst(netEnt, task, copied);
}

// xs_udp_setup_socket (the connect worker)
function xsUdpSetupSocket(x: i32): void {
  const gen = xsGen(x);                       // xs_reset_transport + sock_create_kern + xs_bind
  unchecked(xsSockGen[x] = gen);
  unchecked(xsUdpWmem[x] = 0);
  unchecked(xsAsyncNospace[x] = false);
  const e = unchecked(xEnt[x]);
  trace(e, N_udp_setup, gen);
  xprtSetBit(x, e, XPRT_CONNECTED);           // xs_udp_finish_connecting
  xprtClearBit(x, e, XPRT_CONNECTING);
  xprtWakePendingTasks(x, 0);
}

// ---- TCP -------------------------------------------------------------------------------
// the segments queued on xsSk and not yet on the wire (sunrpc-tcp-close-wait): a ring of
// TQ per handle
const TQ: i32 = 1024;
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row: a transport's TQ ring
const tqXid = zeroed<u32>(MAX_XPRT * TQ);
const tqProc = zeroed<i32>(MAX_XPRT * TQ);
const tqBytes = zeroed<i32>(MAX_XPRT * TQ);        // unsent bytes of this segment
const tqEnd = zeroed<bool>(MAX_XPRT * TQ);          // the record ends with this segment
const tqFin = zeroed<bool>(MAX_XPRT * TQ);
const xsTqHead = zeroed<i32>(MAX_XPRT);
const xsTqLen = zeroed<i32>(MAX_XPRT);
const xsTcpTxBusy = zeroed<bool>(MAX_XPRT);
const xsTcpWindowBlocked = zeroed<bool>(MAX_XPRT);
export let pCloseOnCloseWait: bool = false;
export const xsCloseWaitSince = zeroed<i64>(MAX_XPRT);
export const xsCloseWaitTotal = zeroed<i64>(MAX_XPRT);
export const xsNCloseWait = zeroed<i32>(MAX_XPRT);
export const xsNHalfCloses = zeroed<i32>(MAX_XPRT);
export const xsNFullCloses = zeroed<i32>(MAX_XPRT);
export const xsNConnects = zeroed<i32>(MAX_XPRT);
export const xsNResets = zeroed<i32>(MAX_XPRT);
rowsEnd();

export function setCloseOnCloseWait(on: bool): void { pCloseOnCloseWait = on; }

// the socket's state, 0 without a socket
export function xsSkState(x: i32): i32 { const sk = unchecked(xsSk[x]); return sk < 0 ? 0 : tcpState(sk); }

// how long the socket sits in CLOSE_WAIT (evidence)
function closeWaitEnd(x: i32): void {
  const since = unchecked(xsCloseWaitSince[x]);
  if (since < 0) return;
  unchecked(xsCloseWaitTotal[x] += now - since);
  unchecked(xsCloseWaitSince[x] = -1);
}

// the socket's queued segments go with it (a reset, a release, a disconnect)
function tcpFlushQueue(x: i32): void {
  const sk = unchecked(xsSk[x]);
  if (sk >= 0) skWmemQueuedAdd(sk, -tcpQueuedBytes(sk));
  unchecked(xsTqHead[x] = 0); unchecked(xsTqLen[x] = 0);
  unchecked(xsTcpTxBusy[x] = false); unchecked(xsTcpWindowBlocked[x] = false);
}

// a segment at the tail of x's queue
function tqPush(x: i32, xid: u32, proc: i32, bytes: i32, end: bool, fin: bool): void {
  const len = unchecked(xsTqLen[x]);
  const i = x * TQ + (unchecked(xsTqHead[x]) + len) % TQ;
  unchecked(tqXid[i] = xid);
  unchecked(tqProc[i] = proc);
  unchecked(tqBytes[i] = bytes);
  unchecked(tqEnd[i] = end);
  unchecked(tqFin[i] = fin);
  unchecked(xsTqLen[x] = len + 1);
}

// xs_tcp_send_request
function xsTcpSendRequest(task: i32): i32 {
  const x = unchecked(tkXprt[task]);
  const req = unchecked(tkRqst[task]);
  const proc = unchecked(tkProc[task]);
  const total = callBytes(proc);
  unchecked(rqSlen[req] = total);
  if (unchecked(xsSockGen[x]) == 0) return -ENOTCONN;      // -ENOTSOCK
  const sk = unchecked(xsSk[x]);
  const err = tcpSendCheck(sk);
  if (err == -EAGAIN) { unchecked(xsAsyncNospace[x] = true); return xsNospace(task); }
  if (err != 0) {
    if (err == -EPIPE) xsTcpShutdown(x);
    unchecked(xsAsyncNospace[x] = false);
    return err;
  }
  const sent0 = unchecked(rqBytesSent[req]);
  const want = total - sent0;
  let room = skStreamWspace(sk);
  if (room < 0) room = 0;
  const n = want < room ? want : room;
  if (n > 0 && unchecked(xsTqLen[x]) < TQ) {
    tqPush(x, unchecked(rqXid[req]), proc, n, n == want, false);
    skWmemQueuedAdd(sk, n);
    unchecked(rqBytesSent[req] = sent0 + n);
    tcpPump(x);
  }
  trace(unchecked(tkEnt[task]), N_tcp_send, <i32>unchecked(rqXid[req]), unchecked(rqBytesSent[req]), total, tcpQueuedBytes(sk));
  if (unchecked(rqBytesSent[req]) >= total) {
    unchecked(rqBytesSent[req] = 0);
    return 0;
  }
  unchecked(xsAsyncNospace[x] = true);
  return xsNospace(task);
}

// the transmit engine: the head segment goes out as far as the peer's window allows
function tcpPump(x: i32): void {
  const gen = unchecked(xsSockGen[x]);
  if (unchecked(xsTcpTxBusy[x]) || unchecked(xsTqLen[x]) == 0 || !linkUp || txFrozen || gen == 0) return;
  const i = x * TQ + unchecked(xsTqHead[x]);
  let bytes = unchecked(tqBytes[i]);
  if (!unchecked(tqFin[i])) {
    const win = srvTcpWindow(unchecked(xsServer[x]), gen);
    if (win <= 0) { unchecked(xsTcpWindowBlocked[x] = true); return; }
    if (bytes > win) bytes = win;
  }
  unchecked(xsTcpWindowBlocked[x] = false);
  unchecked(xsTcpTxBusy[x] = true);
  const start = nicBusyUntil > now ? nicBusyUntil : now;
  nicBusyUntil = start + serialize(bytes + 52);
  scheduleAt(nicBusyUntil, EV_TCP_TX_DONE, gen, bytes);
}

// a segment left the NIC: in flight to the server, a ring of TQ per handle (the event
// names the slot, x * TQ + i)
rowsBegin(MAX_XPRT, (): i32 => nXprts);     // a row: a transport's TQ in flight
const inflXid = zeroed<u32>(MAX_XPRT * TQ);
const inflProc = zeroed<i32>(MAX_XPRT * TQ);
const inflBytes = zeroed<i32>(MAX_XPRT * TQ);
const inflEnd = zeroed<bool>(MAX_XPRT * TQ);
const inflFin = zeroed<bool>(MAX_XPRT * TQ);
const inflGen = zeroed<i32>(MAX_XPRT * TQ);
const xsInflNext = zeroed<i32>(MAX_XPRT);
rowsEnd();

function tcpTxDone(gen: i32, bytes: i32): void {
  const x = xprtOfGen(gen);
  unchecked(xsTcpTxBusy[x] = false);
  const len = unchecked(xsTqLen[x]);
  if (gen != unchecked(xsSockGen[x]) || len == 0) { tcpPump(x); return; }
  const head = unchecked(xsTqHead[x]);
  const i = x * TQ + head;
  const fin = unchecked(tqFin[i]);
  const next = unchecked(xsInflNext[x]);
  const slot = x * TQ + next;
  unchecked(xsInflNext[x] = (next + 1) % TQ);
  unchecked(inflXid[slot] = unchecked(tqXid[i]));
  unchecked(inflProc[slot] = unchecked(tqProc[i]));
  unchecked(inflBytes[slot] = bytes);
  unchecked(inflFin[slot] = fin);
  unchecked(inflGen[slot] = gen);
  if (fin || bytes >= unchecked(tqBytes[i])) {
    unchecked(inflEnd[slot] = unchecked(tqEnd[i]));
    unchecked(xsTqHead[x] = (head + 1) % TQ);
    unchecked(xsTqLen[x] = len - 1);
  } else {
    unchecked(inflEnd[slot] = false);
    unchecked(tqBytes[i] -= bytes);
  }
  if (fin) trace(netEnt, N_tcp_ctrl_s, N_CTRL[CTRL_FIN]);
  else trace(netEnt, N_tcp_seg, <i32>unchecked(inflXid[slot]), bytes, unchecked(inflEnd[slot]) ? 1 : 0);
  scheduleIn(oneWay(), EV_TCP_AT_SERVER, slot);
  tcpPump(x);
}

function tcpAtServer(slot: i32): void {
  const gen = unchecked(inflGen[slot]);
  const k = serverOfGen(gen);
  if (unchecked(inflFin[slot])) { srvTcpCtrl(k, gen, CTRL_FIN); return; }
  const bytes = unchecked(inflBytes[slot]);
  if (srvTcpData(k, gen, unchecked(inflXid[slot]), unchecked(inflProc[slot]), bytes, unchecked(inflEnd[slot]))) {
    scheduleIn(oneWay(), EV_TCP_ACK, gen, bytes);
  }
}

// the server ACKed bytes: they leave sk_wmem_queued (not what a flush already dropped)
function tcpAck(gen: i32, bytes: i32): void {
  const x = xprtOfGen(gen);
  if (gen != unchecked(xsSockGen[x])) return;
  const sk = unchecked(xsSk[x]);
  const q = tcpQueuedBytes(sk);
  skWmemQueuedAdd(sk, -(bytes < q ? bytes : q));
  setCurCpu(irqCpu);
  tcpCheckSpace(sk);
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
  const x = xprtOfGen(gen);
  if (gen != unchecked(xsSockGen[x]) || tcpState(unchecked(xsSk[x])) == TCP_CLOSE) return;
  setCurCpu(irqCpu);
  const r = xprtLookupRqst(x, <u32>xid);
  rxIrq(r >= 0 ? replyBytes(unchecked(tkProc[unchecked(rqTask[r])])) : 0);
  trace(netEnt, N_tcp_reply, xid, r >= 0 ? 1 : 0);
  if (r < 0) return;
  xprtCompleteRqst(netEnt, unchecked(rqTask[r]), replyBytes(unchecked(tkProc[unchecked(rqTask[r])])));
}

function tcpCtrlAtClient(gen: i32, ctrl: i32): void {
  const x = xprtOfGen(gen);
  if (gen != unchecked(xsSockGen[x])) return;
  rxIrq(0);
  setCurCpu(irqCpu);
  trace(netEnt, N_tcp_ctrl_c, N_CTRL[ctrl]);
  const sk = unchecked(xsSk[x]);
  if (ctrl == CTRL_WINDOW) tcpPump(x);
  else if (ctrl == CTRL_SYNACK) tcpRcvSynAck(sk);
  else if (ctrl == CTRL_FIN) tcpRcvFin(sk);
  else if (ctrl == CTRL_FINACK) tcpRcvFinAck(sk);
  else if (ctrl == CTRL_RST && tcpState(sk) != TCP_CLOSE) {
    unchecked(xsNResets[x] += 1);
    tcpFlushQueue(x);
    tcpReset(sk);
  }
}

// xs_error_report
function xsErrorReport(sk: i32): void {
  const x = xprtOfSk(sk);
  trace(unchecked(xEnt[x]), N_error_report, -tcpSockErr(sk));
  xprtWakePendingTasks(x, -EAGAIN);
}

// xs_tcp_write_space: sk_stream_is_writeable, then xs_write_space
function xsTcpWriteSpace(sk: i32): void {
  const x = xprtOfSk(sk);
  if (!skStreamIsWriteable(sk) || !unchecked(xsAsyncNospace[x])) return;
  trace(netEnt, N_tcp_write_space, tcpQueuedBytes(sk));
  xsWriteSpace(x);
}

// xs_tcp_state_change
function xsTcpStateChange(sk: i32): void {
  const x = xprtOfSk(sk);
  const e = unchecked(xEnt[x]);
  const skState = tcpState(sk);
  if (skState == TCP_CLOSE_WAIT) { unchecked(xsCloseWaitSince[x] = now); unchecked(xsNCloseWait[x] += 1); }
  else closeWaitEnd(x);
  trace(e, N_state_change, unchecked(N_TCP_STATE[skState]), xprtConnected(x) ? 1 : 0);
  klog(unchecked(N_TCP_STATE[skState]), unchecked(xsSockGen[x]));
  if (skState == TCP_ESTABLISHED) {
    if (!xprtConnected(x)) {
      xprtSetBit(x, e, XPRT_CONNECTED);
      unchecked(xsNConnects[x] += 1);
      xprtWakePendingTasks(x, -EAGAIN);
    }
    return;
  }
  if (skState == TCP_FIN_WAIT1) {
    bumpConnectCookie(x);
    unchecked(xReestablishTimeout[x] = 0);
    xprtSetBit(x, e, XPRT_CLOSING);
    xprtClearBit(x, e, XPRT_CONNECTED);
    xprtClearBit(x, e, XPRT_CLOSE_WAIT);
    lingerTimeout(x);
    return;
  }
  if (skState == TCP_CLOSE_WAIT) {
    // the server initiated a shutdown of the socket
    if (pCloseOnCloseWait) {
      bumpConnectCookie(x);
      xprtClearBit(x, e, XPRT_CONNECTED);       // d0bea455
      xprtSetBit(x, e, XPRT_CONNECTION_CLOSE);  // xs_tcp_force_close (a519fc7a)
      xprtForceDisconnect(x, e);
    } else {
      xprtForceDisconnect(x, e);
      bumpConnectCookie(x);
    }
    backOffReestablish(x);
    return;
  }
  if (skState == TCP_CLOSING) {
    // the server closed too: back off before reconnecting
    backOffReestablish(x);
    return;
  }
  if (skState == TCP_LAST_ACK) {
    xprtSetBit(x, e, XPRT_CLOSING);
    lingerTimeout(x);
    xprtClearBit(x, e, XPRT_CONNECTED);
    return;
  }
  if (skState == TCP_CLOSE) {
    // xs_tcp_cancel_linger_timeout, xs_sock_mark_closed
    if (xprtBit(x, XPRT_CONNECTION_ABORT) && cancelDelayedWork(unchecked(xsConnectWork[x]))) {
      xprtClearBit(x, e, XPRT_CONNECTION_ABORT);
      xprtClearBit(x, e, XPRT_CONNECTING);
    }
    xprtClearBit(x, e, XPRT_CLOSE_WAIT);
    xprtClearBit(x, e, XPRT_CLOSING);
    xprtDisconnectDone(x, e);
  }
}

// the server closed: wait at least XS_TCP_INIT_REEST_TO before reconnecting
function backOffReestablish(x: i32): void {
  if (unchecked(xReestablishTimeout[x]) < XS_TCP_INIT_REEST_TO) unchecked(xReestablishTimeout[x] = XS_TCP_INIT_REEST_TO);
}

// xs_tcp_schedule_linger_timeout: abort a connection the server does not close in time
function lingerTimeout(x: i32): void {
  if (xprtBit(x, XPRT_CONNECTING)) return;
  const e = unchecked(xEnt[x]);
  xprtSetBit(x, e, XPRT_CONNECTING);
  xprtSetBit(x, e, XPRT_CONNECTION_ABORT);
  trace(e, N_linger);
  queueDelayedWork(unchecked(xsConnectWork[x]), XS_TCP_LINGER_TO, curCpu);
}

// xs_tcp_shutdown: shutdown(SHUT_WR) — a FIN queued behind whatever is unsent
function xsTcpShutdown(x: i32): void {
  const sk = unchecked(xsSk[x]);
  if (unchecked(xsSockGen[x]) == 0 || tcpSendShutdown(sk)) return;
  trace(unchecked(xEnt[x]), N_tcp_shutdown, unchecked(N_TCP_STATE[tcpState(sk)]));
  unchecked(xsNHalfCloses[x] += 1);
  if (!tcpShutdown(sk)) return;
  if (unchecked(xsTqLen[x]) < TQ) tqPush(x, 0, 0, 0, false, true);
  tcpPump(x);
}

// xs_reset_transport: sock_release. The orphaned socket's unsent data is dropped and the
// server gets a reset.
function xsResetTransport(x: i32): void {
  const gen = unchecked(xsSockGen[x]);
  if (gen == 0) return;
  tcpFlushQueue(x);
  if (sockRelease(unchecked(xsSk[x]))) tcpCtrlToServer(gen, CTRL_RST);
  unchecked(xsSk[x] = -1);
  unchecked(xsSockGen[x] = 0);
  closeWaitEnd(x);
}

// xs_close: the socket goes (xs_reset_transport), then the transport is marked closed
function xsClose(x: i32): void {
  trace(unchecked(xEnt[x]), N_xs_close, unchecked(xsSockGen[x]));
  xsResetTransport(x);
  xsMarkClosed(x);
}
function xsUdpClose(x: i32): void {
  trace(unchecked(xEnt[x]), N_xs_close, unchecked(xsSockGen[x]));
  unchecked(xsSockGen[x] = 0);
  unchecked(xsUdpWmem[x] = 0);
  xsMarkClosed(x);
}
function xsMarkClosed(x: i32): void {
  const e = unchecked(xEnt[x]);
  unchecked(xReestablishTimeout[x] = 0);
  xprtClearBit(x, e, XPRT_CONNECTION_ABORT);
  xprtClearBit(x, e, XPRT_CLOSE_WAIT);
  xprtClearBit(x, e, XPRT_CLOSING);
  xprtDisconnectDone(x, e);
}

// xs_tcp_close (TCP .close): a full close with CONNECTION_CLOSE, else shutdown(SHUT_WR)
function xsTcpClose(x: i32): void {
  const full = xprtBit(x, XPRT_CONNECTION_CLOSE);
  const e = unchecked(xEnt[x]);
  trace(e, N_tcp_close, full ? 1 : 0);
  if (full) { xprtClearBit(x, e, XPRT_CONNECTION_CLOSE); unchecked(xsNFullCloses[x] += 1); xsClose(x); }
  else xsTcpShutdown(x);
}

// xs_connect
function xsConnect(task: i32): void {
  const x = unchecked(tkXprt[task]);
  const w = unchecked(xsConnectWork[x]);
  if (unchecked(xsSockGen[x]) != 0) {
    const d = unchecked(xReestablishTimeout[x]);
    trace(unchecked(tkEnt[task]), N_xs_connect, <i32>(d / 1000000));
    queueDelayedWork(w, d, curCpu);
    let n = d << 1;
    if (n < XS_TCP_INIT_REEST_TO) n = XS_TCP_INIT_REEST_TO;
    if (n > XS_TCP_MAX_REEST_TO) n = XS_TCP_MAX_REEST_TO;
    unchecked(xReestablishTimeout[x] = n);
  } else {
    trace(unchecked(tkEnt[task]), N_xs_connect, 0);
    queueWork(w, curCpu);
  }
}

// xs_tcp_setup_socket (the connect worker; also the linger abort)
function xsTcpSetupSocket(x: i32): void {
  const e = unchecked(xEnt[x]);
  let abort = false;
  let reuse = false;
  if (unchecked(xsSockGen[x]) == 0) {
    xprtClearBit(x, e, XPRT_CONNECTION_ABORT);
    unchecked(xsSockGen[x] = xsGen(x));
    xsTcpCreateSock(x);
  } else {
    reuse = true;
    abort = xprtBit(x, XPRT_CONNECTION_ABORT);
    xprtClearBit(x, e, XPRT_CONNECTION_ABORT);
    // xs_tcp_reuse_connection: abort unless cleanly unconnected or established
    const sk = unchecked(xsSk[x]);
    const st = tcpState(sk);
    const clean = (st == TCP_CLOSE || st == TCP_ESTABLISHED || st == TCP_SYN_SENT) && !tcpSendShutdown(sk);
    if (!clean) {
      trace(e, N_abort);
      tcpFlushQueue(x);
      // AF_UNSPEC connect succeeded: the socket is unconnected again, same port
      if (tcpDisconnect(sk)) tcpCtrlToServer(unchecked(xsSockGen[x]), CTRL_RST);
      closeWaitEnd(x);
      unchecked(xsSockGen[x] = xsGen(x));
      xprtClearBit(x, e, XPRT_CLOSE_WAIT);
      xprtClearBit(x, e, XPRT_CLOSING);
      xprtDisconnectDone(x, e);
    }
  }
  const gen = unchecked(xsSockGen[x]);
  trace(e, N_tcp_setup, gen, reuse ? 1 : 0, abort ? 1 : 0);
  if (abort) {
    xprtClearBit(x, e, XPRT_CONNECTING);
    xprtWakePendingTasks(x, -EAGAIN);
    return;
  }
  // xs_tcp_finish_connecting: kernel_connect -> -EINPROGRESS
  const sk = unchecked(xsSk[x]);
  if (tcpState(sk) == TCP_CLOSE) {
    xprtClearBit(x, e, XPRT_CONNECTED);
    tcpConnect(sk);
    trace(e, N_state_change, unchecked(N_TCP_STATE[TCP_SYN_SENT]), 0);
    bumpConnectCookie(x);
    tcpCtrlToServer(gen, CTRL_SYN);
  }
  xprtClearBit(x, e, XPRT_CONNECTING);
}

// xs_create_sock
function xsTcpCreateSock(x: i32): void {
  const sk = sockCreate(unchecked(xEnt[x]), unchecked(xsSndbuf[x]));
  unchecked(xsSk[x] = sk);
  xsTcpSetCallbacks(sk);
}
// the callbacks xs_tcp_finish_connecting installs (sk_data_ready only where the replies
// arrive as the socket's records)
function xsTcpSetCallbacks(sk: i32): void {
  skSetWriteSpace(sk, xsTcpWriteSpace);
  skSetStateChange(sk, xsTcpStateChange);
  skSetErrorReport(sk, xsErrorReport);
}

// xs_tcp_release_xprt (TCP .release_xprt): a record only partly in the socket means the
// stream must be reset
function xsTcpReleaseXprt(x: i32, ctx: i32, task: i32): void {
  if (task != unchecked(xSndTask[x])) return;
  if (task >= 0) {
    const req = unchecked(tkRqst[task]);
    if (req >= 0) {
      const sent = unchecked(rqBytesSent[req]);
      if (sent != 0 && sent != unchecked(rqSlen[req])) xprtSetBit(x, ctx, XPRT_CLOSE_WAIT);
    }
  }
  xprtReleaseXprt(x, ctx, task);
}

// TCP .send_request: segments this file queues, or the socket's own skbs
function xsTcpSend(task: i32): i32 {
  return unchecked(xsSkbRecords[unchecked(tkXprt[task])]) ? xsTcpSendRecord(task) : xsTcpSendRequest(task);
}

// the cost of handing a request to the socket (copy into skbs for UDP, sendpage for TCP)
function xsUdpSendCost(task: i32): i64 { return 3000 + <i64>callBytes(unchecked(tkProc[task])) / 4; }
function xsTcpSendCost(task: i32): i64 { return 2500 + <i64>callBytes(unchecked(tkProc[task])) / 32; }
function sendCostFn(task: i32): i64 { return xprtOps(unchecked(tkXprt[task])).sendCost(task); }

// ---- TCP data as the socket's own skbs (nfs-odirect-retransmit) ---------------------------
// xsTcpAttachSocket() puts the transport on an asm/net socket that is already established
// (mount time): xs_tcp_send_request hands each record to tcpSendRecord (sendpage of the
// request's pages, the skbs as the NIC sees them), and replies come back through
// xs_tcp_data_ready.
let netPfns = zeroed<i32>(0);
let pCopyOnResend: bool = false;     // a6b31d18: a retransmission is sent by copy
let pFragDestructors: bool = false;  // Ian Campbell: skb fragments carry a destructor
// rq_snd_buf of each task: the RPC header's length and the page list (indices into netPfns),
// and a tag the capture carries with the record (the NFS file offset in pages)
rowsBegin(MAX_TASKS, rpcTaskSlots);     // a row per rpc_task made
const sbHead = zeroed<i32>(MAX_TASKS);
const sbFirst = zeroed<i32>(MAX_TASKS);
const sbNpages = zeroed<i32>(MAX_TASKS);
const sbPageLen = zeroed<i32>(MAX_TASKS);
const sbTag = zeroed<i32>(MAX_TASKS);
rowsEnd();
const N_tcp_send_rec = fn("xs_tcp_send_request", "xid=%x zerocopy=%d", CAT_NET);
const N_xid_not_found = fn("xs_tcp_read_reply: XID not found", "xid=%x", CAT_LOG);

export function xsTcpAttachSocket(x: i32, sk: i32, pfns: StaticArray<i32>, copyOnResend: bool, fragDestructors: bool): void {
  unchecked(xsSk[x] = sk);
  unchecked(xsSockGen[x] = xsGen(x));
  unchecked(xsSkbRecords[x] = true);
  netPfns = pfns;
  pCopyOnResend = copyOnResend;
  pFragDestructors = fragDestructors;
  skSetDataReady(sk, xsTcpDataReady);
  xsTcpSetCallbacks(sk);
  xprtSetBit(x, unchecked(xEnt[x]), XPRT_CONNECTED);      // connected at mount time
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
  const x = unchecked(tkXprt[task]);
  const req = unchecked(tkRqst[task]);
  const xid = unchecked(rqXid[req]);
  const zerocopy = !(pCopyOnResend && (unchecked(tkFlags[task]) & RPC_TASK_SENT) != 0);
  const cd = unchecked(tkCalldata[task]);
  unchecked(rqSlen[req] = unchecked(sbHead[task]) + unchecked(sbPageLen[task]));
  trace(unchecked(tkEnt[task]), N_tcp_send_rec, <i32>xid, zerocopy ? 1 : 0);
  rpcTaskTap(task, N_tcp_send_rec, 0);
  const skb = tcpSendRecord(
    unchecked(xsSk[x]), unchecked(tkEnt[task]), REC_CALL, xid, cd, unchecked(sbTag[task]), unchecked(sbHead[task]),
    netPfns, unchecked(sbFirst[task]), unchecked(sbNpages[task]), unchecked(sbPageLen[task]),
    zerocopy, pFragDestructors && zerocopy ? cd : -1,
  );
  if (skb >= 0) return 0;
  if (skb != -EAGAIN) return skb;
  unchecked(xsAsyncNospace[x] = true);
  return xsNospace(task);
}

// xs_tcp_data_ready -> xs_tcp_read_reply: a reply record, xprt_lookup_rqst by XID,
// xprt_complete_rqst
function xsTcpDataReady(sk: i32, ci: i32): void {
  const c = capSlot(ci);
  if (unchecked(capRecType[c]) != REC_REPLY) return;
  const x = xprtOfSk(sk);
  const xid = unchecked(capXid[c]);
  const r = xprtLookupRqst(x, xid);
  if (r < 0) { trace(unchecked(xEnt[x]), N_xid_not_found, <i32>xid); return; }
  xprtCompleteRqst(unchecked(xEnt[x]), unchecked(rqTask[r]), unchecked(capLen[c]));
}

// the ops rows (xprtsock.c): what differs between the transports, chosen once at set-up
export const xs_udp_ops: RpcXprtOps = {
  name: name("xs_udp_ops"),
  reserveXprtName: name("xprt_reserve_xprt_cong"),
  releaseXprtName: name("xprt_release_xprt_cong"),
  allocSlotName: name("xprt_alloc_slot"),
  reserveXprt: xprtReserveXprtCong,
  releaseXprt: xprtReleaseXprtCong,
  allocSlot: xprtAllocSlotOp,
  sendRequest: xsUdpSendRequest,
  setRetransTimeout: setRetransTimeoutRtt,
  timer: xsUdpTimer,
  releaseRequest: xprtReleaseRqstCong,
  connect: xsConnect,
  close: xsUdpClose,
  connectWorker: xsUdpSetupSocket,
  sendCost: xsUdpSendCost,
};
export const xs_tcp_ops: RpcXprtOps = {
  name: name("xs_tcp_ops"),
  reserveXprtName: name("xprt_reserve_xprt"),
  releaseXprtName: name("xs_tcp_release_xprt"),
  allocSlotName: name("xprt_lock_and_alloc_slot"),
  reserveXprt: xprtReserveXprt,
  releaseXprt: xsTcpReleaseXprt,
  allocSlot: xprtLockAndAllocSlot,
  sendRequest: xsTcpSend,
  setRetransTimeout: setRetransTimeoutDef,
  timer: (task: i32): void => {},
  releaseRequest: (task: i32): void => {},
  connect: xsConnect,
  close: xsTcpClose,
  connectWorker: xsTcpSetupSocket,
  sendCost: xsTcpSendCost,
};

// xs_setup_udp / xs_setup_tcp: an rpc_xprt with its ops row, and its sock_xprt
export class XsOptions extends XprtOptions {
  sndbufBytes: i32 = 0;          // the socket's send buffer
  server: i32 = 0;               // the knfsd handle (svcNew) the mount talks to
}
export function xsSetup(o: XsOptions): i32 {
  assert(o.transport == XPRT_UDP || o.transport == XPRT_TCP, "xsSetup: transport is neither XPRT_UDP nor XPRT_TCP");
  assert(o.sndbufBytes > 0, "xsSetup: sndbufBytes must be > 0");
  const x = xprtNew(o, o.transport == XPRT_UDP ? xs_udp_ops : xs_tcp_ops);
  unchecked(xsConnectWork[x] = workNew(N_connect_worker, 12000));
  unchecked(xsSk[x] = -1);
  unchecked(xsCloseWaitSince[x] = -1);
  unchecked(xsSndbuf[x] = o.sndbufBytes);
  unchecked(xsServer[x] = o.server);
  setRpcRunWork(runWork);
  setSendCost(sendCostFn);
  return x;
}

// the rpciod work items: xprt->task_cleanup and transport->connect_worker
function runWork(w: i32): void {
  for (let x = 0; x < nXprts; x++) {
    if (w == unchecked(xAutoclose[x])) { xprtAutoclose(x, unchecked(xEnt[x])); return; }
    if (w == unchecked(xsConnectWork[x])) { xprtOps(x).connectWorker(x); return; }
  }
}

// The client's events: task timers, delayed work, the idle autodisconnect, the sockets.
export function sunrpcEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_RPC_TIMER) { rpcTimerFire(obj); return true; }
  if (kind == EV_DELAYED_WORK) { delayedWorkFire(obj); return true; }
  if (kind == EV_XPRT_IDLE) { xprtInitAutodisconnect(obj); return true; }
  return xsEvent(kind, obj, arg);
}

function xsEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_UDP_TX_DONE) { udpTxDone(obj); return true; }
  if (kind == EV_TX_RESET) { txFrozen = false; trace(netEnt, N_tx_hang, 0); kickAll(); return true; }
  if (kind == EV_UDP_AT_SERVER) { udpAtServer(obj, arg); return true; }
  if (kind == EV_UDP_AT_CLIENT) { udpAtClient(obj, arg); return true; }
  if (kind == EV_ICMP_AT_CLIENT) { nIcmpIgnored++; trace(netEnt, N_icmp, obj); return true; }
  if (kind == EV_TCP_TX_DONE) { tcpTxDone(obj, arg); return true; }
  if (kind == EV_TCP_AT_SERVER) { tcpAtServer(obj); return true; }
  if (kind == EV_TCP_ACK) { tcpAck(obj, arg); return true; }
  if (kind == EV_TCP_CTRL_AT_CLIENT) { tcpCtrlAtClient(obj, arg); return true; }
  if (kind == EV_TCP_REPLY_AT_CLIENT) { tcpReplyAtClient(obj, arg); return true; }
  if (kind == EV_TCP_CTRL_AT_SERVER) { srvTcpCtrl(serverOfGen(obj), obj, arg); return true; }
  return false;
}

export function tcpSendQueueLen(x: i32): i32 { return unchecked(xsTqLen[x]); }
export function tcpWindowIsBlocked(x: i32): bool { return unchecked(xsTcpWindowBlocked[x]); }
export function sockWaitsForSpace(x: i32): bool { return unchecked(xsAsyncNospace[x]); }
