// socklnd-scheduler: the workload. Our node (192.168.1.1@tcp, an OSS-like server) is the
// passive side of typed connections from `peers` clients. A few hot peers stream bulk LNet
// PUTs (writes: into our BULK_IN; reads: out of our BULK_OUT); every PUT is answered by an
// LNet ACK on CONTROL, and cold peers send small PUTs now and then. Here: LNet above
// socklnd (per-peer tx credits), each peer's side of its conns, their connd, and the
// metrics the evidence and the detector read. The socklnd model (asm/lnet/socklnd.ts)
// does the rest.
import { NSEC_PER_MSEC, NSEC_PER_USEC, now } from "../../kernel/clock";
import { setTimeLimit } from "../../kernel/world";
import { randExp, randRange } from "../../kernel/prng";
import { kvi } from "../../kernel/config";
import { scheduleAt, scheduleIn } from "../../kernel/events";
import { taskSchedRuntime } from "../../kernel/sched";
import { zeroed, rowsBegin, rowsEnd } from "../../kernel/mem";
import { trace } from "../../kernel/trace";
import {
  MAX_CONNS, MAX_CPTS, N_CONN_TYPE, SOCKLND_CONN_BULK_IN, SOCKLND_CONN_BULK_OUT, SOCKLND_CONN_CONTROL,
  cfgRcvbuf, connEnt, connPeer, connTxQueueLen, connType, connUp, cptQueued, ksocknalCreateConn,
  ksocknalQueueTxLocked, nConns, nThreads, schedQueued, sockArg, sockArgBytes, sockArgLive, sockArrive,
  sockIncoming, sockUnread, thEnt, thSched,
} from "../../lnet/socklnd";
import {
  KSOCK_MSG_HDR, LNET_MAX_PAYLOAD, LNET_MSG_ACK, LNET_MSG_PUT, MSG_IN, MSG_OUT, ipNid, lnetNidCptHash,
  msgAlloc, msgImage, msgNob, msgQueued, msgSerial, msgType, peerIp,
} from "../../lnet/lnet";
import {
  CHUNK, EV_ARRIVE, EV_COLD, EV_CONNECT, EV_END, EV_RETRY, EV_SAMPLE, K_CPTS, MAX_PEERS, MIN_BULK,
  N_lnet_send, N_peerNid, N_peer_send, N_reconnect, PEER_CREDITS, SMALL_PUT, S_COLD, S_CONN,
} from "./defs";
import { logWire } from "./wire";

// --- workload state ---------------------------------------------------------------------
export let nPeers: i32 = 0;
export let hotPeers: i32 = 0;
export let bulkDir: i32 = 0;
export let msgSize: i32 = 65536;
let linkBpns: f64 = 3.125;
let coldMeanNs: f64 = 200000;
let durationNs: i64 = 0;
export let warmNs: i64 = 0;
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
export let nResends: i32 = 0;       // LNet resends of messages a close failed (ours and the peers')
export let nReconnects: i32 = 0;

// --- metrics --------------------------------------------------------------------------------
export let bytesRx: f64 = 0;
export let bytesTx: f64 = 0;
export let warmBytes: f64 = 0;
export let msgsRx: i32 = 0;
export let msgsTx: i32 = 0;
const MAX_LAT: i32 = 1 << 16;
export let nLat: i32 = 0;
// latencies and samples below their counts: the instance reset zeroes those rows
rowsBegin(MAX_LAT, (): i32 => nLat);
export const lat = zeroed<i64>(MAX_LAT);
rowsEnd();
const MAX_SAMPLES: i32 = 100;
export let sampleNs: i64 = 0;
export let nSamples: i32 = 0;
rowsBegin(MAX_SAMPLES, (): i32 => nSamples);
export const sampT = zeroed<i64>(MAX_SAMPLES);
export const sampBytes = zeroed<f64>(MAX_SAMPLES);
export const sampBusy = zeroed<i64>(MAX_SAMPLES * 64);
export const sampQueue = zeroed<i32>(MAX_SAMPLES * MAX_CPTS);
export const sampTxq = zeroed<i32>(MAX_SAMPLES);
export const sampOwnQ = zeroed<i32>(MAX_SAMPLES * 64);   // per thread: conns queued on its sched
rowsEnd();
const lastBusy = zeroed<i64>(64);
export const warmBusy = zeroed<i64>(64);
let lastBytes: f64 = 0;

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

