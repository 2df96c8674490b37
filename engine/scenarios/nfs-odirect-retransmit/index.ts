// nfs-odirect-retransmit (seed 003): a retransmitted NFS WRITE carries data written after
// the write completed. The model is asm/scenarios/nfs-odirect-retransmit/; this folder is
// the catalog entry with the patches and their commits, the knobs and presets (here), the
// evidence a kernel engineer reads (evidence.ts) and the Stack view's layers (stack.ts).
import type { ScenarioSpec } from "../types";
import { describeNfs } from "./evidence";
import { nfsPcap } from "../../export/oncrpc";
import { nfsOdirectStack } from "./stack";
import { STRESS_KNOB } from "../sunrpc/knobs";
import { timingAssumption } from "../timing";

const knob = (name: string, label: string, group: "workload" | "faults" | "kernel", type: "int" | "float" | "enum", def: number | string, description: string, extra: Record<string, unknown> = {}) =>
  ({ name, label, group, type, default: def, description, ...extra });

export const nfsOdirectRetransmit: ScenarioSpec = {
  id: "nfs-odirect-retransmit",
  title: "Retransmitted NFS WRITE carries data written after completion",
  subsystem: "NFS client / SUNRPC / TCP zero-copy / Xen blktap",
  year: 2008,
  symptom: "corruption",
  seed: "Ian Campbell, linux-nfs, 17 Oct 2008: RPC retransmissions of write requests containing invalid data (Xen blktap dom0 crash)",
  kernel: "Linux 2.6.18-2.6.27 NFSv3 client over TCP (xs_tcp_send_request -> sendpage), knfsd DRC 2.6.3x-3.8 / >=3.9, Xen blktap2",
  story: [
    "blktest2 fills a buffer with a counter, writes it O_DIRECT to a file on NFS, and as soon as write() returns fills the buffer with 0xdeadbeef.",
"The RPC client hands the buffer's pages to TCP by reference (sendpage). The link stalls for 65 s every 1000 packets (a netfilter queue holds the packets); after timeo=60 s the call is retransmitted: a second sendpage of the same pages, queued behind the unacknowledged original that TCP cannot get through while the stall lasts.",
    "If the server's reply to the first transmission gets through first, the write completes and the buffer is reused; when TCP finally sends the queued duplicate, the NIC reads 0xdeadbeef. In the Xen variant blktap's fast_flush_area has unmapped the pages and the NIC faults.",
    "Try sunrpc-copy-on-resend (a6b31d18) or nfs-complete-after-skb-release; the 4.20 transmit-queue dequeue does not help once the duplicate is in the socket. Try drc=csum to see the garbage executed on disk.",
  ],
  assumptions: [
    timingAssumption("Interrupts: each host's bnx2-class NIC raises RX (~3 us per packet + 0.5 us for a full 1448-byte segment) and TX-completion (~1.5 us) interrupts on its host's first CPU. The verdicts do not move with it (every expected line, seeds 1-200 and 5001-5200, as on the stock scheduler): the race is the 65 s stall against timeo, seconds, not microseconds."),
    "RPC client: the 3.6 rpc_task state machine of asm/sunrpc (the sunrpc-* scenarios' client) on a fixed table of 16 TCP slots, slot allocation without the write lock (as 2.6.2x); seed 003's tap log names the 2.6 steps 3.x folds into others (call_encode, call_header, call_verify) and shows xprt_timer where 2.6 ran it, from the timer before the task is woken.",
    "Segmentation at the MSS, as on a NIC without TSO: do_tcp_sendpages fills each skb up to size_goal = mss_now (1448 bytes on the 1500-byte-MTU link, with timestamps), so an 8 KiB WRITE is 6 segments (128 header bytes + 1320 data bytes, then 1448 each) and a page can be a fragment of two of them. The NIC reads a segment's pages when it sends that segment, so one duplicate can carry the buffer as issued in its first segments and the rewritten buffer in the rest: 193 of the 200 corrupt seeds 1-200 (195 of 199 in 5001-5200) show such a mixed duplicate, and the evidence gives the byte ranges. Each segment and each pure ACK is a packet for the stall period, so a stall comes after about 150 8 KiB WRITEs (about 500 when a record was one packet): seed 1 issues 134 writes in 120 s where it issued 495.",
"stall_mode=hold (default): as seed 003's libnetfilter_queue program, the stall holds every packet in both directions and releases them in order when it ends, so the reply to a call sent just before the stall arrives about stall_s later and timeo against stall_s decides whether a retransmission is queued (corruption in 200 of seeds 1-200 and 199 of 5001-5200 at stall_s=65, timeo=600; 0 of 40 at stall_s=55 or timeo=700). stall_mode=drop loses them instead; TCP then gets through at the first RTO after the stall (backoff from 200 ms: 25.4 s, then 51 s), and the ACKs of what arrived before the stall echo old timestamps, so the loss is undone and the RTO the remaining holes wait for is inflated by a stall-long RTT sample: TCP's recovery rather than timeo decides (stall_s=20: 0 of 40 corrupt; 30: 37 of 40).",
    "TCP runs as 2.6.18 did: TCP_TIMEOUT_INIT is 3 s (the RTO until a socket's first RTT sample; 1 s only from 3.1, commit 9ad7c049), TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s; timestamps on, so one RTT sample per ACK from the echoed timestamp, and an ACK of new data echoing a timestamp older than the first retransmission undoes an RTO's loss marking (tcp_try_undo_loss): a held stall does not end in a go-back-N resend of segments the server already has. No SACK: NewReno retransmits the next hole on each partial ACK; out-of-order segments are dropped, not queued.",
    "Page contents are a 32-bit pattern per page (counter or fill); the NIC reads a segment's part of each page at that segment's start_xmit (DMA), which is also where an unmapped grant page faults. knfsd writes what it received: a block whose page arrived in segments read at different times is stored as runs, and the disk evidence gives the byte range that differs.",
    "knfsd: 8 threads; a v3 WRITE reply is cached (≤ 256 bytes); RC_DELAY 200 ms (unverified value); other clients' requests recycle LRU entries at server_load ops/s.",
  ],
  patches: [
    {
      id: "sunrpc-copy-on-resend",
      commit: "a6b31d18b02ff9d7915c5898c9b5ca41a798cd73",
      title: "SUNRPC: Fix a data corruption issue when retransmitting RPC calls",
      summary: "The reply to a first transmission proves (TCP ordering) that it has left the socket, so zero-copy is safe for it. A retransmission (RPC_TASK_SENT set) is sent with sendmsg, which copies the pages into the socket: a later transmission is a faithful copy even if the call completes and the buffer is reused.",
      diff: "+\t/* Don't use zero copy if this is a resend. If the RPC call\n+\t * completes while the socket holds a reference to the pages,\n+\t * then we may end up resending corrupted data.\n+\t */\n+\tif (task->tk_flags & RPC_TASK_SENT)\n+\t\tzerocopy = false;\n-\tstatus = xs_sendpages(transport->sock, NULL, 0, xdr, req->rq_bytes_sent);\n+\tstatus = xs_sendpages(transport->sock, NULL, 0, xdr, req->rq_bytes_sent, zerocopy);",
      default: false,
    },
    {
      id: "xprt-dequeue-xmit-on-complete",
      commit: "4.20 transmit queue rework (Trond Myklebust, 2018; e.g. xprt_request_dequeue_transmit_locked)",
      title: "SUNRPC: dequeue a request from the transmit queue when it completes",
      summary: "A retransmission that is still waiting for the transport (not yet handed to the socket) is cancelled when the reply arrives. It does not reach into the socket: a duplicate already queued there by sendpage is still transmitted from the pages.",
      diff: "+static void xprt_request_dequeue_transmit_locked(struct rpc_task *task)\n+{\n+\tstruct rpc_rqst *req = task->tk_rqstp;\n+\tif (!test_and_clear_bit(RPC_TASK_NEED_XMIT, &task->tk_runstate))\n+\t\treturn;\n+\tlist_del(&req->rq_xmit); ...",
      default: false,
      inferred: "Modelled as: a task waiting on xprt->sending when its reply arrives leaves the queue and completes. With the default send buffer a retransmission is handed to the socket at once, so there is nothing to cancel (identical traces with and without). With a small tcp_wmem (preset small-sndbuf) retransmissions do wait on xprt->sending and the patch cancels them, but the verdict does not change: 2.6's xprt_prepare_transmit already refuses to send a request whose reply has arrived and of which no byte is in the socket, so the unpatched kernel drops the same retransmission a little later. Segmentation adds no window: it happens below the socket, and a record partly in the socket (rq_bytes_sent > 0) is finished after the reply by both kernels (2.6.18 xprt_prepare_transmit and 4.20 xprt_request_transmit cancel only when rq_bytes_sent == 0; abandoning it would break the record marking, which xs_tcp_release_xprt answers by closing the connection). The lab hands a record to the socket whole or not at all.",
    },
    {
      id: "nfs-complete-after-skb-release",
      commit: "unmerged",
      title: "sunrpc: use SKB fragment destructors to delay completion until page is released by network stack",
      summary: "Ian Campbell's proposal (2011-12, not merged): skb paged fragments get a destructor; the NFS direct write completes only after the network stack has released every fragment that referenced the request's pages, so the buffer cannot be reused (or unmapped) while a queued duplicate still points at it.",
      diff: "+\tskb_frag_set_destructor(skb, i, &req->destructor);\n ...\n-\tnfs_direct_write_complete(dreq, inode);\n+\t/* complete from the fragment destructor once the last page reference is dropped */",
      default: false,
      inferred: "The series was not merged and could not be retrieved; the lab models its stated effect (completion deferred until all fragment references are released).",
    },
  ],
  knobs: [
    knob("app", "Application", "workload", "enum", "overwrite", "overwrite: blktest2 fills the buffer with 0xdeadbeef after write() returns; xen-unmap: tapdisk2 writes a guest's grant-mapped pages and blktap's fast_flush_area unmaps them on completion", { values: ["overwrite", "xen-unmap"] }),
    knob("drc", "Server DRC", "kernel", "enum", "lru1024", "lru1024: knfsd ≤ 3.8 (1024-entry LRU, xid match); csum: ≥ 3.9 (checksum of the first 256 bytes of the arguments)", { values: ["lru1024", "csum"] }),
    knob("stall_period", "Stall every N packets", "faults", "int", 1000, "all traffic with the server stalls after this many packets (0: never)", { min: 0, max: 1000000, unit: "packets" }),
    knob("stall_mode", "Stall mode", "faults", "enum", "hold", "hold: the netfilter queue holds every packet and releases them in order when the stall ends (seed 003's program); drop: every packet in the stall is lost and TCP recovers by RTO backoff", { values: ["hold", "drop"] }),
    knob("stall_s", "Stall length", "faults", "float", 65, "how long each stall lasts", { min: 0, max: 600, unit: "s" }),
    knob("tcp_wmem", "Client sk_sndbuf", "kernel", "int", 4194304, "the client socket's send buffer (net.ipv4.tcp_wmem max, as xs_tcp sets no SO_SNDBUF): when full, xs_tcp_send_request gets -EAGAIN and the task waits for write space holding XPRT_LOCKED, so other calls (and retransmissions) wait on xprt->sending", { min: 16384, max: 67108864, unit: "bytes" }),
    knob("delay_us", "One-way delay", "faults", "float", 100, "link delay each way", { min: 1, max: 1000000, unit: "µs" }),
    knob("loss", "Random loss", "faults", "float", 0, "probability that a packet is lost", { min: 0, max: 0.5 }),
    knob("timeo", "timeo", "kernel", "int", 600, "NFS mount option timeo (deciseconds): the RPC retransmit timeout, linear backoff, retrans=2", { min: 10, max: 6000, unit: "ds" }),
    STRESS_KNOB,
    knob("write_kb", "Write size", "workload", "int", 8, "bytes per write() (one WRITE call)", { min: 4, max: 64, unit: "KiB" }),
    knob("concurrency", "Writers", "workload", "int", 4, "concurrent writers (blktest2 processes / blktap ring slots)", { min: 1, max: 16 }),
    knob("server_load", "Other clients' load", "workload", "float", 0, "requests per second from other clients (they recycle DRC entries)", { min: 0, max: 100000, unit: "ops/s" }),
    knob("duration_s", "Workload length", "workload", "float", 120, "writers stop issuing new writes after this time", { min: 1, max: 3600, unit: "s" }),
    knob("think_us", "Think time", "workload", "float", 200, "mean pause between a write's completion and the next write", { min: 1, max: 10000000, unit: "µs" }),
  ] as ScenarioSpec["knobs"],
  presets: [
    {
      id: "small-sndbuf",
      label: "A small client send buffer (retransmissions wait in the RPC layer)",
      description: "tcp_wmem=16 KiB: the socket fills, the task holding XPRT_LOCKED waits for write space, and retransmissions wait on xprt->sending. xprt-dequeue-xmit-on-complete cancels those whose reply arrives; without it xprt_prepare_transmit drops them when they get the lock, so the share does not move (corruption in 109 of seeds 1-200 without it, 108 with; 110 and 104 of 5001-5200). What corrupts is a retransmission that got write space before its reply: the server's ACKs free the space about an io_schedule before its reply, so the duplicate is in the socket first, out of the patch's reach.",
      seed: 1,
      knobs: { stall_period: 1000, stall_s: 65, timeo: 600, write_kb: 8, concurrency: 4, tcp_wmem: 16384 },
    },
    {
      id: "documented",
      label: "The documented interleaving (seed 003)",
      description: "Ian Campbell's setup: 8 KiB O_DIRECT writes, stall 65 s every 1000 packets, timeo=600; a seed in which the server's retransmitted reply beats the client's queued duplicate.",
      seed: 1,
      knobs: { stall_period: 1000, stall_s: 65, timeo: 600, write_kb: 8, concurrency: 4 },
    },
  ],
  expected: [
    { patches: {}, verdict: "corruption", note: "app=overwrite: the duplicate carries 0xdeadbeef (or the next counter), mostly in its later segments only (200 of seeds 1-200, 199 of 5001-5200)" },
    { patches: {}, knobs: { app: "xen-unmap" }, verdict: "crash", note: "app=xen-unmap: the NIC faults on the unmapped grant page (200 of seeds 1-200 and of 5001-5200)" },
    { patches: { "sunrpc-copy-on-resend": true }, verdict: "ok", note: "the retransmission is a copy (ok in all of seeds 1-200 and 5001-5200, and with app=xen-unmap)" },
    { patches: { "nfs-complete-after-skb-release": true }, verdict: "ok", note: "completion waits for the skb to let go of the pages (ok in all of seeds 1-200 and 5001-5200, and with app=xen-unmap)" },
    { patches: { "xprt-dequeue-xmit-on-complete": true }, verdict: "corruption", note: "the duplicate is already in the socket (200 of seeds 1-200, 199 of 5001-5200)" },
  ],
  views: ["trace", "evidence", "wire", "metrics"],
  describe: describeNfs,
  pcap: (raw: any, _ctx, w) => nfsPcap(raw.model?.capture ?? { packets: [] }, w),
  limitKnobs: { "too many": "duration_s" },
  stack: nfsOdirectStack,
};
