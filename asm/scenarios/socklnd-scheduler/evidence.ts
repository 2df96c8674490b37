// socklnd-scheduler: the evidence object the host formats, and the snapshot.
import { now } from "../../kernel/clock";
import { kv, kvi, patched } from "../../kernel/config";
import { jArr, jEndArr, jEndObj, jInt, jKB, jKI, jKN, jKName, jKS, jKey, jNum, jObj } from "../../kernel/json";
import { taskSchedRuntime } from "../../kernel/sched";
import {
  MAX_COLL, MAX_CPTS, MAX_INC, MAX_VIOL, N_CONN_TYPE, collCall, collConn, collCopied, collFillT,
  collFillerDone, collFn, collNob, collOff, collScratch, collSerial, collT, collThread, connCpt, connPeer,
  connSched, connType, cptQueued, firstCloseNs, incBad, incConn, incDir, incFirstSlot, incHolds, incNob,
  incProto, incSerial, incT, incType, kssCpt, kssLockAcquires, kssLockContended, kssLockSpinNs, kssNconns,
  kssNthreads, nCloses, nCollisions, nConns, nCorrupt, nCorruptAtPeer, nIncidents, nLostInSocket,
  nOverlaps, nProtoErrors, nSameConnOverlap, nScheds, nScratch, nThreads, nTxFailed, nViolations,
  nthreadsMax, nthreadsStarted, scrOwner, scrOwnerIsThread, sockLockContended, sockLockWaitNs,
  socklndSnapshotJson, thCpt, thEnt, thSched, thScratch, thSid, violConn, violT, violWhat,
} from "../../lnet/socklnd";
import { MSG_IN, msgsInUse, tagSerial, tagSlot } from "../../lnet/lnet";
import { K_CHECK, K_CPTS, K_CPUS, K_NIC, K_NSCHEDS, K_ZC, N_threadComm, P_SCRATCH, P_SHARED } from "./defs";
import {
  WIRE_CAP, WIRE_EXTRA, WIRE_RUNS, nWire, wConn, wDir, wNob, wNruns, wRunLen, wRunOff, wRunSerial,
  wRunSrcConn, wRunSrcDir, wRunSrcNob, wRunSrcOff, wRunSrcType, wSerial, wStream, wT, wType, wireSkipped,
} from "./wire";
import {
  bulkDir, bytesRx, bytesTx, hotPeers, lat, msgSize, msgsRx, msgsTx, nLat, nPeers, nReconnects, nResends,
  nSamples, sampBusy, sampBytes, sampQueue, sampT, sampTxq, sampleNs, totalBytes, warmBusy, warmBytes,
  warmNs,
} from "./workload";
import {
  DEG_HOT_PERMILLE, DEG_IDLE_PERMILLE, DEG_WINDOW, degBacklogSamples, degBacklogSum, degBusy, degFrom,
  degSiblingMax, degThread, degWindows,
} from "./detectors";

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

export function onEvidence(): void {
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

export function onSnapshot(): void {
  jObj();
  jKI("msgsInUse", msgsInUse);
  jKN("bytesRx", bytesRx); jKN("bytesTx", bytesTx);
  jKI("scratchCollisions", nCollisions); jKI("corrupted", nCorrupt);
  jKey("queued"); jArr(); for (let cpt = 0; cpt < <i32>kvi(K_CPTS); cpt++) jInt(cptQueued(cpt)); jEndArr();
  socklndSnapshotJson();
  jEndObj();
}
