// socklnd-scheduler (seed 002, LU-11415 "socklnd: improve scheduling algorithm").
// Our node (192.168.1.1@tcp, an OSS-like server) is the passive side of typed connections
// from `peers` clients. A few hot peers stream bulk LNet PUTs (writes: into our BULK_IN;
// reads: out of our BULK_OUT); every PUT is answered by an LNet ACK on CONTROL, and cold
// peers send small PUTs now and then. The socklnd model (asm/lnet/socklnd.ts) does the rest.
import { now, NSEC_PER_USEC, NSEC_PER_MSEC } from "../kernel/clock";
import { name, fn, CAT_NET } from "../kernel/names";
import { knob, kv, kvi, patch, patched, scenario } from "../kernel/config";
import { stream, randExp, randRange } from "../kernel/prng";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { setHooks } from "../kernel/hooks";
import { eventKind } from "../kernel/events";
import { cpusInit, taskSchedRuntime } from "../kernel/sched";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../kernel/timing";
import { trace } from "../kernel/trace";
import { setTimeLimit, setVerdict, worldStop, VERDICT_CORRUPTION, VERDICT_CRASH, VERDICT_DEGRADED } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jInt, jNum, jKI, jKN, jKB, jKS, jKName, jStr } from "../kernel/json";
import {
  lnetInit, lnetNidCptHash, ipNid, peerIp, msgAlloc, msgSerial, msgType, msgNob, msgDir, msgStream,
  msgQueued, msgConn, msgImage, msgSlots, wireTag, slots, slotStart, tagSerial, tagSlot, msgBySerial,
  LNET_MSG_ACK, LNET_MSG_PUT, MSG_IN, MSG_OUT, KSOCK_MSG_HDR, LNET_MAX_PAYLOAD, msgsInUse,
} from "../lnet/lnet";
import {
  socklndConfigure, socklndZeroCopy, socklndStartup, socklndUpcalls, socklndOnWire, ksocknalCreateConn,
  ksocknalQueueTxLocked, ksocknalSchedulerStep, sockIncoming, sockArrive, sockUnread, sockDrained,
  cfgRcvbuf, EV_DRAIN, nthreadsMax, nthreadsStarted, MAX_CPTS, N_CONN_TYPE,
  SOCKLND_CONN_CONTROL, SOCKLND_CONN_BULK_IN, SOCKLND_CONN_BULK_OUT,
  nThreads, thEnt, thCpt, thSid, thSched, thScratch, nScheds, kssCpt, kssNconns, kssNthreads,
  nScratch, scrOwnerIsThread, scrOwner, nConns, connPeer, connType, connCpt, connSched, connUp,
  nOverlaps, nCollisions, nSameConnOverlap, nViolations, MAX_VIOL, violT, violConn, violWhat,
  MAX_COLL, collT, collScratch, collThread, collCall, collConn, collFn, collSerial, collOff, collNob,
  collFillT, collCopied, collFillerDone, nIncidents, MAX_INC, incT, incConn, incSerial, incDir, incType,
  incNob, incFirstSlot, incHolds, incBad, incProto, nCorrupt, nProtoErrors, cptQueued, schedQueued, connEnt, socklndSnapshotJson,
  connTxQueueLen, nCorruptAtPeer, MAX_CONNS, kssLockSpinNs, kssLockAcquires, kssLockContended,
  sockLockWaitNs, sockLockContended, sockArg, sockArgBytes, sockArgLive, socklndCloseUpcalls, nCloses, nTxFailed, nLostInSocket, firstCloseNs,
} from "../lnet/socklnd";
import { zeroed } from "../kernel/mem";

const K_PEERS = knob("socklnd.peers");
const K_CPTS = knob("socklnd.cpts");
const K_CPUS = knob("socklnd.cpus_per_cpt");
const K_NSCHEDS = knob("socklnd.nscheds");
const K_HOT = knob("socklnd.hot_peers");
const K_DIR = knob("socklnd.bulk_dir");          // 0 write, 1 read, 2 both
const K_MSG = knob("socklnd.msg_size");
const K_CPB = knob("socklnd.copy_ns_per_kib");
const K_CHECK = knob("socklnd.payload_check");
const K_DUR = knob("socklnd.duration_ms");
const K_LINK = knob("socklnd.link_gbps");
const K_COLD = knob("socklnd.cold_interval_us");
const K_ZC = knob("socklnd.zc_min_payload");
const K_NIC = knob("socklnd.nic_offload");
const K_STRESS = knob("stress_per_1k");
const P_SHARED = patch("socklnd-shared-sched");
const P_SCRATCH = patch("socklnd-per-thread-scratch");

const S_CONN = stream("socklnd.connd");
const S_COLD = stream("socklnd.cold");

const EV_CONNECT = eventKind("lnet.peer_connect");   // obj = peer, arg = step (0..2), + RECONNECT for one type alone
const EV_ARRIVE = eventKind("lnet.arrive");    // obj = conn, arg = bytes
const EV_COLD = eventKind("lnet.cold");      // obj = peer
const EV_SAMPLE = eventKind("lnet.sample");
const EV_END = eventKind("lnet.end");
const EV_RETRY = eventKind("lnet.retry");     // obj = conn: the peer retries after a full pool

