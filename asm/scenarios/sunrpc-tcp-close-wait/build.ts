// sunrpc-tcp-close-wait (seed 000, the TCP half of the thread): NFSv3 over TCP on a 3.5
// client that takes XPRT_LOCKED before every slot allocation (xprt_lock_and_alloc_slot).
// LTP mmap3 instances loop mmap/dirty/munmap and exit on SIGALRM; a thread killed while its
// sync GETATTR sleeps on xprt_sending can be handed the lock by __xprt_lock_write_next
// just before it exits, and xprt_release() returns early without a slot: XPRT_LOCKED is
// leaked. knfsd later ages out the idle connection (FIN); xs_tcp_state_change sees
// CLOSE_WAIT, xprt_force_disconnect cannot take the lock, autoclose never runs, and the
// exiting mmap3 waits forever in nfs_file_fsync. knfsd's storage stalls fill the socket
// and make the write lock busy for long stretches.
// Defaults and ranges: engine/scenarios/sunrpc-tcp-close-wait/.
//
// defs.ts registers; the hooks (workload, detectors, evidence) are the sunrpc scenarios'
// shared harness (../sunrpc/harness.ts). This file builds the world.
import { NSEC_PER_SEC, NSEC_PER_USEC } from "../../kernel/clock";
import { scenario, kv, kvi, patched } from "../../kernel/config";
import { cpusInit } from "../../kernel/sched";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../../kernel/timing";
import { hungTaskInit } from "../../kernel/hungtask";
import { setStopOnHung } from "../../kernel/world";
import { XPRT_TCP, JIFFY } from "../../sunrpc/defs";
import { rpciodInit, setExitRace } from "../../sunrpc/sched";
import { setPatches } from "../../sunrpc/xprt";
import { clntInit, setConnectRace, setReserveRace } from "../../sunrpc/clnt";
import { xsSetup, xsLinkInit, setWsize, setCloseOnCloseWait } from "../../sunrpc/xprtsock";
import { waitforInit } from "../../sunrpc/debug";
import { harnessInstall, harnessMount, harnessServer } from "../sunrpc/harness";
import { mmap3Start } from "../sunrpc/mmap3";
import { svcNew } from "../../nfsd/svc";
import { DRC_LRU1024 } from "../../nfsd/drc";
import { workloadInit, flusherInit, flusherTunables } from "../../nfs/workload";
import { fileCount } from "../../nfs/writeback";
import {
  K_AGE, K_COPY, K_CPUS, K_DROP, K_EXIT_RACE, K_EXPIRE, K_LAT, K_MBPS, K_MMAP3, K_NFSD, K_RETRANS,
  K_STALL, K_STALL_EVERY, K_STRESS, K_TIMEO, K_WSIZE, P_ALLOC_SLOT_OP, P_CLOSE_WAIT,
  P_LOCK_BEFORE_ALLOC, P_RELEASE_EARLY,
} from "./defs";

scenario("sunrpc-tcp-close-wait", (): void => {
  const cpus = <i32>kvi(K_CPUS);
  cpusInit(cpus);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, cpus);
  // keep running after khungtaskd's first report: the server ages the idle connection out
  // later, and the socket's CLOSE_WAIT is part of the evidence
  setStopOnHung(false);
  harnessInstall(20 * 60 * NSEC_PER_SEC, 60 * NSEC_PER_SEC);
  setPatches(patched(P_LOCK_BEFORE_ALLOC), patched(P_ALLOC_SLOT_OP), patched(P_RELEASE_EARLY));
  setCloseOnCloseWait(patched(P_CLOSE_WAIT));
  // NFS over TCP: timeo (deciseconds), linear backoff, to_maxval = initval * (retrans + 1)
  const initval = kvi(K_TIMEO) * 100 * JIFFY;
  const retrans = <i32>kvi(K_RETRANS);
  const wsize = <i32>kvi(K_WSIZE) * 1024;
  setWsize(wsize);
  // xprt_wait_for_buffer_space (3.x): tk_timeout = req->rq_timeout, hard mount or not
  harnessMount(xsSetup({
    transport: XPRT_TCP, slots: 2, dynamicSlotsMax: 1024, sndbufBytes: 262144,
    timeoInitNs: initval, timeoMaxNs: initval * (retrans + 1), timeoIncrementNs: initval, retrans,
    exponential: false, wspaceTimeout: true,
  }));
  clntInit();
  setConnectRace(0);
  setReserveRace(0);
  setExitRace(<i64>(kv(K_EXIT_RACE) * 1000.0));
  rpciodInit(cpus, 90);
  xsLinkInit({ rateBps: kv(K_MBPS) * 1e6, delayNs: 0, jitterMeanNs: <i64>(kv(K_LAT) * <f64>NSEC_PER_USEC) }, 0);
  // a 3.x knfsd: the 1024-entry LRU duplicate request cache; this mount is its only client
  // (SCENARIOS.md names no other load), so nothing else recycles the entries
  harnessServer(svcNew({
    drc: DRC_LRU1024, otherOpsPerSec: 0,
    threads: <i32>kvi(K_NFSD), rcvbufBytes: 262144, udpQueueMax: 0, wsizeBytes: wsize,
    stallEveryS: kv(K_STALL_EVERY), stallMeanS: kv(K_STALL), stallMaxS: kv(K_STALL) * 2.0,
    agePeriodS: kv(K_AGE), dropEveryS: kv(K_DROP),
  }));
  workloadInit(cpus, kv(K_COPY), 1, 256, 1024);
  flusherInit(cpus - 1);
  flusherTunables(kv(K_EXPIRE), 5);
  mmap3Start(K_MMAP3, wsize);
  waitforInit(fileCount());
  hungTaskInit(120 * NSEC_PER_SEC);
});
