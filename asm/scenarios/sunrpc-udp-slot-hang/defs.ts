// sunrpc-udp-slot-hang: what the scenario registers at module start (patches, knobs, PRNG
// streams), in the order the trace's name ids follow.
import { knob, patch } from "../../kernel/config";
import { stream } from "../../kernel/prng";
import { Mmap3Knobs } from "../sunrpc/mmap3";

export const P_LOCK_BEFORE_ALLOC = patch("xprt-lock-before-alloc");
export const P_ALLOC_SLOT_OP = patch("xprt-alloc-slot-op");
export const P_PUT_CONG = patch("xprt-put-cong-on-sleep");

export const K_CPUS = knob("cpus");
export const K_WRITERS = knob("writers");
export const K_BURST_MB = knob("burst_mb");
export const K_BURSTS = knob("bursts");
export const K_GAP = knob("idle_gap_s");
export const K_JITTER = knob("idle_jitter_s");
export const K_COPY = knob("copy_us");
export const K_WSIZE = knob("wsize_kb");
export const K_LOSS = knob("loss");
export const K_RESTART_EVERY = knob("srv_restart_every_s");
export const K_DOWN = knob("srv_down_s");
export const K_FLAP_EVERY = knob("link_flap_every_s");
export const K_FLAP = knob("link_flap_s");
export const K_MBPS = knob("link_mbps");
export const K_LAT = knob("latency_us");
export const K_TIMEO = knob("timeo");
export const K_RETRANS = knob("retrans");
export const K_SLOTS = knob("udp_slots");
export const K_NFSD = knob("nfsd_threads");
export const K_HOGS = knob("cpu_hogs");
export const K_RACE = knob("connect_race_us");
export const K_RACE2 = knob("connect_status_race_us");
export const K_SJIT = knob("start_jitter_ms");
export const K_REMOUNT = knob("autofs_remount");
export const K_BG = knob("dirty_bg_chunks");
export const K_TRACE = knob("timeout_race_us");
export const K_RRACE = knob("reserve_race_us");
export const K_TXH = knob("nic_tx_hang_per_1k");
export const K_TXS = knob("nic_tx_hang_s");
export const K_HOG_US = knob("hog_slice_us");
export const K_STRESS = knob("stress_per_1k");
export const K_EXIT_RACE = knob("exit_race_us");
export const K_WORKLOAD = knob("workload");
export const K_MMAP3 = new Mmap3Knobs();
// workload (enum index): Andrew Chen's reproducer, LTP mmap3 in a loop, or Dick
// Streefland's backup script (dd bursts)
export const WL_MMAP3: i64 = 0;

export const S_FLAP = stream("sunrpc.flap");