const MAX_PEERS: i32 = 64;
const PEER_CREDITS: i32 = 8;
const MIN_BULK: i32 = 1024;
const SMALL_PUT: i32 = 512;
const CHUNK: i32 = 65536;

// Names registered at module start (the host reads the table before the build).
const N_peerNid = zeroed<i32>(MAX_PEERS);
for (let i = 0; i < MAX_PEERS; i++) unchecked(N_peerNid[i] = name("192.168.1." + (11 + i).toString() + "@tcp"));
const N_threadComm = zeroed<i32>(MAX_CPTS * 16);
for (let c = 0; c < MAX_CPTS; c++) {
  for (let s = 0; s < 16; s++) {
    unchecked(N_threadComm[c * 16 + s] = name("socknal_sd0" + c.toString() + "_" + (s < 10 ? "0" : "") + s.toString()));
  }
}
const N_lnet_send = fn("lnet_send", "peer=%d type=%d nob=%d credits=%d", CAT_NET);
const N_peer_send = fn("peer tcp_sendmsg", "conn=%d msg=%d type=%d nob=%d", CAT_NET);
const N_reconnect = fn("peer ksocknal_connd: reconnect", "peer=%d type=%n", CAT_NET);

// --- workload state ---------------------------------------------------------------------
let nPeers: i32 = 0;
let hotPeers: i32 = 0;
let bulkDir: i32 = 0;
let msgSize: i32 = 65536;
let linkBpns: f64 = 3.125;
let coldMeanNs: f64 = 200000;
let durationNs: i64 = 0;
let warmNs: i64 = 0;
const peerCtrl = zeroed<i32>(MAX_PEERS);
const peerBin = zeroed<i32>(MAX_PEERS);
const peerBout = zeroed<i32>(MAX_PEERS);
const peerCpt = zeroed<i32>(MAX_PEERS);
const txCredits = zeroed<i32>(MAX_PEERS);   // lpni tx credits (peer_credits)
const lnetAcks = zeroed<i32>(MAX_PEERS);    // ACKs waiting for a credit
const lnetPuts = zeroed<i32>(MAX_PEERS);    // bulk PUTs failed by a close, to resend
const peerEverUp = zeroed<bool>(MAX_PEERS);
// the peer's side of each of our conns: what it has to send us, what it is sending
const peerMsg = zeroed<i32>(MAX_CONNS);
const peerLeft = zeroed<i32>(MAX_CONNS);
const peerStalled = zeroed<bool>(MAX_CONNS);
// what the peer has to send on its CONTROL conn: ACKs to our PUTs, small PUTs
const peerAcks = zeroed<i32>(MAX_PEERS);
const peerPuts = zeroed<i32>(MAX_PEERS);
let nResends: i32 = 0;       // LNet resends of messages a close failed (ours and the peers')
let nReconnects: i32 = 0;

// --- metrics --------------------------------------------------------------------------------
let bytesRx: f64 = 0;
let bytesTx: f64 = 0;
let warmBytes: f64 = 0;
let msgsRx: i32 = 0;
let msgsTx: i32 = 0;
const MAX_LAT: i32 = 1 << 16;
const lat = zeroed<i64>(MAX_LAT);
let nLat: i32 = 0;
const MAX_SAMPLES: i32 = 100;
let sampleNs: i64 = 0;
let nSamples: i32 = 0;
const sampT = zeroed<i64>(MAX_SAMPLES);
const sampBytes = zeroed<f64>(MAX_SAMPLES);
const sampBusy = zeroed<i64>(MAX_SAMPLES * 64);
const sampQueue = zeroed<i32>(MAX_SAMPLES * MAX_CPTS);
const sampTxq = zeroed<i32>(MAX_SAMPLES);
const sampOwnQ = zeroed<i32>(MAX_SAMPLES * 64);   // per thread: conns queued on its sched
const lastBusy = zeroed<i64>(64);
const warmBusy = zeroed<i64>(64);
let lastBytes: f64 = 0;
const maxQueue = zeroed<i32>(MAX_CPTS);

// --- wire log (the pcap's source): the first WIRE_CAP messages, plus corrupted ones ----------
const WIRE_CAP: i32 = 48;
const WIRE_EXTRA: i32 = 16;
const WIRE_RUNS: i32 = 12;
const WIRE_MAX: i32 = WIRE_CAP + WIRE_EXTRA;
let nWire: i32 = 0;
let nWireExtra: i32 = 0;
let wireSkipped: i32 = 0;
const wT = zeroed<i64>(WIRE_MAX);
const wConn = zeroed<i32>(WIRE_MAX);
const wDir = zeroed<i32>(WIRE_MAX);
const wSerial = zeroed<i32>(WIRE_MAX);
const wType = zeroed<i32>(WIRE_MAX);
const wNob = zeroed<i32>(WIRE_MAX);
const wStream = zeroed<f64>(WIRE_MAX);
const wNruns = zeroed<i32>(WIRE_MAX);
const wRunOff = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunLen = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSerial = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSrcOff = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSrcConn = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSrcType = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSrcNob = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
const wRunSrcDir = zeroed<i32>(WIRE_MAX * WIRE_RUNS);

