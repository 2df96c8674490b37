// socklnd-scheduler (seed 002, LU-11415 "socklnd: improve scheduling algorithm"): the
// scenario's registration and build. defs.ts registers its knobs, streams, kinds and names;
// workload.ts is LNet above socklnd and the peers; detectors.ts gives the verdict;
// evidence.ts writes what the host formats.
import { worldStop } from "../../kernel/world";
import { setHooks } from "../../kernel/hooks";
import { kv, kvi, patched, scenario } from "../../kernel/config";
import { machineInit } from "../../kernel/sched";
import { EV_DRAIN, ksocknalSchedulerStep, sockDrained, socklndInit } from "../../lnet/socklnd";
import { lnetInit } from "../../lnet/lnet";
import {
  EV_ARRIVE, EV_COLD, EV_CONNECT, EV_END, EV_RETRY, EV_SAMPLE, K_CHECK, K_COLD, K_CPB, K_CPTS, K_CPUS,
  K_DIR, K_DUR, K_HOT, K_LINK, K_MSG, K_NIC, K_NSCHEDS, K_PEERS, K_STRESS, K_ZC, N_threadComm, P_SCRATCH,
  P_SHARED,
} from "./defs";
import { logWire } from "./wire";
import {
  msgSize, onArrive, onCold, onConnDead, onConnect, onPeerReceived, onRecvDone, onRxAborted, onRxSpace,
  onSample, onTxDone, onTxFailed, peerKick, workloadInit, workloadStart,
} from "./workload";
import { onFinish } from "./detectors";
import { onEvidence, onSnapshot } from "./evidence";

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_DRAIN) sockDrained(obj, arg);
  else if (kind == EV_ARRIVE) onArrive(obj, arg);
  else if (kind == EV_CONNECT) onConnect(obj, arg);
  else if (kind == EV_COLD) onCold(obj);
  else if (kind == EV_RETRY) peerKick(obj);
  else if (kind == EV_SAMPLE) onSample();
  else if (kind == EV_END) worldStop();
}

function onHung(t: i32): void {}

function threadComm(cpt: i32, sid: i32): i32 { return unchecked(N_threadComm[cpt * 16 + sid]); }

scenario("socklnd-scheduler", (): void => {
  setHooks(ksocknalSchedulerStep, onEvent, onHung, onFinish, onEvidence, onSnapshot);
  const ncpt = <i32>kvi(K_CPTS), w = <i32>kvi(K_CPUS);
  machineInit({ cpus: ncpt * w, stressPerMille: kv(K_STRESS) });
  workloadInit({
    peers: <i32>kvi(K_PEERS), hotPeers: <i32>kvi(K_HOT), bulkDir: <i32>kvi(K_DIR), msgSizeBytes: <i32>kvi(K_MSG),
    linkGbps: kv(K_LINK), coldIntervalUs: kv(K_COLD), durationMs: kv(K_DUR),
  });
  lnetInit(msgSize);
  socklndInit({
    cpts: ncpt, cpusPerCpt: w, nscheds: <i32>kvi(K_NSCHEDS),
    sharedSched: patched(P_SHARED), perThreadScratch: patched(P_SCRATCH),
    copyPsPerByte: kv(K_CPB) * 1000.0 / 1024.0, payloadCheck: kv(K_CHECK) != 0,
    zcMinPayloadBytes: <i32>kvi(K_ZC), nicOffload: kv(K_NIC) != 0,
    threadComm,
    recvDone: onRecvDone, txDone: onTxDone, peerReceived: onPeerReceived, rxSpace: onRxSpace,
    txFailed: onTxFailed, rxAborted: onRxAborted, connDead: onConnDead,
    wire: logWire,
  });
  workloadStart(ncpt);
});
