// The knfsd test module: the one knfsd (asm/nfsd/svc.ts) with its DRC (asm/nfsd/drc.ts), as
// the sunrpc-* scenarios and nfs-odirect-retransmit both build it. Built to
// build/knfsd-test.wasm and used only by engine/test/knfsd.test.ts.
//
// probe.mode 0: probe.mounts NFS mounts over UDP each send probe.writes WRITEs through a
//   lossy link (probe.loss per frame, both ways): a lost call is retransmitted and runs
//   once; a lost reply makes the retransmission a duplicate of a call already answered.
//   Two mounts use the same xids: the DRC tells them apart by the client's port.
// probe.mode 1: the same WRITE datagram (one xid) reaches the server three times: twice at
//   once (the second while the first is in progress), and once a second later.
// probe.kthreads 1: the server's nfsd threads are scheduled kthreads (asm/nfsd/nfsd.ts, as
//   nfs-odirect-retransmit runs them) instead of the pool of service times, on the same
//   request path and DRC.
export * from "../abi";
import { NSEC_PER_SEC } from "../kernel/clock";
import { name } from "../kernel/names";
import { knob, kv, kvi, scenario } from "../kernel/config";
import { setHooks } from "../kernel/hooks";
import { eventKind, scheduleIn } from "../kernel/events";
import { cpusInit } from "../kernel/sched";
import { setTimeLimit } from "../kernel/world";
import { jObj, jEndObj, jKI } from "../kernel/json";
import { XPRT_UDP, RPC_TASK_ASYNC, NFS3PROC_WRITE, JIFFY } from "../sunrpc/defs";
import { rpcNewTask, rpcExecuteAsync, rpciodInit, isRpciod, rpciodStep } from "../sunrpc/sched";
import { clntInit, rpcCallStart, setCallDone } from "../sunrpc/clnt";
import { setPatches, rpcTaskSetXprt } from "../sunrpc/xprt";
import { xsSetup, xsLinkInit, sunrpcEvent, srvUdpRecv } from "../sunrpc/xprtsock";
import { svcNew, svcEvent, srvNServed, srvNDrcReplies, srvNDrcDrops } from "../nfsd/svc";
import { nfsdStart, nfsdRun } from "../nfsd/nfsd";

const K_MODE = knob("probe.mode");
const K_WRITES = knob("probe.writes");
const K_LOSS = knob("probe.loss");
const K_DRC = knob("probe.drc");          // -1 none, 0 lru1024, 1 csum
const K_MOUNTS = knob("probe.mounts");
const K_KTHREADS = knob("probe.kthreads");
const N_write = name("probe WRITE");
const EV_DGRAM = eventKind("probe.dgram");
const XID: u32 = 0x1234;

let srv: i32 = 0;
let mnt: i32 = 0;                  // the first mount (mode 1's datagrams come from it)
let done: i32 = 0;

function onStep(t: i32): void { if (isRpciod(t)) rpciodStep(t); else nfsdRun(t); }
function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_DGRAM) { srvUdpRecv(srv, mnt, XID, NFS3PROC_WRITE, 32768 + 180); return; }
  if (sunrpcEvent(kind, obj, arg)) return;
  svcEvent(kind, obj, arg);
}

function probeJson(): void {
  jObj();
  jKI("done", done);
  jKI("served", unchecked(srvNServed[srv]));
  jKI("drcReplies", unchecked(srvNDrcReplies[srv]));
  jKI("drcDrops", unchecked(srvNDrcDrops[srv]));
  jEndObj();
}

scenario("knfsd-probe", (): void => {
  setHooks(onStep, onEvent, (t: i32): void => {}, (): void => {}, probeJson, probeJson);
  cpusInit(2);
  setPatches(false, false, false);
  const mounts = <i32>kvi(K_MOUNTS);
  for (let m = 0; m < mounts; m++) {
    const x = xsSetup({
      transport: XPRT_UDP, slots: 16, dynamicSlotsMax: 0, sndbufBytes: 229376,
      timeoInitNs: 1100 * JIFFY, timeoMaxNs: 60 * NSEC_PER_SEC, timeoIncrementNs: 1100 * JIFFY, retrans: 3,
      exponential: true, wspaceTimeout: true,
    });
    if (m == 0) mnt = x;
  }
  clntInit();
  setCallDone((t: i32): void => { done++; });
  rpciodInit(2, 90);
  xsLinkInit({ rateBps: 1e9, delayNs: 0, jitterMeanNs: 100000, lossPerFrame: kv(K_LOSS) }, 0);
  srv = svcNew({ threads: 8, rcvbufBytes: 0, udpQueueMax: 64, wsizeBytes: 32768, drc: <i32>kvi(K_DRC) });
  if (kvi(K_KTHREADS) == 1) nfsdStart(srv, { sk: -1, cpu0: 0, pid0: 200, replyBytes: 0 });
  if (kvi(K_MODE) == 1) {
    scheduleIn(1, EV_DGRAM, 0);
    scheduleIn(1, EV_DGRAM, 0);
    scheduleIn(NSEC_PER_SEC, EV_DGRAM, 0);
  } else {
    const writes = <i32>kvi(K_WRITES);
    for (let i = 0; i < writes; i++) {
      for (let m = 0; m < mounts; m++) {
        const t = rpcNewTask(N_write, NFS3PROC_WRITE, RPC_TASK_ASYNC, 1000 + m, -1, 0, i);
        rpcTaskSetXprt(t, mnt + m);
        rpcCallStart(t);
        rpcExecuteAsync(t, i & 1);
      }
    }
  }
  setTimeLimit(1200 * NSEC_PER_SEC);
});
