// nfs-odirect-retransmit: the server side, knfsd as the seed's 2.6.18-era server runs it:
// svc_recv() takes a whole record off the TCP socket, nfsd_dispatch() asks the DRC
// (asm/nfsd/drc.ts), nfsd3_proc_write() writes the pieces as received to the disk, and
// svc_send() replies. (A TCP server over the modelled wire, unlike asm/nfsd/svc.ts.)
import { NSEC_PER_USEC } from "../../kernel/clock";
import { randDuration } from "../../kernel/prng";
import { trace } from "../../kernel/trace";
import { threadNew, threadNext, threadSleep, threadSleepTimeout, wakeUpProcess, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE } from "../../kernel/sched";
import { zeroed } from "../../kernel/mem";
import { PG_COUNTER, PAGE_SIZE } from "../../mm/page";
import { MAX_SKB_FRAGS, REC_CALL, REC_REPLY } from "../../net/skbuff";
import { capSlot, capXid, capRecA, capRecB, capRecLen, capNrFrags, capFragOff, capFragPattern, capFragKind, capFragLen, capRecType } from "../../net/dev";
import { tcpSendRecord, tcpRcvRecordSegs, tcpRcvRecordSeg } from "../../net/tcp";
import { RPC_WRITE_REPLY_LEN } from "../../nfs/direct";
import {
  nfsdCacheLookup, nfsdCacheUpdate, lookupEntry, lastMissWhy, lastEntryAge, drcCsumWords,
  RC_DOIT, RC_REPLY, N_nfsd_cache_lookup, N_RC_DOIT, N_RC_REPLY, N_RC_DROPIT,
} from "../../nfsd/drc";
import { diskWriteBlock } from "../../block/disk";
import { N_dup_seen, N_io_schedule, N_nfsd, N_svc_recv_wait, S_DISPATCH, S_RECV, S_SEND, S_SERVER, S_UPDATE, S_WRITE } from "./defs";
import { expectedWord, wDupAge, wDupGarbage, wDupResult, wDupWhy, wExecuted, wServerSeen, writeBytes } from "./workload";

// ---- knfsd: received calls (each the capture slots of its segments), and what each nfsd
// thread is working on
const SVC_Q: i32 = 4096;
const svcQ = zeroed<i32>(SVC_Q);        // first of the call's segments in svcSeg
const svcQSegs = zeroed<i32>(SVC_Q);
const SVC_SEGS: i32 = 1 << 16;
const svcSeg = zeroed<i32>(SVC_SEGS);
let svcSegTail: i32 = 0;
let svcHead: i32 = 0;
let svcTail: i32 = 0;
const MAX_NFSD: i32 = 16;
const nfsdThread = zeroed<i32>(MAX_NFSD);
const nfsdIdle = zeroed<bool>(MAX_NFSD);
const rqXid = zeroed<u32>(MAX_NFSD);
const rqWrite = zeroed<i32>(MAX_NFSD);
const rqOffBlk = zeroed<i32>(MAX_NFSD);
const rqCount = zeroed<i32>(MAX_NFSD);   // the WRITE's count: payload bytes received
// the data as received: pieces of pages (a page split between two segments is two pieces)
const MAX_PIECES: i32 = 64;
const rqPieces = zeroed<i32>(MAX_NFSD);
const rqPiecePage = zeroed<i32>(MAX_NFSD * MAX_PIECES);
const rqPieceOff = zeroed<i32>(MAX_NFSD * MAX_PIECES);
const rqPattern = zeroed<u32>(MAX_NFSD * MAX_PIECES);
const rqKind = zeroed<u8>(MAX_NFSD * MAX_PIECES);
const rqEntry = zeroed<i32>(MAX_NFSD);
const nNfsd: i32 = 8;
const serverPfns = zeroed<i32>(1);
export let serverSk: i32 = -1;

