// sunrpc-tcp-close-wait (seed 000, the TCP half): LTP mmap3 on NFSv3/TCP hangs in
// nfs_file_fsync from filp_close with the socket stuck in CLOSE_WAIT. Catalog metadata,
// patches, knobs (names as registered by asm/scenarios/sunrpc-tcp-close-wait/defs.ts), presets.
import type { KnobSpec, ScenarioSpec } from "../types";
import { describeSunrpc, snapshotSunrpc } from "../sunrpc/describe";
import { STRESS_KNOB, EXIT_RACE_KNOB, mmap3Knobs } from "../sunrpc/knobs";
import { LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, RELEASE_ON_EARLY_EXIT, CLOSE_ON_CLOSE_WAIT } from "../sunrpc/patches";
import { intKnob as int, floatKnob as float } from "../knobs";
import { checkChunks } from "../../config";
import { stackSunrpc } from "../sunrpc/stack";

export const TCP_KNOBS: KnobSpec[] = [
  ...mmap3Knobs(40),
  float("copy_us", "Dirtying cost per 64 KiB", "workload", 30, 1, 10000, "CPU time to dirty one wsize of the mapping", "µs"),
  int("wsize_kb", "wsize", "kernel", 64, 4, 1024, "NFS mount option wsize", "KiB"),
  float("dirty_expire_s", "dirty_expire", "kernel", 30, 1, 600, "vm.dirty_expire_centisecs (in seconds): when the flusher writes back old dirty pages", "s"),
  float("storage_stall_every_s", "Server storage stall every", "faults", 120, 0, 100000, "mean time between stalls of the server's disk (0: never); nfsd threads block, the socket's receive queue fills", "s"),
  float("storage_stall_s", "Storage stall length", "faults", 25, 0, 600, "mean length of a stall", "s"),
  float("svc_age_period_s", "svc_age_temp_xprts period", "kernel", 360, 0, 3600, "knfsd closes a TCP connection idle for two periods (0: never) by shutting it down: the client sees FIN and goes to CLOSE_WAIT", "s"),
  float("srv_drop_every_s", "Server closes connections every", "faults", 0, 0, 100000, "mean time between connection closes by the server regardless of idleness (0: never)", "s"),
  float("link_mbps", "Link speed", "faults", 100, 1, 10000, "client NIC speed", "Mbit/s"),
  float("latency_us", "One-way latency", "faults", 100, 1, 1000000, "one-way delay client <-> server", "µs"),
  int("timeo", "timeo", "kernel", 600, 1, 6000, "NFS mount option timeo (deciseconds): TCP default 60 s, linear backoff", "ds"),
  int("retrans", "retrans", "kernel", 2, 0, 10, "minor timeouts before a major one"),
  int("nfsd_threads", "nfsd threads", "kernel", 8, 1, 64, "knfsd threads on the server"),
  int("cpus", "Client CPUs", "kernel", 2, 1, 8, "client CPUs; one rpciod kworker per CPU"),
  EXIT_RACE_KNOB,
  STRESS_KNOB,
];

