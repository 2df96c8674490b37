// knfsd's nfsd threads as scheduled kernel threads, for a server on a modelled TCP socket
// (asm/net/tcp.ts, segments from the NIC model): the nfsd() loop of the 2.6.18-3.x kernels,
// on the knfsd's one request path (asm/nfsd/svc.ts). svc_recv() takes a whole record off
// the socket (svc_sock_class's recvfrom copies its segments into the request's pages),
// nfsd_dispatch() asks the instance's DRC, runs the procedure (the instance's op:
// nfsd3_proc_write -> nfsd_vfs_write, then io_schedule until the write is done),
// nfsd_cache_update() caches the reply and svc_send() sends it. Each step is a thread
// action, traced when the thread runs it.
//
// nfsdStart(k, ...) gives instance k (svcNew) its socket and runs its threads this way.
// What the WRITE does with the data it received (which blocks, what the detectors record)
// is the procedure op's and the lookup hook's: the caller's glue.
import { NSEC_PER_USEC } from "../kernel/clock";
import { fn, name } from "../kernel/names";
import { trace } from "../kernel/trace";
import { threadNew, threadNext, threadSleep, threadSleepTimeout, wakeUpProcess, threadAction, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE } from "../kernel/sched";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { PG_COUNTER, PAGE_SIZE } from "../mm/page";
import { MAX_SKB_FRAGS, REC_CALL, REC_REPLY } from "../net/skbuff";
import { capSlot, capXid, capRecA, capRecB, capRecLen, capNrFrags, capFragOff, capFragPattern, capFragKind, capFragLen, capRecType } from "../net/dev";
import { tcpSendRecord, tcpRcvRecordSegs, tcpRcvRecordSeg, skSetDataReady } from "../net/tcp";
import { NFS3PROC_WRITE } from "../sunrpc/defs";
import { drcCsumWords, RC_DOIT, RC_REPLY, N_nfsd_cache_update } from "./drc";
import {
  MAX_SVC, SV, SvcXprtOps, svcInstances, svcXprtEnqueue, svcRecv, nfsdDispatch, nfsdProcNs, nfsdDone, svcSend, svcSetThreads,
  svcThreads, svcQueued, svcRqstOf, svcRqstEnt, svcRqstRows, rqSeg, rqSegs, rqstXid, rqstProc, rqstBytes, rqstClient,
  rqstCsum, rqstLen,
} from "./svc";

// the threads' comm (its own name id: the scenarios registered after this one keep theirs)
const N_nfsd = name("nfsd");
export const N_svc_recv_wait = name("svc_recv");
export const N_io_schedule = name("io_schedule");
const S_RECV = fn("svc_recv", "xid=%x len=%d");
const S_DISPATCH = fn("nfsd_dispatch", "xid=%x proc=WRITE");
const S_WRITE = fn("nfsd3_proc_write -> nfsd_vfs_write", "xid=%x off=%d count=%d");
const S_UPDATE = N_nfsd_cache_update;
const S_SEND = fn("svc_send", "xid=%x");

// ---- svc_sock_class: the server's connected socket (asm/net/tcp.ts), whose segments the
// NIC captured. svc_xprt_enqueue queues each whole record with its segments (copied into
// the instance's ring: the socket's own record list is reused for the next record), and
// svc_tcp_recvfrom copies them into the request's pages.
const SVC_SEGS: i32 = 1 << 16;
const svcSegTail = zeroed<i32>(MAX_SVC);
const svcSegHead = zeroed<i32>(MAX_SVC);           // the oldest queued record's first segment
let nSegInstances: i32 = 0;                        // instances with a socket (k + 1 of the last)
rowsBegin(MAX_SVC * SVC_SEGS, (): i32 => nSegInstances == 0 ? 0 : (nSegInstances - 1) * SVC_SEGS + min(unchecked(svcSegTail[nSegInstances - 1]), SVC_SEGS));
const svcSeg = zeroed<i32>(MAX_SVC * SVC_SEGS);
rowsEnd();
const svcSk = zeroed<i32>(MAX_SVC);
const svcReplyBytes = zeroed<i32>(MAX_SVC);
const skSvc = zeroed<i32>(1 << 10);                // socket -> instance + 1

// ---- the request rows' data as received (row r, asm/nfsd/svc.ts): the WRITE's arguments
rowsBegin(MAX_SVC * SV, (): i32 => svcRqstRows());
export const nfsdRqRecA = zeroed<i32>(MAX_SVC * SV);    // the call's cookie (the caller's write id)
export const nfsdRqOffBlk = zeroed<i32>(MAX_SVC * SV);  // WRITE3args.offset in pages
export const nfsdRqCount = zeroed<i32>(MAX_SVC * SV);   // WRITE3args.count: payload bytes received
// the data as received: pieces of pages (a page split between two segments is two pieces)
export const MAX_PIECES: i32 = 64;
export const nfsdRqPieces = zeroed<i32>(MAX_SVC * SV);
export const nfsdRqPiecePage = zeroed<i32>(MAX_SVC * SV * MAX_PIECES);
export const nfsdRqPieceOff = zeroed<i32>(MAX_SVC * SV * MAX_PIECES);
export const nfsdRqPiecePattern = zeroed<u32>(MAX_SVC * SV * MAX_PIECES);
export const nfsdRqPieceKind = zeroed<u8>(MAX_SVC * SV * MAX_PIECES);
rowsEnd();
const serverPfns = zeroed<i32>(1);

