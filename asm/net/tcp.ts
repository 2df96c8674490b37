// TCP, reduced to what decides when a queued byte is read: the socket write queue,
// zero-copy tcp_sendpage()/do_tcp_sendpages() versus copying tcp_sendmsg(),
// tcp_write_xmit()/tcp_transmit_skb() (skb_clone to the NIC), in-order receive with
// cumulative ACKs, the ACK clock (slow start / congestion avoidance), fast retransmit,
// and the retransmission timer with exponential backoff (TCP_RTO_MIN 200 ms,
// TCP_RTO_MAX 120 s). No TSO: one skb is one MSS-sized segment of a record.
//
// After a long stall both ends are deep in RTO backoff: a record queued meanwhile waits
// behind the unacknowledged head until the next retransmission gets through.
//
// Every socket also has its connection state (tcp_states.h) with the kernel's
// transitions for connect, FIN, the ACK of our FIN, RST and shutdown(SHUT_WR), its send
// buffer (sk_wmem_queued against sk_sndbuf), and the callbacks its user installs, as on a
// struct sock: sk_data_ready, sk_write_space, sk_state_change, sk_error_report.
import { now, NSEC_PER_MSEC, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_NET } from "../kernel/names";
import { trace } from "../kernel/trace";
import { scheduleIn, cancelEvent } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { stream, randDuration } from "../kernel/prng";
import { tap } from "../mm/tap";
import { allocPage, copyPage, putPage, PAGE_SIZE } from "../mm/page";
import {
  allocSkb, skbAddFrag, skbClone, kfreeSkb, skbSetDestructor, skbAddr, skbCloneAddr,
  skbSeq, skbLen, skbNext, skbNrFrags, skbOut, skbRetrans, skbXmitTime, skbRecType, skbXid, skbRecA, skbRecB,
  skbRecOff, skbRecLen, skbFrag, MAX_SKB_FRAGS,
} from "./skbuff";
import { jArr, jEndArr, jObj, jEndObj, jKI, jKB, jKey, jInt } from "../kernel/json";
import {
  devQueueXmit, setNetifReceive, setTcpHeaderFns, capSlot, capSeq, capAck, capLen, capRecOff, capRecLen, capTsval, capTsecr,
} from "./dev";
import { zeroed } from "../kernel/mem";
import { EAGAIN, EPIPE, ECONNRESET, ENOTCONN } from "../kernel/errno";

export const EV_TCP_RTO: i32 = eventKind("tcp.rto");
export const EV_TCP_PUSH: i32 = eventKind("tcp.push");

const TCP_RTO_MIN: i64 = 200 * NSEC_PER_MSEC;
const TCP_RTO_MAX: i64 = 120 * NSEC_PER_SEC;
// TCP_TIMEOUT_INIT: 1 s since 3.1 (9ad7c049, RFC 6298); 3 s before (RFC 1122), as in the
// 2.6.18 of seed 003. The RTO of a socket until its first RTT sample; tcpInit may set it.
let tcpTimeoutInit: i64 = NSEC_PER_SEC;
const TCP_INIT_CWND: i32 = 10;
const S_SOFTIRQ = stream("softirq");

// the client's socket(s) plus each connection knfsd has accepted and not yet released
const MAX_SOCKS: i32 = 64;
const skPeerDir = zeroed<i32>(MAX_SOCKS);   // direction this socket transmits in
const skNic = zeroed<i32>(MAX_SOCKS);
const skEnt = zeroed<i32>(MAX_SOCKS);
const skHead = zeroed<i32>(MAX_SOCKS);      // write queue: oldest unacked first
const skTail = zeroed<i32>(MAX_SOCKS);
const skSendHead = zeroed<i32>(MAX_SOCKS);  // first skb not (or no longer) in flight
const skSndUna = zeroed<u32>(MAX_SOCKS);
const skWriteSeq = zeroed<u32>(MAX_SOCKS);
const skRcvNxt = zeroed<u32>(MAX_SOCKS);
const skCwnd = zeroed<i32>(MAX_SOCKS);
const skCwndCnt = zeroed<i32>(MAX_SOCKS);
const skSsthresh = zeroed<i32>(MAX_SOCKS);
const skPacketsOut = zeroed<i32>(MAX_SOCKS);
const skSrtt = zeroed<i64>(MAX_SOCKS);
const skRttvar = zeroed<i64>(MAX_SOCKS);
const skRto = zeroed<i64>(MAX_SOCKS);
const skBackoff = zeroed<i32>(MAX_SOCKS);
const skRtoTimer = zeroed<i32>(MAX_SOCKS);
const skPushPending = zeroed<bool>(MAX_SOCKS);
const skDupAcks = zeroed<i32>(MAX_SOCKS);
// loss recovery after an RTO (TCP_CA_Loss) and its undo: the timestamp of the first
// retransmission (retrans_stamp), the cwnd/ssthresh before (prior_*), snd_nxt then
// (high_seq), and whether an undo is still possible (undo_marker)
const skRetransStamp = zeroed<i64>(MAX_SOCKS);
const skPriorCwnd = zeroed<i32>(MAX_SOCKS);
const skPriorSsthresh = zeroed<i32>(MAX_SOCKS);
const skHighSeq = zeroed<u32>(MAX_SOCKS);
const skUndoMarker = zeroed<bool>(MAX_SOCKS);
const skTsRecent = zeroed<i64>(MAX_SOCKS);   // the peer's last in-order tsval, echoed
const skInRecovery = zeroed<bool>(MAX_SOCKS);  // fast recovery (TCP_CA_Recovery) until
const skRecover = zeroed<u32>(MAX_SOCKS);      // snd_una reaches this (snd_nxt at entry)
const skWmem = zeroed<i32>(MAX_SOCKS);
const skSndbuf = zeroed<i32>(MAX_SOCKS);
const skRetransSegs = zeroed<i32>(MAX_SOCKS);
const skState = zeroed<i32>(MAX_SOCKS);
const skSendShutdown = zeroed<bool>(MAX_SOCKS);  // sk_shutdown & SEND_SHUTDOWN
const skErr = zeroed<i32>(MAX_SOCKS);
const skRmem = zeroed<i32>(MAX_SOCKS);      // sk_rmem_alloc: received, not yet read
const skRcvbuf = zeroed<i32>(MAX_SOCKS);
const skRcvWndZero = zeroed<bool>(MAX_SOCKS);  // a zero window was advertised
const skInUse = zeroed<bool>(MAX_SOCKS);
// the callbacks, as function references (0: none installed)
const skDataReadyFn = zeroed<usize>(MAX_SOCKS);
const skWriteSpaceFn = zeroed<usize>(MAX_SOCKS);
const skStateChangeFn = zeroed<usize>(MAX_SOCKS);
const skErrorReportFn = zeroed<usize>(MAX_SOCKS);
const dirSock = zeroed<i32>(2);             // receiving socket per direction
// the capture slots of the in-order segments of the record being received
const MAX_RECORD_SEGS: i32 = 64;
const skRcvSegs = zeroed<i32>(MAX_SOCKS);
const skRcvSeg = zeroed<i32>(MAX_SOCKS * MAX_RECORD_SEGS);

