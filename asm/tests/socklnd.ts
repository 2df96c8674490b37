// The socklnd test module: two ksock_conns (two peers' BULK_OUT conns on one CPT) in one
// world, each with its own tx queue, socket and scheduler. Built to build/socklnd-test.wasm
// and used only by engine/test/socklnd-instances.test.ts; it is not part of the lab's catalog.
//
// Conn c queues `probe.tx<c>` PUTs of 64 KiB at the start. With `probe.close` = c, conn c
// is closed straight after (ksocknal_close_conn_and_siblings): its txs fail back to LNet,
// and the other conn must send all of its own.
export * from "../abi";
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { name } from "../kernel/names";
import { knob, kvi, scenario } from "../kernel/config";
import { setHooks } from "../kernel/hooks";
import { machineInit } from "../kernel/sched";
import { setTimeLimit } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI, jKB } from "../kernel/json";
import { zeroed } from "../kernel/mem";
import { LNET_MSG_PUT, MSG_OUT, lnetInit, msgAlloc } from "../lnet/lnet";
import {
  EV_DRAIN, MAX_CONNS, SOCKLND_CONN_BULK_OUT, connSched, connUp, connDead, kssNconns, connTxQueueLen,
  ksocknalCloseConnAndSiblings, ksocknalCreateConn, ksocknalQueueTxLocked, ksocknalSchedulerStep, sockDrained,
  socklndInit,
} from "../lnet/socklnd";

const K_TX0 = knob("probe.tx0");
const K_TX1 = knob("probe.tx1");
const K_CLOSE = knob("probe.close");     // -1: none; else the conn closed after queueing
const K_SHARED = knob("probe.shared");   // 1: socklnd-shared-sched (one ksock_sched per CPT) and,
                                         // as landed with it, socklnd-per-thread-scratch
const N_comm = name("socknal_sd00_0x");
const N_conn = name("ksock_conn");
const CONNS: i32 = 2;
const NOB: i32 = 65536;
const ECONNABORTED: i32 = -103;

const conns = zeroed<i32>(CONNS);
const txDone = zeroed<i32>(MAX_CONNS);
const txFailed = zeroed<i32>(MAX_CONNS);
const peerGot = zeroed<i32>(MAX_CONNS);

function onEvent(kind: i32, obj: i32, arg: i32): void { if (kind == EV_DRAIN) sockDrained(obj, arg); }
function noHung(t: i32): void {}
function noop(): void {}
function comm(cpt: i32, sid: i32): i32 { return N_comm; }

function connsJson(): void {
  jObj();
  jKey("conns");
  jArr();
  for (let i = 0; i < CONNS; i++) {
    const c = unchecked(conns[i]);
    jObj();
    jKI("conn", c);
    jKI("sched", unchecked(connSched[c]));
    jKI("schedConns", unchecked(kssNconns[unchecked(connSched[c])]));
    jKB("up", unchecked(connUp[c]));
    jKB("dead", unchecked(connDead[c]));
    jKI("txDone", unchecked(txDone[c]));
    jKI("txFailed", unchecked(txFailed[c]));
    jKI("peerReceived", unchecked(peerGot[c]));
    jKI("txQueued", connTxQueueLen(c));
    jEndObj();
  }
  jEndArr();
  jEndObj();
}

scenario("two-conns-probe", (): void => {
  setHooks(ksocknalSchedulerStep, onEvent, noHung, noop, connsJson, connsJson);
  machineInit({ cpus: 2, stressPerMille: 0 });
  lnetInit(NOB);
  socklndInit({
    cpts: 1, cpusPerCpt: 2, nscheds: 0, sharedSched: kvi(K_SHARED) != 0, perThreadScratch: kvi(K_SHARED) != 0,
    threadComm: comm,
    txDone: (c: i32, m: i32): void => { unchecked(txDone[c] += 1); },
    peerReceived: (c: i32, m: i32): void => { unchecked(peerGot[c] += 1); },
    txFailed: (c: i32, m: i32): void => { unchecked(txFailed[c] += 1); },
  });
  for (let i = 0; i < CONNS; i++) unchecked(conns[i] = ksocknalCreateConn(i, SOCKLND_CONN_BULK_OUT, 0, N_conn, 1.25));
  const counts = [<i32>kvi(K_TX0), <i32>kvi(K_TX1)];
  for (let i = 0; i < CONNS; i++) {
    const c = unchecked(conns[i]);
    for (let k = 0; k < counts[i]; k++) ksocknalQueueTxLocked(c, msgAlloc(c, MSG_OUT, LNET_MSG_PUT, NOB, now));
  }
  const close = <i32>kvi(K_CLOSE);
  if (close >= 0) ksocknalCloseConnAndSiblings(unchecked(conns[close]), ECONNABORTED);
  setTimeLimit(NSEC_PER_SEC);
});
