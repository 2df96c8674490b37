// sunrpc-tcp-close-wait (seed 000, the TCP half of the thread): NFSv3 over TCP on a 3.5
// client that takes XPRT_LOCKED before every slot allocation (xprt_lock_and_alloc_slot).
// LTP mmap3 instances loop mmap/dirty/munmap and exit on SIGALRM; a thread killed while its
// sync GETATTR sleeps on xprt_sending can be handed the lock by __xprt_lock_write_next
// just before it exits, and xprt_release() returns early without a slot: XPRT_LOCKED is
// leaked. knfsd later ages out the idle connection (FIN); xs_tcp_state_change sees
// CLOSE_WAIT, xprt_force_disconnect cannot take the lock, autoclose never runs, and the
// exiting mmap3 waits forever in nfs_file_fsync. knfsd's storage stalls fill the socket
// and make the write lock busy for long stretches.
// Defaults and ranges: engine/scenarios/sunrpc-tcp-close-wait.ts.
import { NSEC_PER_SEC, NSEC_PER_USEC } from "../kernel/clock";
import { knob, patch, scenario, kv, kvi, patched } from "../kernel/config";
import { cpusInit } from "../kernel/sched";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../kernel/timing";
import { hungTaskInit } from "../kernel/hungtask";
import { setTimeLimit, setStopOnHung } from "../kernel/world";
import { XPRT_TCP, JIFFY } from "../sunrpc/defs";
import { rpciodInit, setExitRace } from "../sunrpc/sched";
import { setPatches } from "../sunrpc/xprt";
import { clntInit, setConnectRace, setReserveRace } from "../sunrpc/clnt";
import { xsSetup, xsLinkInit, setWsize, setCloseOnCloseWait } from "../sunrpc/xprtsock";
import { waitforInit } from "../sunrpc/debug";
import { harnessInstall, harnessMount, harnessServer } from "./sunrpc/harness";
import { svcNew } from "../nfsd/svc";
import { workloadInit, flusherInit, mmap3Init, flusherTunables } from "../nfs/workload";
import { fileCount } from "../nfs/writeback";

const P_LOCK_BEFORE_ALLOC = patch("xprt-lock-before-alloc");
const P_ALLOC_SLOT_OP = patch("xprt-alloc-slot-op");
const P_RELEASE_EARLY = patch("xprt-release-lock-on-early-exit");
const P_CLOSE_WAIT = patch("xs-tcp-close-on-close-wait");

const K_CPUS = knob("cpus");
const K_THREADS = knob("mmap3_threads");
const K_MAP_MB = knob("map_mb");
const K_RUN = knob("mmap3_run_s");
const K_CYCLES = knob("cycles");
const K_THINK = knob("think_ms");
const K_ACTIMEO = knob("actimeo_ms");
const K_COPY = knob("copy_us");
const K_WSIZE = knob("wsize_kb");
const K_STALL_EVERY = knob("storage_stall_every_s");
const K_STALL = knob("storage_stall_s");
const K_AGE = knob("svc_age_period_s");
const K_DROP = knob("srv_drop_every_s");
const K_MBPS = knob("link_mbps");
const K_LAT = knob("latency_us");
const K_TIMEO = knob("timeo");
const K_RETRANS = knob("retrans");
const K_NFSD = knob("nfsd_threads");
const K_EXIT_RACE = knob("exit_race_us");
const K_EXPIRE = knob("dirty_expire_s");
const K_INST = knob("instances");
const K_STRESS = knob("stress_per_1k");

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
  harnessServer(svcNew({
    threads: <i32>kvi(K_NFSD), rcvbufBytes: 262144, udpQueueMax: 0, wsizeBytes: wsize,
    stallEveryS: kv(K_STALL_EVERY), stallMeanS: kv(K_STALL), stallMaxS: kv(K_STALL) * 2.0,
    agePeriodS: kv(K_AGE), dropEveryS: kv(K_DROP),
  }));
  workloadInit(cpus, kv(K_COPY), 1, 256, 1024);
  flusherInit(cpus - 1);
  flusherTunables(kv(K_EXPIRE), 5);
  const chunks = <i32>(kv(K_MAP_MB) * 1048576.0 / <f64>wsize);
  mmap3Init(<i32>kvi(K_INST), <i32>kvi(K_THREADS), chunks < 1 ? 1 : chunks, kv(K_RUN), <i32>kvi(K_CYCLES), kv(K_THINK), kv(K_ACTIMEO));
  waitforInit(fileCount());
  hungTaskInit(120 * NSEC_PER_SEC);
  setTimeLimit(<i64>((kv(K_RUN) + 2.0) * kv(K_CYCLES) + 3600.0) * NSEC_PER_SEC);
});