function svcEnqueue(sk: i32): void {
  assert(svcTail - svcHead < SVC_Q, "svc queue overflow");
  const n = tcpRcvRecordSegs(sk);
  assert(svcTail == svcHead || svcSegTail + n - unchecked(svcQ[svcHead & (SVC_Q - 1)]) <= SVC_SEGS, "svc segment ring overflow");
  unchecked(svcQ[svcTail & (SVC_Q - 1)] = svcSegTail);
  unchecked(svcQSegs[svcTail & (SVC_Q - 1)] = n);
  for (let i = 0; i < n; i++) unchecked(svcSeg[(svcSegTail++) & (SVC_SEGS - 1)] = tcpRcvRecordSeg(sk, i));
  svcTail++;
  for (let n = 0; n < nNfsd; n++) {
    if (unchecked(nfsdIdle[n])) {
      unchecked(nfsdIdle[n] = false);
      wakeUpProcess(unchecked(nfsdThread[n]));
      return;
    }
  }
}

export function nfsdStep(t: i32, n: i32, a: i32): void {
  if (a == S_RECV) {
    if (svcHead == svcTail) {
      unchecked(nfsdIdle[n] = true);
      threadSleep(t, TASK_INTERRUPTIBLE, N_svc_recv_wait, S_RECV, 2 * NSEC_PER_USEC);
      return;
    }
    const seg0 = unchecked(svcQ[svcHead & (SVC_Q - 1)]);
    const nseg = unchecked(svcQSegs[svcHead & (SVC_Q - 1)]);
    svcHead++;
    // svc_tcp_recvfrom(): the record's segments are copied into the request's pages
    const c0 = capSlot(unchecked(svcSeg[seg0 & (SVC_SEGS - 1)]));
    unchecked(rqXid[n] = capXid[c0]);
    unchecked(rqWrite[n] = capRecA[c0]);
    unchecked(rqOffBlk[n] = capRecB[c0]);
    unchecked(rqCount[n] = 0);
    let np = 0;
    let page = -1;
    for (let i = 0; i < nseg; i++) {
      const c = capSlot(unchecked(svcSeg[(seg0 + i) & (SVC_SEGS - 1)]));
      for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
        const off = unchecked(capFragOff[c * MAX_SKB_FRAGS + f]);
        if (off == 0) page++;
        assert(np < MAX_PIECES, "WRITE has too many pieces");
        const k = n * MAX_PIECES + np++;
        unchecked(rqPiecePage[k] = page);
        unchecked(rqPieceOff[k] = off);
        unchecked(rqPattern[k] = capFragPattern[c * MAX_SKB_FRAGS + f]);
        unchecked(rqKind[k] = capFragKind[c * MAX_SKB_FRAGS + f]);
        unchecked(rqCount[n] += capFragLen[c * MAX_SKB_FRAGS + f]);
      }
    }
    unchecked(rqPieces[n] = np);
    trace(t, S_RECV, <i32>unchecked(rqXid[n]), unchecked(capRecLen[c0]));
    threadNext(t, S_DISPATCH, 5 * NSEC_PER_USEC);
    return;
  }
  const xid = unchecked(rqXid[n]);
  const w = unchecked(rqWrite[n]);
  if (a == S_DISPATCH) {
    trace(t, S_DISPATCH, <i32>xid);
    const len = RPC_WRITE_CALL_ARGS + writeBytes;
    const r = nfsdCacheLookup(xid, argsCsum(n), len);
    unchecked(rqEntry[n] = lookupEntry);
    const res = r == RC_DOIT ? N_RC_DOIT : r == RC_REPLY ? N_RC_REPLY : N_RC_DROPIT;
    trace(t, N_nfsd_cache_lookup, <i32>xid, res, <i32>argsCsum(n));
    const seen = unchecked(wServerSeen[w]);
    unchecked(wServerSeen[w] = seen + 1);
    if (seen > 0) {
      const garbage = !payloadMatches(n, w);
      unchecked(wDupResult[w] = res);
      unchecked(wDupWhy[w] = r == RC_DOIT ? lastMissWhy : 0);
      unchecked(wDupGarbage[w] = garbage);
      unchecked(wDupAge[w] = lastEntryAge);
      trace(t, N_dup_seen, <i32>xid, res, garbage ? 1 : 0);
    }
    if (r == RC_DOIT) threadNext(t, S_WRITE, 10 * NSEC_PER_USEC);
    else if (r == RC_REPLY) threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    else threadNext(t, S_RECV, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == S_WRITE) {
    const off = unchecked(rqOffBlk[n]);
    trace(t, S_WRITE, <i32>xid, off * PAGE_SIZE, writeBytes);
    for (let i = 0; i < unchecked(rqPieces[n]); i++) {
      const k = n * MAX_PIECES + i;
      diskWriteBlock(off + unchecked(rqPiecePage[k]), unchecked(rqPieceOff[k]), unchecked(rqKind[k]), unchecked(rqPattern[k]), w, xid);
    }
    unchecked(wExecuted[w] += 1);
    threadSleepTimeout(t, TASK_UNINTERRUPTIBLE, N_io_schedule, randDuration(S_SERVER, 300 * NSEC_PER_USEC), S_UPDATE, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == S_UPDATE) {
    trace(t, S_UPDATE, <i32>xid);
    nfsdCacheUpdate(unchecked(rqEntry[n]));
    threadNext(t, S_SEND, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == S_SEND) {
    trace(t, S_SEND, <i32>xid);
    // WRITE3resok.count: what was written (a reply's recB; a call's is its offset block)
    tcpSendRecord(serverSk, t, REC_REPLY, xid, w, unchecked(rqCount[n]), RPC_WRITE_REPLY_LEN, serverPfns, 0, 0, 0, false, -1);
    threadNext(t, S_RECV, 2 * NSEC_PER_USEC);
    return;
  }
}

// WRITE3args up to the data: fh (4 + 32) offset 8 count 4 stable 4 data length 4
const RPC_WRITE_CALL_ARGS: i32 = 56;

// nfsd_cache_csum(): the first 256 bytes of the arguments: 14 header words, 50 data words.
function argsCsum(n: i32): u32 {
  let s: u32 = 0;
  s = drcCsumWords(s, <u32>unchecked(rqOffBlk[n]) * <u32>PAGE_SIZE);
  s = drcCsumWords(s, <u32>writeBytes);
  // (all in the first piece: the first segment carries 1320 bytes of data)
  for (let j = 0; j < 50; j++) {
    const k = unchecked(rqKind[n * MAX_PIECES]);
    const p = unchecked(rqPattern[n * MAX_PIECES]);
    s = drcCsumWords(s, bswap<u32>(k == PG_COUNTER ? p + <u32>j : p));
  }
  return s;
}

function payloadMatches(n: i32, w: i32): bool {
  for (let i = 0; i < unchecked(rqPieces[n]); i++) {
    const k = n * MAX_PIECES + i;
    if (unchecked(rqKind[k]) != PG_COUNTER) return false;
    if (unchecked(rqPattern[k]) != expectedWord(w, unchecked(rqPiecePage[k]), 0)) return false;
  }
  return true;
}
// entity -> nfsd index + 1
const nfsdIndexOf = zeroed<i32>(1 << 14);

export function nfsdOf(t: i32): i32 { return unchecked(nfsdIndexOf[t]) - 1; }

// The nfsd threads, on the server's CPUs (2-3), replying on socket sk.
export function nfsdStart(sk: i32): void {
  serverSk = sk;
  for (let n = 0; n < nNfsd; n++) {
    const t = threadNew(N_nfsd, 200 + n, 2 + (n & 1), S_RECV, 2 * NSEC_PER_USEC);
    unchecked(nfsdThread[n] = t);
    unchecked(nfsdIndexOf[t] = n + 1);
  }
}
// the server socket's sk_data_ready (the client's is xprtsock's)
export function svcDataReady(sk: i32, ci: i32): void {
  if (unchecked(capRecType[capSlot(ci)]) == REC_CALL) svcEnqueue(sk);
}
