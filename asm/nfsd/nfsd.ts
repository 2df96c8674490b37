// knfsd's nfsd threads as scheduled kernel threads, for a server on a modelled TCP socket
// (asm/net/tcp.ts, segments from the NIC model): the nfsd() loop of the 2.6.18-3.x kernels.
// svc_recv() takes a whole record off the socket (svc_tcp_recvfrom copies its segments into
// the request's pages), nfsd_dispatch() asks the instance's DRC (nfsd_cache_lookup), runs
// the procedure (nfsd3_proc_write -> nfsd_vfs_write, then io_schedule until the write is
// done), nfsd_cache_update() caches the reply and svc_send() sends it.
//
// These threads belong to a knfsd instance k (asm/nfsd/svc.ts's svcNew): nfsdStart(k, ...)
// gives it its socket and its procedure op. What the WRITE does with the data it received
// (which blocks, what the detectors record) is the op's: the caller's glue.
import { NSEC_PER_USEC } from "../kernel/clock";
import { fn, name } from "../kernel/names";
import { trace } from "../kernel/trace";
import { threadNew, threadNext, threadSleep, threadSleepTimeout, wakeUpProcess, threadAction, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE } from "../kernel/sched";
import { zeroed } from "../kernel/mem";
import { PG_COUNTER, PAGE_SIZE } from "../mm/page";
import { MAX_SKB_FRAGS, REC_CALL, REC_REPLY } from "../net/skbuff";
import { capSlot, capXid, capRecA, capRecB, capRecLen, capNrFrags, capFragOff, capFragPattern, capFragKind, capFragLen, capRecType } from "../net/dev";
import { tcpSendRecord, tcpRcvRecordSegs, tcpRcvRecordSeg, skSetDataReady } from "../net/tcp";
import { nfsdCacheLookup, nfsdCacheUpdate, drcLookupEntry, drcCsumWords, RC_DOIT, RC_REPLY, N_nfsd_cache_lookup, N_nfsd_cache_update, N_RC_DOIT, N_RC_REPLY, N_RC_DROPIT } from "./drc";
import { MAX_SVC, srvDrc } from "./svc";

// the threads' comm (its own name id: the scenarios registered after this one keep theirs)
const N_nfsd = name("nfsd");
export const N_svc_recv_wait = name("svc_recv");
export const N_io_schedule = name("io_schedule");
const S_RECV = fn("svc_recv", "xid=%x len=%d");
const S_DISPATCH = fn("nfsd_dispatch", "xid=%x proc=WRITE");
const S_WRITE = fn("nfsd3_proc_write -> nfsd_vfs_write", "xid=%x off=%d count=%d");
const S_UPDATE = N_nfsd_cache_update;
const S_SEND = fn("svc_send", "xid=%x");

// ---- per instance: received calls (each the capture slots of its segments)
const SVC_Q: i32 = 4096;
const svcQ = zeroed<i32>(MAX_SVC * SVC_Q);        // first of the call's segments in svcSeg
const svcQSegs = zeroed<i32>(MAX_SVC * SVC_Q);
const SVC_SEGS: i32 = 1 << 16;
const svcSeg = zeroed<i32>(MAX_SVC * SVC_SEGS);
const svcSegTail = zeroed<i32>(MAX_SVC);
const svcHead = zeroed<i32>(MAX_SVC);
const svcTail = zeroed<i32>(MAX_SVC);
const svcSk = zeroed<i32>(MAX_SVC);
const svcNThreads = zeroed<i32>(MAX_SVC);
const svcReplyBytes = zeroed<i32>(MAX_SVC);
// the instance's procedure op: nfsd3_proc_write's work on request row r (the data as
// received is nfsdRqPiece*), returning how long the thread then waits in io_schedule
const svcProcWrite = zeroed<usize>(MAX_SVC);
// and what the caller's detectors see of each nfsd_cache_lookup: (row, thread, result)
const svcOnLookup = zeroed<usize>(MAX_SVC);
const skSvc = zeroed<i32>(1 << 10);                // socket -> instance + 1

