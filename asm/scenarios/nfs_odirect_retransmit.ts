// nfs-odirect-retransmit (seed 003): blktest2 (or Xen guest -> blkback -> blktap2 ->
// tapdisk2) O_DIRECT writes -> NFS direct write -> SUNRPC over TCP (zero-copy sendpage)
// -> TCP -> NIC -> a link that stalls for 65 s every 1000 packets -> knfsd (DRC) -> disk.
//
// Nothing here decides the outcome: a WRITE's retransmission is queued in the socket
// behind data TCP cannot send while it backs off; if the reply to the first transmission
// gets through first, the write completes, the buffer is reused (or unmapped), and the
// NIC later reads whatever the pages hold. The detectors compare the wire and the disk
// with what the application had in its buffer when it issued each write.
import { now, NSEC_PER_SEC, NSEC_PER_USEC } from "../kernel/clock";
import { fn, name, CAT_ANOMALY, CAT_LOG } from "../kernel/names";
import { knob, patch, scenario, kv, kvi, patched } from "../kernel/config";
import { stream, randDuration, randU32 } from "../kernel/prng";
import { trace, traceAnomaly } from "../kernel/trace";
import { scheduleIn } from "../kernel/events";
import { setHooks } from "../kernel/hooks";
import { eventKind } from "../kernel/events";
import {
  cpusInit, entNew, threadNew, threadNext, threadSleep, threadSleepTimeout, threadExit,
  wakeUpProcess, threadAction, threadCpu, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE,
} from "../kernel/sched";
import { hungTaskInit } from "../kernel/hungtask";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../kernel/timing";
import { setTimeLimit, worldStop, setVerdict, setStopOnHung, VERDICT_CORRUPTION, VERDICT_CRASH } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jInt, jKI, jKB, jKName, jKN, jName } from "../kernel/json";
import { allocPage, pageFill, pageCount, pageMapped, pagePattern, pageKind, pageForeign, PG_COUNTER, PG_FILL, PAGE_SIZE, PAGE_WORDS } from "../mm/page";
import { tap, tapCount, tapTime, tapNameAt, tapAAt, tapBAt } from "../mm/tap";
import { MAX_SKB_FRAGS, REC_CALL, REC_REPLY, skbRecA, skbXid, skbAddr } from "../net/skbuff";
import {
  devLinkInit, devStalls, nicNew, devEvent, N_bnx2_start_xmit, setDmaFault, capCount, capFirst, capSlot,
  capTime, capDir, capSeq, capAck, capLen, capRecType, capXid, capRecA, capRecB, capNrFrags,
  capFragPattern, capFragKind, capFragLen, capFragOff, capRecOff, capRecLen, capFate, capRetrans, stallCount,
  firstStallAt, FATE_DELIVERED, nicStartXmitName, setOnCapture,
} from "../net/dev";
import {
  tcpInit, tcpSockNew, tcpEvent, tcpSendRecord, skSetDataReady, tcpQueuedBytes, tcpRetransSegs, tcpWriteQueueJson,
  tcpRcvRecordSegs, tcpRcvRecordSeg, TCP_MSS,
} from "../net/tcp";
import { XPRT_TCP, JIFFY, RPC_DEF_SLOT_TABLE } from "../sunrpc/defs";
import { rpciodInit, isRpciod, rpciodStep } from "../sunrpc/sched";
import { setPatches, setDequeueOnComplete, xprtInitXid, xNDequeuedOnComplete } from "../sunrpc/xprt";
import { clntInit, nMajorTimeouts, nMinorTimeouts } from "../sunrpc/clnt";
import { xsSetup, xsTcpAttachSocket, sunrpcEvent } from "../sunrpc/xprtsock";
import { nfsDirectInit, nfsDirectWriteSchedule, dreqXid, RPC_WRITE_CALL_HDR, RPC_WRITE_REPLY_LEN } from "../nfs/direct";
import {
  drcInit, nfsdCacheLookup, nfsdCacheUpdate, lookupEntry, lastMissWhy, lastEntryAge, drcCsumWords,
  RC_DOIT, RC_REPLY, RC_DROPIT, N_nfsd_cache_lookup, N_nfsd_cache_update, N_RC_DOIT, N_RC_REPLY, N_RC_DROPIT,
  drcPayloadMisses,
} from "../nfsd/drc";
import {
  diskWriteBlock, blkPattern, blkKind, blkWriteId, blkXid, blkWrites, blkRuns, blkRunOff, blkRunKind, blkRunPattern, BLK_RUNS,
} from "../block/disk";
import {
  blktapMap, fastFlushArea, pageUnmappedAt, N_blkif_queue_request, N_dispatch_rw_block_io,
  N_tapdisk_io_submit, N_tapdisk_io_getevents, N_blktap_ioctl_kick, N_fast_flush_area, N_blkif_response,
} from "../xen/blkback_io";
import { zeroed } from "../kernel/mem";