// include/net/tcp_states.h
export const TCP_ESTABLISHED: i32 = 1;
export const TCP_SYN_SENT: i32 = 2;
export const TCP_FIN_WAIT1: i32 = 4;
export const TCP_FIN_WAIT2: i32 = 5;
export const TCP_TIME_WAIT: i32 = 6;
export const TCP_CLOSE: i32 = 7;
export const TCP_CLOSE_WAIT: i32 = 8;
export const TCP_LAST_ACK: i32 = 9;
export const TCP_CLOSING: i32 = 11;
export const N_TCP_STATE = zeroed<i32>(12);
N_TCP_STATE[0] = name("(no socket)");
N_TCP_STATE[1] = name("TCP_ESTABLISHED");
N_TCP_STATE[2] = name("TCP_SYN_SENT");
N_TCP_STATE[3] = name("TCP_SYN_RECV");
N_TCP_STATE[4] = name("TCP_FIN_WAIT1");
N_TCP_STATE[5] = name("TCP_FIN_WAIT2");
N_TCP_STATE[6] = name("TCP_TIME_WAIT");
N_TCP_STATE[7] = name("TCP_CLOSE");
N_TCP_STATE[8] = name("TCP_CLOSE_WAIT");
N_TCP_STATE[9] = name("TCP_LAST_ACK");
N_TCP_STATE[10] = name("TCP_LISTEN");
N_TCP_STATE[11] = name("TCP_CLOSING");

export const N_tcp_sendpage = fn("tcp_sendpage", "pages=%d bytes=%d");
export const N_do_tcp_sendpages = fn("do_tcp_sendpages (adding data to skb)", "skb=%x seq=%x len=%d");
export const N_tcp_sendmsg = fn("tcp_sendmsg (copying data to skb)", "skb=%x seq=%x len=%d");
export const N_tcp_transmit_skb = fn("tcp_transmit_skb, skb_clone", "skb=%x clone=%x seq=%x");
const N_tcp_retransmit_timer = fn("tcp_retransmit_timer", "backoff=%d rto=%t una=%x", CAT_NET);
const N_tcp_undo_loss = fn("tcp_try_undo_loss (timestamps: the originals were delayed)", "una=%x in_flight=%d cwnd=%d", CAT_NET);
const N_tcp_fastretrans = fn("tcp_fastretrans_alert", "una=%x", CAT_NET);
const N_tcp_ack = fn("tcp_ack", "ack=%x acked=%d cwnd=%d", CAT_NET);
const N_tcp_rcv = fn("tcp_rcv_established", "seq=%x len=%d rcv_nxt=%x", CAT_NET);
const N_tcp_ofo = fn("tcp_data_queue: out of window", "seq=%x rcv_nxt=%x", CAT_NET);

