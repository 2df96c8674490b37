// sunrpc-udp-slot-hang (seed 000): NFSv3 over UDP on 3.6-rc with 43cedbf0 hangs with
// tasks asleep on xprt_sending and nothing in flight. Catalog metadata, patches, knobs
// (names as registered by asm/scenarios/sunrpc-udp-slot-hang/defs.ts), presets, evidence.
import type { KnobSpec, ScenarioSpec } from "../types";
import { describeSunrpc, snapshotSunrpc } from "../sunrpc/describe";
import { STRESS_KNOB, EXIT_RACE_KNOB, mmap3Knobs } from "../sunrpc/knobs";
import { LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, PUT_CONG_ON_SLEEP } from "../sunrpc/patches";
import { intKnob as int, floatKnob as float, boolKnob as bool } from "../knobs";
import { checkChunks } from "../../config";
import { stackSunrpc } from "../sunrpc/stack";

export const UDP_KNOBS: KnobSpec[] = [
  { name: "workload", label: "Workload", group: "workload", type: "enum", default: "ltp-mmap3", values: ["ltp-mmap3", "dd-bursts"], description: "ltp-mmap3: Andrew Chen's reproducer from the thread, LTP mm/mtest06_3 started in a loop; each run ends on SIGALRM and kills its threads wherever they are (he saw the hang on UDP mounts too, and f39c1bfb cure it there). dd-bursts: Dick Streefland's backup script as we read it (his script is not in the thread): dd writers in bursts separated by idle gaps; nothing is killed" },
  ...mmap3Knobs(40),
  int("writers", "dd writers", "workload", 3, 1, 8, "dd processes started together by the backup script, each writing its own file then closing it (close -> nfs_file_flush waits for every WRITE)"),
  float("burst_mb", "Burst size", "workload", 2, 0.0625, 16, "bytes each dd writes per burst (at most wsize_kb / 2: 512 WRITEs per file)", "MiB"),
  int("bursts", "Bursts", "workload", 60, 1, 500, "how many write-close bursts the script runs"),
  float("idle_gap_s", "Idle gap", "workload", 330, 0, 3600, "sleep between bursts; longer than XS_IDLE_DISC_TO (300 s) the transport is autoclosed and reconnected before the next burst", "s"),
  float("idle_jitter_s", "Idle gap jitter", "workload", 120, 0, 1800, "uniform extra sleep added to each gap", "s"),
  float("start_jitter_ms", "dd start jitter", "workload", 19, 0, 5000, "each dd starts within this window after the script wakes up (cron-like)", "ms"),
  float("copy_us", "Copy cost per 32 KiB", "workload", 30, 1, 10000, "CPU time dd spends copying one wsize of data into the page cache", "µs"),
  int("wsize_kb", "wsize", "kernel", 32, 4, 32, "NFS mount option wsize (one WRITE per wsize chunk)", "KiB"),
  int("dirty_bg_chunks", "Background writeback threshold", "kernel", 128, 1, 4096, "dirty chunks per file at which the flusher starts async WRITEs before close", "chunks"),
  bool("autofs_remount", "autofs remount", "workload", false, "the share is an autofs mount that expires in the gap: each burst starts on a fresh rpc_xprt (cwnd back to RPC_INITCWND)"),
  float("loss", "Frame loss", "faults", 0.0001, 0, 0.5, "probability that one Ethernet frame is lost; a datagram is lost if any of its IP fragments is (a 32 KiB WRITE is 23 frames: 1e-4 per frame, a busy switched LAN, loses 0.23% of WRITEs and 0.01% of replies)"),
  float("srv_restart_every_s", "nfsd restart every", "faults", 0, 0, 100000, "mean time between nfsd restarts (0: never); while down, calls get ICMP port unreachable", "s"),
  float("srv_down_s", "nfsd down for", "faults", 15, 0, 600, "how long a restart keeps nfsd down", "s"),
  float("link_flap_every_s", "Link flap every", "faults", 0, 0, 100000, "mean time between link outages (0: never)", "s"),
  float("link_flap_s", "Link flap length", "faults", 5, 0, 600, "length of a link outage", "s"),
  float("nic_tx_hang_per_1k", "NIC TX hangs per 1000 datagrams", "faults", 0, 0, 100, "NIC watchdog resets: the TX queue stops, the socket's send buffer fills, senders wait in xs_nospace"),
  float("nic_tx_hang_s", "NIC TX hang length", "faults", 5, 0, 120, "until the TX watchdog resets the NIC", "s"),
  float("link_mbps", "Link speed", "faults", 100, 1, 10000, "client NIC speed", "Mbit/s"),
  float("latency_us", "One-way latency", "faults", 100, 1, 1000000, "one-way delay client <-> server", "µs"),
  int("timeo", "timeo", "kernel", 11, 1, 600, "NFS mount option timeo (deciseconds): the initial RPC timeout; UDP doubles it per retry up to 60 s", "ds"),
  int("retrans", "retrans", "kernel", 3, 0, 10, "minor timeouts before a major one ('server not responding')"),
  int("udp_slots", "UDP slot table", "kernel", 16, 2, 128, "sunrpc.udp_slot_table_entries (fixed slot table)"),
  int("nfsd_threads", "nfsd threads", "kernel", 8, 1, 64, "knfsd threads on the server"),
  int("cpus", "Client CPUs", "kernel", 2, 1, 8, "client CPUs; one rpciod kworker per CPU"),
  int("cpu_hogs", "CPU hogs", "workload", 0, 0, 8, "busy processes competing with rpciod and dd for the CPUs"),
  float("hog_slice_us", "Hog slice", "workload", 300, 10, 100000, "how long a hog runs before yielding", "µs"),
  float("connect_race_us", "mdelay() in xprt_connect", "kernel", 0, 0, 100000, "a debugging mdelay() inserted in xprt_connect() between taking XPRT_LOCKED and the 'already connected' xprt_release_write (0: stock kernel). Only the labelled preset uses it", "µs"),
  float("connect_status_race_us", "mdelay() in call_connect_status", "kernel", 0, 0, 100000, "a debugging mdelay() inserted at the start of call_connect_status, after a reconnect completes (0: stock kernel). Only the labelled preset uses it", "µs"),
  float("reserve_race_us", "mdelay() in xprt_reserve", "kernel", 0, 0, 100000, "a debugging mdelay() inserted while a slot allocator holds XPRT_LOCKED in xprt_reserve (0: stock kernel)", "µs"),
  float("timeout_race_us", "mdelay() in call_timeout", "kernel", 0, 0, 100000, "a debugging mdelay() inserted between xprt_timer and call_timeout (0: stock kernel)", "µs"),
  EXIT_RACE_KNOB,
  STRESS_KNOB,
];