// ---- knobs and patches (defaults and ranges: engine/scenarios/nfs-odirect-retransmit.ts)
const K_APP = knob("app");                     // 0 overwrite (blktest2), 1 xen-unmap
const K_DRC = knob("drc");                     // 0 lru1024, 1 csum
const K_STALL_PERIOD = knob("stall_period");   // packets
const K_STALL_S = knob("stall_s");
const K_STALL_MODE = knob("stall_mode");       // 0 hold (nfqueue, seed 003), 1 drop
const K_TCP_WMEM = knob("tcp_wmem");           // the client socket's sk_sndbuf, bytes
const K_DELAY_US = knob("delay_us");
const K_LOSS = knob("loss");
const K_TIMEO = knob("timeo");                 // deciseconds, as the mount option
const K_WRITE_KB = knob("write_kb");
const K_CONCURRENCY = knob("concurrency");
const K_SERVER_LOAD = knob("server_load");     // other clients' requests per second
const K_DURATION_S = knob("duration_s");
const K_THINK_US = knob("think_us");
const K_STRESS = knob("stress_per_1k");
const P_COPY_ON_RESEND = patch("sunrpc-copy-on-resend");
const P_DEQUEUE = patch("xprt-dequeue-xmit-on-complete");
const P_COMPLETE_AFTER_RELEASE = patch("nfs-complete-after-skb-release");

const S_WORKLOAD = stream("workload");
const S_SERVER = stream("server");

const N_host = name("host");
const N_client = name("nfs-client");
const N_server = name("nfs-server");
const N_blktest2 = name("blktest2");
const N_tapdisk2 = name("tapdisk2");
const N_nfsd = name("nfsd");
const N_nfs_direct_wait = name("nfs_direct_wait");
const N_svc_recv_wait = name("svc_recv");
const N_io_schedule = name("io_schedule");
const N_think = name("hrtimer_nanosleep");

// app steps
const A_FILL = fn("blktest2: fill buffer with counter", "buf=%x first=%x");
const A_WRITE = fn("write(O_DIRECT)", "fd=3 count=%d off=%d");
const A_RETURNED = fn("blktest2: write returned, fill buffer with 0xdeadbeef", "buf=%x");
const A_THINK = fn("blktest2: next iteration", "");
const X_GUEST = N_blkif_queue_request;
const X_BLKBACK = N_dispatch_rw_block_io;
const X_SUBMIT = N_tapdisk_io_submit;
const X_GETEVENTS = N_tapdisk_io_getevents;
const X_KICK = N_blktap_ioctl_kick;
const A_EXIT = fn("exit_group", "");
// server steps
const S_RECV = fn("svc_recv", "xid=%x len=%d");
const S_DISPATCH = fn("nfsd_dispatch", "xid=%x proc=WRITE");
const S_WRITE = fn("nfsd3_proc_write -> nfsd_vfs_write", "xid=%x off=%d count=%d");
const S_UPDATE = N_nfsd_cache_update;
const S_SEND = fn("svc_send", "xid=%x");
const N_corrupt_wire = fn("wire: WRITE payload differs from the buffer at issue", "xid=%x write=%d seq=%x", CAT_ANOMALY);
const N_corrupt_disk = fn("disk: block differs from the buffer at issue", "block=%d write=%d xid=%x", CAT_ANOMALY);
const N_dup_seen = fn("knfsd: duplicate WRITE", "xid=%x result=%n garbage=%d", CAT_LOG);
const EV_DRAIN = eventKind("odirect.drain");

const DEADBEEF: u32 = 0xdeadbeef;
const MAX_WRITES: i32 = 1 << 14;
const MAX_APPS: i32 = 16;

// ---- the workload's writes: what the buffer held when write() was issued
const wThread = zeroed<i32>(MAX_WRITES);
const wBase = zeroed<u32>(MAX_WRITES);
const wFirst = zeroed<i32>(MAX_WRITES);
const wOffBlk = zeroed<i32>(MAX_WRITES);
const wIssued = zeroed<i64>(MAX_WRITES);
const wDone = zeroed<i64>(MAX_WRITES);
const wServerSeen = zeroed<i32>(MAX_WRITES);
const wExecuted = zeroed<i32>(MAX_WRITES);
const wDupResult = zeroed<i32>(MAX_WRITES);   // name id of the DRC outcome for a repeat
const wDupWhy = zeroed<i32>(MAX_WRITES);
const wDupGarbage = zeroed<bool>(MAX_WRITES);
const wDupAge = zeroed<i64>(MAX_WRITES);
let nWrites: i32 = 0;

// per app thread
const appThread = zeroed<i32>(MAX_APPS);
const appWrite = zeroed<i32>(MAX_APPS);
const appEnt = zeroed<i32>(MAX_APPS);
let pfns = zeroed<i32>(0);
let npages: i32 = 2;
let writeBytes: i32 = 8192;
let concurrency: i32 = 4;
let xen: bool = false;
let durationNs: i64 = 0;
let thinkNs: i64 = 0;
let counter: u32 = 0;
let nextBlk: i32 = 0;
let appsLive: i32 = 0;
let clientSk: i32 = -1;
let mnt: i32 = 0;                 // the NFS mount's rpc_xprt
let serverSk: i32 = -1;
let clientHost: i32 = -1;
let serverHost: i32 = -1;

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
let nNfsd: i32 = 8;
let serverPfns = zeroed<i32>(0);

