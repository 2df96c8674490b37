// blktap2-teardown: what the scenario registers at module start (knobs, patches, PRNG
// streams, names, its event kind) and the thread roles, in the order the trace's name ids follow.
import { name } from "../../kernel/names";
import { NSEC_PER_SEC } from "../../kernel/clock";
import { stream } from "../../kernel/prng";
import { knob, patch } from "../../kernel/config";
import { eventKind } from "../../kernel/events";
import { MAX_ENTS, entCount } from "../../kernel/sched";
import { zeroed, rowsBegin, rowsEnd } from "../../kernel/mem";

export const K_GUESTS = knob("guests");
export const K_DISKS = knob("disks");
export const K_CYCLES = knob("cycles");
export const K_DETACH_TIMEOUT = knob("tapctl_detach_timeout_s");
export const K_RELEASE = knob("blkback_release_ms");
export const K_TOOLSTACK = knob("toolstack");
export const K_UPTIME = knob("guest_uptime_s");
export const K_VCPUS = knob("dom0_vcpus");
export const K_STRESS = knob("stress_per_1k");
export const P_ORDER = patch("libxl-teardown-order");
export const P_RESPOND = patch("tapdisk-respond-before-teardown");

export const S_UPTIME = stream("guest-uptime");
export const S_BLKBACK = stream("blkback-release");

export const N_xenstored = name("xenstored");
export const N_xenwatch = name("xenwatch");
export const N_udevd = name("udevd");
export const N_tapctl = name("tap-ctl");

// Thread roles. Tapdisk2 processes are spawned during the run and keep role 0.
export const ROLE_TAPDISK: i32 = 0;
export const ROLE_XL: i32 = 1;
export const ROLE_GUEST: i32 = 2;
export const ROLE_XENSTORED: i32 = 3;
export const ROLE_XENWATCH: i32 = 4;
export const ROLE_UDEVD: i32 = 5;
export const ROLE_TAPCTL: i32 = 6;
rowsBegin(MAX_ENTS, entCount);
export const role = zeroed<i32>(MAX_ENTS);
rowsEnd();

export const EV_SETTLE: i32 = eventKind("blktap2.settle");
export const SETTLE_NS: i64 = 30 * NSEC_PER_SEC;