// WRITE3args up to the data: fh (4 + 32) offset 8 count 4 stable 4 data length 4
const RPC_WRITE_CALL_ARGS: i32 = 56;

// nfsd_cache_csum(): the first 256 bytes of the arguments: 14 header words, 50 data words.
function argsCsum(r: i32): u32 {
  let s: u32 = 0;
  s = drcCsumWords(s, <u32>unchecked(nfsdRqOffBlk[r]) * <u32>PAGE_SIZE);
  s = drcCsumWords(s, <u32>unchecked(nfsdRqCount[r]));
  // (all in the first piece: the first segment carries 1320 bytes of data)
  const k = unchecked(nfsdRqPieceKind[r * MAX_PIECES]);
  const p = unchecked(nfsdRqPiecePattern[r * MAX_PIECES]);
  for (let j = 0; j < 50; j++) s = drcCsumWords(s, bswap<u32>(k == PG_COUNTER ? p + <u32>j : p));
  return s;
}

const svc_sock_class = new SvcXprtOps();
// svc_tcp_recvfrom(): the record's segments are copied into the request's pages; the DRC's
// key is the arguments' checksum and length (one client: the socket is connected to it)
svc_sock_class.recvfrom = (k: i32, q: i32, r: i32): bool => {
  const seg0 = unchecked(rqSeg[q]), nseg = unchecked(rqSegs[q]);
  unchecked(svcSegHead[k] = seg0 + nseg);
  const c0 = capSlot(unchecked(svcSeg[k * SVC_SEGS + (seg0 & (SVC_SEGS - 1))]));
  unchecked(rqstXid[r] = capXid[c0]);
  unchecked(rqstProc[r] = NFS3PROC_WRITE);
  unchecked(rqstBytes[r] = capRecLen[c0]);
  unchecked(nfsdRqRecA[r] = capRecA[c0]);
  unchecked(nfsdRqOffBlk[r] = capRecB[c0]);
  let count = 0;
  let np = 0;
  let page = -1;
  for (let i = 0; i < nseg; i++) {
    const c = capSlot(unchecked(svcSeg[k * SVC_SEGS + ((seg0 + i) & (SVC_SEGS - 1))]));
    for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
      const off = unchecked(capFragOff[c * MAX_SKB_FRAGS + f]);
      if (off == 0) page++;
      assert(np < MAX_PIECES, "WRITE has too many pieces");
      const p = r * MAX_PIECES + np++;
      unchecked(nfsdRqPiecePage[p] = page);
      unchecked(nfsdRqPieceOff[p] = off);
      unchecked(nfsdRqPiecePattern[p] = capFragPattern[c * MAX_SKB_FRAGS + f]);
      unchecked(nfsdRqPieceKind[p] = capFragKind[c * MAX_SKB_FRAGS + f]);
      count += capFragLen[c * MAX_SKB_FRAGS + f];
    }
  }
  unchecked(nfsdRqCount[r] = count);
  unchecked(nfsdRqPieces[r] = np);
  unchecked(rqstClient[r] = 0);
  unchecked(rqstCsum[r] = argsCsum(r));
  unchecked(rqstLen[r] = RPC_WRITE_CALL_ARGS + count);
  return true;
};
// WRITE3resok.count: what was written (a reply's recB; a call's is its offset block)
svc_sock_class.sendto = (k: i32, r: i32): bool => {
  tcpSendRecord(unchecked(svcSk[k]), svcRqstEnt(r), REC_REPLY, unchecked(rqstXid[r]), unchecked(nfsdRqRecA[r]), unchecked(nfsdRqCount[r]), unchecked(svcReplyBytes[k]), serverPfns, 0, 0, 0, false, -1);
  return true;
};

// the server socket's sk_data_ready: a whole call record arrived
function svcDataReady(sk: i32, ci: i32): void {
  if (unchecked(capRecType[capSlot(ci)]) != REC_CALL) return;
  const k = unchecked(skSvc[sk]) - 1;
  const n = tcpRcvRecordSegs(sk);
  let segTail = unchecked(svcSegTail[k]);
  const seg0 = segTail;
  assert(segTail + n - unchecked(svcSegHead[k]) <= SVC_SEGS, "svc segment ring overflow");
  for (let i = 0; i < n; i++) unchecked(svcSeg[k * SVC_SEGS + ((segTail++) & (SVC_SEGS - 1))] = tcpRcvRecordSeg(sk, i));
  unchecked(svcSegTail[k] = segTail);
  svcXprtEnqueue(k, svc_sock_class, 0, NFS3PROC_WRITE, 0, 0, 0, seg0, n);
}

