// nfs-odirect-retransmit: what the scenario registers at module start (knobs, patches, PRNG
// streams, names, event kinds), in one place and in the order the trace's name ids follow.
import { fn, name, CAT_ANOMALY, CAT_LOG } from "../../kernel/names";
import { knob, patch } from "../../kernel/config";
import { stream } from "../../kernel/prng";
import { eventKind } from "../../kernel/events";
import {
  N_blkif_queue_request, N_dispatch_rw_block_io, N_tapdisk_io_submit, N_tapdisk_io_getevents, N_blktap_ioctl_kick,
} from "../../xen/blkback_io";

// ---- knobs and patches (defaults and ranges: engine/scenarios/nfs-odirect-retransmit/)
export const K_APP = knob("app");                     // 0 overwrite (blktest2), 1 xen-unmap
export const K_DRC = knob("drc");                     // 0 lru1024, 1 csum
export const K_STALL_PERIOD = knob("stall_period");   // packets
export const K_STALL_S = knob("stall_s");
export const K_STALL_MODE = knob("stall_mode");       // 0 hold (nfqueue, seed 003), 1 drop
export const K_TCP_WMEM = knob("tcp_wmem");           // the client socket's sk_sndbuf, bytes
export const K_DELAY_US = knob("delay_us");
export const K_LOSS = knob("loss");
export const K_TIMEO = knob("timeo");                 // deciseconds, as the mount option
export const K_WRITE_KB = knob("write_kb");
export const K_CONCURRENCY = knob("concurrency");
export const K_SERVER_LOAD = knob("server_load");     // other clients' requests per second
export const K_DURATION_S = knob("duration_s");
export const K_THINK_US = knob("think_us");
export const K_STRESS = knob("stress_per_1k");
export const P_COPY_ON_RESEND = patch("sunrpc-copy-on-resend");
export const P_DEQUEUE = patch("xprt-dequeue-xmit-on-complete");
export const P_COMPLETE_AFTER_RELEASE = patch("nfs-complete-after-skb-release");

export const S_WORKLOAD = stream("workload");
export const S_SERVER = stream("server");

export const N_host = name("host");
export const N_client = name("nfs-client");
export const N_server = name("nfs-server");
export const N_blktest2 = name("blktest2");
export const N_tapdisk2 = name("tapdisk2");
export const N_nfs_direct_wait = name("nfs_direct_wait");
export const N_think = name("hrtimer_nanosleep");

// app steps
export const A_FILL = fn("blktest2: fill buffer with counter", "buf=%x first=%x");
export const A_WRITE = fn("write(O_DIRECT)", "fd=3 count=%d off=%d");
export const A_RETURNED = fn("blktest2: write returned, fill buffer with 0xdeadbeef", "buf=%x");
export const A_THINK = fn("blktest2: next iteration", "");
export const X_GUEST = N_blkif_queue_request;
export const X_BLKBACK = N_dispatch_rw_block_io;
export const X_SUBMIT = N_tapdisk_io_submit;
export const X_GETEVENTS = N_tapdisk_io_getevents;
export const X_KICK = N_blktap_ioctl_kick;
export const A_EXIT = fn("exit_group", "");
export const N_corrupt_wire = fn("wire: WRITE payload differs from the buffer at issue", "xid=%x write=%d seq=%x", CAT_ANOMALY);
export const N_corrupt_disk = fn("disk: block differs from the buffer at issue", "block=%d write=%d xid=%x", CAT_ANOMALY);
export const N_dup_seen = fn("knfsd: duplicate WRITE", "xid=%x result=%n garbage=%d", CAT_LOG);
export const EV_DRAIN = eventKind("odirect.drain");

export const DEADBEEF: u32 = 0xdeadbeef;
export const MAX_WRITES: i32 = 1 << 14;
export const MAX_APPS: i32 = 16;