export function onRecvDone(c: i32, m: i32): void {
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

export function onTxDone(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  unchecked(txCredits[p] += 1);
  lnetPump(p);
}

export function onPeerReceived(c: i32, m: i32): void {
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

export function peerKick(c: i32): void {
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

export function onRxSpace(c: i32): void {
  if (unchecked(peerStalled[c])) peerSendChunk(c);
}

export function onArrive(c: i32, arg: i32): void {
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

export function onConnect(p: i32, arg: i32): void {
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
export function onTxFailed(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  unchecked(txCredits[p] += 1);
  nResends++;
  if (unchecked(msgType[m]) == LNET_MSG_ACK) unchecked(lnetAcks[p] += 1);
  else unchecked(lnetPuts[p] += 1);
}

export function onRxAborted(c: i32, m: i32): void {
  const p = unchecked(connPeer[c]);
  if (unchecked(peerMsg[c]) == m) unchecked(peerMsg[c] = -1);
  nResends++;
  // a bulk PUT on BULK_IN is resent by the peer's stream itself
  if (unchecked(msgType[m]) == LNET_MSG_ACK) unchecked(peerAcks[p] += 1);
  else if (unchecked(connType[c]) == SOCKLND_CONN_CONTROL) unchecked(peerPuts[p] += 1);
}

// The peer's connd reconnects each route type that lost its conn (ksnr_connected bit
// cleared), independently, into the same slot.
export function onConnDead(c: i32): void {
  const p = unchecked(connPeer[c]), type = unchecked(connType[c]);
  trace(unchecked(connEnt[c]), N_reconnect, p, unchecked(N_CONN_TYPE[type]));
  nReconnects++;
  scheduleIn(randRange(S_CONN, 20, 60) * NSEC_PER_USEC, EV_CONNECT, p, RECONNECT + connStep(type));
}

export function onCold(p: i32): void {
  const ctrl = unchecked(peerCtrl[p]);
  unchecked(peerPuts[p] += 1);
  peerKick(ctrl);
  scheduleIn(<i64>randExp(S_COLD, coldMeanNs) + 1, EV_COLD, p);
}

export function totalBytes(): f64 { return bytesRx + bytesTx; }

export function onSample(): void {
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

// The peers and their traffic, in the knobs' units (workloadInit checks them).
class PeerWorkload {
  peers: i32 = 1;
  hotPeers: i32 = 0;          // the first hotPeers peers stream bulk PUTs (at most peers)
  bulkDir: i32 = 0;           // 0 write (into our BULK_IN), 1 read (out of BULK_OUT), 2 both
  msgSizeBytes: i32 = 65536;  // bulk PUT payload (at most LNET_MAX_PAYLOAD)
  linkGbps: f64 = 25;
  coldIntervalUs: f64 = 200;  // mean gap between a cold peer's small PUTs
  durationMs: f64 = 10;
}

export function workloadInit(o: PeerWorkload): void {
  assert(o.peers >= 1 && o.peers <= MAX_PEERS, "socklnd workload: peers out of range 1..MAX_PEERS");
  assert(o.hotPeers >= 0 && o.bulkDir >= 0 && o.bulkDir <= 2, "socklnd workload: hotPeers >= 0, bulkDir 0..2");
  assert(o.msgSizeBytes >= 1 && o.linkGbps > 0 && o.coldIntervalUs > 0 && o.durationMs > 0, "socklnd workload: sizes, rates and times must be positive");
  nPeers = o.peers;
  hotPeers = min(o.hotPeers, nPeers);
  bulkDir = o.bulkDir;
  msgSize = min(o.msgSizeBytes, LNET_MAX_PAYLOAD);
  linkBpns = o.linkGbps / 8.0;
  coldMeanNs = o.coldIntervalUs * <f64>NSEC_PER_USEC;
  durationNs = <i64>(o.durationMs * <f64>NSEC_PER_MSEC);
}

// After socklnd is up: the peers connect one after another, sampling starts, and the run
// ends at durationMs.
export function workloadStart(ncpt: i32): void {
  for (let p = 0; p < nPeers; p++) {
    unchecked(peerCpt[p] = lnetNidCptHash(ipNid(peerIp(p)), ncpt));
    unchecked(txCredits[p] = PEER_CREDITS);
    scheduleAt(<i64>p * 150 * NSEC_PER_USEC + randRange(S_CONN, 0, 40) * NSEC_PER_USEC, EV_CONNECT, p, 0);
  }
  sampleNs = max(durationNs / MAX_SAMPLES, 10 * NSEC_PER_USEC);
  scheduleIn(sampleNs, EV_SAMPLE, 0);
  scheduleAt(durationNs, EV_END, 0);
  setTimeLimit(durationNs + NSEC_PER_MSEC);
}