function logWire(c: i32, m: i32, dir: i32): void {
  const n = msgSlots(m), base = m * slots, serial = unchecked(msgSerial[m]);
  let clean = true;
  if (dir == MSG_OUT) for (let s = 0; s < n; s++) if (unchecked(wireTag[base + s]) != ((serial << 9) | s)) { clean = false; break; }
  if (nWire >= WIRE_CAP && (clean || nWireExtra >= WIRE_EXTRA)) { wireSkipped++; return; }
  if (nWire >= WIRE_CAP) nWireExtra++;
  const w = nWire++;
  unchecked(wT[w] = now);
  unchecked(wConn[w] = c);
  unchecked(wDir[w] = dir);
  unchecked(wSerial[w] = serial);
  unchecked(wType[w] = unchecked(msgType[m]));
  unchecked(wNob[w] = unchecked(msgNob[m]));
  unchecked(wStream[w] = unchecked(msgStream[m]));
  const image = msgImage(m);
  let r = 0;
  let prev: i32 = -1;
  for (let s = 0; s < n; s++) {
    const tag = dir == MSG_OUT ? unchecked(wireTag[base + s]) : ((serial << 9) | s);
    const start = slotStart(s);
    const end = s + 1 < n ? slotStart(s + 1) : image;
    if (r > 0 && (tag == 0 ? prev == 0 : tag == prev + 1)) {
      unchecked(wRunLen[w * WIRE_RUNS + r - 1] += end - start);
    } else if (r < WIRE_RUNS) {
      const k = w * WIRE_RUNS + r++;
      const ts = tag == 0 ? 0 : tagSerial(tag);
      unchecked(wRunOff[k] = start);
      unchecked(wRunLen[k] = end - start);
      unchecked(wRunSerial[k] = ts);
      unchecked(wRunSrcOff[k] = tag == 0 ? 0 : slotStart(tagSlot(tag)));
      const sm = ts == serial ? m : (ts == 0 ? -1 : msgBySerial(ts));
      unchecked(wRunSrcConn[k] = sm >= 0 ? unchecked(msgConn[sm]) : -1);
      unchecked(wRunSrcType[k] = sm >= 0 ? unchecked(msgType[sm]) : -1);
      unchecked(wRunSrcNob[k] = sm >= 0 ? unchecked(msgNob[sm]) : -1);
      unchecked(wRunSrcDir[k] = sm >= 0 ? unchecked(msgDir[sm]) : -1);
    } else {
      unchecked(wRunLen[w * WIRE_RUNS + r - 1] += end - start);   // beyond the run cap: merged
    }
    prev = tag;
  }
  unchecked(wNruns[w] = r);
}

// --- LNet above socklnd: lnet_send with per-peer tx credits --------------------------------
// ksocknal_match_tx_v3: nob >= min_bulk prefers BULK_OUT, smaller messages CONTROL.
function lnetSend(p: i32, type: i32, nob: i32): bool {
  if (unchecked(txCredits[p]) == 0) return false;
  const c = nob >= MIN_BULK ? unchecked(peerBout[p]) : unchecked(peerCtrl[p]);
  if (!unchecked(connUp[c])) return false;
  const m = msgAlloc(c, MSG_OUT, type, nob, now);
  if (m < 0) return false;
  unchecked(txCredits[p] -= 1);
  trace(unchecked(connEnt[c]), N_lnet_send, p, type, nob, unchecked(txCredits[p]));
  ksocknalQueueTxLocked(c, m);
  return true;
}

// Pending ACKs first, then (hot peers reading from us) the next bulk PUT.
function lnetPump(p: i32): void {
  while (unchecked(lnetAcks[p]) > 0 && lnetSend(p, LNET_MSG_ACK, 0)) unchecked(lnetAcks[p] -= 1);
  while (unchecked(lnetPuts[p]) > 0 && lnetSend(p, LNET_MSG_PUT, msgSize)) unchecked(lnetPuts[p] -= 1);
  if (p < hotPeers && bulkDir != 0) {
    while (unchecked(lnetAcks[p]) == 0 && lnetSend(p, LNET_MSG_PUT, msgSize)) {}
  }
}

function recordLatency(t0: i64): void {
  if (nLat < MAX_LAT) unchecked(lat[nLat++] = now - t0);
}

function onRecvDone(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  if (unchecked(msgNob[m]) >= MIN_BULK) {
    bytesRx += <f64>unchecked(msgNob[m]);
    msgsRx++;
    recordLatency(unchecked(msgQueued[m]));
  }
  if (unchecked(msgType[m]) == LNET_MSG_PUT) {
    unchecked(lnetAcks[p] += 1);
    lnetPump(p);
  }
}

function onTxDone(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  unchecked(txCredits[p] += 1);
  lnetPump(p);
}

function onPeerReceived(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  if (unchecked(msgNob[m]) >= MIN_BULK) {
    bytesTx += <f64>unchecked(msgNob[m]);
    msgsTx++;
    recordLatency(unchecked(msgQueued[m]));
  }
  if (unchecked(msgType[m]) == LNET_MSG_PUT) {
    unchecked(peerAcks[p] += 1);
    peerKick(unchecked(peerCtrl[p]));
  }
}