export const sunrpcTcpCloseWait: ScenarioSpec = {
  id: "sunrpc-tcp-close-wait",
  title: "NFS over TCP hangs with the socket in CLOSE_WAIT",
  subsystem: "SUNRPC client (xprt.c, xprtsock.c TCP)",
  year: 2012,
  symptom: "hang",
  seed: "linux-nfs, Sep 2012: after f39c1bfb the UDP hang is gone, 'but it remains hang in the case of NFS over TCP mounts' (LTP mmap3, CLOSE_WAIT)",
  kernel: "Linux 3.5 (43cedbf0 is in mainline from 3.1), NFSv3 over TCP, proto=tcp,timeo=600,retrans=2",
  story: [
    "LTP's mm/mtest06_3 (mmap3) runs in a loop against an NFSv3/TCP mount. Within a couple of hundred runs mmap3 stops: 'INFO: task mmap3 blocked for more than 120 seconds' in nfs_file_fsync from filp_close, and netstat shows the NFS connection in CLOSE_WAIT for ever.",
    "rpc_debug lists WRITEs asleep on xprt_sending with a:call_reserveresult and no slot: they wait for XPRT_LOCKED to allocate one (xprt_lock_and_alloc_slot). The lock is held by an rpc_task that no longer exists.",
    "A thread killed by SIGALRM while its GETATTR waited for the lock was handed XPRT_LOCKED by __xprt_lock_write_next after __rpc_execute had seen -ERESTARTSYS and before rpc_exit() tested RPC_IS_QUEUED (do_exit runs only after the RPC is torn down); xprt_release() returned early because the task had no slot, so the lock leaked. When knfsd later closes the idle connection, xs_tcp_state_change(TCP_CLOSE_WAIT) calls xprt_force_disconnect, which cannot take the lock: autoclose never runs and the socket stays in CLOSE_WAIT.",
    "Under realistic timing the window is under a microsecond and the hang is rare (see the docs for the sweep figures); the documented seed is one of them, and stress mode finds it in about a quarter of the seeds. Turn on xprt-release-lock-on-early-exit (87ed5003): the exiting task releases the lock and the hang is gone. xs-tcp-close-on-close-wait alone changes how CLOSE_WAIT is handled but cannot help a leaked lock. With xprt-lock-before-alloc off (no slot allocation under the lock) the leak cannot happen.",
  ],
  assumptions: [
    "HZ=1000; timeo=600 retrans=2 with linear backoff. xprt_wait_for_buffer_space sleeps with tk_timeout = rq_timeout, as in 3.x on every transport (the same in the UDP scenario).",
    "Timing is the kernel core's model (asm/kernel/timing.ts): CFS preemption (CONFIG_PREEMPT, HZ=1000), tick and NIC interrupt time; no delay at a named point. exit_race_us is a debugging mdelay() in __rpc_execute, 0 except in the labelled preset.",
    "knfsd closes an idle TCP connection after two svc_age_temp_xprts periods (6 min by default here, shortened to keep runs short) with a shutdown: the client receives a FIN.",
    "knfsd has the duplicate request cache of 3.x (fs/nfsd/nfscache.c up to 3.8: 1024 entries, LRU): a WRITE resent while its call is in progress or less than 200 ms after its reply is dropped, a later one is answered from the cache. This mount is the server's only client.",
    "rpciod is one kworker per client CPU; a sync rpc_task (GETATTR) runs in its caller's process, so a fatal signal ends its killable wait.",
    "No rpcbind round trip: the port is fixed, call_bind is a no-op.",
    "The run continues after khungtaskd's first report until the server has aged the connection out (the CLOSE_WAIT is evidence), or 20 min after the report.",
  ],
  patches: [LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, RELEASE_ON_EARLY_EXIT, CLOSE_ON_CLOSE_WAIT],
  knobs: TCP_KNOBS,
  presets: [
    {
      id: "documented",
      label: "The documented hang, realistic timing (seed 15)",
      description: "Two mmap3 instances of four threads, SIGALRM every 10 s, realistic timing: one of the rare seeds in which a killed thread's GETATTR is handed XPRT_LOCKED between 'got signal' and rpc_exit; the lock leaks, knfsd ages out the connection and the socket stays in CLOSE_WAIT.",
      seed: 15,
      knobs: {},
    },
    {
      id: "both-fixes",
      label: "87ed5003 + CLOSE_WAIT fixes",
      description: "The same run with both TCP fixes.",
      seed: 15,
      knobs: {},
      patches: { "xprt-release-lock-on-early-exit": true, "xs-tcp-close-on-close-wait": true },
    },
    {
      id: "stress",
      label: "Stress mode (chaos starvation, 500 per 1000 steps)",
      description: "Every thread may be starved before any step (rr chaos mode): the rare window opens in about a quarter of the seeds. Not a realistic share: it finds the interleaving fast.",
      seed: 6,
      knobs: { stress_per_1k: 500 },
    },
    {
      id: "mdelay",
      label: "mdelay() inserted in __rpc_execute (10 ms)",
      description: "A debugging mdelay(10) between the killable wait returning -ERESTARTSYS and rpc_exit(), as a developer would insert to widen the window: a killed GETATTR is handed the lock in it.",
      seed: 1,
      knobs: { exit_race_us: 10000 },
    },
  ],
  expected: [
    { patches: {}, knobs: { stress_per_1k: 500 }, verdict: "hang", note: "stress mode: XPRT_LOCKED leaked by an exited task; the socket stays in CLOSE_WAIT (seeds 1-1000: 24.5%, 5001-6000: 23.4%; realistic timing at the defaults: 0.5% and 0.4%)" },
    { patches: { "xprt-release-lock-on-early-exit": true, "xs-tcp-close-on-close-wait": true }, verdict: "ok", note: "both fixes" },
    { patches: { "xprt-release-lock-on-early-exit": true }, verdict: "ok", note: "87ed5003 alone: the lock is never leaked" },
    { patches: { "xs-tcp-close-on-close-wait": true }, knobs: { stress_per_1k: 500 }, verdict: "hang", note: "the CLOSE_WAIT fixes alone: the leaked lock still blocks every WRITE and xprt_force_disconnect" },
    { patches: { "xprt-lock-before-alloc": false }, verdict: "ok", note: "without 43cedbf0 a slot allocator never holds the lock" },
    { patches: { "xprt-alloc-slot-op": true }, knobs: { stress_per_1k: 500 }, verdict: "hang", note: "f39c1bfb keeps the lock-then-allocate order on TCP (xprt_lock_and_alloc_slot)" },
  ],
  views: ["tasks", "state", "evidence", "trace", "metrics"],
  describe: (verdict, raw, ctx) => describeSunrpc("tcp", verdict, raw, ctx),
  checkKnobs: (k) => checkChunks(sunrpcTcpCloseWait, k, "map_mb", "wsize_kb"),
  limitKnobs: { "too many": "cycles" },
  snapshotBlocks: snapshotSunrpc("tcp"),
  stack: stackSunrpc("tcp"),
};
