// The Xen test module: two libxl ctxs (two toolstacks, each with its own guest, release and
// cycle count) on one dom0, sharing its xenstored, blkback, blktap2 and tapdisk2s, in one
// world. Built to build/xen-test.wasm and used only by engine/test/xen-instances.test.ts;
// it is not part of the lab's catalog.
export * from "../abi";
import { now, NSEC_PER_SEC, NSEC_PER_MSEC } from "../kernel/clock";
import { name } from "../kernel/names";
import { knob, kvi, scenario } from "../kernel/config";
import { setHooks } from "../kernel/hooks";
import { stream } from "../kernel/prng";
import { machineInit, threadNew } from "../kernel/sched";
import { setStopOnHung, setTimeLimit, worldStop } from "../kernel/world";
import { jObj, jEndObj, jArr, jEndArr, jKey, jKI } from "../kernel/json";
import { zeroed } from "../kernel/mem";
// blktap2-teardown's thread roles and its step by role (the scenario registers beside the probe)
import { ROLE_GUEST, ROLE_UDEVD, ROLE_XENSTORED, ROLE_XENWATCH, ROLE_XL, role } from "../scenarios/blktap2-teardown/defs";
import { step } from "../scenarios/blktap2-teardown/build";
import { XS_LOOP, xsEvent, xsInit } from "../xen/xenstore";
import { blktapInit } from "../xen/blktap";
import { tapdiskInit } from "../xen/tapdisk";
import { tapCtlInit } from "../xen/tapctl";
import { blkbackInit } from "../xen/blkback";
import { guestInit, guestThread } from "../xen/blkfront";
import {
  libxlNew, libxlFirstGuest, libxlGuests, libxlDone, libxlToolstack, libxlOfGuest, releaseDomainNode,
  xlThread, teardownCount, teardownGuest, teardownCycle, teardownDomid,
} from "../xen/libxl";

const K_CYCLES0 = knob("probe.cycles0");
const K_CYCLES1 = knob("probe.cycles1");
const K_TOOLSTACK0 = knob("probe.toolstack0");   // TS_* of libxl.ts
const K_TOOLSTACK1 = knob("probe.toolstack1");
const S_UPTIME = stream("probe.uptime");
const S_RELEASE = stream("probe.blkback");
const N_xenstored = name("xenstored");
const N_xenwatch = name("xenwatch");
const N_udevd = name("udevd");
const CTXS: i32 = 2;
const DOM0_CPUS: i32 = 2;

const ctx = zeroed<i32>(CTXS);
const starts = zeroed<i32>(CTXS);      // cycleStart callbacks, per ctx
const allDone = zeroed<i32>(CTXS);     // allDone callbacks, per ctx
const allDoneNs = zeroed<i64>(CTXS);
function onStart(c: i32): void { unchecked(starts[c] += 1); }
function onDone(c: i32): void {
  unchecked(allDone[c] += 1);
  unchecked(allDoneNs[c] = now);
  if (unchecked(allDone[0]) > 0 && unchecked(allDone[1]) > 0) worldStop();
}

function onEvent(kind: i32, obj: i32, arg: i32): void { xsEvent(kind, obj); }
function noHung(t: i32): void {}
function noop(): void {}

function ctxsJson(): void {
  jObj();
  jKey("ctxs");
  jArr();
  for (let c = 0; c < CTXS; c++) {
    const cx = unchecked(ctx[c]);
    jObj();
    jKI("ctx", cx);
    jKI("toolstack", libxlToolstack(cx));
    jKI("firstGuest", libxlFirstGuest(cx));
    jKI("guests", libxlGuests(cx));
    jKI("done", libxlDone(cx));
    jKI("starts", unchecked(starts[c]));
    jKI("allDone", unchecked(allDone[c]));
    jKI("allDoneMs", <i32>(unchecked(allDoneNs[c]) / NSEC_PER_MSEC));
    jKey("teardowns");
    jArr();
    for (let i = 0; i < teardownCount(); i++) {
      if (libxlOfGuest(teardownGuest(i)) != cx) continue;
      jObj(); jKI("guest", teardownGuest(i)); jKI("cycle", teardownCycle(i)); jKI("domid", teardownDomid(i)); jEndObj();
    }
    jEndArr();
    jEndObj();
  }
  jEndArr();
  jEndObj();
}

scenario("two-toolstacks-probe", (): void => {
  setHooks(step, onEvent, noHung, noop, ctxsJson, ctxsJson);
  machineInit({ cpus: DOM0_CPUS + CTXS, stressPerMille: 0 });
  const xenstored = threadNew(N_xenstored, 312, 0, XS_LOOP, 10000);
  unchecked(role[xenstored] = ROLE_XENSTORED);
  const xenwatch = threadNew(N_xenwatch, 21, 1, 1, 10000);
  unchecked(role[xenwatch] = ROLE_XENWATCH);
  const udevd = threadNew(N_udevd, 410, 0, 1, 10000);
  unchecked(role[udevd] = ROLE_UDEVD);
  xsInit(xenstored);
  blktapInit();
  tapdiskInit(false);
  tapCtlInit(5 * NSEC_PER_SEC);
  blkbackInit({ xenwatchThread: xenwatch, udevThread: udevd, releaseMeanNs: 10 * NSEC_PER_MSEC, releaseStream: S_RELEASE });
  const cycles = [<i32>kvi(K_CYCLES0), <i32>kvi(K_CYCLES1)];
  const toolstacks = [<i32>kvi(K_TOOLSTACK0), <i32>kvi(K_TOOLSTACK1)];
  unchecked(ctx[0] = libxlNew({
    toolstack: toolstacks[0], teardownOrder: false, guests: 1, disksPerGuest: 1, cycles: cycles[0],
    dom0Cpus: DOM0_CPUS, guestUptimeNs: 5 * NSEC_PER_SEC, uptimeStream: S_UPTIME,
    allDone: (): void => { onDone(0); }, cycleStart: (): void => { onStart(0); },
  }));
  unchecked(ctx[1] = libxlNew({
    toolstack: toolstacks[1], teardownOrder: false, guests: 1, disksPerGuest: 1, cycles: cycles[1],
    dom0Cpus: DOM0_CPUS, guestUptimeNs: 5 * NSEC_PER_SEC, uptimeStream: S_UPTIME,
    allDone: (): void => { onDone(1); }, cycleStart: (): void => { onStart(1); },
  }));
  for (let g = 0; g < CTXS; g++) {
    unchecked(role[xlThread(g)] = ROLE_XL);
    guestInit(g, DOM0_CPUS + g, releaseDomainNode());
    unchecked(role[guestThread(g)] = ROLE_GUEST);
  }
  setStopOnHung(false);
  setTimeLimit(<i64>(cycles[0] + cycles[1]) * 620 * NSEC_PER_SEC);
});