// --- the peer's sending side of one of our conns ----------------------------------------------
function peerWantsPut(c: i32): bool {
  const p = unchecked(connPeer[c]);
  if (unchecked(connType[c]) == SOCKLND_CONN_BULK_IN) return p < hotPeers && bulkDir != 1;
  return unchecked(peerPuts[p]) > 0;
}

function peerKick(c: i32): void {
  if (unchecked(peerMsg[c]) >= 0 || !unchecked(connUp[c])) return;
  const p = unchecked(connPeer[c]);
  let type: i32, nob: i32;
  if (unchecked(connType[c]) == SOCKLND_CONN_CONTROL && unchecked(peerAcks[p]) > 0) { type = LNET_MSG_ACK; nob = 0; }
  else if (peerWantsPut(c)) { type = LNET_MSG_PUT; nob = unchecked(connType[c]) == SOCKLND_CONN_BULK_IN ? msgSize : SMALL_PUT; }
  else return;
  const m = msgAlloc(c, MSG_IN, type, nob, now);
  if (m < 0) { scheduleIn(10 * NSEC_PER_USEC, EV_RETRY, c); return; }
  if (type == LNET_MSG_ACK) unchecked(peerAcks[p] -= 1);
  else if (unchecked(connType[c]) == SOCKLND_CONN_CONTROL) unchecked(peerPuts[p] -= 1);
  unchecked(peerMsg[c] = m);
  unchecked(peerLeft[c] = msgImage(m));
  sockIncoming(c, m);
  trace(unchecked(connEnt[c]), N_peer_send, c, unchecked(msgSerial[m]), type, nob);
  peerSendChunk(c);
}

// Next segment, within our receive window (TCP flow control).
function peerSendChunk(c: i32): void {
  const m = unchecked(peerMsg[c]);
  const sent = msgImage(m) - unchecked(peerLeft[c]);
  const n = min(unchecked(peerLeft[c]), sent == 0 ? KSOCK_MSG_HDR + CHUNK : CHUNK);
  if (sockUnread(c) + <f64>n > <f64>cfgRcvbuf) { unchecked(peerStalled[c] = true); return; }
  unchecked(peerStalled[c] = false);
  unchecked(peerLeft[c] -= n);
  scheduleIn(<i64>(<f64>n / linkBpns) + 1, EV_ARRIVE, c, sockArg(c, n));
}

function onRxSpace(c: i32): void {
  if (unchecked(peerStalled[c])) peerSendChunk(c);
}

function onArrive(c: i32, arg: i32): void {
  if (!sockArgLive(c, arg)) return;   // its socket was closed: the segment is reset
  const m = unchecked(peerMsg[c]);
  sockArrive(c, sockArgBytes(arg));
  if (unchecked(peerLeft[c]) > 0) { peerSendChunk(c); return; }
  logWire(c, m, MSG_IN);
  unchecked(peerMsg[c] = -1);
  peerKick(c);
}

// --- connection setup: peers connect one after another; each peer's connd makes
// CONTROL, BULK_IN, BULK_OUT (its types) = our CONTROL, BULK_OUT, BULK_IN.
const RECONNECT: i32 = 4;
function connStep(type: i32): i32 { return type == SOCKLND_CONN_CONTROL ? 0 : type == SOCKLND_CONN_BULK_OUT ? 1 : 2; }
function peerConn(p: i32, type: i32): i32 {
  return type == SOCKLND_CONN_CONTROL ? unchecked(peerCtrl[p]) : type == SOCKLND_CONN_BULK_OUT ? unchecked(peerBout[p]) : unchecked(peerBin[p]);
}

function onConnect(p: i32, arg: i32): void {
  const step = arg & 3;
  const types: i32 = step == 0 ? SOCKLND_CONN_CONTROL : step == 1 ? SOCKLND_CONN_BULK_OUT : SOCKLND_CONN_BULK_IN;
  const c = ksocknalCreateConn(p, types, unchecked(peerCpt[p]), unchecked(N_peerNid[p]), linkBpns, arg >= RECONNECT ? peerConn(p, types) : -1);
  unchecked(peerMsg[c] = -1);
  if (types == SOCKLND_CONN_CONTROL) unchecked(peerCtrl[p] = c);
  else if (types == SOCKLND_CONN_BULK_OUT) unchecked(peerBout[p] = c);
  else unchecked(peerBin[p] = c);
  if (arg >= RECONNECT) {   // one conn back: its traffic resumes
    peerKick(c);
    lnetPump(p);
    return;
  }
  if (step < 2) { scheduleIn(randRange(S_CONN, 20, 60) * NSEC_PER_USEC, EV_CONNECT, p, step + 1); return; }
  // all three up: traffic starts
  peerKick(unchecked(peerCtrl[p]));
  peerKick(unchecked(peerBin[p]));
  lnetPump(p);
  unchecked(peerEverUp[p] = true);
  if (now > warmNs) {
    warmNs = now;
    warmBytes = totalBytes();
    for (let t = 0; t < nThreads; t++) unchecked(warmBusy[t] = taskSchedRuntime(unchecked(thEnt[t])));
  }
  if (p >= hotPeers) scheduleIn(<i64>randExp(S_COLD, coldMeanNs), EV_COLD, p);
}

