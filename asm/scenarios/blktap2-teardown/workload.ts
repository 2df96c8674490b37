// blktap2-teardown: the operator. The guests' create/destroy cycles are libxl's
// (asm/xen/libxl.ts); once they are over (or a task hangs) the operator runs `tap-ctl list`.
import { now } from "../../kernel/clock";
import { worldStop } from "../../kernel/world";
import { scheduleIn } from "../../kernel/events";
import { threadAction, threadNew } from "../../kernel/sched";
import { TAPCTL_LIST_SLOT, TC_FIRST, setCallerPid, tapCtlFind, tapCtlStep, tcErrOf } from "../../xen/tapctl";
import { EV_SETTLE, N_tapctl, ROLE_TAPCTL, SETTLE_NS, role } from "./defs";

// ---- the operator's `tap-ctl list` once the workload is over (or a task hangs): a real
// PID + LIST exchange with every tapdisk2 (2 s per read), so a frozen tapdisk2 costs its
// timeout and drops out of the list; then the minors in /sys/class/blktap2 no LIST claimed.
const TAPCTL_PID: i32 = 6000;
const TL_START: i32 = 1;
const TL_DONE: i32 = 2;
export let listThread: i32 = -1;
export let listStartNs: i64 = -1;
export let listEndNs: i64 = -1;
export let listErr: i32 = 0;

export function startTapCtlList(): void {
  if (listThread >= 0) return;
  listThread = threadNew(N_tapctl, TAPCTL_PID, 0, TL_START, 1000000);   // fork + exec
  unchecked(role[listThread] = ROLE_TAPCTL);
  setCallerPid(listThread, TAPCTL_PID);
  listStartNs = now;
}

export function tapCtlListStep(t: i32): void {
  const a = threadAction(t);
  if (a >= TC_FIRST) { tapCtlStep(t, a); return; }
  if (a == TL_START) { tapCtlFind(t, TAPCTL_LIST_SLOT, -1, TL_DONE); return; }
  listErr = tcErrOf(t) == -71 ? -71 : 0;   // tap_ctl_list: -EPROTO if a LIST failed
  listEndNs = now;
  worldStop();
}

export function allDone(): void { scheduleIn(SETTLE_NS, EV_SETTLE, 0); }
