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
//
// A knfsd is an instance: svcNew() returns a handle k and every field is srvXxx[k]; its
// request ring, request rows (svc_rqst) and TCP connections are rows of their tables. All
// instances serve calls along one path (svc_xprt_enqueue -> svc_recv -> nfsd_dispatch ->
// nfsd_cache_update -> svc_send), through a struct svc_xprt_ops row per transport class.
// Each has its duplicate request cache (asm/nfsd/drc.ts): nfsd_dispatch asks it for every
// call of a cached procedure: a duplicate of a call in progress is dropped, one of a call
// answered is answered from the cache. The nfsd threads are a pool of service times here
// (one event per request); on a modelled TCP socket they are scheduled kernel threads
// instead (asm/nfsd/nfsd.ts), on the same path.
import { now, NSEC_PER_SEC, NSEC_PER_USEC, NSEC_PER_MSEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_STATE, CAT_NET, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { entNew } from "../kernel/sched";
import { stream, randExp, randF64, randDuration } from "../kernel/prng";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { NFS3PROC_WRITE, NFS3PROC_COMMIT, NFS3PROC_GETATTR } from "../sunrpc/defs";
import {
  DRC_LRU1024, drcNew, drcReset, nfsdCacheLookup, nfsdCacheUpdate, drcLookupEntry, RC_DOIT, RC_REPLY, RC_DROPIT,
  N_nfsd_cache_lookup, N_RC_DOIT, N_RC_REPLY, N_RC_DROPIT,
} from "./drc";
import {
  setServerHooks, xprtOfGen, udpReplyToClient, tcpReplyToClient, tcpCtrlToClient, CTRL_SYN, CTRL_SYNACK,
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

export const MAX_SVC: i32 = 2;
export const DRC_NONE: i32 = -1;
export const srvEnt = zeroed<i32>(MAX_SVC);
export const srvDrc = zeroed<i32>(MAX_SVC);       // its duplicate request cache
export const srvUp = zeroed<bool>(MAX_SVC);
export const srvStalled = zeroed<bool>(MAX_SVC);
const srvStallEnd = zeroed<i64>(MAX_SVC);
const srvThreads = zeroed<i32>(MAX_SVC);
const srvBusy = zeroed<i32>(MAX_SVC);
const srvStallEveryNs = zeroed<f64>(MAX_SVC);
const srvStallMeanNs = zeroed<f64>(MAX_SVC);
const srvStallMaxNs = zeroed<i64>(MAX_SVC);
const srvRestartEveryNs = zeroed<f64>(MAX_SVC);
const srvDownNs = zeroed<i64>(MAX_SVC);
const srvAgePeriod = zeroed<i64>(MAX_SVC);
const srvDropEveryNs = zeroed<f64>(MAX_SVC);
const srvRcvbuf = zeroed<i32>(MAX_SVC);
const srvWsize = zeroed<i32>(MAX_SVC);
const srvEpoch = zeroed<i32>(MAX_SVC);
export const srvNCloses = zeroed<i32>(MAX_SVC);
export const srvNServed = zeroed<i32>(MAX_SVC);
export const srvNStalls = zeroed<i32>(MAX_SVC);
export const srvNRestarts = zeroed<i32>(MAX_SVC);
export const srvNUdpDrops = zeroed<i32>(MAX_SVC);
export const srvNDrcReplies = zeroed<i32>(MAX_SVC);   // duplicates answered from the cache
export const srvNDrcDrops = zeroed<i32>(MAX_SVC);     // duplicates dropped (in progress, or within RC_DELAY)
export const srvLastStallStart = zeroed<i64>(MAX_SVC);
export const srvLastStallLen = zeroed<i64>(MAX_SVC);
let nSvc: i32 = 0;

// ---- the request path, one for every instance: svc_xprt_enqueue queues a call, svc_recv
// gives it to a request row (struct svc_rqst) through its transport's xpo_recvfrom,
// nfsd_dispatch asks the DRC and runs the procedure, nfsd_cache_update and svc_send (through
// xpo_sendto) answer it. How the rows' threads run is the instance's choice (srvWake, below).

// calls waiting for a thread (svc_xprt_enqueue, FIFO): a ring of RQ per instance
const RQ: i32 = 4096;
const srvRqHead = zeroed<i32>(MAX_SVC);
const srvRqLen = zeroed<i32>(MAX_SVC);
const srvRqMade = zeroed<i32>(MAX_SVC);            // calls ever queued (the rows' high-water mark)
rowsBegin(MAX_SVC * RQ, (): i32 => nSvc == 0 ? 0 : (nSvc - 1) * RQ + min(unchecked(srvRqMade[nSvc - 1]), RQ));
const rqOps = zeroed<usize>(MAX_SVC * RQ);         // its transport class (a SvcXprtOps row)
const rqXid = zeroed<u32>(MAX_SVC * RQ);
const rqProc = zeroed<i32>(MAX_SVC * RQ);
const rqBytes = zeroed<i32>(MAX_SVC * RQ);
const rqConn = zeroed<i32>(MAX_SVC * RQ);          // TCP connection gen, 0 = UDP
const rqPeer = zeroed<i32>(MAX_SVC * RQ);          // UDP: the client transport the datagram came from
// a socket whose segments the NIC captured: the record's segments in its ring (asm/nfsd/nfsd.ts)
export const rqSeg = zeroed<i32>(MAX_SVC * RQ);
export const rqSegs = zeroed<i32>(MAX_SVC * RQ);
rowsEnd();
const srvUdpQueued = zeroed<i32>(MAX_SVC);
const srvUdpQueueMax = zeroed<i32>(MAX_SVC);

// request rows (struct svc_rqst): SV per instance, row r = k * SV + s (EV_NFSD_DONE names it)
export const SV: i32 = 256;
const srvRqstHigh = zeroed<i32>(MAX_SVC);          // rows used (s < high)
function rqstRows(): i32 { return nSvc == 0 ? 0 : (nSvc - 1) * SV + unchecked(srvRqstHigh[nSvc - 1]); }
rowsBegin(MAX_SVC * SV, rqstRows);
const rqstOps = zeroed<usize>(MAX_SVC * SV);
export const rqstXid = zeroed<u32>(MAX_SVC * SV);
export const rqstProc = zeroed<i32>(MAX_SVC * SV);
export const rqstBytes = zeroed<i32>(MAX_SVC * SV);  // rq_arg.len as received
const rqstConn = zeroed<i32>(MAX_SVC * SV);
const rqstPeer = zeroed<i32>(MAX_SVC * SV);
const rqstEnt = zeroed<i32>(MAX_SVC * SV);         // the thread serving it (the pool: the server)
const rqstEpoch = zeroed<i32>(MAX_SVC * SV);
const rqstUsed = zeroed<bool>(MAX_SVC * SV);
const rqstHeld = zeroed<bool>(MAX_SVC * SV);       // svc_xprt_get: it holds its transport
const rqstEntry = zeroed<i32>(MAX_SVC * SV);       // its DRC entry, -1 if not cached
// the DRC's key beyond the xid: the client's address and port, and the arguments' checksum
// (0 where the payload is not modelled) and length
export const rqstClient = zeroed<i32>(MAX_SVC * SV);
export const rqstCsum = zeroed<u32>(MAX_SVC * SV);
export const rqstLen = zeroed<i32>(MAX_SVC * SV);
rowsEnd();

// TCP connections (svc_xprt), keyed by the client socket generation (mod NC): the
// accepted socket (-1 once released: data gets a reset), the nfsd threads using it
// (xpt_ref) and XPT_OLD; NC per server
const NC: i32 = 64;
rowsBegin(MAX_SVC * NC, (): i32 => nSvc * NC);
const cGen = zeroed<i32>(MAX_SVC * NC);
const cSk = zeroed<i32>(MAX_SVC * NC);
const cRefs = zeroed<i32>(MAX_SVC * NC);
const cOld = zeroed<bool>(MAX_SVC * NC);
rowsEnd();

function slot(k: i32, gen: i32): i32 { return k * NC + gen % NC; }
function conn(k: i32, gen: i32): i32 {
  const s = slot(k, gen);
  return unchecked(cGen[s]) == gen ? s : -1;
}
function established(c: i32): bool {
  const sk = unchecked(cSk[c]);
  return sk >= 0 && tcpState(sk) == TCP_ESTABLISHED;
}

// The server's options, checked at svcNew.
export class SvcOptions {
  threads: i32 = 8;               // nfsd threads
  ent: i32 = -1;                  // the entity its records name (-1: a knfsd entity of its own)
  // the DRC: DRC_LRU1024 (<= 3.8, the knfsd of every modelled kernel) or DRC_CSUM (>= 3.9),
  // and other clients' requests per second recycling its entries. DRC_NONE: no cache, every
  // call runs (no knfsd lacks one; for tests that need a server without it).
  drc: i32 = DRC_LRU1024;
  otherOpsPerSec: f64 = 0;
  rcvbufBytes: i32 = 262144;      // each accepted TCP connection's receive buffer
  udpQueueMax: i32 = 64;          // datagrams the UDP socket queues before dropping
  wsizeBytes: i32 = 32768;        // the clients' wsize (a WRITE call's size)
  // faults, 0 = none: storage stalls (mean interval, mean and longest length) that block
  // WRITE and COMMIT; nfsd restarts (mean interval, time down); svc_age_temp_xprts'
  // period; a connection closed at random (mean interval)
  stallEveryS: f64 = 0;
  stallMeanS: f64 = 0;
  stallMaxS: f64 = 0;
  restartEveryS: f64 = 0;
  downS: f64 = 0;
  agePeriodS: f64 = 0;
  dropEveryS: f64 = 0;
  // the procedure (what a call does once nfsd_dispatch runs it): how long its thread is
  // then busy or blocked; by default a service time drawn per procedure
  proc: (r: i32) => i64 = serviceNs;
  // what a caller's detectors see of each nfsd_cache_lookup: (request row, thread, result)
  onLookup: ((r: i32, t: i32, res: i32) => void) | null = null;
}
const srvProc = zeroed<usize>(MAX_SVC);
const srvOnLookup = zeroed<usize>(MAX_SVC);

export function svcNew(o: SvcOptions): i32 {
  assert(nSvc < MAX_SVC, "too many knfsd instances");
  assert(o.threads >= 1, "svcNew: threads must be >= 1");
  assert(o.rcvbufBytes >= 0 && o.udpQueueMax >= 0 && o.wsizeBytes > 0, "svcNew: negative buffer sizes or wsizeBytes <= 0");
  assert(o.stallEveryS >= 0 && o.stallMeanS >= 0 && o.stallMaxS >= o.stallMeanS, "svcNew: needs 0 <= stallMeanS <= stallMaxS");
  assert(o.restartEveryS >= 0 && o.downS >= 0 && o.agePeriodS >= 0 && o.dropEveryS >= 0, "svcNew: negative fault intervals");
  const k = nSvc++;
  unchecked(srvThreads[k] = o.threads);
  unchecked(srvRcvbuf[k] = o.rcvbufBytes);
  unchecked(srvUdpQueueMax[k] = o.udpQueueMax);
  unchecked(srvWsize[k] = o.wsizeBytes);
  unchecked(srvUp[k] = true);
  unchecked(srvLastStallStart[k] = -1);
  unchecked(srvEnt[k] = o.ent >= 0 ? o.ent : entNew(N_nfsd, N_server, 0));
  unchecked(srvDrc[k] = o.drc == DRC_NONE ? -1 : drcNew(o.drc, o.otherOpsPerSec));
  unchecked(srvProc[k] = changetype<usize>(o.proc));
  unchecked(srvOnLookup[k] = changetype<usize>(o.onLookup));
  unchecked(srvWake[k] = changetype<usize>(poolRun));
  for (let c = k * NC; c < (k + 1) * NC; c++) unchecked(cSk[c] = -1);
  setServerHooks(udpRecv, tcpCtrl, tcpData, tcpWindow);
  storageStalls(k, o.stallEveryS, o.stallMeanS, o.stallMaxS);
  restarts(k, o.restartEveryS, o.downS);
  aging(k, o.agePeriodS, o.dropEveryS);
  return k;
}

function storageStalls(k: i32, everyS: f64, meanS: f64, maxS: f64): void {
  const every = everyS * <f64>NSEC_PER_SEC, mean = meanS * <f64>NSEC_PER_SEC;
  unchecked(srvStallEveryNs[k] = every);
  unchecked(srvStallMeanNs[k] = mean);
  unchecked(srvStallMaxNs[k] = <i64>(maxS * <f64>NSEC_PER_SEC));
  if (every > 0 && mean > 0) scheduleIn(<i64>randExp(S_SRV, every), EV_STORAGE, (k << 1) | 1);
}

function restarts(k: i32, everyS: f64, downS: f64): void {
  const every = everyS * <f64>NSEC_PER_SEC, down = <i64>(downS * <f64>NSEC_PER_SEC);
  unchecked(srvRestartEveryNs[k] = every);
  unchecked(srvDownNs[k] = down);
  if (every > 0 && down > 0) scheduleIn(<i64>randExp(S_SRV, every), EV_RESTART, k << 1);
}

function aging(k: i32, periodS: f64, dropEveryS: f64): void {
  const period = <i64>(periodS * <f64>NSEC_PER_SEC);
  unchecked(srvAgePeriod[k] = period);
  if (period > 0) scheduleIn(period, EV_SVC_AGE, k);
  const drop = dropEveryS * <f64>NSEC_PER_SEC;
  unchecked(srvDropEveryNs[k] = drop);
  if (drop > 0) scheduleIn(<i64>randExp(S_SRV, drop), EV_SVC_DROP, k);
}

// the default procedure op (a server whose storage is not modelled): a drawn service time
function serviceNs(r: i32): i64 {
  const proc = unchecked(rqstProc[r]);
  if (proc == NFS3PROC_WRITE) return randDuration(S_SRV, 250 * NSEC_PER_USEC);
  if (proc == NFS3PROC_COMMIT) return randDuration(S_SRV, 3 * NSEC_PER_MSEC);
  return randDuration(S_SRV, 40 * NSEC_PER_USEC);
}

// svc_xprt_enqueue: the call waits for a thread, and the instance's threads are told
export function svcXprtEnqueue(k: i32, ops: SvcXprtOps, xid: u32, proc: i32, bytes: i32, gen: i32, peer: i32, seg: i32, segs: i32): void {
  const len = unchecked(srvRqLen[k]);
  assert(len < RQ, "nfsd request queue overflow");
  const i = k * RQ + (unchecked(srvRqHead[k]) + len) % RQ;
  unchecked(rqOps[i] = changetype<usize>(ops));
  unchecked(rqXid[i] = xid);
  unchecked(rqProc[i] = proc);
  unchecked(rqBytes[i] = bytes);
  unchecked(rqConn[i] = gen);
  unchecked(rqPeer[i] = peer);
  unchecked(rqSeg[i] = seg);
  unchecked(rqSegs[i] = segs);
  unchecked(srvRqLen[k] = len + 1);
  unchecked(srvRqMade[k] += 1);
  wake(k);
}

// svc_recv: request row r (served by thread entity `ent`) takes the next queued call
// through its transport's xpo_recvfrom; false if the transport went away (the call is gone)
export function svcRecv(k: i32, r: i32, ent: i32): bool {
  const head = unchecked(srvRqHead[k]);
  const i = k * RQ + head;
  unchecked(srvRqHead[k] = (head + 1) % RQ);
  unchecked(srvRqLen[k] -= 1);
  const ops = unchecked(rqOps[i]);
  unchecked(rqstOps[r] = ops);
  unchecked(rqstXid[r] = unchecked(rqXid[i]));
  unchecked(rqstProc[r] = unchecked(rqProc[i]));
  unchecked(rqstBytes[r] = unchecked(rqBytes[i]));
  unchecked(rqstConn[r] = unchecked(rqConn[i]));
  unchecked(rqstPeer[r] = unchecked(rqPeer[i]));
  unchecked(rqstEnt[r] = ent);
  unchecked(rqstEpoch[r] = unchecked(srvEpoch[k]));
  unchecked(rqstHeld[r] = false);
  unchecked(rqstEntry[r] = -1);
  unchecked(rqstCsum[r] = 0);
  unchecked(rqstLen[r] = unchecked(rqBytes[i]));
  return changetype<SvcXprtOps>(ops).recvfrom(k, i, r);
}

// nfsd_dispatch: a cached procedure (an NFSv3 WRITE, RC_REPLBUFF; GETATTR and COMMIT are
// RC_NOCACHE) asks the instance's DRC first. RC_DOIT: the thread holds the transport and
// runs the procedure; RC_REPLY: answer from the cache; RC_DROPIT: drop the call.
export function nfsdDispatch(k: i32, r: i32): i32 {
  const d = unchecked(srvDrc[k]);
  if (unchecked(rqstProc[r]) == NFS3PROC_WRITE && d >= 0) {
    const xid = unchecked(rqstXid[r]);
    const res = nfsdCacheLookup(d, xid, unchecked(rqstClient[r]), unchecked(rqstCsum[r]), unchecked(rqstLen[r]));
    trace(unchecked(rqstEnt[r]), N_nfsd_cache_lookup, <i32>xid, res == RC_DOIT ? N_RC_DOIT : res == RC_REPLY ? N_RC_REPLY : N_RC_DROPIT, <i32>unchecked(rqstCsum[r]));
    if (res == RC_REPLY) unchecked(srvNDrcReplies[k] += 1);
    if (res == RC_DROPIT) unchecked(srvNDrcDrops[k] += 1);
    const onLookup = unchecked(srvOnLookup[k]);
    if (onLookup) changetype<(r: i32, t: i32, res: i32) => void>(onLookup)(r, unchecked(rqstEnt[r]), res);
    if (res != RC_DOIT) return res;
    unchecked(rqstEntry[r] = unchecked(drcLookupEntry[d]));
  }
  changetype<SvcXprtOps>(unchecked(rqstOps[r])).get(k, r);
  unchecked(rqstHeld[r] = true);
  return RC_DOIT;
}

// a storage stall blocks writes to the backing store: how long the procedure waits first
export function svcStallWaitNs(k: i32, r: i32): i64 {
  const proc = unchecked(rqstProc[r]);
  if (!unchecked(srvStalled[k]) || (proc != NFS3PROC_WRITE && proc != NFS3PROC_COMMIT)) return 0;
  return unchecked(srvStallEnd[k]) - now;
}

// the procedure (the instance's op): how long the thread is then busy or blocked
export function nfsdProcNs(k: i32, r: i32): i64 {
  return svcStallWaitNs(k, r) + changetype<(r: i32) => i64>(unchecked(srvProc[k]))(r);
}

// the procedure is done: nfsd_cache_update caches its reply (a restart emptied the cache:
// the entry is not this call's any more)
export function nfsdDone(k: i32, r: i32): void {
  unchecked(srvNServed[k] += 1);
  if (unchecked(rqstEntry[r]) >= 0 && unchecked(rqstEpoch[r]) == unchecked(srvEpoch[k])) nfsdCacheUpdate(unchecked(rqstEntry[r]));
}

// svc_send through xpo_sendto, then svc_xprt_put if the thread held the transport: false
// (dropped) after a restart (the reply is lost with the threads) or on a dead transport
export function svcSend(k: i32, r: i32): bool {
  const ops = changetype<SvcXprtOps>(unchecked(rqstOps[r]));
  const sent = unchecked(rqstEpoch[r]) == unchecked(srvEpoch[k]) && unchecked(srvUp[k]) && ops.sendto(k, r);
  if (unchecked(rqstHeld[r])) ops.put(k, r);
  return sent;
}

// ---- how an instance's nfsd threads run: its choice, made once ------------------------
// A remote server's CPUs are not modelled: its threads are a pool of drawn service times,
// one event per call (the sunrpc scenarios run about 19 events per rpc_task). A server on
// the modelled CPUs runs scheduled kthreads instead (asm/nfsd/nfsd.ts svcSetThreads):
// there the WRITE blocks in io_schedule and competes for the CPUs.
const srvWake = zeroed<usize>(MAX_SVC);           // svc_xprt_enqueue's wake-up: (k) => void
function wake(k: i32): void { changetype<(k: i32) => void>(unchecked(srvWake[k]))(k); }
export function svcSetThreads(k: i32, wakeUp: (k: i32) => void): void { unchecked(srvWake[k] = changetype<usize>(wakeUp)); }
export function svcThreads(k: i32): i32 { return unchecked(srvThreads[k]); }
export function svcInstances(): i32 { return nSvc; }
export function svcRqstEnt(r: i32): i32 { return unchecked(rqstEnt[r]); }
export function svcRqstRows(): i32 { return rqstRows(); }

function rqstGet(k: i32): i32 {
  let s = k * SV;
  const end = s + SV;
  while (s < end && unchecked(rqstUsed[s])) s++;
  assert(s < end, "too many requests in service");
  unchecked(rqstUsed[s] = true);
  if (s - k * SV >= unchecked(srvRqstHigh[k])) unchecked(srvRqstHigh[k] = s - k * SV + 1);
  return s;
}
// a thread's own request row (the kthreads': one each)
export function svcRqstOf(k: i32, n: i32): i32 {
  assert(n >= 0 && n < SV, "svcRqstOf: no such row");
  if (n >= unchecked(srvRqstHigh[k])) unchecked(srvRqstHigh[k] = n + 1);
  return k * SV + n;
}

// the pool: free threads take queued calls; a call run ends with EV_NFSD_DONE
function poolRun(k: i32): void {
  const e = unchecked(srvEnt[k]);
  while (unchecked(srvUp[k]) && unchecked(srvBusy[k]) < unchecked(srvThreads[k]) && unchecked(srvRqLen[k]) > 0) {
    const r = rqstGet(k);
    if (!svcRecv(k, r, e)) { unchecked(rqstUsed[r] = false); continue; }
    const res = nfsdDispatch(k, r);
    const xid = unchecked(rqstXid[r]), proc = unchecked(rqstProc[r]);
    if (res != RC_DOIT) {
      if (res == RC_REPLY) trace(e, N_svc_reply, <i32>xid, unchecked(N_PROC[proc]), svcSend(k, r) ? 0 : 1);
      unchecked(rqstUsed[r] = false);
      continue;
    }
    unchecked(srvBusy[k] += 1);
    trace(e, N_svc_process, <i32>xid, unchecked(N_PROC[proc]), <i32>(svcStallWaitNs(k, r) / 1000000));
    scheduleAt(now + nfsdProcNs(k, r), EV_NFSD_DONE, r);
  }
}

function poolDone(r: i32): void {
  const k = r / SV;
  unchecked(rqstUsed[r] = false);
  unchecked(srvBusy[k] -= 1);
  nfsdDone(k, r);
  const dropped = !svcSend(k, r);
  trace(unchecked(srvEnt[k]), N_svc_reply, <i32>unchecked(rqstXid[r]), unchecked(N_PROC[unchecked(rqstProc[r])]), dropped ? 1 : 0);
  poolRun(k);
}

// ---- struct svc_xprt_ops: one row per transport class (svc_udp_class, svc_tcp_class
// here, and asm/nfsd/nfsd.ts's svc_sock_class); each op takes the instance k and the
// request row r (recvfrom also the queued call q)
export class SvcXprtOps {
  // xpo_recvfrom: the call is read off the transport into row r (and its DRC key); false
  // if the transport went away
  recvfrom: (k: i32, q: i32, r: i32) => bool = (k: i32, q: i32, r: i32): bool => true;
  // svc_xprt_get / svc_xprt_put: a thread holds the transport while it serves the call
  get: (k: i32, r: i32) => void = (k: i32, r: i32): void => {};
  put: (k: i32, r: i32) => void = (k: i32, r: i32): void => {};
  // xpo_sendto: the reply; false if the transport is dead (XPT_DEAD: svc_send drops it)
  sendto: (k: i32, r: i32) => bool = (k: i32, r: i32): bool => true;
}

const svc_udp_class = new SvcXprtOps();
svc_udp_class.recvfrom = (k: i32, q: i32, r: i32): bool => {
  unchecked(srvUdpQueued[k] -= 1);
  unchecked(rqstClient[r] = unchecked(rqstPeer[r]));
  return true;
};
svc_udp_class.sendto = (k: i32, r: i32): bool => {
  udpReplyToClient(unchecked(rqstPeer[r]), unchecked(rqstXid[r]), unchecked(rqstProc[r]));
  return true;
};

// a request's TCP transport is its connection (the client socket's generation)
const svc_tcp_class = new SvcXprtOps();
svc_tcp_class.recvfrom = (k: i32, q: i32, r: i32): bool => {
  const gen = unchecked(rqstConn[r]);
  const c = conn(k, gen);
  if (c < 0 || !established(c)) return false;
  unchecked(cOld[c] = false);
  if (tcpRecvmsg(unchecked(cSk[c]), unchecked(rqstBytes[r]))) tcpCtrlToClient(gen, CTRL_WINDOW);
  unchecked(rqstClient[r] = xprtOfGen(gen));
  return true;
};
svc_tcp_class.get = (k: i32, r: i32): void => { unchecked(cRefs[conn(k, unchecked(rqstConn[r]))] += 1); };
svc_tcp_class.put = (k: i32, r: i32): void => {
  const c = conn(k, unchecked(rqstConn[r]));
  if (c < 0) return;
  unchecked(cRefs[c] -= 1);
  if (unchecked(cRefs[c]) == 0 && closed(c)) release(k, c);
};
svc_tcp_class.sendto = (k: i32, r: i32): bool => {
  const gen = unchecked(rqstConn[r]);
  const c = conn(k, gen);
  if (c < 0 || !established(c)) return false;
  tcpReplyToClient(gen, unchecked(rqstXid[r]), unchecked(rqstProc[r]));
  return true;
};

// ---- UDP ----------------------------------------------------------------------------
function udpRecv(k: i32, peer: i32, xid: u32, proc: i32, bytes: i32): bool {
  if (!unchecked(srvUp[k])) return false;
  if (unchecked(srvUdpQueued[k]) >= unchecked(srvUdpQueueMax[k])) {
    unchecked(srvNUdpDrops[k] += 1);
    trace(unchecked(srvEnt[k]), N_svc_drop, <i32>xid);
    return true;
  }
  unchecked(srvUdpQueued[k] += 1);
  svcXprtEnqueue(k, svc_udp_class, xid, proc, bytes, 0, peer, 0, 0);
  return true;
}

// ---- TCP ----------------------------------------------------------------------------
function tcpWindow(k: i32, gen: i32): i32 {
  const c = conn(k, gen);
  if (c < 0 || !established(c)) return 1 << 30;   // it will be reset
  return tcpSelectWindow(unchecked(cSk[c]));
}

function tcpData(k: i32, gen: i32, xid: u32, proc: i32, bytes: i32, recEnd: bool): bool {
  const c = conn(k, gen);
  if (c < 0 || !established(c)) {
    // data for a socket that was shut down for reading or released: tcp_reset
    trace(unchecked(srvEnt[k]), N_rst, gen);
    tcpCtrlToClient(gen, CTRL_RST);
    if (c >= 0 && unchecked(cSk[c]) >= 0) tcpReset(unchecked(cSk[c]));
    return false;
  }
  tcpQueueRcv(unchecked(cSk[c]), bytes);
  if (recEnd) svcXprtEnqueue(k, svc_tcp_class, xid, proc, callBytesOf(k, proc), gen, 0, 0, 0);
  return true;
}

function callBytesOf(k: i32, proc: i32): i32 {
  return proc == NFS3PROC_WRITE ? unchecked(srvWsize[k]) + 180 : proc == NFS3PROC_COMMIT ? 140 : 120;
}

function tcpCtrl(k: i32, gen: i32, ctrl: i32): void {
  const e = unchecked(srvEnt[k]);
  if (ctrl == CTRL_SYN) {
    const s = slot(k, gen);
    // the connection NC generations back, if a thread still held it
    if (unchecked(cSk[s]) >= 0) sockRelease(unchecked(cSk[s]));
    unchecked(cGen[s] = gen);
    const rcvbuf = unchecked(srvRcvbuf[k]);
    unchecked(cSk[s] = tcpAccept(e, rcvbuf, rcvbuf));
    unchecked(cRefs[s] = 0);
    unchecked(cOld[s] = false);
    trace(e, N_accept, gen);
    tcpCtrlToClient(gen, CTRL_SYNACK);
    return;
  }
  const c = conn(k, gen);
  const sk = c < 0 ? -1 : unchecked(cSk[c]);
  if (ctrl == CTRL_FIN) {
    tcpCtrlToClient(gen, CTRL_FINACK);
    if (sk < 0) return;
    const est = tcpState(sk) == TCP_ESTABLISHED;
    tcpRcvFin(sk);
    // the client closed: svc_tcp_recvfrom reads EOF and closes this xprt too
    if (est) close(k, c);
    return;
  }
  if (ctrl == CTRL_RST && sk >= 0 && tcpReset(sk) && unchecked(cRefs[c]) == 0) release(k, c);
}

// shut down by svc_delete_xprt or reset: released when the last thread lets go
function closed(c: i32): bool {
  const sk = unchecked(cSk[c]);
  return sk >= 0 && (tcpSendShutdown(sk) || tcpState(sk) == TCP_CLOSE);
}

// svc_delete_xprt: shutdown(SHUT_RDWR) (a FIN), then the socket is released once no
// nfsd thread holds the transport.
function close(k: i32, c: i32): void {
  const gen = unchecked(cGen[c]);
  const sk = unchecked(cSk[c]);
  trace(unchecked(srvEnt[k]), N_delete, gen, unchecked(cRefs[c]), tcpRmem(sk));
  unchecked(srvNCloses[k] += 1);
  if (tcpShutdown(sk)) tcpCtrlToClient(gen, CTRL_FIN);
  if (unchecked(cRefs[c]) == 0) release(k, c);
}

function release(k: i32, c: i32): void {
  const gen = unchecked(cGen[c]);
  const sk = unchecked(cSk[c]);
  const unread = tcpRmem(sk) > 0;
  // tcp_close: a reset only for unread data on a socket not closed already
  const rst = sockRelease(sk) && unread;
  unchecked(cSk[c] = -1);
  trace(unchecked(srvEnt[k]), N_release, gen, rst ? 1 : 0);
  if (rst) tcpCtrlToClient(gen, CTRL_RST);
}

// svc_age_temp_xprts: an xprt not used since the last pass (XPT_OLD) and not busy is closed
function age(k: i32): void {
  let n = 0;
  for (let c = k * NC; c < (k + 1) * NC; c++) {
    if (!established(c)) continue;
    if (unchecked(cRefs[c]) > 0) continue;
    if (!unchecked(cOld[c])) { unchecked(cOld[c] = true); continue; }
    close(k, c);
    n++;
  }
  trace(unchecked(srvEnt[k]), N_age, n);
  scheduleIn(unchecked(srvAgePeriod[k]), EV_SVC_AGE, k);
}

function dropOne(k: i32): void {
  for (let c = k * NC; c < (k + 1) * NC; c++) {
    if (established(c)) { close(k, c); break; }
  }
  scheduleIn(<i64>randExp(S_SRV, unchecked(srvDropEveryNs[k])) + NSEC_PER_SEC, EV_SVC_DROP, k);
}

// a storage stall begins (on) or ends
function storage(k: i32, on: bool): void {
  const e = unchecked(srvEnt[k]);
  if (on) {
    let len = <i64>(unchecked(srvStallMeanNs[k]) * (0.5 + randF64(S_SRV)));
    if (len > unchecked(srvStallMaxNs[k])) len = unchecked(srvStallMaxNs[k]);
    unchecked(srvStalled[k] = true);
    unchecked(srvStallEnd[k] = now + len);
    unchecked(srvNStalls[k] += 1);
    unchecked(srvLastStallStart[k] = now);
    unchecked(srvLastStallLen[k] = len);
    trace(e, N_stall, 1);
    scheduleAt(now + len, EV_STORAGE, k << 1);
  } else {
    unchecked(srvStalled[k] = false);
    trace(e, N_stall, 0);
    scheduleIn(<i64>randExp(S_SRV, unchecked(srvStallEveryNs[k])) + NSEC_PER_SEC, EV_STORAGE, (k << 1) | 1);
  }
}

// nfsd stops (queued requests are discarded, replies in progress are lost) or comes back
function restart(k: i32, up: bool): void {
  const e = unchecked(srvEnt[k]);
  const down = unchecked(srvDownNs[k]);
  if (!up) {
    unchecked(srvUp[k] = false);
    unchecked(srvNRestarts[k] += 1);
    unchecked(srvEpoch[k] += 1);
    unchecked(srvRqLen[k] = 0);
    unchecked(srvUdpQueued[k] = 0);
    if (unchecked(srvDrc[k]) >= 0) drcReset(unchecked(srvDrc[k]));
    trace(e, N_restart, 0);
    scheduleIn(down, EV_RESTART, (k << 1) | 1);
  } else {
    unchecked(srvUp[k] = true);
    trace(e, N_restart, 1);
    scheduleIn(<i64>randExp(S_SRV, unchecked(srvRestartEveryNs[k])) + down, EV_RESTART, k << 1);
    wake(k);
  }
}

export function svcEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_NFSD_DONE) { poolDone(obj); return true; }
  if (kind == EV_STORAGE) { storage(obj >> 1, (obj & 1) != 0); return true; }
  if (kind == EV_RESTART) { restart(obj >> 1, (obj & 1) != 0); return true; }
  if (kind == EV_SVC_AGE) { age(obj); return true; }
  if (kind == EV_SVC_DROP) { dropOne(obj); return true; }
  return false;
}

export function svcBusy(k: i32): i32 { return unchecked(srvBusy[k]); }
export function svcQueued(k: i32): i32 { return unchecked(srvRqLen[k]); }
// the server's socket of client connection `gen`: -1 if never accepted or released
export function svcConnSk(k: i32, gen: i32): i32 { const c = gen == 0 ? -1 : conn(k, gen); return c < 0 ? -1 : unchecked(cSk[c]); }