// --- a close (-EPROTO on either side): LNet gets the failed messages back and resends them
// once the peer's connd has reconnected (it has traffic queued, so it does so at once).
function onTxFailed(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  unchecked(txCredits[p] += 1);
  nResends++;
  if (unchecked(msgType[m]) == LNET_MSG_ACK) unchecked(lnetAcks[p] += 1);
  else unchecked(lnetPuts[p] += 1);
}

function onRxAborted(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  if (unchecked(peerMsg[c]) == m) unchecked(peerMsg[c] = -1);
  nResends++;
  // a bulk PUT on BULK_IN is resent by the peer's stream itself
  if (unchecked(msgType[m]) == LNET_MSG_ACK) unchecked(peerAcks[p] += 1);
  else if (unchecked(connType[c]) == SOCKLND_CONN_CONTROL) unchecked(peerPuts[p] += 1);
}

// The peer's connd reconnects each route type that lost its conn (ksnr_connected bit
// cleared), independently, into the same slot.
function onConnDead(c: i32): void {
  const p = unchecked(connPeer[c]), type = unchecked(connType[c]);
  trace(unchecked(connEnt[c]), N_reconnect, p, unchecked(N_CONN_TYPE[type]));
  nReconnects++;
  scheduleIn(randRange(S_CONN, 20, 60) * NSEC_PER_USEC, EV_CONNECT, p, RECONNECT + connStep(type));
}

function onCold(p: i32): void {
  const ctrl = unchecked(peerCtrl[p]);
  unchecked(peerPuts[p] += 1);
  peerKick(ctrl);
  scheduleIn(<i64>randExp(S_COLD, coldMeanNs) + 1, EV_COLD, p);
}

function totalBytes(): f64 { return bytesRx + bytesTx; }

function onSample(): void {
  if (nSamples < MAX_SAMPLES) {
    const k = nSamples++;
    unchecked(sampT[k] = now);
    const b = totalBytes();
    unchecked(sampBytes[k] = b - lastBytes);
    lastBytes = b;
    for (let t = 0; t < nThreads; t++) {
      const busy = taskSchedRuntime(unchecked(thEnt[t]));
      unchecked(sampBusy[k * 64 + t] = busy - unchecked(lastBusy[t]));
      unchecked(lastBusy[t] = busy);
      unchecked(sampOwnQ[k * 64 + t] = schedQueued(unchecked(thSched[t])));
    }
    for (let cpt = 0; cpt < MAX_CPTS; cpt++) {
      const q = cpt < kvi(K_CPTS) ? cptQueued(cpt) : 0;
      unchecked(sampQueue[k * MAX_CPTS + cpt] = q);
    }
    let txq = 0;
    for (let c = 0; c < nConns; c++) txq += connTxQueueLen(c);
    unchecked(sampTxq[k] = txq);
  }
  scheduleIn(sampleNs, EV_SAMPLE, 0);
}

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_DRAIN) sockDrained(obj, arg);
  else if (kind == EV_ARRIVE) onArrive(obj, arg);
  else if (kind == EV_CONNECT) onConnect(obj, arg);
  else if (kind == EV_COLD) onCold(obj);
  else if (kind == EV_RETRY) peerKick(obj);
  else if (kind == EV_SAMPLE) onSample();
  else if (kind == EV_END) worldStop();
}

// --- the imbalance detector: what an engineer reads off `top -H` and the ready lists ----------
// Over DEG_WINDOW consecutive samples after all conns are up, one scheduler thread is busy
// >= 90% while every sibling of its CPT is busy < 20%, and the lists that thread serves hold
// ready conns in at least half of the samples: work is waiting that an idle sibling could
// do but is not allowed to. A single hot conn on a single thread is not flagged (no backlog:
// one thread per direction per conn is the design, old or new).
const DEG_WINDOW: i32 = 10;
const DEG_HOT_PERMILLE: i64 = 900;
const DEG_IDLE_PERMILLE: i64 = 200;
let degThread: i32 = -1;
let degFrom: i32 = 0;
let degBusy: i64 = 0;          // per mille of the window
let degSiblingMax: i64 = 0;    // busiest sibling, per mille
let degBacklogSamples: i32 = 0;
let degBacklogSum: i32 = 0;
let degWindows: i32 = 0;       // windows (by first sample) that met the condition

function windowBusy(t: i32, k0: i32): i64 {
  let b: i64 = 0;
  for (let k = k0; k < k0 + DEG_WINDOW; k++) b += min(unchecked(sampBusy[k * 64 + t]), sampleNs);
  return b * 1000 / (<i64>DEG_WINDOW * sampleNs);
}

function imbalanceDetector(): void {
  let k0 = 0;
  while (k0 < nSamples && unchecked(sampT[k0]) - sampleNs < warmNs) k0++;
  for (; k0 + DEG_WINDOW <= nSamples; k0++) {
    for (let t = 0; t < nThreads; t++) {
      const busy = windowBusy(t, k0);
      if (busy < DEG_HOT_PERMILLE) continue;
      let sibMax: i64 = -1;
      for (let o = 0; o < nThreads; o++) {
        if (o != t && unchecked(thCpt[o]) == unchecked(thCpt[t])) sibMax = max(sibMax, windowBusy(o, k0));
      }
      if (sibMax < 0 || sibMax >= DEG_IDLE_PERMILLE) continue;
      let backlog = 0, sum = 0;
      for (let k = k0; k < k0 + DEG_WINDOW; k++) {
        const q = unchecked(sampOwnQ[k * 64 + t]);
        if (q > 0) backlog++;
        sum += q;
      }
      if (2 * backlog < DEG_WINDOW) continue;
      if (degWindows++ == 0) {
        degThread = t; degFrom = k0; degBusy = busy; degSiblingMax = sibMax;
        degBacklogSamples = backlog; degBacklogSum = sum;
      }
      break;
    }
  }
}