// ---- detectors' findings
let crashed: bool = false;
let crashPfn: i32 = -1;
let crashSkb: i32 = -1;
let crashXid: u32 = 0;
let crashWrite: i32 = -1;
let crashAt: i64 = 0;
let crashFn: i32 = 0;

@inline function expectedWord(w: i32, page: i32, j: i32): u32 {
  return unchecked(wBase[w]) + <u32>(page * PAGE_WORDS + j);
}

// ---------------------------------------------------------------- the application
function appIndex(t: i32): i32 {
  for (let i = 0; i < concurrency; i++) if (unchecked(appThread[i]) == t) return i;
  return -1;
}

function newWrite(i: i32): i32 {
  assert(nWrites < MAX_WRITES, "too many writes");
  const w = nWrites++;
  unchecked(wThread[w] = i);
  unchecked(wBase[w] = counter);
  unchecked(wFirst[w] = i * npages);
  unchecked(wOffBlk[w] = nextBlk);
  unchecked(wDone[w] = -1);
  nextBlk += npages;
  counter += <u32>(npages * PAGE_WORDS);
  unchecked(appWrite[i] = w);
  return w;
}

function issue(t: i32, i: i32, w: i32, e: i32): void {
  unchecked(wIssued[w] = now);
  nfsDirectWriteSchedule(w, t, e, 1000 + i, threadCpu(t), unchecked(wFirst[w]), npages, writeBytes, unchecked(wOffBlk[w]));
}