// The socket's user installs its callbacks (xs_tcp_finish_connecting does for sunrpc):
// data_ready(sk, ci) for each in-order record once its last segment is in (ci: that
// segment's capture slot, i.e. the bytes as they were on the wire; tcpRcvRecordSeg gives
// all of the record's segments), write_space(sk) when acked data leaves the send buffer,
// state_change(sk) on the transitions the kernel reports, error_report(sk) on a reset.
export function skSetDataReady(sk: i32, f: (sk: i32, ci: i32) => void): void { unchecked(skDataReadyFn[sk] = changetype<usize>(f)); }
export function skSetWriteSpace(sk: i32, f: (sk: i32) => void): void { unchecked(skWriteSpaceFn[sk] = changetype<usize>(f)); }
export function skSetStateChange(sk: i32, f: (sk: i32) => void): void { unchecked(skStateChangeFn[sk] = changetype<usize>(f)); }
export function skSetErrorReport(sk: i32, f: (sk: i32) => void): void { unchecked(skErrorReportFn[sk] = changetype<usize>(f)); }
function skDataReady(sk: i32, ci: i32): void {
  const f = unchecked(skDataReadyFn[sk]);
  if (f != 0) changetype<(sk: i32, ci: i32) => void>(f)(sk, ci);
}
function skStateChange(sk: i32): void {
  const f = unchecked(skStateChangeFn[sk]);
  if (f != 0) changetype<(sk: i32) => void>(f)(sk);
}
function skErrorReport(sk: i32): void {
  const f = unchecked(skErrorReportFn[sk]);
  if (f != 0) changetype<(sk: i32) => void>(f)(sk);
}

// sock_create_kern: an unconnected socket (TCP_CLOSE) with no callbacks yet.
export function sockCreate(ent: i32, sndbuf: i32): i32 {
  let sk = 0;
  while (sk < MAX_SOCKS && unchecked(skInUse[sk])) sk++;
  assert(sk < MAX_SOCKS, "out of sockets");
  unchecked(skInUse[sk] = true);
  unchecked(skEnt[sk] = ent);
  unchecked(skState[sk] = TCP_CLOSE);
  unchecked(skSendShutdown[sk] = false);
  unchecked(skErr[sk] = 0);
  unchecked(skWmem[sk] = 0);
  unchecked(skSndbuf[sk] = sndbuf);
  unchecked(skRmem[sk] = 0);
  unchecked(skRcvWndZero[sk] = false);
  unchecked(skDataReadyFn[sk] = 0);
  unchecked(skWriteSpaceFn[sk] = 0);
  unchecked(skStateChangeFn[sk] = 0);
  unchecked(skErrorReportFn[sk] = 0);
  return sk;
}

// sock_release -> tcp_close. True if the peer is sent a reset: the socket was not closed
// yet, and what it had queued is dropped.
export function sockRelease(sk: i32): bool {
  const rst = unchecked(skState[sk]) != TCP_CLOSE;
  tcpSetState(sk, TCP_CLOSE);
  unchecked(skInUse[sk] = false);
  return rst;
}

// inet_csk_accept: a connection the listener completed, with a receive buffer of `rcvbuf`
export function tcpAccept(ent: i32, sndbuf: i32, rcvbuf: i32): i32 {
  const sk = sockCreate(ent, sndbuf);
  unchecked(skRcvbuf[sk] = rcvbuf);
  tcpSetState(sk, TCP_ESTABLISHED);
  return sk;
}

// A connected socket transmitting in direction `dir` through `nic`; isn = its initial seq.
export function tcpSockNew(dir: i32, nic: i32, ent: i32, isn: u32, peerIsn: u32, sndbuf: i32): i32 {
  const sk = sockCreate(ent, sndbuf);
  tcpSetState(sk, TCP_ESTABLISHED);
  unchecked(skPeerDir[sk] = dir);
  unchecked(skNic[sk] = nic);
  unchecked(skHead[sk] = -1);
  unchecked(skTail[sk] = -1);
  unchecked(skSendHead[sk] = -1);
  unchecked(skSndUna[sk] = isn);
  unchecked(skWriteSeq[sk] = isn);
  unchecked(skRcvNxt[sk] = peerIsn);
  unchecked(skCwnd[sk] = TCP_INIT_CWND);
  unchecked(skSsthresh[sk] = 1 << 30);
  unchecked(skRto[sk] = tcpTimeoutInit);
  unchecked(skRetransStamp[sk] = 0);
  unchecked(skUndoMarker[sk] = false);
  unchecked(skTsRecent[sk] = 0);
  unchecked(skInRecovery[sk] = false);
  unchecked(dirSock[1 - dir] = sk);
  return sk;
}

export function tcpInit(timeoutInitNs: i64): void {
  tcpTimeoutInit = timeoutInitNs;
  setNetifReceive(tcpV4Rcv);
  setTcpHeaderFns((sk: i32): u32 => unchecked(skRcvNxt[sk]), tcpSndNxt, (sk: i32): i64 => unchecked(skTsRecent[sk]));
}

// snd_nxt: where the next new segment starts (a pure ACK carries it).
function tcpSndNxt(sk: i32): u32 {
  const s = unchecked(skSendHead[sk]);
  return s >= 0 ? unchecked(skbSeq[s]) : unchecked(skWriteSeq[sk]);
}

// sk_stream_memory_free()
function tcpMemoryFree(sk: i32, bytes: i32): bool {
  return unchecked(skWmem[sk]) + bytes <= unchecked(skSndbuf[sk]);
}

// sk_stream_wspace(); sk_stream_is_writeable(): free space at least sk_stream_min_wspace,
// half of what is queued
export function skStreamWspace(sk: i32): i32 { return unchecked(skSndbuf[sk]) - unchecked(skWmem[sk]); }
export function skStreamIsWriteable(sk: i32): bool { return skStreamWspace(sk) >= unchecked(skWmem[sk]) / 2; }