function onFinish(): void {
  imbalanceDetector();
  if (nViolations > 0) setVerdict(VERDICT_CRASH);
  else if (nIncidents > 0) setVerdict(VERDICT_CORRUPTION);
  else if (degWindows > 0) setVerdict(VERDICT_DEGRADED);
}

// --- evidence -----------------------------------------------------------------------------------
function sortLat(): void {
  // insertion sort on a copy-free array is too slow for 64k: heap sort in place
  let n = nLat;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftLat(i, n);
  for (let end = n - 1; end > 0; end--) {
    const tmp = unchecked(lat[0]); unchecked(lat[0] = lat[end]); unchecked(lat[end] = tmp);
    siftLat(0, end);
  }
}
function siftLat(i: i32, n: i32): void {
  while (true) {
    const l = 2 * i + 1;
    if (l >= n) return;
    let m = l;
    if (l + 1 < n && unchecked(lat[l + 1]) > unchecked(lat[l])) m = l + 1;
    if (unchecked(lat[m]) <= unchecked(lat[i])) return;
    const tmp = unchecked(lat[i]); unchecked(lat[i] = lat[m]); unchecked(lat[m] = tmp);
    i = m;
  }
}
function pct(q: f64): i64 {
  if (nLat == 0) return 0;
  return unchecked(lat[min(nLat - 1, <i32>(q * <f64>nLat))]);
}

function callJson(k: i32, i: i32): void {
  const x = 2 * k + i;
  const th = unchecked(collThread[x]);
  jObj();
  jKI("thread", th);
  jKName("comm", unchecked(N_threadComm[unchecked(thCpt[th]) * 16 + unchecked(thSid[th])]));
  jKI("pid", 1000 + th);
  jKI("call", unchecked(collCall[x]));
  jKI("conn", unchecked(collConn[x]));
  jKName("fn", unchecked(collFn[x]));
  jKI("msg", unchecked(collSerial[x]));
  jKI("off", unchecked(collOff[x]));
  jKI("nob", unchecked(collNob[x]));
  jKI("fillNs", unchecked(collFillT[x]));
  jEndObj();
}

