// nfs-odirect-retransmit (seed 003): blktest2 (or Xen guest -> blkback -> blktap2 ->
// tapdisk2) O_DIRECT writes -> NFS direct write -> SUNRPC over TCP (zero-copy sendpage)
// -> TCP -> NIC -> a link that stalls for 65 s every 1000 packets -> knfsd (DRC) -> disk.
//
// Nothing here decides the outcome: a WRITE's retransmission is queued in the socket
// behind data TCP cannot send while it backs off; if the reply to the first transmission
// gets through first, the write completes, the buffer is reused (or unmapped), and the
// NIC later reads whatever the pages hold. The detectors compare the wire and the disk
// with what the application had in its buffer when it issued each write.
//
// defs.ts registers; workload.ts is the application; server.ts is the WRITE procedure of
// the shared knfsd (asm/nfsd) and what the detectors see of its DRC; detectors.ts
// gives the verdict; evidence.ts writes what the host formats. This file wires them.
import { NSEC_PER_SEC } from "../../kernel/clock";
import { scenario, kv, kvi, patched } from "../../kernel/config";
import { randU32 } from "../../kernel/prng";
import { scheduleIn } from "../../kernel/events";
import { setHooks } from "../../kernel/hooks";
import { cpusInit, entNew, threadAction } from "../../kernel/sched";
import { hungTaskInit } from "../../kernel/hungtask";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../../kernel/timing";
import { setTimeLimit, worldStop, setStopOnHung } from "../../kernel/world";
// The models in the order they register their names: the trace carries name ids.
import "../../kernel/json";
import "../../mm/page";
import "../../mm/tap";
import "../../net/skbuff";
import { devLinkInit, devStalls, nicNew, devEvent, N_bnx2_start_xmit, setDmaFault, setOnCapture } from "../../net/dev";
import { tcpInit, tcpSockNew, tcpEvent, tcpQueuedBytes } from "../../net/tcp";
import { XPRT_TCP, JIFFY, RPC_DEF_SLOT_TABLE } from "../../sunrpc/defs";
import { rpciodInit, isRpciod, rpciodStep } from "../../sunrpc/sched";
import { setPatches, setDequeueOnComplete, xprtInitXid } from "../../sunrpc/xprt";
import { clntInit } from "../../sunrpc/clnt";
import { xsSetup, xsTcpAttachSocket, sunrpcEvent } from "../../sunrpc/xprtsock";
import { nfsDirectInit } from "../../nfs/direct";
import "../../block/disk";
import "../../xen/blkback_io";
import {
  EV_DRAIN, K_APP, K_CONCURRENCY, K_DELAY_US, K_DRC, K_DURATION_S, K_LOSS, K_SERVER_LOAD, K_STALL_MODE,
  K_STALL_PERIOD, K_STALL_S, K_STRESS, K_TCP_WMEM, K_THINK_US, K_TIMEO, K_WRITE_KB, N_client, N_host, N_server,
  P_COMPLETE_AFTER_RELEASE, P_COPY_ON_RESEND, P_DEQUEUE, S_SERVER, S_WORKLOAD,
} from "./defs";
import { WorkloadOptions, appOf, appStep, appsStart, clientSk, mnt, mountSet, onWriteComplete, pfns, workloadInit } from "./workload";
import { nfsdRun } from "../../nfsd/nfsd";
import { serverSk, serverStart } from "./server";
import { onCapture, onDmaFault, onFinish } from "./detectors";
import { onEvidence, onSnapshot } from "./evidence";

function onStep(t: i32): void {
  if (isRpciod(t)) { rpciodStep(t); return; }
  if (nfsdRun(t)) return;
  const i = appOf(t);
  if (i >= 0) appStep(t, i, threadAction(t));
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

function onHung(t: i32): void {}

scenario("nfs-odirect-retransmit", (): void => {
  setHooks(onStep, onEvent, onHung, onFinish, onEvidence, onSnapshot);
  cpusInit(4);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, 4);
  const durationNs = <i64>(kv(K_DURATION_S) * 1e9);
  const clientHost = entNew(N_host, N_client, 1);
  const serverHost = entNew(N_host, N_server, 2);
  const wo = new WorkloadOptions();
  wo.xenUnmap = kvi(K_APP) == 1;
  wo.concurrency = <i32>kvi(K_CONCURRENCY);
  wo.writeKiB = <i32>kvi(K_WRITE_KB);
  wo.durationNs = durationNs;
  wo.thinkNs = <i64>(kv(K_THINK_US) * 1e3);
  workloadInit(wo);

  devLinkInit({ rateBps: 1e9, delayNs: <i64>(kv(K_DELAY_US) * 1e3), lossPerFrame: kv(K_LOSS) });
  devStalls({ everyPackets: <i32>kvi(K_STALL_PERIOD), stallNs: <i64>(kv(K_STALL_S) * 1e9), hold: kvi(K_STALL_MODE) == 0 });
  // each host's NIC interrupts its first CPU (client: CPUs 0-1, server: 2-3)
  const clientNic = nicNew(0, clientHost, N_bnx2_start_xmit, 0);
  const serverNic = nicNew(1, serverHost, N_bnx2_start_xmit, 2);
  tcpInit(3 * NSEC_PER_SEC);   // 2.6.18's TCP_TIMEOUT_INIT (3*HZ)
  const isnC = randU32(S_WORKLOAD), isnS = randU32(S_SERVER);
  const clientSock = tcpSockNew(0, clientNic, clientHost, isnC, isnS, <i32>kvi(K_TCP_WMEM));
  const serverSock = tcpSockNew(1, serverNic, serverHost, isnS, isnC, 4 << 20);
  setDmaFault(onDmaFault);
  setOnCapture(onCapture);

  // the mount: NFSv3 over TCP, timeo in deciseconds, linear backoff, retrans=2; a hard
  // mount (no timeout while waiting for write space); 2.6.2x allocates a slot without the
  // write lock and has a fixed table of 16 TCP slots
  const initval = kvi(K_TIMEO) * 100 * JIFFY;
  const retrans = 2;
  setPatches(false, false, false);
  setDequeueOnComplete(patched(P_DEQUEUE));
  const xprt = xsSetup({
    transport: XPRT_TCP, slots: RPC_DEF_SLOT_TABLE, dynamicSlotsMax: RPC_DEF_SLOT_TABLE, sndbufBytes: 4 << 20,
    timeoInitNs: initval, timeoMaxNs: initval * (retrans + 1), timeoIncrementNs: initval, retrans,
    exponential: false, wspaceTimeout: false,
  });
  mountSet(xprt, clientSock);
  clntInit();
  rpciodInit(4, 90);
  xprtInitXid(mnt, randU32(S_WORKLOAD));
  xsTcpAttachSocket(mnt, clientSk, pfns, patched(P_COPY_ON_RESEND), patched(P_COMPLETE_AFTER_RELEASE));
  nfsDirectInit(pfns, patched(P_COMPLETE_AFTER_RELEASE), onWriteComplete);

  serverStart(serverHost, serverSock, <i32>kvi(K_DRC), kv(K_SERVER_LOAD));
  appsStart();
  hungTaskInit(120 * NSEC_PER_SEC);
  setStopOnHung(false);
  setTimeLimit(durationNs + 400 * NSEC_PER_SEC);
});