// sk_wmem_queued accounting for data queued (delta > 0) or acked (delta < 0) by a
// sender that keeps its own segments (the state-level TCP of asm/sunrpc/xprtsock.ts)
export function skWmemQueuedAdd(sk: i32, delta: i32): void { unchecked(skWmem[sk] += delta); }

// tcp_check_space -> tcp_new_space: acked data freed room, tell the socket's user
export function tcpCheckSpace(sk: i32): void {
  const f = unchecked(skWriteSpaceFn[sk]);
  if (f != 0) changetype<(sk: i32) => void>(f)(sk);
}

// The receive queue, for a receiver that takes its data as byte counts (knfsd's
// connections; the segments are asm/sunrpc/xprtsock.ts's): tcp_queue_rcv charges
// sk_rmem_alloc, tcp_select_window offers what is left of sk_rcvbuf, tcp_recvmsg frees it.
export function tcpQueueRcv(sk: i32, bytes: i32): void { unchecked(skRmem[sk] += bytes); }
export function tcpRmem(sk: i32): i32 { return unchecked(skRmem[sk]); }
export function tcpSelectWindow(sk: i32): i32 {
  const w = unchecked(skRcvbuf[sk]) - unchecked(skRmem[sk]);
  if (w <= 0) unchecked(skRcvWndZero[sk] = true);
  return w;
}
// True if the read reopens a window advertised as zero: tcp_cleanup_rbuf sends the update.
export function tcpRecvmsg(sk: i32, bytes: i32): bool {
  unchecked(skRmem[sk] -= bytes);
  const update = unchecked(skRcvWndZero[sk]);
  unchecked(skRcvWndZero[sk] = false);
  return update;
}

export function tcpState(sk: i32): i32 { return unchecked(skState[sk]); }
export function tcpSendShutdown(sk: i32): bool { return unchecked(skSendShutdown[sk]); }
export function tcpSockErr(sk: i32): i32 { return unchecked(skErr[sk]); }

// tcp_set_state sets the state only; the callers report through sk_state_change where the
// kernel does.
function tcpSetState(sk: i32, s: i32): void { unchecked(skState[sk] = s); }

// tcp_done: the connection is over
function tcpDone(sk: i32): void {
  tcpSetState(sk, TCP_CLOSE);
  skStateChange(sk);
}

// tcp_v4_connect: the SYN goes out; the caller gets -EINPROGRESS, no state_change.
export function tcpConnect(sk: i32): void { tcpSetState(sk, TCP_SYN_SENT); }

// tcp_disconnect (connect(AF_UNSPEC)): back to an unconnected socket, shutdown cleared.
// True if the peer is sent a reset.
export function tcpDisconnect(sk: i32): bool {
  const rst = unchecked(skState[sk]) != TCP_CLOSE;
  tcpSetState(sk, TCP_CLOSE);
  unchecked(skSendShutdown[sk] = false);
  unchecked(skErr[sk] = 0);
  return rst;
}

// What sendmsg/sendpage on a non-blocking socket says before queueing anything
// (sk_stream_wait_connect and the SEND_SHUTDOWN check): 0, or -ENOTCONN for a socket that is
// closed, -EPIPE once shut down for sending, -EAGAIN while the connect is in progress.
export function tcpSendCheck(sk: i32): i32 {
  const st = unchecked(skState[sk]);
  const shut = unchecked(skSendShutdown[sk]);
  if (st == TCP_CLOSE && !shut) return -ENOTCONN;
  if (st == TCP_CLOSE || shut) return -EPIPE;
  if (st == TCP_SYN_SENT) return -EAGAIN;
  return 0;
}

// shutdown(SHUT_WR): inet_shutdown -> tcp_shutdown -> tcp_close_state. True if a FIN is
// to be sent, behind whatever is queued.
export function tcpShutdown(sk: i32): bool {
  unchecked(skSendShutdown[sk] = true);
  const st = unchecked(skState[sk]);
  if (st == TCP_ESTABLISHED) tcpSetState(sk, TCP_FIN_WAIT1);
  else if (st == TCP_CLOSE_WAIT) tcpSetState(sk, TCP_LAST_ACK);
  else return false;
  skStateChange(sk);
  return true;
}

// tcp_rcv_synsent_state_process: the SYN-ACK completes the connect
export function tcpRcvSynAck(sk: i32): void {
  if (unchecked(skState[sk]) != TCP_SYN_SENT) return;
  tcpSetState(sk, TCP_ESTABLISHED);
  skStateChange(sk);
}

// tcp_fin: the peer sends no more. ESTABLISHED: CLOSE_WAIT, until our user closes too.
// FIN_WAIT1 (simultaneous close): CLOSING, until our FIN is acked. FIN_WAIT2:
// tcp_time_wait(), a timewait sock keeps TIME_WAIT and this socket is done.
export function tcpRcvFin(sk: i32): void {
  const st = unchecked(skState[sk]);
  if (st == TCP_ESTABLISHED || st == TCP_FIN_WAIT1) {
    tcpSetState(sk, st == TCP_ESTABLISHED ? TCP_CLOSE_WAIT : TCP_CLOSING);
    skStateChange(sk);
  } else if (st == TCP_FIN_WAIT2) tcpDone(sk);
}