function onEvidence(): void {
  const end = now;
  jObj();
  jKey("config"); jObj();
  jKI("peers", nPeers); jKI("hotPeers", hotPeers); jKI("bulkDir", bulkDir);
  jKI("cpts", kvi(K_CPTS)); jKI("cpusPerCpt", kvi(K_CPUS)); jKI("nscheds", kvi(K_NSCHEDS));
  jKI("nthreadsMax", nthreadsMax(<i32>kvi(K_CPUS), <i32>kvi(K_NSCHEDS)));
  jKI("nthreadsStarted", nthreadsStarted(<i32>kvi(K_CPUS), <i32>kvi(K_NSCHEDS)));
  jKB("sharedSched", patched(P_SHARED)); jKB("perThreadScratch", patched(P_SCRATCH));
  jKI("msgSize", msgSize); jKB("payloadCheck", kv(K_CHECK) != 0);
  jKI("zcMinPayload", kvi(K_ZC)); jKB("nicOffload", kv(K_NIC) != 0);
  jEndObj();
  jKey("threads"); jArr();
  const span = <f64>(end - warmNs);
  for (let t = 0; t < nThreads; t++) {
    jObj();
    jKI("t", t); jKName("comm", unchecked(N_threadComm[unchecked(thCpt[t]) * 16 + unchecked(thSid[t])]));
    jKI("pid", 1000 + t); jKI("cpt", unchecked(thCpt[t])); jKI("sid", unchecked(thSid[t]));
    jKI("sched", unchecked(thSched[t])); jKI("scratch", unchecked(thScratch[t]));
    const busy = taskSchedRuntime(unchecked(thEnt[t]));
    jKI("busyNs", busy);
    jKN("util", span > 0 ? Math.min(1.0, <f64>(busy - unchecked(warmBusy[t])) / span) : 0);
    jEndObj();
  }
  jEndArr();
  jKey("scheds"); jArr();
  for (let s = 0; s < nScheds; s++) {
    jObj(); jKI("s", s); jKI("cpt", unchecked(kssCpt[s])); jKI("nconns", unchecked(kssNconns[s]));
    jKI("nthreads", unchecked(kssNthreads[s])); jEndObj();
  }
  jEndArr();
  jKey("scratch"); jArr();
  for (let a = 0; a < nScratch; a++) {
    jObj(); jKS("owner", unchecked(scrOwnerIsThread[a]) ? "thread" : "sched"); jKI("id", unchecked(scrOwner[a])); jEndObj();
  }
  jEndArr();
  jKey("conns"); jArr();
  for (let c = 0; c < nConns; c++) {
    jObj(); jKI("c", c); jKI("peer", unchecked(connPeer[c])); jKName("type", unchecked(N_CONN_TYPE[unchecked(connType[c])]));
    jKI("cpt", unchecked(connCpt[c])); jKI("sched", unchecked(connSched[c]));
    jKB("hot", unchecked(connPeer[c]) < hotPeers); jEndObj();
  }
  jEndArr();
  sortLat();
  jKey("metrics"); jObj();
  jKI("endNs", end); jKI("warmNs", warmNs);
  jKN("bytesRx", bytesRx); jKN("bytesTx", bytesTx); jKI("msgsRx", msgsRx); jKI("msgsTx", msgsTx);
  jKN("throughputMBs", span > 0 ? (totalBytes() - warmBytes) / span * 1000.0 : 0);
  // after the first close: what reconnect and resend kept flowing
  let after: f64 = 0, afterN = 0;
  for (let k = 0; k < nSamples; k++) {
    if (firstCloseNs >= 0 && unchecked(sampT[k]) - sampleNs >= firstCloseNs) { after += unchecked(sampBytes[k]); afterN++; }
  }
  jKN("throughputAfterCloseMBs", afterN > 0 ? after / <f64>(<i64>afterN * sampleNs) * 1000.0 : -1);
  jKI("firstCloseNs", firstCloseNs); jKI("closes", nCloses); jKI("reconnects", nReconnects);
  jKI("txsFailed", nTxFailed); jKI("lostInSocket", nLostInSocket); jKI("resends", nResends);
  jKey("latencyNs"); jObj();
  jKI("count", nLat); jKI("p50", pct(0.5)); jKI("p90", pct(0.9)); jKI("p99", pct(0.99));
  jKI("max", nLat > 0 ? unchecked(lat[nLat - 1]) : 0);
  jEndObj();
  jEndObj();
  jKey("samples"); jObj();
  jKI("intervalNs", sampleNs);
  jKey("t"); jArr(); for (let k = 0; k < nSamples; k++) jInt(unchecked(sampT[k])); jEndArr();
  jKey("bytes"); jArr(); for (let k = 0; k < nSamples; k++) jNum(unchecked(sampBytes[k])); jEndArr();
  jKey("busy"); jArr();
  for (let t = 0; t < nThreads; t++) { jArr(); for (let k = 0; k < nSamples; k++) jInt(unchecked(sampBusy[k * 64 + t])); jEndArr(); }
  jEndArr();
  jKey("queued"); jArr();
  for (let cpt = 0; cpt < <i32>kvi(K_CPTS); cpt++) { jArr(); for (let k = 0; k < nSamples; k++) jInt(unchecked(sampQueue[k * MAX_CPTS + cpt])); jEndArr(); }
  jEndArr();
  jKey("txQueued"); jArr(); for (let k = 0; k < nSamples; k++) jInt(unchecked(sampTxq[k])); jEndArr();
  jEndObj();
  jKey("degraded"); jObj();
  jKI("window", DEG_WINDOW); jKI("windowNs", <i64>DEG_WINDOW * sampleNs);
  jKI("hotPermille", DEG_HOT_PERMILLE); jKI("idlePermille", DEG_IDLE_PERMILLE);
  jKI("windows", degWindows); jKI("thread", degThread);
  if (degThread >= 0) {
    jKI("fromNs", unchecked(sampT[degFrom]) - sampleNs); jKI("toNs", unchecked(sampT[degFrom + DEG_WINDOW - 1]));
    jKI("busyPermille", degBusy); jKI("siblingMaxPermille", degSiblingMax);
    jKI("backlogSamples", degBacklogSamples); jKI("backlogSum", degBacklogSum);
  }
  jEndObj();
  jKey("contention"); jObj();
  jKI("kssLockAcquires", kssLockAcquires); jKI("kssLockContended", kssLockContended); jKI("kssLockSpinNs", kssLockSpinNs);
  jKI("sockLockContended", sockLockContended); jKI("sockLockWaitNs", sockLockWaitNs);
  jEndObj();
  jKey("invariants"); jObj();
  jKI("violations", nViolations); jKI("sameConnRxTxOverlap", nSameConnOverlap);
  jKI("scratchOverlaps", nOverlaps); jKI("scratchCollisions", nCollisions);
  jKey("records"); jArr();
  for (let i = 0; i < min(nViolations, MAX_VIOL); i++) {
    jObj(); jKI("t", unchecked(violT[i])); jKI("conn", unchecked(violConn[i])); jKI("what", unchecked(violWhat[i])); jEndObj();
  }
  jEndArr();
  jEndObj();
  jKey("collisions"); jArr();
  for (let k = 0; k < min(nCollisions, MAX_COLL); k++) {
    jObj();
    jKI("t", unchecked(collT[k])); jKI("scratch", unchecked(collScratch[k]));
    jKI("copied", unchecked(collCopied[k])); jKB("fillerDone", unchecked(collFillerDone[k]));
    jKey("victim"); callJson(k, 0);
    jKey("filler"); callJson(k, 1);
    jEndObj();
  }
  jEndArr();
  jKI("corrupted", nCorrupt); jKI("corruptedAtPeer", nCorruptAtPeer); jKI("protoErrors", nProtoErrors);
  jKey("incidents"); jArr();
  for (let i = 0; i < min(nIncidents, MAX_INC); i++) {
    jObj();
    jKI("t", unchecked(incT[i])); jKI("conn", unchecked(incConn[i])); jKI("msg", unchecked(incSerial[i]));
    jKS("at", unchecked(incDir[i]) == MSG_IN ? "us" : "peer");
    jKI("type", unchecked(incType[i])); jKI("nob", unchecked(incNob[i]));
    jKI("slot", unchecked(incFirstSlot[i]));
    const h = unchecked(incHolds[i]);
    jKI("holdsMsg", h == 0 ? 0 : tagSerial(h)); jKI("holdsSlot", h == 0 ? -1 : tagSlot(h));
    jKI("badSlots", unchecked(incBad[i])); jKB("proto", unchecked(incProto[i]));
    jEndObj();
  }
  jEndArr();
  jKey("wire"); jObj();
  jKI("cap", WIRE_CAP); jKI("extraCap", WIRE_EXTRA); jKI("skipped", wireSkipped);
  jKey("msgs"); jArr();
  for (let w = 0; w < nWire; w++) {
    jObj();
    jKI("t", unchecked(wT[w])); jKI("conn", unchecked(wConn[w])); jKS("dir", unchecked(wDir[w]) == MSG_IN ? "in" : "out");
    jKI("msg", unchecked(wSerial[w])); jKI("type", unchecked(wType[w])); jKI("nob", unchecked(wNob[w]));
    jKN("stream", unchecked(wStream[w]));
    jKey("runs"); jArr();
    for (let r = 0; r < unchecked(wNruns[w]); r++) {
      const k = w * WIRE_RUNS + r;
      jArr();
      jInt(unchecked(wRunOff[k])); jInt(unchecked(wRunLen[k])); jInt(unchecked(wRunSerial[k])); jInt(unchecked(wRunSrcOff[k]));
      jInt(unchecked(wRunSrcConn[k])); jInt(unchecked(wRunSrcType[k])); jInt(unchecked(wRunSrcNob[k]));
      jInt(unchecked(wRunSrcDir[k]));
      jEndArr();
    }
    jEndArr();
    jEndObj();
  }
  jEndArr();
  jEndObj();
  jEndObj();
}

