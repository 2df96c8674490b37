// blktap2-teardown (seed 004): Xen 4.1.x/4.2 libxl tearing a blktap2 disk down in the
// wrong order. The models are in asm/xen/; this folder wires them for one run: defs.ts
// registers, workload.ts is the operator, detectors.ts the verdict, evidence.ts the evidence.
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../../kernel/clock";
import { setStopOnHung, setTimeLimit } from "../../kernel/world";
import { setHooks } from "../../kernel/hooks";
import { hungTaskInit } from "../../kernel/hungtask";
import { kv, kvi, patched, scenario } from "../../kernel/config";
import { machineInit, threadNew } from "../../kernel/sched";
// The models in the order they register their names: the trace carries name ids.
import { XS_LOOP, xenstoredStep, xsEvent, xsInit, xsPath, xsWrite } from "../../xen/xenstore";
import { blktapInit } from "../../xen/blktap";
import { tapdiskInit, tapdiskStep } from "../../xen/tapdisk";
import { tapCtlInit } from "../../xen/tapctl";
import { blkbackInit, udevStep, xenwatchStep } from "../../xen/blkback";
import { guestInit, guestStep, guestThread } from "../../xen/blkfront";
import { libxlNew, releaseDomainNode, xlStep, xlThread } from "../../xen/libxl";
import { F_domain0, S_name, domainDir } from "../../xen/device";
import {
  EV_SETTLE, K_CYCLES, K_DETACH_TIMEOUT, K_DISKS, K_GUESTS, K_RELEASE, K_STRESS, K_TOOLSTACK, K_UPTIME,
  K_VCPUS, N_udevd, N_xenstored, N_xenwatch, P_ORDER, P_RESPOND, ROLE_GUEST, ROLE_TAPCTL, ROLE_TAPDISK,
  ROLE_UDEVD, ROLE_XENSTORED, ROLE_XENWATCH, ROLE_XL, S_BLKBACK, S_UPTIME, role,
} from "./defs";
import { allDone, startTapCtlList, tapCtlListStep } from "./workload";
import { finish, sample } from "./detectors";
import { evidence, snapshot } from "./evidence";

// Each thread by its role (defs.ts); the Xen test module (asm/tests/xen.ts) runs its threads with it too.
export function step(t: i32): void {
  const r = unchecked(role[t]);
  if (r == ROLE_TAPDISK) tapdiskStep(t);
  else if (r == ROLE_XL) xlStep(t);
  else if (r == ROLE_GUEST) guestStep(t);
  else if (r == ROLE_XENSTORED) xenstoredStep(t);
  else if (r == ROLE_XENWATCH) xenwatchStep(t);
  else if (r == ROLE_TAPCTL) tapCtlListStep(t);
  else udevStep(t);
}

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_SETTLE) startTapCtlList();
  else xsEvent(kind, obj);
}

function onHung(t: i32): void { startTapCtlList(); }

scenario("blktap2-teardown", (): void => {
  setHooks(step, onEvent, onHung, finish, evidence, snapshot);
  const dom0 = <i32>kvi(K_VCPUS);
  const guests = <i32>kvi(K_GUESTS);
  machineInit({ cpus: dom0 + guests, stressPerMille: kv(K_STRESS) });
  const xenstored = threadNew(N_xenstored, 312, 0, XS_LOOP, 10000);
  unchecked(role[xenstored] = ROLE_XENSTORED);
  const xenwatch = threadNew(N_xenwatch, 21, 1 % dom0, 1, 10000);
  unchecked(role[xenwatch] = ROLE_XENWATCH);
  const udevd = threadNew(N_udevd, 410, 0, 1, 10000);
  unchecked(role[udevd] = ROLE_UDEVD);
  xsInit(xenstored);
  xsWrite(xenstored, xsPath(domainDir(0), S_name), 0, F_domain0);
  blktapInit();
  tapdiskInit(patched(P_RESPOND));
  tapCtlInit(<i64>(kv(K_DETACH_TIMEOUT) * <f64>NSEC_PER_SEC));
  blkbackInit({
    xenwatchThread: xenwatch, udevThread: udevd,
    releaseMeanNs: <i64>(kv(K_RELEASE) * <f64>NSEC_PER_MSEC), releaseStream: S_BLKBACK,
  });
  libxlNew({
    toolstack: <i32>kvi(K_TOOLSTACK), teardownOrder: patched(P_ORDER),
    guests, disksPerGuest: <i32>kvi(K_DISKS), cycles: <i32>kvi(K_CYCLES), dom0Cpus: dom0,
    guestUptimeNs: <i64>(kv(K_UPTIME) * <f64>NSEC_PER_SEC), uptimeStream: S_UPTIME,
    allDone, cycleStart: sample,
  });
  for (let g = 0; g < guests; g++) {
    unchecked(role[xlThread(g)] = ROLE_XL);
    guestInit(g, dom0 + g, releaseDomainNode());
    unchecked(role[guestThread(g)] = ROLE_GUEST);
  }
  hungTaskInit(120 * NSEC_PER_SEC);
  setStopOnHung(false);   // the run ends when the operator's tap-ctl list has finished
  setTimeLimit(<i64>kvi(K_CYCLES) * (<i64>(kv(K_UPTIME) * 4.0) + 600) * NSEC_PER_SEC);
});