// tcp_rcv_state_process: the ACK of our FIN. FIN_WAIT1: FIN_WAIT2, the peer may still
// send. CLOSING: tcp_time_wait() as above. LAST_ACK: done.
export function tcpRcvFinAck(sk: i32): void {
  const st = unchecked(skState[sk]);
  if (st == TCP_LAST_ACK || st == TCP_CLOSING) tcpDone(sk);
  else if (st == TCP_FIN_WAIT1) {
    tcpSetState(sk, TCP_FIN_WAIT2);
    skStateChange(sk);
  }
}

// tcp_reset: sk_err (EPIPE in CLOSE_WAIT), sk_error_report, tcp_done. False if the
// socket was closed already.
export function tcpReset(sk: i32): bool {
  const st = unchecked(skState[sk]);
  if (st == TCP_CLOSE) return false;
  unchecked(skErr[sk] = st == TCP_CLOSE_WAIT ? EPIPE : ECONNRESET);
  skErrorReport(sk);
  tcpDone(sk);
  return true;
}

// tcp_current_mss() on the modelled 1500-byte-MTU Ethernet: 1500 - 20 (IPv4) - 20 (TCP) -
// 12 (timestamps). The NIC has no TSO: do_tcp_sendpages()/tcp_sendmsg() fill each skb up to
// this size_goal, so every skb is one segment on the wire. A multiple of 4, as the RPC
// header is: segment boundaries fall between the payload's 32-bit words.
export const TCP_MSS: i32 = 1448;
const MAX_RECORD_PAGES: i32 = 16;
const copyPfns = zeroed<i32>(MAX_RECORD_PAGES);

// Queues one record: `hdr` bytes of linear data (the RPC header, built by the caller)
// plus `npages` pages from `pfns[first..]` holding `payload` bytes, as skbs of at most
// TCP_MSS bytes each; a page that straddles a segment boundary becomes a fragment of both.
//  zerocopy: tcp_sendpage()/do_tcp_sendpages(): each fragment pins the caller's page.
//  !zerocopy: sock_no_sendpage() -> tcp_sendmsg(): the bytes are copied into pages the
//  skbs own, now.
// `destructorArg` >= 0 attaches a fragment destructor (Ian Campbell's proposal) to each skb.
// Returns the record's first skb, or tcpSendCheck's error, or -EAGAIN when the send buffer
// is full (the caller waits for write_space). The skbs are transmitted by tcp_push() shortly
// after, from softirq.
export function tcpSendRecord(
  sk: i32, ent: i32, recType: i32, xid: u32, recA: i32, recB: i32, hdr: i32,
  pfns: StaticArray<i32>, first: i32, npages: i32, payload: i32, zerocopy: bool, destructorArg: i32,
): i32 {
  const err = tcpSendCheck(sk);
  if (err != 0) return err;
  const len = hdr + payload;
  if (!tcpMemoryFree(sk, len)) return -EAGAIN;
  assert(npages <= MAX_RECORD_PAGES, "record has too many pages");
  if (npages > 0) {
    trace(ent, N_tcp_sendpage, zerocopy ? npages : 0, payload);
    tap(recA, zerocopy ? N_tcp_sendpage : N_tcp_sendmsg, 0, 0);
  }
  // tcp_sendmsg copies every byte before it returns: the copies are taken now, all at once
  for (let i = 0; i < npages; i++) {
    const pfn = unchecked(pfns[first + i]);
    if (zerocopy) unchecked(copyPfns[i] = pfn);
    else {
      const copy = allocPage();
      copyPage(copy, pfn);
      unchecked(copyPfns[i] = copy);
    }
  }
  const seq0 = unchecked(skWriteSeq[sk]);
  let head = -1;
  let page = 0;
  let pageOff = 0;
  for (let recOff = 0; recOff < len; ) {
    const segLen = min(TCP_MSS, len - recOff);
    const skb = allocSkb(sk);
    if (head < 0) head = skb;
    unchecked(skbSeq[skb] = seq0 + <u32>recOff);
    unchecked(skbLen[skb] = segLen);
    unchecked(skbRecType[skb] = recType);
    unchecked(skbXid[skb] = xid);
    unchecked(skbRecA[skb] = recA);
    unchecked(skbRecB[skb] = recB);
    unchecked(skbRecOff[skb] = recOff);
    unchecked(skbRecLen[skb] = len);
    // the header's bytes are the linear part of the first skb; then page fragments
    let fill = recOff < hdr ? min(hdr - recOff, segLen) : 0;
    while (fill < segLen) {
      const pageLen = min(PAGE_SIZE, payload - page * PAGE_SIZE);
      const take = min(pageLen - pageOff, segLen - fill);
      skbAddFrag(skb, unchecked(copyPfns[page]), pageOff, take);
      fill += take;
      pageOff += take;
      if (pageOff == pageLen) { page++; pageOff = 0; }
    }
    if (destructorArg >= 0) skbSetDestructor(skb, destructorArg);
    const tail = unchecked(skTail[sk]);
    if (tail >= 0) unchecked(skbNext[tail] = skb); else unchecked(skHead[sk] = skb);
    unchecked(skTail[sk] = skb);
    if (unchecked(skSendHead[sk]) < 0) unchecked(skSendHead[sk] = skb);
    recOff += segLen;
  }
  // the skbs' fragments are now the only references to the copies
  if (!zerocopy) for (let i = 0; i < npages; i++) putPage(unchecked(copyPfns[i]));
  trace(ent, zerocopy || npages == 0 ? N_do_tcp_sendpages : N_tcp_sendmsg, skbAddr(head), <i32>seq0, len);
  if (zerocopy && npages > 0) tap(recA, N_do_tcp_sendpages, skbAddr(head), 0);
  unchecked(skWriteSeq[sk] = seq0 + <u32>len);
  unchecked(skWmem[sk] += len);
  if (!unchecked(skPushPending[sk])) {
    unchecked(skPushPending[sk] = true);
    scheduleIn(randDuration(S_SOFTIRQ, 20000), EV_TCP_PUSH, sk);
  }
  return head;
}

