// sunrpc-tcp-close-wait: what the scenario registers at module start (patches, knobs), in
// the order the trace's name ids follow.
import { knob, patch } from "../../kernel/config";
import { Mmap3Knobs } from "../sunrpc/mmap3";

export const P_LOCK_BEFORE_ALLOC = patch("xprt-lock-before-alloc");
export const P_ALLOC_SLOT_OP = patch("xprt-alloc-slot-op");
export const P_RELEASE_EARLY = patch("xprt-release-lock-on-early-exit");
export const P_CLOSE_WAIT = patch("xs-tcp-close-on-close-wait");

export const K_CPUS = knob("cpus");
export const K_MMAP3 = new Mmap3Knobs();
export const K_COPY = knob("copy_us");
export const K_WSIZE = knob("wsize_kb");
export const K_STALL_EVERY = knob("storage_stall_every_s");
export const K_STALL = knob("storage_stall_s");
export const K_AGE = knob("svc_age_period_s");
export const K_DROP = knob("srv_drop_every_s");
export const K_MBPS = knob("link_mbps");
export const K_LAT = knob("latency_us");
export const K_TIMEO = knob("timeo");
export const K_RETRANS = knob("retrans");
export const K_NFSD = knob("nfsd_threads");
export const K_EXIT_RACE = knob("exit_race_us");
export const K_EXPIRE = knob("dirty_expire_s");
export const K_STRESS = knob("stress_per_1k");