function appStep(t: i32, i: i32): void {
  const a = curAction;
  const e = unchecked(appEnt[i]);
  const first = i * npages;
  if (a == A_THINK) {
    if (now >= durationNs) {
      trace(e, A_EXIT);
      threadExit(t);
      if (--appsLive == 0) scheduleIn(NSEC_PER_SEC, EV_DRAIN, 0);
      return;
    }
    threadNext(t, xen ? X_GUEST : A_FILL, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == A_FILL) {
    const w = newWrite(i);
    for (let p = 0; p < npages; p++) pageFill(unchecked(pfns[first + p]), PG_COUNTER, unchecked(wBase[w]) + <u32>(p * PAGE_WORDS));
    trace(e, A_FILL, unchecked(pfns[first]), <i32>unchecked(wBase[w]));
    threadNext(t, A_WRITE, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == A_WRITE) {
    const w = unchecked(appWrite[i]);
    trace(e, A_WRITE, writeBytes, unchecked(wOffBlk[w]) * PAGE_SIZE);
    issue(t, i, w, e);
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_nfs_direct_wait, A_RETURNED, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == A_RETURNED) {
    // blktest2: "immediately after the write() returns fills the buffer with 0xdeadbeef"
    for (let p = 0; p < npages; p++) pageFill(unchecked(pfns[first + p]), PG_FILL, DEADBEEF);
    trace(e, A_RETURNED, unchecked(pfns[first]));
    threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_think, randDuration(S_WORKLOAD, thinkNs), A_THINK, 2 * NSEC_PER_USEC);
    return;
  }
  // Xen: domU blkfront -> blkback -> blktap2 -> tapdisk2
  if (a == X_GUEST) {
    const w = newWrite(i);
    trace(e, X_GUEST, w);
    threadNext(t, X_BLKBACK, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == X_BLKBACK) {
    const w = unchecked(appWrite[i]);
    trace(e, X_BLKBACK, w);
    blktapMap(e, pfns, first, npages, unchecked(wBase[w]));
    threadNext(t, X_SUBMIT, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == X_SUBMIT) {
    const w = unchecked(appWrite[i]);
    trace(e, X_SUBMIT, w);
    issue(t, i, w, e);
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_nfs_direct_wait, X_GETEVENTS, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == X_GETEVENTS) {
    trace(e, X_GETEVENTS, unchecked(appWrite[i]));
    threadNext(t, X_KICK, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == X_KICK) {
    const w = unchecked(appWrite[i]);
    trace(e, X_KICK, w);
    fastFlushArea(e, pfns, first, npages);
    tap(w, N_fast_flush_area, 0, 0);
    trace(e, N_blkif_response, w);
    threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_think, randDuration(S_WORKLOAD, thinkNs), A_THINK, 2 * NSEC_PER_USEC);
    return;
  }
}

// The action the thread just ran (the step hook's view).
let curAction: i32 = 0;

// ---------------------------------------------------------------- knfsd
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

function nfsdStep(t: i32, n: i32): void {
  const a = curAction;
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

// ---------------------------------------------------------------- hooks
const nfsdIndexOf = zeroed<i32>(1 << 14);   // entity -> nfsd index + 1
const appIndexOf = zeroed<i32>(1 << 14);

function onStep(t: i32): void {
  curAction = threadAction(t);
  if (isRpciod(t)) { rpciodStep(t); return; }
  const n = unchecked(nfsdIndexOf[t]) - 1;
  if (n >= 0) { nfsdStep(t, n); return; }
  const i = unchecked(appIndexOf[t]) - 1;
  if (i >= 0) appStep(t, i);
}

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (devEvent(kind, obj, arg)) return;
  if (tcpEvent(kind, obj, arg)) return;
  if (sunrpcEvent(kind, obj, arg)) return;
  if (kind == EV_DRAIN) {
    if (tcpQueuedBytes(clientSk) == 0 && tcpQueuedBytes(serverSk) == 0) worldStop();
    else scheduleIn(NSEC_PER_SEC, EV_DRAIN, 0);
  }
}

// the server socket's sk_data_ready (the client's is xprtsock's)
function svcDataReady(sk: i32, ci: i32): void {
  if (unchecked(capRecType[capSlot(ci)]) == REC_CALL) svcEnqueue(sk);
}

// The NIC's DMA touched a page that is no longer mapped: the oops.
function onDmaFault(nic: i32, skb: i32, pfn: i32): void {
  crashed = true;
  crashPfn = pfn;
  crashSkb = skb;
  crashXid = unchecked(skbXid[skb]);
  crashWrite = unchecked(skbRecA[skb]);
  crashAt = now;
  crashFn = nicStartXmitName(nic);
  worldStop();
}

function onWriteComplete(dreq: i32): void { unchecked(wDone[dreq] = now); }

// ---------------------------------------------------------------- detectors
// The first wire / disk mismatch found, for the evidence. The wire is checked segment by
// segment: each carries the words its pages held when the NIC read them, so one
// transmission of a WRITE can be part as issued, part rewritten.
let wireBad: i32 = 0;           // transmissions of a call (its segments) with a wrong byte
let wireBadSegs: i32 = 0;
let wireCi: i32 = -1;          // its capture slot, and what it held
let wireWrite: i32 = -1;
let wireTime: i64 = 0;
let wireXid: u32 = 0;
let wireSeq: u32 = 0;
let wireRecOff: i32 = 0;
let wireRecLen: i32 = 0;
let wireRetrans: bool = false;
let wireKind: u8 = 0;           // the page words found from wireWord on
let wirePattern: u32 = 0;
let wirePage: i32 = -1;
let wireWord: i32 = -1;         // first differing word of the segment, in wirePage
let wireWords: i32 = 0;         // words of wirePage in the segment, and how many differ
let wireWordsDiffer: i32 = 0;
let wireFrom: i32 = -1;         // bytes of the WRITE's data that differ in the segment
let wireTo: i32 = -1;
const wWireSeq = zeroed<u32>(MAX_WRITES);   // the last bad transmission counted, per write
const wWireCounted = zeroed<bool>(MAX_WRITES);
let diskBad: i32 = 0;
let diskBlk: i32 = -1;
let diskRun: i32 = -1;
let badWrites: i32 = 0;

// Where the segment in capture slot c starts in the WRITE's data.
@inline function segDataOff(c: i32): i32 { return max(0, unchecked(capRecOff[c]) - RPC_WRITE_CALL_HDR); }

// Compares fragment f of the call segment in slot c with write w's buffer at issue: sets
// diffFrom/diffTo (bytes of the WRITE's data, -1 if it matches), diffPage, diffWord (its
// first wrong word in the page), diffWords (its words) and diffCount (how many differ).
let diffFrom: i32 = -1;
let diffTo: i32 = -1;
let diffPage: i32 = 0;
let diffWord: i32 = -1;
let diffWords: i32 = 0;
let diffCount: i32 = 0;
let diffKind: u8 = 0;
let diffPattern: u32 = 0;
function fragDiff(c: i32, f: i32, w: i32, dataOff: i32): void {
  const k = unchecked(capFragKind[c * MAX_SKB_FRAGS + f]);
  const p = unchecked(capFragPattern[c * MAX_SKB_FRAGS + f]);
  diffKind = k;
  diffPattern = p;
  const off = unchecked(capFragOff[c * MAX_SKB_FRAGS + f]);
  const len = unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
  diffPage = dataOff / PAGE_SIZE;
  diffFrom = -1;
  diffTo = -1;
  diffWord = -1;
  diffWords = len >> 2;
  diffCount = 0;
  const j0 = off >> 2;
  for (let j = j0; j < j0 + diffWords; j++) {
    if ((k == PG_COUNTER ? p + <u32>j : p) == expectedWord(w, diffPage, j)) continue;
    if (diffWord < 0) { diffWord = j; diffFrom = dataOff + (j - j0) * 4; }
    diffTo = dataOff + (j - j0 + 1) * 4;
    diffCount++;
  }
}

// A segment's first differing fragment (diff* set), or false.
function segDiff(c: i32, w: i32): bool {
  let at = segDataOff(c);
  for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
    fragDiff(c, f, w, at);
    if (diffFrom >= 0) return true;
    at += unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
  }
  return false;
}

// Each call segment as the NIC reads it (the capture ring is only the last CAP_MAX packets).
function onCapture(ci: i32): void {
  const c = capSlot(ci);
  if (unchecked(capDir[c]) != 0 || unchecked(capRecType[c]) != REC_CALL) return;
  const w = unchecked(capRecA[c]);
  if (!segDiff(c, w)) return;
  wireBadSegs++;
  if (wireCi < 0) {
    wireCi = ci;
    wireWrite = w;
    wireTime = unchecked(capTime[c]);
    wireXid = unchecked(capXid[c]);
    wireSeq = unchecked(capSeq[c]);
    wireRecOff = unchecked(capRecOff[c]);
    wireRecLen = unchecked(capRecLen[c]);
    wireRetrans = unchecked(capRetrans[c]);
    wireKind = diffKind;
    wirePattern = diffPattern;
    wirePage = diffPage;
    wireWord = diffWord;
    wireWords = diffWords;
    wireWordsDiffer = diffCount;
    wireFrom = diffFrom;
    // the rest of this segment's differing bytes
    let at = segDataOff(c);
    for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
      fragDiff(c, f, w, at);
      if (diffTo > wireTo) wireTo = diffTo;
      at += unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
    }
    traceAnomaly(-1, N_corrupt_wire, <i32>unchecked(capXid[c]), w, <i32>unchecked(capSeq[c]));
  }
  // one transmission of the call: its record's first sequence number
  const recSeq = unchecked(capSeq[c]) - <u32>unchecked(capRecOff[c]);
  if (!unchecked(wWireCounted[w]) || unchecked(wWireSeq[w]) != recSeq) {
    unchecked(wWireCounted[w] = true);
    unchecked(wWireSeq[w] = recSeq);
    wireBad++;
  }
}

@inline function runBad(b: i32, r: i32, w: i32, p: i32): bool {
  const k = b * BLK_RUNS + r;
  return unchecked(blkRunKind[k]) != PG_COUNTER || unchecked(blkRunPattern[k]) != expectedWord(w, p, 0);
}

function scanDisk(): void {
  for (let w = 0; w < nWrites; w++) {
    if (unchecked(wExecuted[w]) == 0) continue;
    let bad = false;
    for (let p = 0; p < npages; p++) {
      const b = unchecked(wOffBlk[w]) + p;
      for (let r = 0; r < unchecked(blkRuns[b]); r++) {
        if (!runBad(b, r, w, p)) continue;
        if (diskBad == 0) {
          diskBlk = b;
          diskRun = r;
          traceAnomaly(-1, N_corrupt_disk, b, w, <i32>unchecked(blkXid[b]));
        }
        diskBad++;
        bad = true;
        break;
      }
    }
    if (bad) badWrites++;
  }
}

function onFinish(): void {
  scanDisk();
  if (crashed) setVerdict(VERDICT_CRASH);
  else if (wireBad > 0 || diskBad > 0) setVerdict(VERDICT_CORRUPTION);
}

function onHung(t: i32): void {}

// ---------------------------------------------------------------- evidence
function jHex(k: string, v: u32): void { jKI(k, <i64>v); }

function jWords(kind: u8, pattern: u32, first: i32, n: i32): void {
  jArr();
  for (let j = first; j < first + n; j++) jInt(<i64>(kind == PG_COUNTER ? pattern + <u32>j : pattern));
  jEndArr();
}

function jWrite(w: i32): void {
  jObj();
  jKI("write", w);
  jKI("xid", <i64>dreqXid(w));
  jKI("thread", unchecked(wThread[w]));
  jKI("offset", <i64>unchecked(wOffBlk[w]) * PAGE_SIZE);
  jKI("count", writeBytes);
  jKI("issuedNs", unchecked(wIssued[w]));
  jKI("completedNs", unchecked(wDone[w]));
  jKI("serverReceived", unchecked(wServerSeen[w]));
  jKI("serverExecuted", unchecked(wExecuted[w]));
  if (unchecked(wServerSeen[w]) > 1) {
    jKName("duplicate", unchecked(wDupResult[w]));
    if (unchecked(wDupWhy[w]) != 0) jKName("duplicateWhy", unchecked(wDupWhy[w]));
    jKB("duplicateGarbage", unchecked(wDupGarbage[w]));
    jKI("duplicateEntryAgeNs", unchecked(wDupAge[w]));
  }
  jKey("expectedFirstWords"); jWords(PG_COUNTER, unchecked(wBase[w]), 0, 4);
  jKey("tap"); jArr();
  const n = tapCount(w);
  for (let i = 0; i < n; i++) {
    jArr();
    jInt(tapTime(w, i));
    jName(tapNameAt(w, i));
    jInt(<i64><u32>tapAAt(w, i));
    jInt(<i64><u32>tapBAt(w, i));
    jEndArr();
  }
  jEndArr();
  jEndObj();
}

// per segment of the evidence's transmission: its first duplicate copy's data bytes, and
// whether they differ from the buffer at issue
const dupFrom = zeroed<i32>(64);
const dupTo = zeroed<i32>(64);
const dupBad = zeroed<bool>(64);

function onEvidence(): void {
  jObj();
  jKI("writes", nWrites);
  jKI("pagesPerWrite", npages);
  jKI("stalls", stallCount());
  jKI("firstStallNs", firstStallAt);
  jKI("rpcRetransmits", rpcRetransmits());
  jKI("cancelledRetransmits", unchecked(xNDequeuedOnComplete[mnt]));
  jKI("tcpRetransmitTimeouts", tcpRetransSegs(clientSk));
  jKI("serverTcpRetransmitTimeouts", tcpRetransSegs(serverSk));
  jKI("drcPayloadMisses", drcPayloadMisses());
  jKB("crashed", crashed);
  jKI("wireCorruptCalls", wireBad);
  jKI("wireCorruptSegments", wireBadSegs);
  jKI("diskCorruptBlocks", diskBad);
  jKI("diskCorruptWrites", badWrites);
  // writes whose WRITE reached the server more than once
  jKey("duplicates"); jArr();
  let shown = 0;
  for (let w = 0; w < nWrites && shown < 32; w++) {
    if (unchecked(wServerSeen[w]) > 1) { jObj(); jKI("write", w); jKI("xid", <i64>dreqXid(w)); jKName("result", unchecked(wDupResult[w])); jKB("garbage", unchecked(wDupGarbage[w])); jEndObj(); shown++; }
  }
  jEndArr();
  if (wireCi >= 0) {
    const w = wireWrite;
    jKey("wire"); jObj();
    jKI("timeNs", wireTime);
    jKI("xid", <i64>wireXid);
    jKI("write", w);
    jKI("seq", <i64>wireSeq);
    jKI("segment", wireRecOff / TCP_MSS);
    jKI("segments", (wireRecLen + TCP_MSS - 1) / TCP_MSS);
    jKI("mss", TCP_MSS);
    jKI("dataFrom", wireFrom);
    jKI("dataTo", wireTo);
    jKI("page", wirePage);
    jKI("wordInPage", wireWord);
    jKB("tcpRetransmission", wireRetrans);
    const from = min(wireWord, PAGE_WORDS - 8);
    jKI("wordsFrom", from);
    jKey("expected"); jWords(PG_COUNTER, expectedWord(w, wirePage, 0), from, 8);
    jKey("found"); jWords(wireKind, wirePattern, from, 8);
    jKI("wordsDiffer", wireWordsDiffer);
    jKI("wordsInSegment", wireWords);
    jKI("wordsPerPage", PAGE_WORDS);
    // every segment of this transmission of the call (TCP retransmissions included): the
    // bytes of the WRITE's data it carries, and those that differ from the buffer at issue.
    // The duplicate: an RPC retransmission's segments; for the first transmission, the
    // segments sent more than once. Each as its first duplicate copy carried it (the copy
    // the server's TCP would keep).
    // (the segments still in the capture ring)
    const xid = wireXid;
    const recSeq = wireSeq - <u32>wireRecOff;
    const end = capCount();
    let firstSeq = recSeq;
    for (let ci = capFirst(); ci < end; ci++) {
      const d = capSlot(ci);
      if (unchecked(capDir[d]) == 0 && unchecked(capRecType[d]) == REC_CALL && unchecked(capXid[d]) == xid) {
        firstSeq = unchecked(capSeq[d]) - <u32>unchecked(capRecOff[d]);
        break;
      }
    }
    let sent: u64 = recSeq == firstSeq ? 0 : <u64>-1;
    let kept: u64 = 0;
    let nseg = 0;
    jKey("transmission"); jArr();
    for (let ci = capFirst(); ci < end; ci++) {
      const d = capSlot(ci);
      if (unchecked(capDir[d]) != 0 || unchecked(capRecType[d]) != REC_CALL || unchecked(capXid[d]) != xid) continue;
      if (unchecked(capSeq[d]) - <u32>unchecked(capRecOff[d]) != recSeq) continue;
      const at = segDataOff(d);
      let len = 0;
      for (let g = 0; g < unchecked(capNrFrags[d]); g++) len += unchecked(capFragLen[d * MAX_SKB_FRAGS + g]);
      let dFrom = -1, dTo = -1;
      let pos = at;
      for (let g = 0; g < unchecked(capNrFrags[d]); g++) {
        fragDiff(d, g, w, pos);
        if (diffFrom >= 0 && dFrom < 0) dFrom = diffFrom;
        if (diffTo > dTo) dTo = diffTo;
        pos += unchecked(capFragLen[d * MAX_SKB_FRAGS + g]);
      }
      const sg = unchecked(capRecOff[d]) / TCP_MSS;
      const bit = <u64>1 << <u64>sg;
      const dup = (sent & bit) != 0;
      sent |= bit;
      if (sg >= nseg) nseg = sg + 1;
      if (dup && (kept & bit) == 0) {
        kept |= bit;
        unchecked(dupFrom[sg] = at);
        unchecked(dupTo[sg] = at + len);
        unchecked(dupBad[sg] = dFrom >= 0);
      }
      jObj();
      jKI("timeNs", unchecked(capTime[d]));
      jKI("seq", <i64>unchecked(capSeq[d]));
      jKI("segment", unchecked(capRecOff[d]) / TCP_MSS);
      jKI("dataFrom", at);
      jKI("dataTo", at + len);
      jKI("differFrom", dFrom);
      jKI("differTo", dTo);
      jKB("tcpRetransmission", unchecked(capRetrans[d]));
      jKB("delivered", unchecked(capFate[d]) == FATE_DELIVERED);
      jKB("duplicate", dup);
      jEndObj();
    }
    jEndArr();
    // the duplicate part as issued, part rewritten: the buffer changed between the NIC's
    // reads of two of its segments
    // as runs of the data: [from, to, rewritten], one per change
    let good = false, bad = false;
    jKey("duplicateRuns"); jArr();
    let runFrom = -1;
    for (let sg = 0; sg <= nseg; sg++) {
      const has = sg < nseg && (kept & (<u64>1 << <u64>sg)) != 0;
      const ends = runFrom >= 0 && (!has || unchecked(dupBad[sg]) != unchecked(dupBad[sg - 1]) || unchecked(dupFrom[sg]) != unchecked(dupTo[sg - 1]));
      if (ends) {
        jArr(); jInt(runFrom); jInt(unchecked(dupTo[sg - 1])); jInt(unchecked(dupBad[sg - 1]) ? 1 : 0); jEndArr();
        runFrom = -1;
      }
      if (!has) continue;
      if (runFrom < 0) runFrom = unchecked(dupFrom[sg]);
      if (unchecked(dupBad[sg])) bad = true; else good = true;
    }
    jEndArr();
    jKB("mixed", good && bad);
    jKey("victim"); jWrite(w);
    jEndObj();
  }
  if (diskBlk >= 0) {
    const w = unchecked(blkWriteId[diskBlk]);
    const p0 = diskBlk - unchecked(wOffBlk[w]);
    jKey("disk"); jObj();
    jKI("block", diskBlk);
    jKI("offset", <i64>diskBlk * PAGE_SIZE);
    jKI("write", w);
    jKI("writtenByXid", <i64>unchecked(blkXid[diskBlk]));
    jKI("timesWritten", unchecked(blkWrites[diskBlk]));
    // the first wrong run of the block: bytes [from, to) of the block
    const r = diskBlk * BLK_RUNS + diskRun;
    const runFrom = unchecked(blkRunOff[r]);
    const runTo = diskRun + 1 < unchecked(blkRuns[diskBlk]) ? unchecked(blkRunOff[r + 1]) : PAGE_SIZE;
    jKI("runs", unchecked(blkRuns[diskBlk]));
    jKI("bytesFrom", runFrom);
    jKI("bytesTo", runTo);
    const from = min(runFrom >> 2, PAGE_WORDS - 8);
    jKI("wordsFrom", from);
    jKey("expected"); jWords(PG_COUNTER, expectedWord(w, p0, 0), from, 8);
    jKey("found"); jWords(unchecked(blkRunKind[r]), unchecked(blkRunPattern[r]), from, 8);
    jKey("victim"); jWrite(w);
    jEndObj();
  }
  if (crashed) {
    jKey("crash"); jObj();
    jKI("timeNs", crashAt);
    jKName("fn", crashFn);
    jKI("pfn", crashPfn);
    jKI("skb", <i64><u32>skbAddr(crashSkb));
    jKI("xid", <i64>crashXid);
    jKI("write", crashWrite);
    jKI("unmappedAtNs", pageUnmappedAt(crashPfn));
    jKey("victim"); jWrite(crashWrite);
    jEndObj();
  }
  // the client's capture (what tcpdump on the client saw), for the pcap exporter
  jKey("capture"); jObj();
  jKI("callHeaderBytes", RPC_WRITE_CALL_HDR);
  jKI("replyBytes", RPC_WRITE_REPLY_LEN);
  jKI("pageWords", PAGE_WORDS);
  jKey("packets"); jArr();
  const end = capCount();
  for (let ci = capFirst(); ci < end; ci++) {
    const c = capSlot(ci);
    const dir = unchecked(capDir[c]);
    if (dir == 1 && unchecked(capFate[c]) != FATE_DELIVERED) continue;
    jArr();
    jInt(unchecked(capTime[c]));
    jInt(dir);
    jInt(<i64>unchecked(capSeq[c]));
    jInt(<i64>unchecked(capAck[c]));
    jInt(unchecked(capLen[c]));
    jInt(unchecked(capRecType[c]));
    jInt(<i64>unchecked(capXid[c]));
    jInt(unchecked(capRecB[c]));
    jInt(unchecked(capFate[c]));
    jArr();
    for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
      jInt(<i64>unchecked(capFragPattern[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragKind[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragLen[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragOff[c * MAX_SKB_FRAGS + f]));
    }
    jEndArr();
    jInt(unchecked(capRecOff[c]));
    jInt(unchecked(capRecLen[c]));
    jEndArr();
  }
  jEndArr();
  jEndObj();
  jEndObj();
}

function onSnapshot(): void {
  jObj();
  jKI("writes", nWrites);
  jKI("clientQueuedBytes", tcpQueuedBytes(clientSk));
  jKI("serverQueuedBytes", tcpQueuedBytes(serverSk));
  jKI("stalls", stallCount());
  jKI("rpcRetransmits", rpcRetransmits());
  jKey("buffers"); jArr();
  for (let i = 0; i < concurrency; i++) {
    for (let p = 0; p < npages; p++) {
      const pfn = unchecked(pfns[i * npages + p]);
      jObj(); jKI("thread", i); jKI("pfn", pfn); jKI("count", pageCount(pfn)); jKB("mapped", pageMapped(pfn));
      jKI("pattern", <i64>pagePattern(pfn)); jKB("fill", pageKind(pfn) == PG_FILL); jKB("foreign", pageForeign(pfn));
      jEndObj();
    }
  }
  jEndArr();
  // each application thread's current write (-1 before its first)
  jKey("apps"); jArr();
  for (let i = 0; i < concurrency; i++) {
    const w = unchecked(appWrite[i]);
    jObj(); jKI("thread", i); jKI("ent", unchecked(appEnt[i])); jKI("write", w);
    jKB("done", w >= 0 && unchecked(wDone[w]) >= 0); jEndObj();
  }
  jEndArr();
  jKey("skbs"); tcpWriteQueueJson(clientSk, 48);
  jEndObj();
}

// every call_timeout retransmits: minor and major timeouts alike
function rpcRetransmits(): i32 { return nMinorTimeouts + nMajorTimeouts; }

// ---------------------------------------------------------------- build

scenario("nfs-odirect-retransmit", (): void => {
  setHooks(onStep, onEvent, onHung, onFinish, onEvidence, onSnapshot);
  cpusInit(4);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, 4);
  xen = kvi(K_APP) == 1;
  concurrency = <i32>kvi(K_CONCURRENCY);
  if (concurrency < 1) concurrency = 1;
  if (concurrency > MAX_APPS) concurrency = MAX_APPS;
  writeBytes = <i32>kvi(K_WRITE_KB) * 1024;
  npages = (writeBytes + PAGE_SIZE - 1) / PAGE_SIZE;
  durationNs = <i64>(kv(K_DURATION_S) * 1e9);
  thinkNs = <i64>(kv(K_THINK_US) * 1e3);
  clientHost = entNew(N_host, N_client, 1);
  serverHost = entNew(N_host, N_server, 2);

  pfns = zeroed<i32>(concurrency * npages);
  for (let i = 0; i < concurrency * npages; i++) unchecked(pfns[i] = allocPage());
  serverPfns = zeroed<i32>(1);
  counter = randU32(S_WORKLOAD) & 0xffff0000;

  devLinkInit({ rateBps: 1e9, delayNs: <i64>(kv(K_DELAY_US) * 1e3), lossPerFrame: kv(K_LOSS) });
  devStalls({ everyPackets: <i32>kvi(K_STALL_PERIOD), stallNs: <i64>(kv(K_STALL_S) * 1e9), hold: kvi(K_STALL_MODE) == 0 });
  // each host's NIC interrupts its first CPU (client: CPUs 0-1, server: 2-3)
  const clientNic = nicNew(0, clientHost, N_bnx2_start_xmit, 0);
  const serverNic = nicNew(1, serverHost, N_bnx2_start_xmit, 2);
  tcpInit(3 * NSEC_PER_SEC);   // 2.6.18's TCP_TIMEOUT_INIT (3*HZ)
  const isnC = randU32(S_WORKLOAD), isnS = randU32(S_SERVER);
  clientSk = tcpSockNew(0, clientNic, clientHost, isnC, isnS, <i32>kvi(K_TCP_WMEM));
  serverSk = tcpSockNew(1, serverNic, serverHost, isnS, isnC, 4 << 20);
  skSetDataReady(serverSk, svcDataReady);
  setDmaFault(onDmaFault);
  setOnCapture(onCapture);

  // the mount: NFSv3 over TCP, timeo in deciseconds, linear backoff, retrans=2; a hard
  // mount (no timeout while waiting for write space); 2.6.2x allocates a slot without the
  // write lock and has a fixed table of 16 TCP slots
  const initval = kvi(K_TIMEO) * 100 * JIFFY;
  const retrans = 2;
  setPatches(false, false, false);
  setDequeueOnComplete(patched(P_DEQUEUE));
  mnt = xsSetup({
    transport: XPRT_TCP, slots: RPC_DEF_SLOT_TABLE, dynamicSlotsMax: RPC_DEF_SLOT_TABLE, sndbufBytes: 4 << 20,
    timeoInitNs: initval, timeoMaxNs: initval * (retrans + 1), timeoIncrementNs: initval, retrans,
    exponential: false, wspaceTimeout: false,
  });
  clntInit();
  rpciodInit(4, 90);
  xprtInitXid(mnt, randU32(S_WORKLOAD));
  xsTcpAttachSocket(mnt, clientSk, pfns, patched(P_COPY_ON_RESEND), patched(P_COMPLETE_AFTER_RELEASE));
  nfsDirectInit(pfns, patched(P_COMPLETE_AFTER_RELEASE), onWriteComplete);

  drcInit(<i32>kvi(K_DRC), kv(K_SERVER_LOAD));
  for (let n = 0; n < nNfsd; n++) {
    const t = threadNew(N_nfsd, 200 + n, 2 + (n & 1), S_RECV, 2 * NSEC_PER_USEC);
    unchecked(nfsdThread[n] = t);
    unchecked(nfsdIndexOf[t] = n + 1);
  }
  for (let i = 0; i < concurrency; i++) {
    const t = threadNew(xen ? N_tapdisk2 : N_blktest2, 1000 + i, i & 1, xen ? X_GUEST : A_FILL, 2 * NSEC_PER_USEC);
    unchecked(appThread[i] = t);
    unchecked(appEnt[i] = t);
    unchecked(appIndexOf[t] = i + 1);
  }
  appsLive = concurrency;
  hungTaskInit(120 * NSEC_PER_SEC);
  setStopOnHung(false);
  setTimeLimit(durationNs + 400 * NSEC_PER_SEC);
});