function transmitSkb(sk: i32, skb: i32, retrans: bool): void {
  trace(unchecked(skEnt[sk]), N_tcp_transmit_skb, skbAddr(skb), skbCloneAddr(skb), <i32>skbSeq[skb]);
  if (unchecked(skbNrFrags[skb]) > 0) tap(unchecked(skbRecA[skb]), N_tcp_transmit_skb, skbAddr(skb), skbCloneAddr(skb));
  skbClone(skb);
  unchecked(skbXmitTime[skb] = now);
  if (retrans) unchecked(skbRetrans[skb] = true);
  devQueueXmit(unchecked(skNic[sk]), skb, sk, retrans);
  if (!unchecked(skbOut[skb])) {
    unchecked(skbOut[skb] = true);
    unchecked(skPacketsOut[sk] += 1);
  }
  if (unchecked(skRtoTimer[sk]) == 0) armRto(sk);
}

function armRto(sk: i32): void {
  cancelEvent(unchecked(skRtoTimer[sk]));
  let rto = unchecked(skRto[sk]) << unchecked(skBackoff[sk]);
  if (rto > TCP_RTO_MAX || rto <= 0) rto = TCP_RTO_MAX;
  unchecked(skRtoTimer[sk] = scheduleIn(rto, EV_TCP_RTO, sk));
}

function stopRto(sk: i32): void {
  cancelEvent(unchecked(skRtoTimer[sk]));
  unchecked(skRtoTimer[sk] = 0);
}

// tcp_write_xmit(): send from the send head while the congestion window allows.
function tcpWriteXmit(sk: i32): void {
  while (true) {
    const skb = unchecked(skSendHead[sk]);
    if (skb < 0 || unchecked(skPacketsOut[sk]) >= unchecked(skCwnd[sk])) return;
    unchecked(skSendHead[sk] = skbNext[skb]);
    transmitSkb(sk, skb, unchecked(skbRetrans[skb]) || unchecked(skbXmitTime[skb]) >= 0);
  }
}

// tcp_retransmit_timer(): back off, collapse cwnd, go back to the oldest unacked skb.
function tcpRetransmitTimer(sk: i32): void {
  unchecked(skRtoTimer[sk] = 0);
  const head = unchecked(skHead[sk]);
  if (head < 0 || !unchecked(skbOut[head])) return;
  // tcp_enter_loss: the first RTO of an episode remembers what an undo restores
  if (!unchecked(skUndoMarker[sk])) {
    unchecked(skUndoMarker[sk] = true);
    unchecked(skPriorCwnd[sk] = skCwnd[sk]);
    unchecked(skPriorSsthresh[sk] = skSsthresh[sk]);
    unchecked(skHighSeq[sk] = tcpSndNxt(sk));
    unchecked(skRetransStamp[sk] = now);
  }
  unchecked(skSsthresh[sk] = max(unchecked(skPacketsOut[sk]) >> 1, 2));
  unchecked(skCwnd[sk] = 1);
  unchecked(skCwndCnt[sk] = 0);
  unchecked(skInRecovery[sk] = false);
  // everything in flight is presumed lost: sent again, as retransmissions
  for (let s = head; s >= 0 && unchecked(skbOut[s]); s = unchecked(skbNext[s])) unchecked(skbOut[s] = false);
  unchecked(skPacketsOut[sk] = 0);
  unchecked(skBackoff[sk] += 1);
  unchecked(skRetransSegs[sk] += 1);
  trace(unchecked(skEnt[sk]), N_tcp_retransmit_timer, unchecked(skBackoff[sk]),
    <i32>((unchecked(skRto[sk]) << unchecked(skBackoff[sk])) / 1000000), <i32>unchecked(skSndUna[sk]));
  unchecked(skSendHead[sk] = skbNext[head]);
  transmitSkb(sk, head, true);
  armRto(sk);
}

