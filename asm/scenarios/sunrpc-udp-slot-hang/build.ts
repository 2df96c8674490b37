// sunrpc-udp-slot-hang (seed 000): NFSv3 over UDP on a 3.6-rc client with 43cedbf0
// ("Ensure that we grab the XPRT_LOCK before calling xprt_alloc_slot"): every slot
// allocation takes XPRT_LOCKED, UDP's hand-off is gated by the congestion window for
// everyone, and a task that holds a credit but not the lock can end up asleep on
// xprt_sending behind a credit-less slot allocator. f39c1bfb gives UDP an .alloc_slot that
// does not take the lock.
//
// Workload: a script starts a few dd writers, each writing and closing a file, then sleeps
// longer than the transport's 5 min idle timeout (the transport is closed and reconnected
// between bursts); datagrams can be lost, nfsd can restart, the link can flap.
// Defaults and ranges: engine/scenarios/sunrpc-udp-slot-hang/.
//
// defs.ts registers; the hooks (workload, detectors, evidence) are the sunrpc scenarios' shared
// harness (../sunrpc/harness.ts). This file builds the world.
import { NSEC_PER_SEC, NSEC_PER_USEC } from "../../kernel/clock";
import { scenario, kv, kvi, patched } from "../../kernel/config";
import { cpusInit } from "../../kernel/sched";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../../kernel/timing";
import { hungTaskInit } from "../../kernel/hungtask";
import { setTimeLimit, setStopOnHung } from "../../kernel/world";
import { XPRT_UDP, JIFFY } from "../../sunrpc/defs";
import { rpciodInit, setExitRace } from "../../sunrpc/sched";
import { setPatches, setPutCongOnSleep } from "../../sunrpc/xprt";
import { clntInit, setConnectRace, setConnectStatusRace, setTimeoutRace, setReserveRace } from "../../sunrpc/clnt";
import { xsSetup, xsLinkInit, setWsize, nicTxHangs } from "../../sunrpc/xprtsock";
import { waitforInit } from "../../sunrpc/debug";
import { harnessInstall, harnessLinkFlaps, harnessMount, harnessServer } from "../sunrpc/harness";
import { mmap3Start } from "../sunrpc/mmap3";
import { svcNew } from "../../nfsd/svc";
import { DRC_LRU1024 } from "../../nfsd/drc";
import { workloadInit, flusherInit, ddInit, hogsInit, ddStartJitter, ddRemount } from "../../nfs/workload";
import { fileCount } from "../../nfs/writeback";
import {
  K_BG, K_BURSTS, K_BURST_MB, K_COPY, K_CPUS, K_DOWN, K_EXIT_RACE, K_FLAP, K_FLAP_EVERY, K_GAP,
  K_HOGS, K_HOG_US, K_JITTER, K_LAT, K_LOSS, K_MBPS, K_MMAP3, K_NFSD, K_RACE, K_RACE2, K_REMOUNT,
  K_RESTART_EVERY, K_RETRANS, K_RRACE, K_SJIT, K_SLOTS, K_STRESS, K_TIMEO, K_TRACE, K_TXH, K_TXS,
  K_WORKLOAD, K_WRITERS, K_WSIZE, P_ALLOC_SLOT_OP, P_LOCK_BEFORE_ALLOC, P_PUT_CONG, S_FLAP, WL_MMAP3,
} from "./defs";

scenario("sunrpc-udp-slot-hang", (): void => {
  const cpus = <i32>kvi(K_CPUS);
  cpusInit(cpus);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, cpus);
  // after khungtaskd's first report the run goes on until the state is absorbing (then
  // `hang`) or for 10 min (a blocked task in a state that can still move: slow progress)
  setStopOnHung(false);
  harnessInstall(10 * 60 * NSEC_PER_SEC, 0);
  setPatches(patched(P_LOCK_BEFORE_ALLOC), patched(P_ALLOC_SLOT_OP), false);
  setPutCongOnSleep(patched(P_PUT_CONG));
  // NFS over UDP: timeo (deciseconds), exponential backoff to 60 s, retrans minor timeouts
  const initval = kvi(K_TIMEO) * 100 * JIFFY;
  const wsize = <i32>kvi(K_WSIZE) * 1024;
  setWsize(wsize);
  const mnt = xsSetup({
    transport: XPRT_UDP, slots: <i32>kvi(K_SLOTS), dynamicSlotsMax: 0, sndbufBytes: 229376,
    timeoInitNs: initval, timeoMaxNs: 60 * NSEC_PER_SEC, timeoIncrementNs: initval, retrans: <i32>kvi(K_RETRANS),
    exponential: true, wspaceTimeout: true,
  });
  harnessMount(mnt);
  clntInit();
  setConnectRace(<i64>(kv(K_RACE) * 1000.0));
  setConnectStatusRace(<i64>(kv(K_RACE2) * 1000.0));
  setTimeoutRace(<i64>(kv(K_TRACE) * 1000.0));
  setReserveRace(<i64>(kv(K_RRACE) * 1000.0));
  setExitRace(<i64>(kv(K_EXIT_RACE) * 1000.0));
  rpciodInit(cpus, 90);
  xsLinkInit({ rateBps: kv(K_MBPS) * 1e6, delayNs: 0, jitterMeanNs: <i64>(kv(K_LAT) * <f64>NSEC_PER_USEC), lossPerFrame: kv(K_LOSS) }, 0);
  nicTxHangs(kv(K_TXH) / 1000.0, kv(K_TXS));
  // a 3.x knfsd: the 1024-entry LRU duplicate request cache; this mount is its only client
  // (SCENARIOS.md names no other load), so nothing else recycles the entries
  harnessServer(svcNew({
    drc: DRC_LRU1024, otherOpsPerSec: 0,
    threads: <i32>kvi(K_NFSD), rcvbufBytes: 0, udpQueueMax: 64, wsizeBytes: wsize,
    restartEveryS: kv(K_RESTART_EVERY), downS: kv(K_DOWN),
  }));
  harnessLinkFlaps(kv(K_FLAP_EVERY), kv(K_FLAP), S_FLAP);
  hogsInit(<i32>kvi(K_HOGS), kv(K_HOG_US));
  if (kvi(K_WORKLOAD) == WL_MMAP3) {
    workloadInit(cpus, kv(K_COPY), 1, 256, 1024);
    flusherInit(cpus - 1);
    mmap3Start(K_MMAP3, wsize);
  } else {
    workloadInit(cpus, kv(K_COPY), 65536 / wsize > 0 ? 65536 / wsize : 1, <i32>kvi(K_BG), 512);
    flusherInit(cpus - 1);
    ddStartJitter(kv(K_SJIT));
    ddRemount(kv(K_REMOUNT) != 0, mnt);
    const chunks = <i32>(kv(K_BURST_MB) * 1048576.0 / <f64>wsize);
    ddInit(<i32>kvi(K_WRITERS), chunks < 1 ? 1 : chunks, <i32>kvi(K_BURSTS), kv(K_GAP), kv(K_JITTER), 1.0);
    setTimeLimit(<i64>((kv(K_GAP) + kv(K_JITTER) + 600) * kv(K_BURSTS)) * NSEC_PER_SEC + 3600 * NSEC_PER_SEC);
  }
  waitforInit(fileCount());
  hungTaskInit(120 * NSEC_PER_SEC);
});