// ---- the nfsd threads (row r = the thread's own request row, k * SV + n)
export const MAX_NFSD: i32 = 16;
const nfsdThread = zeroed<i32>(MAX_SVC * MAX_NFSD);
const nfsdIdle = zeroed<bool>(MAX_SVC * MAX_NFSD);
// entity -> request row + 1
const nfsdRowOf = zeroed<i32>(1 << 14);

// svc_xprt_enqueue's wake-up: the first idle thread
function kthreadWake(k: i32): void {
  for (let n = k * MAX_NFSD; n < k * MAX_NFSD + svcThreads(k); n++) {
    if (unchecked(nfsdIdle[n])) {
      unchecked(nfsdIdle[n] = false);
      wakeUpProcess(unchecked(nfsdThread[n]));
      return;
    }
  }
}

function nfsdStep(t: i32, r: i32, a: i32): void {
  const k = r / SV;
  if (a == S_RECV) {
    if (svcQueued(k) == 0) {
      unchecked(nfsdIdle[k * MAX_NFSD + r % SV] = true);
      threadSleep(t, TASK_INTERRUPTIBLE, N_svc_recv_wait, S_RECV, 2 * NSEC_PER_USEC);
      return;
    }
    // (a TCP connection that went away took its call with it: the next one)
    if (!svcRecv(k, r, t)) { threadNext(t, S_RECV, 2 * NSEC_PER_USEC); return; }
    trace(t, S_RECV, <i32>unchecked(rqstXid[r]), unchecked(rqstBytes[r]));
    threadNext(t, S_DISPATCH, 5 * NSEC_PER_USEC);
    return;
  }
  const xid = unchecked(rqstXid[r]);
  if (a == S_DISPATCH) {
    trace(t, S_DISPATCH, <i32>xid);
    const res = nfsdDispatch(k, r);
    if (res == RC_DOIT) threadNext(t, S_WRITE, 10 * NSEC_PER_USEC);
    else if (res == RC_REPLY) threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    else threadNext(t, S_RECV, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == S_WRITE) {
    trace(t, S_WRITE, <i32>xid, unchecked(nfsdRqOffBlk[r]) * PAGE_SIZE, unchecked(nfsdRqCount[r]));
    threadSleepTimeout(t, TASK_UNINTERRUPTIBLE, N_io_schedule, nfsdProcNs(k, r), S_UPDATE, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == S_UPDATE) {
    trace(t, S_UPDATE, <i32>xid);
    nfsdDone(k, r);
    threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == S_SEND) {
    trace(t, S_SEND, <i32>xid);
    svcSend(k, r);
    threadNext(t, S_RECV, 2 * NSEC_PER_USEC);
  }
}

// The caller's step hook: true if t is an nfsd thread (its step is run).
export function nfsdRun(t: i32): bool {
  const r = t < (1 << 14) ? unchecked(nfsdRowOf[t]) - 1 : -1;
  if (r < 0) return false;
  nfsdStep(t, r, threadAction(t));
  return true;
}

// The nfsd threads of instance k (svcNew's threads, all of them nfsd) as scheduled kernel
// threads, serving its socket and any other transport of k (the UDP socket, TCP connections).
export class NfsdOptions {
  sk: i32 = -1;                    // the server's connected socket (asm/net/tcp.ts), -1: none
  cpu0: i32 = 0;                   // threads alternate between cpu0 and cpu0 + 1
  pid0: i32 = 200;
  replyBytes: i32 = 0;             // a WRITE reply record's size
}

export function nfsdStart(k: i32, o: NfsdOptions): void {
  assert(k >= 0 && k < svcInstances(), "nfsdStart: no such knfsd");
  assert(o.sk >= -1 && o.sk < (1 << 10), "nfsdStart: no such socket");
  assert(svcThreads(k) <= MAX_NFSD, "nfsdStart: the knfsd has more than 16 threads");
  if (o.sk >= 0) {
    assert(o.replyBytes > 0, "nfsdStart: replyBytes must be > 0");
    unchecked(svcSk[k] = o.sk);
    unchecked(skSvc[o.sk] = k + 1);
    unchecked(svcReplyBytes[k] = o.replyBytes);
    if (k + 1 > nSegInstances) nSegInstances = k + 1;
    skSetDataReady(o.sk, svcDataReady);
  }
  svcSetThreads(k, kthreadWake);
  for (let n = 0; n < svcThreads(k); n++) {
    const t = threadNew(N_nfsd, o.pid0 + n, o.cpu0 + (n & 1), S_RECV, 2 * NSEC_PER_USEC);
    unchecked(nfsdThread[k * MAX_NFSD + n] = t);
    assert(t < (1 << 14), "nfsdStart: entity table");
    unchecked(nfsdRowOf[t] = svcRqstOf(k, n) + 1);
  }
}