// tcp_fastretrans_alert in TCP_CA_Loss, with timestamps (tcp_try_undo_loss ->
// tcp_may_undo -> tcp_packet_delayed): an ACK of new data echoing a timestamp older than
// the first retransmission was caused by an original, so the originals were delayed, not
// lost (RFC 3522; only an ACK that advances snd_una counts, as the RFC and later kernels
// require: the peer's own retransmission echoes an old timestamp too). The
// loss marks go (what was sent before the RTO is in flight again, not to be resent) and
// tcp_undo_cwr restores cwnd and ssthresh. Without this a held stall would end in a
// go-back-N resend of everything the peer already has.
function tcpTryUndoLoss(sk: i32, tsecr: i64): void {
  if (!unchecked(skUndoMarker[sk]) || tsecr <= 0 || tsecr >= unchecked(skRetransStamp[sk])) return;
  const high = unchecked(skHighSeq[sk]);
  let s = unchecked(skHead[sk]);
  for (; s >= 0 && after(high, unchecked(skbSeq[s])); s = unchecked(skbNext[s])) unchecked(skbOut[s] = true);
  const sh = unchecked(skSendHead[sk]);
  if (sh >= 0 && after(high, unchecked(skbSeq[sh]))) unchecked(skSendHead[sk] = s);
  let n = 0;
  for (let t = unchecked(skHead[sk]); t >= 0 && unchecked(skbOut[t]); t = unchecked(skbNext[t])) n++;
  unchecked(skPacketsOut[sk] = n);
  unchecked(skCwnd[sk] = max(unchecked(skCwnd[sk]), unchecked(skPriorCwnd[sk])));
  unchecked(skSsthresh[sk] = max(unchecked(skSsthresh[sk]), unchecked(skPriorSsthresh[sk])));
  trace(unchecked(skEnt[sk]), N_tcp_undo_loss, <i32>unchecked(skSndUna[sk]), n, unchecked(skCwnd[sk]));
  tcpLossDone(sk);
}

function tcpLossDone(sk: i32): void {
  unchecked(skUndoMarker[sk] = false);
  unchecked(skRetransStamp[sk] = 0);
}

@inline function after(a: u32, b: u32): bool { return <i32>(a - b) > 0; }

// tcp_ack(): free what the peer has, grow cwnd, restart the timer, send more.
function tcpAck(sk: i32, ack: u32, len: i32, tsecr: i64): void {
  if (after(ack, unchecked(skSndUna[sk]))) {
    tcpTryUndoLoss(sk, tsecr);
    let acked = 0;
    let seqRtt: i64 = -1;
    let s = unchecked(skHead[sk]);
    while (s >= 0 && !after(unchecked(skbSeq[s]) + <u32>unchecked(skbLen[s]), ack)) {
      const next = unchecked(skbNext[s]);
      if (unchecked(skbOut[s])) unchecked(skPacketsOut[sk] -= 1);
      if (!unchecked(skbRetrans[s])) seqRtt = now - unchecked(skbXmitTime[s]);
      if (unchecked(skSendHead[sk]) == s) unchecked(skSendHead[sk] = next);
      unchecked(skWmem[sk] -= skbLen[s]);
      kfreeSkb(s);
      acked++;
      s = next;
    }
    // tcp_ack_update_rtt: one sample per ACK, from the echoed timestamp when there is
    // one (tcp_ack_saw_tstamp), else from the newest skb never retransmitted (Karn)
    if (acked > 0 && tsecr > 0) rttSample(sk, now - tsecr);
    else if (seqRtt >= 0) rttSample(sk, seqRtt);
    unchecked(skHead[sk] = s);
    if (s < 0) unchecked(skTail[sk] = -1);
    unchecked(skSndUna[sk] = ack);
    // NewReno (RFC 6582, the Reno path of tcp_fastretrans_alert): in fast recovery an ACK
    // short of the recovery point shows the next hole, resent at once
    if (unchecked(skInRecovery[sk])) {
      if (after(unchecked(skRecover[sk]), ack) && s >= 0) transmitSkb(sk, s, true);
      else unchecked(skInRecovery[sk] = false);
    }
    unchecked(skDupAcks[sk] = 0);
    unchecked(skBackoff[sk] = 0);
    for (let i = 0; i < acked; i++) {
      if (unchecked(skCwnd[sk]) < unchecked(skSsthresh[sk])) unchecked(skCwnd[sk] += 1);
      else {
        unchecked(skCwndCnt[sk] += 1);
        if (unchecked(skCwndCnt[sk]) >= unchecked(skCwnd[sk])) { unchecked(skCwndCnt[sk] = 0); unchecked(skCwnd[sk] += 1); }
      }
    }
    trace(unchecked(skEnt[sk]), N_tcp_ack, <i32>ack, acked, unchecked(skCwnd[sk]));
    if (unchecked(skPacketsOut[sk]) > 0) armRto(sk); else stopRto(sk);
    if (acked > 0) tcpCheckSpace(sk);
  } else if (len == 0 && ack == unchecked(skSndUna[sk]) && unchecked(skPacketsOut[sk]) > 0) {
    unchecked(skDupAcks[sk] += 1);
    if (unchecked(skDupAcks[sk]) == 3 && !unchecked(skInRecovery[sk])) {
      const head = unchecked(skHead[sk]);
      trace(unchecked(skEnt[sk]), N_tcp_fastretrans, <i32>ack);
      unchecked(skInRecovery[sk] = true);
      unchecked(skRecover[sk] = tcpSndNxt(sk));
      unchecked(skSsthresh[sk] = max(unchecked(skPacketsOut[sk]) >> 1, 2));
      unchecked(skCwnd[sk] = unchecked(skSsthresh[sk]));
      transmitSkb(sk, head, true);
    }
  }
  // snd_una past high_seq: the loss episode is over
  if (unchecked(skUndoMarker[sk]) && !after(unchecked(skHighSeq[sk]), unchecked(skSndUna[sk]))) tcpLossDone(sk);
  tcpWriteXmit(sk);
}