// ---- per nfsd thread (row r = k * MAX_NFSD + n): the request it works on
export const MAX_NFSD: i32 = 16;
const nfsdThread = zeroed<i32>(MAX_SVC * MAX_NFSD);
const nfsdIdle = zeroed<bool>(MAX_SVC * MAX_NFSD);
export const nfsdRqXid = zeroed<u32>(MAX_SVC * MAX_NFSD);
export const nfsdRqRecA = zeroed<i32>(MAX_SVC * MAX_NFSD);    // the call's cookie (the caller's write id)
export const nfsdRqOffBlk = zeroed<i32>(MAX_SVC * MAX_NFSD);  // WRITE3args.offset in pages
export const nfsdRqCount = zeroed<i32>(MAX_SVC * MAX_NFSD);   // WRITE3args.count: payload bytes received
// the data as received: pieces of pages (a page split between two segments is two pieces)
export const MAX_PIECES: i32 = 64;
export const nfsdRqPieces = zeroed<i32>(MAX_SVC * MAX_NFSD);
export const nfsdRqPiecePage = zeroed<i32>(MAX_SVC * MAX_NFSD * MAX_PIECES);
export const nfsdRqPieceOff = zeroed<i32>(MAX_SVC * MAX_NFSD * MAX_PIECES);
export const nfsdRqPiecePattern = zeroed<u32>(MAX_SVC * MAX_NFSD * MAX_PIECES);
export const nfsdRqPieceKind = zeroed<u8>(MAX_SVC * MAX_NFSD * MAX_PIECES);
const rqEntry = zeroed<i32>(MAX_SVC * MAX_NFSD);
const serverPfns = zeroed<i32>(1);
// entity -> row + 1
const nfsdRowOf = zeroed<i32>(1 << 14);

// svc_xprt_enqueue: the record is queued and an idle thread woken
function svcEnqueue(k: i32, sk: i32): void {
  const head = unchecked(svcHead[k]), tail = unchecked(svcTail[k]);
  assert(tail - head < SVC_Q, "svc queue overflow");
  const n = tcpRcvRecordSegs(sk);
  let segTail = unchecked(svcSegTail[k]);
  assert(tail == head || segTail + n - unchecked(svcQ[k * SVC_Q + (head & (SVC_Q - 1))]) <= SVC_SEGS, "svc segment ring overflow");
  unchecked(svcQ[k * SVC_Q + (tail & (SVC_Q - 1))] = segTail);
  unchecked(svcQSegs[k * SVC_Q + (tail & (SVC_Q - 1))] = n);
  for (let i = 0; i < n; i++) unchecked(svcSeg[k * SVC_SEGS + ((segTail++) & (SVC_SEGS - 1))] = tcpRcvRecordSeg(sk, i));
  unchecked(svcSegTail[k] = segTail);
  unchecked(svcTail[k] = tail + 1);
  for (let r = k * MAX_NFSD; r < k * MAX_NFSD + unchecked(svcNThreads[k]); r++) {
    if (unchecked(nfsdIdle[r])) {
      unchecked(nfsdIdle[r] = false);
      wakeUpProcess(unchecked(nfsdThread[r]));
      return;
    }
  }
}

// svc_tcp_recvfrom(): the record's segments are copied into the request's pages
function svcRecv(k: i32, t: i32, r: i32): void {
  const head = unchecked(svcHead[k]);
  const seg0 = unchecked(svcQ[k * SVC_Q + (head & (SVC_Q - 1))]);
  const nseg = unchecked(svcQSegs[k * SVC_Q + (head & (SVC_Q - 1))]);
  unchecked(svcHead[k] = head + 1);
  const c0 = capSlot(unchecked(svcSeg[k * SVC_SEGS + (seg0 & (SVC_SEGS - 1))]));
  unchecked(nfsdRqXid[r] = capXid[c0]);
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
  trace(t, S_RECV, <i32>unchecked(nfsdRqXid[r]), unchecked(capRecLen[c0]));
}

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