function onSnapshot(): void {
  jObj();
  jKI("msgsInUse", msgsInUse);
  jKN("bytesRx", bytesRx); jKN("bytesTx", bytesTx);
  jKI("scratchCollisions", nCollisions); jKI("corrupted", nCorrupt);
  jKey("queued"); jArr(); for (let cpt = 0; cpt < <i32>kvi(K_CPTS); cpt++) jInt(cptQueued(cpt)); jEndArr();
  socklndSnapshotJson();
  jEndObj();
}

function onHung(t: i32): void {}

function threadComm(cpt: i32, sid: i32): i32 { return unchecked(N_threadComm[cpt * 16 + sid]); }

scenario("socklnd-scheduler", (): void => {
  setHooks(ksocknalSchedulerStep, onEvent, onHung, onFinish, onEvidence, onSnapshot);
  const ncpt = <i32>kvi(K_CPTS), w = <i32>kvi(K_CPUS);
  cpusInit(ncpt * w);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, ncpt * w);
  nPeers = <i32>kvi(K_PEERS);
  hotPeers = min(<i32>kvi(K_HOT), nPeers);
  bulkDir = <i32>kvi(K_DIR);
  msgSize = min(<i32>kvi(K_MSG), LNET_MAX_PAYLOAD);
  linkBpns = kv(K_LINK) / 8.0;
  coldMeanNs = kv(K_COLD) * <f64>NSEC_PER_USEC;
  durationNs = <i64>(kv(K_DUR) * <f64>NSEC_PER_MSEC);
  lnetInit(msgSize);
  socklndConfigure(patched(P_SHARED), patched(P_SCRATCH), kv(K_CPB) * 1000.0 / 1024.0, kv(K_CHECK) != 0);
  socklndZeroCopy(<i32>kvi(K_ZC), kv(K_NIC) != 0);
  socklndUpcalls(onRecvDone, onTxDone, onPeerReceived, onRxSpace);
  socklndCloseUpcalls(onTxFailed, onRxAborted, onConnDead);
  socklndOnWire(logWire);
  socklndStartup(ncpt, w, <i32>kvi(K_NSCHEDS), threadComm);
  for (let p = 0; p < nPeers; p++) {
    unchecked(peerCpt[p] = lnetNidCptHash(ipNid(peerIp(p)), ncpt));
    unchecked(txCredits[p] = PEER_CREDITS);
    scheduleAt(<i64>p * 150 * NSEC_PER_USEC + randRange(S_CONN, 0, 40) * NSEC_PER_USEC, EV_CONNECT, p, 0);
  }
  sampleNs = max(durationNs / MAX_SAMPLES, 10 * NSEC_PER_USEC);
  scheduleIn(sampleNs, EV_SAMPLE, 0);
  scheduleAt(durationNs, EV_END, 0);
  setTimeLimit(durationNs + NSEC_PER_MSEC);
});
