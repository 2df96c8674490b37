// socklnd-scheduler: LU-11415 "socklnd: improve scheduling algorithm" (seed 002).
// The model is asm/lnet/socklnd.ts + asm/scenarios/socklnd-scheduler/; this folder is the
// catalog entry and the knobs (here), the evidence a kernel engineer reads (evidence.ts)
// and the Stack view's layers (stack.ts).
import type { DescribeContext, ScenarioSpec } from "../types";
import { lnetPcap } from "../../export/lnet";
import type { PcapWriter } from "../../export/pcap";
import { socklndStack } from "./stack";
import { describe } from "./evidence";
import { STRESS_KNOB } from "../sunrpc/knobs";
import { timingAssumption } from "../timing";

const COMMIT = "89df5e712ffd40064f1d4ce2f00f9156f68a2262";

export const socklndScheduler: ScenarioSpec = {
  id: "socklnd-scheduler",
  title: "socklnd: one hot scheduler thread, and the scratch buffers a shared scheduler must not share",
  subsystem: "Lustre LNet ksocklnd",
  year: 2018,
  symptom: "one socknal_sd thread at 100% CPU while its siblings idle; bulk throughput capped at one core",
  seed: "LU-11415 socklnd: improve scheduling algorithm (Amir Shehata, lustre-release 89df5e71, 2.12.51)",
  kernel: "lustre-release lnet/klnds/socklnd at 71c42f66 (old) and 89df5e71 (new)",
  story: [
    "Before LU-11415 every socklnd scheduler thread had its own ksock_sched, and ksocknal_create_conn() pinned each connection to the thread of its CPT with the fewest connections - a count, not a load. With typed connections (CONTROL, BULK_IN, BULK_OUT) and three threads per CPT, every peer's BULK_IN lands on the same thread.",
    "Run the default: a few hot peers write bulk data; watch one socknal_sd thread saturate while its siblings idle (Metrics, per-thread utilisation). The verdict is degraded: the imbalance detector finds a thread >= 90% busy with connections waiting on its lists while its CPT siblings are below 20%.",
    "Turn on socklnd-shared-sched AND socklnd-per-thread-scratch (the real commit did both): any thread of the CPT takes any ready connection, the imbalance goes and throughput rises.",
    "Now turn on socklnd-shared-sched alone: the scheduler is shared but kss_scratch_iov still lives in struct ksock_sched. Two threads fill it at once and kernel_sendmsg/kernel_recvmsg copy through the other call's kvecs - the end-to-end check finds corrupted messages and names the two overlapping calls.",
  ],
  assumptions: [
    timingAssumption("Interrupts: one RX queue per CPU (RSS: conn c to CPU c mod ncpus), one interrupt per 64 KiB arriving (~2 us + 0.2 us per 1448-byte segment, GRO and adaptive moderation) and one TX completion per chunk sent (~2 us); that time counts as the interrupted thread's (no IRQ_TIME_ACCOUNTING), so with both patches the threads of CPT 1 are 20-55% busy where the stock scheduler had them at 34-50%. The verdicts do not move (every expected line, seeds 1-200 and 5001-5200)."),
    "Our node is the passive side; each peer's connd creates its CONTROL, BULK_IN, BULK_OUT connections in order, peers one after another (our types: CONTROL, BULK_OUT, BULK_IN).",
    "Workload at the LNet level: hot peers stream bulk PUTs (write: into our BULK_IN; read: out of our BULK_OUT), each PUT answered by an LNet ACK on CONTROL; cold peers send small PUTs (Poisson). peer_credits=8 per peer.",
    "A copy costs CPU time proportional to its bytes (knob). Each scheduler thread has its own CPU (threads <= CPUs in a CPT).",
    "Contention: kss_lock is a spinlock held 60 ns per critical section plus 100 ns for the cache-line transfer when the previous holder was another thread or a softirq callback; a thread that finds it held spins (CPU time). The socket callbacks and ksocknal_queue_tx_locked take it too. lock_sock serialises the copies of one socket: with the new scheduler rx and tx of one conn can run on two threads, and the second waits (charged to the waiting thread's step; a real thread sleeps in __lock_sock, but each thread has its own CPU here). The figures are estimates, not calibrated.",
    "bulk_dir=both moves fewer bytes with the new scheduler than with the old (9.2 against 10.0 GB/s, seeds 1-20 and 5001-5020) though kss_lock and lock_sock cost it under 1% of thread time: the old one pins each peer's BULK_OUT to a thread of its own, so zero-copy sends (~0.1 us of CPU per KiB) never wait, while shared threads serve one rx then one tx conn per loop and give the CPU to receive copies (1 us per KiB): in 10 ms of seed 1 the PUTs out drop from 1337 to 1082 and those in rise from 277 to 404. With nic_offload off (both directions copy) the new scheduler is the faster (4.3 against 3.7 GB/s).",
    "lnet_parse() always matches an MD and calls ksocknal_recv() synchronously, so RX_PARSE_WAIT is not exercised.",
    "Zero-copy send as in ksocknal_lib_send_kiov: a payload >= zc_min_payload on a NIC with SG and checksum offload goes out one page per sk_prot->sendpage (250 ns of CPU each, no copy, no scratch iov); its header still goes through ksocknal_lib_send_iov and the scratch iov. The tx is done at the peer's ZC-ACK, taken as the moment the peer has the whole message (the NOOP/piggy-backed cookie is not put on the wire, and the pcap carries zero cookies). zc_recv (vmap) is off, as by default, so every receive goes through the scratch iov and kss_rx_scratch_pgs is not used.",
    "Inferred: a kernel_{send,recv}msg copies through whatever the scratch kvecs name when its copy runs (one snapshot at the end of the copy), rather than walking entries lazily during it.",
    "Content is tracked per 4 KiB page plus the two header parts. A damaged header is -EPROTO on whichever side parses it: ksocknal_close_conn_and_siblings closes the peer's three conns; each is terminated when no scheduler thread holds it (queued txs fail back to LNet with -EIO, complete txs still in the socket are lost), and the peer's connd reconnects at once because it has traffic queued, taking the same 20-60 us per conn as the first connect.",
    "Inferred: LNet resends every message a close failed (LNet health's lnet_retry_count, on by default from 2.12.51; LU-11415 landed there). Lost-in-socket txs are not resent (LNet already finalized them).",
  ],
  patches: [
    {
      id: "socklnd-shared-sched", commit: COMMIT, default: false,
      title: "LU-11415 socklnd: improve scheduling algorithm (scheduler part)",
      summary: "Replaces the per-CPT array of per-thread ksock_sched (ksock_sched_info.ksi_scheds[]) with one ksock_sched per CPT whose lists, lock and exclusive waitqueue all threads of the CPT share; ksocknal_choose_scheduler_locked() just returns the CPT's sched. Any idle thread can now pick up a ready connection, so one hot connection no longer pins one thread while its siblings idle. In the real commit the scratch arrays moved out of the sched at the same time (the other patch).",
      diff: [
        "-	sched = &info->ksi_scheds[0];",
        "-	for (i = 1; i < info->ksi_nthreads; i++) {",
        "-		if (sched->kss_nconns > info->ksi_scheds[i].kss_nconns)",
        "-			sched = &info->ksi_scheds[i];",
        "-	}",
        "+	struct ksock_sched *sched = ksocknal_data.ksnd_schedulers[cpt];",
        "-	sched = &info->ksi_scheds[KSOCK_THREAD_SID(id)];",
        "+	sched = ksocknal_data.ksnd_schedulers[KSOCK_THREAD_CPT(id)];",
      ].join("\n"),
    },
    {
      id: "socklnd-per-thread-scratch", commit: COMMIT, default: false,
      title: "LU-11415 socklnd: improve scheduling algorithm (scratch buffers part)",
      summary: "Removes kss_scratch_iov and kss_rx_scratch_pgs from struct ksock_sched; ksocknal_scheduler() allocates them per thread and passes them down to ksocknal_process_receive/transmit and the lib send/recv functions. Required once a sched is shared: the design page says the buffers \"can't be shared over all the threads as data can then override each other\". The lab splits it out to show why.",
      diff: [
        "-	struct page		*kss_rx_scratch_pgs[LNET_MAX_IOV];",
        "-	struct kvec		kss_scratch_iov[LNET_MAX_IOV];",
        "+	LIBCFS_CPT_ALLOC(scratch_iov, lnet_cpt_table(), sched->kss_cpt,",
        "+			 sizeof(*scratch_iov) * LNET_MAX_IOV);",
        "-			rc = ksocknal_process_receive(conn);",
        "+			rc = ksocknal_process_receive(conn, rx_scratch_pgs,",
        "+						      scratch_iov);",
      ].join("\n"),
      inferred: "The lab's split: the real commit never shipped the shared scheduler without per-thread scratch.",
    },
  ],
  knobs: [
    { name: "socklnd.peers", label: "peers", group: "workload", type: "int", default: 12, min: 1, max: 64, description: "client NIDs connected to us (three typed conns each)" },
    { name: "socklnd.hot_peers", label: "hot bulk peers", group: "workload", type: "int", default: 4, min: 0, max: 64, description: "the skew: peers that stream bulk data (the first N); the rest send small PUTs" },
    { name: "socklnd.bulk_dir", label: "bulk direction", group: "workload", type: "enum", default: "write", values: ["write", "read", "both"], description: "hot peers write to us (our BULK_IN receives), read from us (our BULK_OUT sends), or both" },
    { name: "socklnd.msg_size", label: "bulk message size", group: "workload", type: "int", default: 65536, min: 1024, max: 1048576, unit: "bytes", description: "payload of a bulk LNet PUT (LNET_MTU max)" },
    { name: "socklnd.cold_interval_us", label: "cold peer interval", group: "workload", type: "float", default: 200, min: 5, max: 100000, unit: "us", description: "mean time between small PUTs from each cold peer" },
    { name: "socklnd.cpts", label: "CPTs", group: "kernel", type: "int", default: 2, min: 1, max: 4, description: "CPU partitions (cpu_npartitions)" },
    { name: "socklnd.cpus_per_cpt", label: "CPUs per CPT", group: "kernel", type: "int", default: 4, min: 1, max: 16, description: "cfs_cpt_weight: threads per CPT = min(max(3, w/2), w), started min(that, 6)" },
    { name: "socklnd.nscheds", label: "nscheds", group: "kernel", type: "int", default: 0, min: 0, max: 16, description: "ksocklnd nscheds module parameter (0 = estimate from CPUs)" },
    { name: "socklnd.copy_ns_per_kib", label: "CPU cost per KiB", group: "kernel", type: "float", default: 1000, min: 10, max: 100000, unit: "ns/KiB", description: "CPU time a socket copy takes per KiB moved" },
    { name: "socklnd.zc_min_payload", label: "zc_min_payload", group: "kernel", type: "int", default: 16384, min: 0, max: 1048577, unit: "bytes", description: "ksocklnd zc_min_payload: a payload this large or larger is sent zero-copy (sendpage, no scratch iov) when the NIC offloads; above LNET_MTU turns zero-copy off" },
    { name: "socklnd.nic_offload", label: "NIC SG + checksum offload", group: "kernel", type: "bool", default: true, description: "NETIF_F_SG and checksum offload in sk_route_caps (ksocknal_lib_zc_capable); off: every payload is copied through the scratch iov" },
    { name: "socklnd.link_gbps", label: "peer link", group: "kernel", type: "float", default: 25, min: 1, max: 400, unit: "Gb/s", description: "wire rate of each connection" },
    { name: "socklnd.payload_check", label: "end-to-end payload check", group: "workload", type: "bool", default: true, description: "the lab compares each payload at the receiver with what the sender queued (not Lustre's enable_csum, off by default). Off: only header damage (-EPROTO) is seen" },
    STRESS_KNOB,
    { name: "socklnd.duration_ms", label: "duration", group: "workload", type: "float", default: 20, min: 1, max: 1000, unit: "ms", description: "simulated time" },
  ],
  presets: [
    { id: "documented", label: "Shared scheduler, shared scratch (the corruption)", description: "socklnd-shared-sched without per-thread scratch: two threads of one CPT overlap on kss_scratch_iov.", seed: 1, knobs: {}, patches: { "socklnd-shared-sched": true, "socklnd-per-thread-scratch": false } },
    { id: "imbalance", label: "Old scheduler under skew", description: "Default workload, no patch: every hot BULK_IN conn pinned to one thread per CPT.", seed: 1, knobs: {}, patches: {} },
    { id: "fixed", label: "LU-11415 as merged", description: "Both patches: shared scheduler and per-thread scratch.", seed: 1, knobs: {}, patches: { "socklnd-shared-sched": true, "socklnd-per-thread-scratch": true } },
  ],
  expected: [
    { patches: {}, verdict: "degraded", note: "imbalance: one thread per CPT saturated with conns waiting, siblings idle" },
    { patches: { "socklnd-shared-sched": true, "socklnd-per-thread-scratch": true }, verdict: "ok", note: "higher throughput under skew" },
    { patches: { "socklnd-shared-sched": true }, verdict: "corruption", note: "overlapping service calls on kss_scratch_iov" },
    { patches: { "socklnd-per-thread-scratch": true }, verdict: "degraded", note: "old scheduling; scratch per thread is harmless but does not help the imbalance" },
  ],
  views: ["metrics", "evidence", "trace", "wire"],
  describe,
  pcap: (raw: any, ctx: DescribeContext, w?: PcapWriter): Uint8Array => lnetPcap(raw.model ?? raw, ctx, w),
  stack: socklndStack,
};
