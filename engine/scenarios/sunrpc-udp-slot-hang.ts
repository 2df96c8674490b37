// sunrpc-udp-slot-hang (seed 000): NFSv3 over UDP on 3.6-rc with 43cedbf0 hangs with
// tasks asleep on xprt_sending and nothing in flight. Catalog metadata, patches, knobs
// (names as registered by asm/scenarios/sunrpc_udp_slot_hang.ts), presets, evidence.
import type { KnobSpec, ScenarioSpec } from "./types";
import { describeSunrpc, snapshotSunrpc } from "./sunrpc/describe";
import { STRESS_KNOB } from "./sunrpc/timing";
import { LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, PUT_CONG_ON_SLEEP } from "./sunrpc/patches";
import { intKnob as int, floatKnob as float, boolKnob as bool } from "./knobs";

export const UDP_KNOBS: KnobSpec[] = [
  int("writers", "dd writers", "workload", 3, 1, 8, "dd processes started together by the backup script, each writing its own file then closing it (close -> nfs_file_flush waits for every WRITE)"),
  float("burst_mb", "Burst size", "workload", 2, 0.0625, 64, "bytes each dd writes per burst", "MiB"),
  int("bursts", "Bursts", "workload", 60, 1, 500, "how many write-close bursts the script runs"),
  float("idle_gap_s", "Idle gap", "workload", 330, 0, 3600, "sleep between bursts; longer than XS_IDLE_DISC_TO (300 s) the transport is autoclosed and reconnected before the next burst", "s"),
  float("idle_jitter_s", "Idle gap jitter", "workload", 120, 0, 1800, "uniform extra sleep added to each gap", "s"),
  float("start_jitter_ms", "dd start jitter", "workload", 19, 0, 5000, "each dd starts within this window after the script wakes up (cron-like)", "ms"),
  float("copy_us", "Copy cost per 32 KiB", "workload", 30, 1, 10000, "CPU time dd spends copying one wsize of data into the page cache", "µs"),
  int("wsize_kb", "wsize", "kernel", 32, 4, 32, "NFS mount option wsize (one WRITE per wsize chunk)", "KiB"),
  int("dirty_bg_chunks", "Background writeback threshold", "kernel", 128, 1, 4096, "dirty chunks per file at which the flusher starts async WRITEs before close", "chunks"),
  bool("autofs_remount", "autofs remount", "workload", false, "the share is an autofs mount that expires in the gap: each burst starts on a fresh rpc_xprt (cwnd back to RPC_INITCWND)"),
  float("loss", "Datagram loss", "faults", 0.1, 0, 0.5, "probability that a datagram (call or reply) is lost on the wire"),
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
    "A backup script on a 3.6-rc client writes files over NFSv3/UDP in bursts separated by idle gaps longer than the 5 minute idle timeout. After a while dd and the script stop in close(): 'INFO: task dd blocked for more than 120 seconds', and the mount never recovers.",
    "echo 1 > /proc/sys/sunrpc/rpc_debug shows a dozen WRITEs asleep on xprt_sending (a:call_reserveresult, waiting for a slot, and a:call_status, waiting to transmit) with the write lock free and nothing on the wire.",
    "43cedbf0 made xprt_reserve() take XPRT_LOCKED before allocating a slot. On UDP the lock's hand-off (__xprt_lock_write_next_cong) is gated by the congestion window, and a credit holder that loses the lock keeps its credit while it sleeps: after timeouts shrink cwnd, the credit that would wake the queue belongs to a task that is itself asleep on it.",
    "Turn on xprt-alloc-slot-op (f39c1bfb): UDP allocates slots without the lock and the documented run completes. Over 1000 seeds the lab still hangs in about a quarter of the runs with f39c1bfb, exactly the runs a kernel before 43cedbf0 hangs in: a credit holder that loses the lock to another transmitter keeps its credit while asleep, and timeouts then shrink cwnd to that one credit. xprt-put-cong-on-sleep (later kernels return the credit at out_sleep) closes that too: no hang in 1000 seeds.",
  ],
  assumptions: [
    "HZ=1000; timeo=11 -> 1.1 s initial timeout, doubled per retry up to 60 s; retrans=3. RTT estimation (rpc_rtt) drives the timeouts of WRITE/COMMIT calls as in 3.x.",
    "The widening knobs (connect_race_us, connect_status_race_us, reserve_race_us, timeout_race_us) stand for preemption or interrupts at the named point. The defaults widen xprt_connect's 'already connected' path (5 ms each side), which is how a credit holder comes to lose the lock; with all of them 0 no hang was seen in 100 seeds: the real reports needed days of traffic.",
    "An unconnected UDP socket ignores ICMP errors (xs_error_report only acts on sk_err of connected sockets); nfsd restarts therefore show up as timeouts, not -ECONNREFUSED.",
    "No rpcbind round trip: the port is fixed (mount option port=2049), call_bind is a no-op.",
    "rpciod is one kworker per client CPU; a sync rpc_task runs in its caller's process. Each async rpc_task is a simulated entity named rpciod/<cpu> while it runs; the dump's -pid- is the task id, as in rpc_show_tasks.",
    "The run stops at the first khungtaskd report (120 s), or when the workload ends. Long runs are cut at 12k rpc_tasks (the simulation's entity table).",
  ],
  patches: [LOCK_BEFORE_ALLOC, ALLOC_SLOT_OP, PUT_CONG_ON_SLEEP],
  knobs: UDP_KNOBS,
  presets: [
    {
      id: "documented",
      label: "The documented interleaving (seed 000)",
      description: "Three dd writers, 10% datagram loss, bursts 5.5-7.5 min apart: cwnd falls to one request, a credit holder loses XPRT_LOCKED in xprt_connect while a slot allocator holds it, and the queue on xprt_sending is left with nobody to wake it.",
      seed: 1,
      knobs: {},
    },
    {
      id: "before-43cedbf0",
      label: "Before 43cedbf0",
      description: "The same run on a kernel without 43cedbf0: slot allocation does not touch XPRT_LOCKED.",
      seed: 1,
      knobs: {},
      patches: { "xprt-lock-before-alloc": false },
    },
    {
      id: "plain-3.6",
      label: "No widening (plain timing)",
      description: "All widening delays 0: the 3.6 code with ordinary scheduling. Hangs are rare: the reports came after days of traffic.",
      seed: 1,
      knobs: { connect_race_us: 0, connect_status_race_us: 0 },
    },
  ],
  expected: [
    { patches: {}, verdict: "hang", note: "with 43cedbf0 (default): WRITEs asleep on xprt_sending, lock free, nothing in flight (1000 seeds: 33.8%)" },
    { patches: { "xprt-alloc-slot-op": true }, verdict: "hang", note: "f39c1bfb: the documented interleaving completes, but over a sweep the older credit-stranding hang remains in this model (1000 seeds: 24.5%, the same seeds as without 43cedbf0)" },
    { patches: { "xprt-alloc-slot-op": true, "xprt-put-cong-on-sleep": true }, verdict: "ok", note: "no task sleeps on xprt_sending holding a credit: no hang in 1000 seeds" },
    { patches: { "xprt-lock-before-alloc": false }, verdict: "hang", note: "before 43cedbf0: the same runs as with f39c1bfb (24.5%), the credit-stranding hang only" },
  ],
  views: ["tasks", "state", "evidence", "trace", "metrics"],
  describe: (verdict, raw, ctx) => describeSunrpc("udp", verdict, raw, ctx),
  snapshotBlocks: snapshotSunrpc("udp"),
};