function nfsdStep(t: i32, r: i32, a: i32): void {
  const k = r / MAX_NFSD;
  if (a == S_RECV) {
    if (unchecked(svcHead[k]) == unchecked(svcTail[k])) {
      unchecked(nfsdIdle[r] = true);
      threadSleep(t, TASK_INTERRUPTIBLE, N_svc_recv_wait, S_RECV, 2 * NSEC_PER_USEC);
      return;
    }
    svcRecv(k, t, r);
    threadNext(t, S_DISPATCH, 5 * NSEC_PER_USEC);
    return;
  }
  const xid = unchecked(nfsdRqXid[r]);
  if (a == S_DISPATCH) {
    trace(t, S_DISPATCH, <i32>xid);
    const d = unchecked(srvDrc[k]);
    const csum = argsCsum(r);
    // one client: the server's socket is connected to it
    const res = nfsdCacheLookup(d, xid, 0, csum, RPC_WRITE_CALL_ARGS + unchecked(nfsdRqCount[r]));
    unchecked(rqEntry[r] = unchecked(drcLookupEntry[d]));
    trace(t, N_nfsd_cache_lookup, <i32>xid, res == RC_DOIT ? N_RC_DOIT : res == RC_REPLY ? N_RC_REPLY : N_RC_DROPIT, <i32>csum);
    changetype<(r: i32, t: i32, res: i32) => void>(unchecked(svcOnLookup[k]))(r, t, res);
    if (res == RC_DOIT) threadNext(t, S_WRITE, 10 * NSEC_PER_USEC);
    else if (res == RC_REPLY) threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    else threadNext(t, S_RECV, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == S_WRITE) {
    trace(t, S_WRITE, <i32>xid, unchecked(nfsdRqOffBlk[r]) * PAGE_SIZE, unchecked(nfsdRqCount[r]));
    const waitNs = changetype<(r: i32) => i64>(unchecked(svcProcWrite[k]))(r);
    threadSleepTimeout(t, TASK_UNINTERRUPTIBLE, N_io_schedule, waitNs, S_UPDATE, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == S_UPDATE) {
    trace(t, S_UPDATE, <i32>xid);
    nfsdCacheUpdate(unchecked(rqEntry[r]));
    threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == S_SEND) {
    trace(t, S_SEND, <i32>xid);
    // WRITE3resok.count: what was written (a reply's recB; a call's is its offset block)
    tcpSendRecord(unchecked(svcSk[k]), t, REC_REPLY, xid, unchecked(nfsdRqRecA[r]), unchecked(nfsdRqCount[r]), unchecked(svcReplyBytes[k]), serverPfns, 0, 0, 0, false, -1);
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

// the server socket's sk_data_ready: a whole call record arrived
function svcDataReady(sk: i32, ci: i32): void {
  if (unchecked(capRecType[capSlot(ci)]) == REC_CALL) svcEnqueue(unchecked(skSvc[sk]) - 1, sk);
}

// The nfsd threads of instance k on a TCP socket, as in the kernel, all of them nfsd.
export class NfsdOptions {
  sk: i32 = -1;                    // the server's connected socket (asm/net/tcp.ts)
  threads: i32 = 8;
  cpu0: i32 = 0;                   // threads alternate between cpu0 and cpu0 + 1
  pid0: i32 = 200;
  replyBytes: i32 = 0;             // a WRITE reply record's size
  procWrite: (r: i32) => i64 = (r: i32): i64 => 0;
  onLookup: (r: i32, t: i32, res: i32) => void = (r: i32, t: i32, res: i32): void => {};
}

export function nfsdStart(k: i32, o: NfsdOptions): void {
  assert(k >= 0 && k < MAX_SVC && unchecked(srvDrc[k]) >= 0, "nfsdStart: no such knfsd, or it has no DRC");
  assert(o.sk >= 0 && o.sk < (1 << 10), "nfsdStart: needs the server's socket");
  assert(o.threads >= 1 && o.threads <= MAX_NFSD, "nfsdStart: threads must be 1..16");
  assert(o.replyBytes > 0, "nfsdStart: replyBytes must be > 0");
  unchecked(svcSk[k] = o.sk);
  unchecked(skSvc[o.sk] = k + 1);
  unchecked(svcNThreads[k] = o.threads);
  unchecked(svcReplyBytes[k] = o.replyBytes);
  unchecked(svcProcWrite[k] = changetype<usize>(o.procWrite));
  unchecked(svcOnLookup[k] = changetype<usize>(o.onLookup));
  skSetDataReady(o.sk, svcDataReady);
  for (let n = 0; n < o.threads; n++) {
    const t = threadNew(N_nfsd, o.pid0 + n, o.cpu0 + (n & 1), S_RECV, 2 * NSEC_PER_USEC);
    const r = k * MAX_NFSD + n;
    unchecked(nfsdThread[r] = t);
    assert(t < (1 << 14), "nfsdStart: entity table");
    unchecked(nfsdRowOf[t] = r + 1);
  }
}