export const sunrpcUdpSlotHang: ScenarioSpec = {
  id: "sunrpc-udp-slot-hang",
  title: "NFS over UDP hangs with tasks asleep on xprt_sending",
  subsystem: "SUNRPC client (xprt.c, xprtsock.c UDP)",
  year: 2012,
  symptom: "hang",
  seed: "linux-nfs, Sep 2012: 'RPC hang on UDP' / Trond Myklebust, SUNRPC: Fix a UDP transport regression (f39c1bfb)",
  kernel: "Linux 3.6-rc (net/sunrpc with 43cedbf0), NFSv3 over UDP, proto=udp,timeo=11,retrans=3",
  story: [
    "NFSv3 over UDP on a 3.6-rc client with 43cedbf0 ('Ensure that we grab the XPRT_LOCK before calling xprt_alloc_slot', mainline since 3.1). Andrew Chen's reproducer from the thread runs: LTP mm/mtest06_3 (mmap3) in a loop; each run's threads map, dirty and unmap a file, stat it (a sync GETATTR whenever the attribute cache expired), and are killed by the test's SIGALRM wherever they are.",
    "With 43cedbf0 every slot allocation takes XPRT_LOCKED, so a GETATTR without a slot sleeps on xprt_sending whenever another allocator or a transmitter holds the lock, and every allocator's xprt_release_write hands the lock to the next waiter: __xprt_lock_write_cong_func gives it to a task with tk_rqstp == NULL without asking for a credit.",
    "If that waiter's thread was killed, __rpc_execute has already seen -ERESTARTSYS ('got signal'); when the hand-off lands before rpc_exit() tests RPC_IS_QUEUED, rpc_exit finds the task no longer queued, the task runs rpc_exit_task, and 3.6's rpc_release_resources_task calls xprt_release() only with a tk_rqstp: XPRT_LOCKED is never released. Every later WRITE sleeps on xprt_sending (a:call_reserveresult, (null) rqstp) and the exiting mmap3 hangs in nfs_file_fsync.",
    "f39c1bfb gives UDP an .alloc_slot that does not take the lock: the GETATTR never holds XPRT_LOCKED without a slot, and the same runs complete, exactly as before 43cedbf0. TCP keeps xprt_lock_and_alloc_slot, which is why the TCP half of the thread needed 87ed5003.",
    "3.6 has a second, older way to hang UDP, which f39c1bfb leaves: xprt_reserve_xprt_cong keeps a credit at out_sleep, and a competitor's timeout can halve cwnd to that one credit while its holder sleeps on xprt_sending. The 'credit stranding' preset shows it; xprt-put-cong-on-sleep (later kernels) ends it.",
  ],
  assumptions: [
    "Timing is the kernel core's model (asm/kernel/timing.ts): CFS slices and wake-up preemption (CONFIG_PREEMPT, HZ=1000), tick and NIC interrupt time, rpciod work queued behind other work. No knob adds a delay at a named point except the mdelay() knobs, which only the labelled presets set. Stress mode (stress_per_1k > 0) adds random starvation of any thread before any step, like rr's chaos mode; every result says which mode made it.",
    "Under realistic timing the leaked-lock window (from 'got signal' to rpc_exit's RPC_IS_QUEUED, under a microsecond) is hit rarely: at the default knobs 3 of seeds 1-1000 and 2 of 5001-6000 hang with 43cedbf0 (0.3% and 0.2%, the leaked lock). With f39c1bfb no slot allocation holds the lock, so the path cannot be taken. The documented preset is a stress reproducer: stress mode and a lossy link (0.5% of frames lost: 11% of 32 KiB WRITEs), which keeps GETATTRs waiting on xprt_sending.",
    "Dick Streefland's script is not in the thread; the dd-bursts workload is our reading of it (writers, idle gaps longer than the 5 min idle timeout). It kills nothing, so it cannot reach the leaked lock; it shows the credit-stranding path only.",
    "Loss is per Ethernet frame; a datagram is lost when any of its IP fragments is (default 1e-4 per frame).",
    "HZ=1000; timeo=11 -> 1.1 s initial timeout, doubled per retry up to 60 s; retrans=3. xprt_wait_for_buffer_space sleeps with tk_timeout = rq_timeout, as in 3.x, the same as in the TCP scenario.",
    "knfsd has the duplicate request cache of 3.x (fs/nfsd/nfscache.c up to 3.8: 1024 entries, LRU): a WRITE resent while its call is in progress or less than 200 ms after its reply is dropped (UDP's RTT-based timer resends that soon after a lost reply), a later one is answered from the cache. This mount is the server's only client.",
    "An unconnected UDP socket ignores ICMP errors (xs_error_report only acts on sk_err of connected sockets); nfsd restarts therefore show up as timeouts, not -ECONNREFUSED.",
    "No rpcbind round trip: the port is fixed (mount option port=2049), call_bind is a no-op.",
    "After khungtaskd's first report the run goes on until the state is absorbing (a lock held by a freed task, or the liveness invariant broken with no rpciod work queued): then `hang`. A task blocked past 120 s in a state that can still move is reported as slow progress, not as a hang. Long runs are cut at 12k rpc_tasks (the simulation's entity table).",
  ],
  patches: [LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, PUT_CONG_ON_SLEEP],
  knobs: UDP_KNOBS,
  presets: [
    {
      id: "documented",
      label: "Andrew's reproducer, stress mode (seed 14)",
      description: "LTP mmap3 in a loop on a lossy link (0.5% frame loss), stress timing (20% of steps start after a random starvation). A GETATTR whose thread was killed is handed XPRT_LOCKED by a slot allocator's release between 'got signal' and rpc_exit; it exits without a slot and the lock leaks.",
      seed: 14,
      knobs: { loss: 0.005, stress_per_1k: 200 },
    },
    {
      id: "before-43cedbf0",
      label: "Before 43cedbf0",
      description: "The same run on a kernel without 43cedbf0: slot allocation does not touch XPRT_LOCKED.",
      seed: 14,
      knobs: { loss: 0.005, stress_per_1k: 200 },
      patches: { "xprt-lock-before-alloc": false },
    },
    {
      id: "realistic",
      label: "Realistic timing (defaults)",
      description: "The same workload with realistic timing and 1e-4 frame loss: the hang is rare (see the sweep figures in the docs).",
      seed: 14,
      knobs: {},
    },
    {
      id: "credit-stranding",
      label: "Credit stranding: mdelay() inserted in xprt_connect and call_connect_status",
      description: "dd bursts on a lossy link with f39c1bfb, and two debugging mdelay(5) a developer would insert: in xprt_connect() before its 'already connected' xprt_release_write, and at the start of call_connect_status. A credit holder sleeps on xprt_sending keeping its credit, a competitor's timeout halves cwnd to that one credit, and nobody wakes the queue. xprt-put-cong-on-sleep ends it.",
      seed: 25,
      knobs: { workload: "dd-bursts", loss: 0.005, connect_race_us: 5000, connect_status_race_us: 5000 },
      patches: { "xprt-alloc-slot-op": true },
    },
  ],
  expected: [
    { patches: {}, knobs: { loss: 0.005, stress_per_1k: 200 }, verdict: "hang", note: "documented stress reproducer: XPRT_LOCKED leaked by a killed GETATTR (seeds 1-1000: 5.6%, 5001-6000: 5.6%; realistic defaults: 0.3% and 0.2%)" },
    { patches: { "xprt-alloc-slot-op": true }, knobs: { loss: 0.005, stress_per_1k: 200 }, verdict: "ok", note: "f39c1bfb: no slot allocation holds the lock" },
    { patches: { "xprt-lock-before-alloc": false }, knobs: { loss: 0.005, stress_per_1k: 200 }, verdict: "ok", note: "before 43cedbf0: the same runs as with f39c1bfb" },
    { patches: { "xprt-alloc-slot-op": true, "xprt-put-cong-on-sleep": true }, verdict: "ok", note: "no task sleeps on xprt_sending holding a credit, and no slot allocator holds the lock" },
  ],
  views: ["tasks", "state", "evidence", "trace", "metrics"],
  describe: (verdict, raw, ctx) => describeSunrpc("udp", verdict, raw, ctx),
  // each workload writes its own files: dd a burst per file, mmap3 its mapping
  checkKnobs: (k) => checkChunks(sunrpcUdpSlotHang, k, k.workload === "dd-bursts" ? "burst_mb" : "map_mb", "wsize_kb"),
  limitKnobs: { "too many": "bursts" },
  snapshotBlocks: snapshotSunrpc("udp"),
  stack: stackSunrpc("udp"),
};