// tcp_rtt_estimator() + tcp_set_rto(): rto = srtt + max(4 rttvar, TCP_RTO_MIN)
function rttSample(sk: i32, m: i64): void {
  if (unchecked(skSrtt[sk]) == 0) {
    unchecked(skSrtt[sk] = m);
    unchecked(skRttvar[sk] = m >> 1);
  } else {
    const err = m - unchecked(skSrtt[sk]);
    unchecked(skSrtt[sk] += err >> 3);
    unchecked(skRttvar[sk] += ((err < 0 ? -err : err) - unchecked(skRttvar[sk])) >> 2);
  }
  const v = unchecked(skRttvar[sk]) << 2;
  unchecked(skRto[sk] = unchecked(skSrtt[sk]) + (v > TCP_RTO_MIN ? v : TCP_RTO_MIN));
}

function tcpSendAck(sk: i32): void {
  devQueueXmit(unchecked(skNic[sk]), -1, sk, false);
}

// tcp_v4_rcv() for the packet captured in slot ci travelling in direction dir.
function tcpV4Rcv(dir: i32, ci: i32): void {
  const sk = unchecked(dirSock[dir]);
  const c = capSlot(ci);
  const len = unchecked(capLen[c]);
  const seq = unchecked(capSeq[c]);
  // tcp_store_ts_recent: the timestamp of an in-order segment is the one to echo
  if (seq == unchecked(skRcvNxt[sk])) unchecked(skTsRecent[sk] = capTsval[c]);
  tcpAck(sk, unchecked(capAck[c]), len, unchecked(capTsecr[c]));
  if (len == 0) return;
  if (seq == unchecked(skRcvNxt[sk])) {
    unchecked(skRcvNxt[sk] = seq + <u32>len);
    trace(unchecked(skEnt[sk]), N_tcp_rcv, <i32>seq, len, <i32>unchecked(skRcvNxt[sk]));
    // the segments of the record being received, in order, until its last byte is in
    const off = unchecked(capRecOff[c]);
    if (off == 0) unchecked(skRcvSegs[sk] = 0);
    const n = unchecked(skRcvSegs[sk]);
    assert(n < MAX_RECORD_SEGS, "record has too many segments");
    unchecked(skRcvSeg[sk * MAX_RECORD_SEGS + n] = ci);
    unchecked(skRcvSegs[sk] = n + 1);
    if (off + len == unchecked(capRecLen[c])) skDataReady(sk, ci);
  } else {
    trace(unchecked(skEnt[sk]), N_tcp_ofo, <i32>seq, <i32>unchecked(skRcvNxt[sk]));
  }
  tcpSendAck(sk);
}

export function tcpEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_TCP_RTO) { tcpRetransmitTimer(obj); return true; }
  if (kind == EV_TCP_PUSH) {
    unchecked(skPushPending[obj] = false);
    tcpWriteXmit(obj);
    return true;
  }
  return false;
}

// The write queue oldest first, at most `max` skbs, for snapshots (the Stack view): each
// skb's sequence, record, whether it is in flight or not yet (re)sent, and the page frames
// its fragments pin.
export function tcpWriteQueueJson(sk: i32, max: i32): void {
  jArr();
  let unsent = false;
  for (let s = unchecked(skHead[sk]), n = 0; s >= 0 && n < max; s = unchecked(skbNext[s]), n++) {
    if (s == unchecked(skSendHead[sk])) unsent = true;
    jObj();
    jKI("skb", skbAddr(s));
    jKI("seq", <i64>unchecked(skbSeq[s]));
    jKI("len", unchecked(skbLen[s]));
    jKI("recOff", unchecked(skbRecOff[s]));
    jKI("xid", <i64>unchecked(skbXid[s]));
    jKI("write", unchecked(skbRecA[s]));
    jKB("out", unchecked(skbOut[s]));
    jKB("retrans", unchecked(skbRetrans[s]));
    jKB("unsent", unsent);
    jKey("frags"); jArr();
    for (let f = 0; f < unchecked(skbNrFrags[s]); f++) jInt(unchecked(skbFrag[s * MAX_SKB_FRAGS + f]));
    jEndArr();
    jEndObj();
  }
  jEndArr();
}

// The record whose last segment data_ready was just called with: its segments' capture
// slots, first to last.
export function tcpRcvRecordSegs(sk: i32): i32 { return unchecked(skRcvSegs[sk]); }
export function tcpRcvRecordSeg(sk: i32, i: i32): i32 { return unchecked(skRcvSeg[sk * MAX_RECORD_SEGS + i]); }

export function tcpQueuedBytes(sk: i32): i32 { return unchecked(skWmem[sk]); }
export function tcpUnsentBehind(sk: i32, skb: i32): i32 {
  // skbs ahead of `skb` in the write queue that are not acked yet
  let n = 0;
  for (let s = unchecked(skHead[sk]); s >= 0 && s != skb; s = unchecked(skbNext[s])) n++;
  return n;
}
export function tcpBackoff(sk: i32): i32 { return unchecked(skBackoff[sk]); }
export function tcpCwnd(sk: i32): i32 { return unchecked(skCwnd[sk]); }
export function tcpPacketsOut(sk: i32): i32 { return unchecked(skPacketsOut[sk]); }
export function tcpRetransSegs(sk: i32): i32 { return unchecked(skRetransSegs[sk]); }
export function tcpSndUna(sk: i32): u32 { return unchecked(skSndUna[sk]); }
export function tcpWriteSeq(sk: i32): u32 { return unchecked(skWriteSeq[sk]); }
