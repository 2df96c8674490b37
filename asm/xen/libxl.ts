// xl/libxl: one xl process per guest (the daemonised `xl create` that waits for the
// domain's death and then destroys it), starting and stopping its guest `cycles` times.
// The teardown follows the toolstack version chosen (research/blktap.md §3.6):
//   4.1.2      libxl__device_destroy: xs_rm(be) only; no tapdisk teardown at all.
//   4.1.4      23883 backport: destroy_tapdisk(be) [tap_ctl_find, tap_ctl_destroy],
//              THEN xs_rm(be) — blkback still holds tapdevN while tapdisk detaches.
//   4.2.0-rc1  initiate_device_remove {rm fe} then destroy_tapdisk(be) at once; later
//              libxl__device_destroy {rm fe, rm be} then destroy_tapdisk(be): a no-op.
//   4.2.0      libxl__device_destroy {read tapdisk-params, rm fe, rm be}, then
//              destroy_tapdisk(params).
// Patch libxl-teardown-order: 4.1.4 gets Greg Wettstein's 303b534f (xs_rm(be) between
// tap_ctl_find and tap_ctl_destroy, and no xs_rm in libxl__device_destroy); 4.2.0-rc1
// gets Ian Campbell's 4f6dda6a (the 4.2.0 order). 4.1.2 has no tap teardown to reorder.
import { now, NSEC_PER_MSEC } from "../kernel/clock";
import { fn, name, CAT_STATE, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import {
  threadNew, threadNext, threadSleep, threadSleepTimeout, threadAction, threadExit,
  TASK_INTERRUPTIBLE, MAX_ENTS, entCount,
} from "../kernel/sched";
import { randDuration } from "../kernel/prng";
import {
  xsPath, xsRoot, xsWrite, xsRm, xsExists, xsRead, xsWatch, xsNextEvent,
  xsTransactionStart, xsTransactionEnd, xsValueFormat, xsPathCleanup,
} from "./xenstore";
import {
  MAX_GUESTS, MAX_DISKS, vbdNew, vbdRmBackend, imageKey, devid, domainDir, xsNum, vbdBeDir,
  vbdBeState, vbdBeOnline, vbdBeParams, vbdBeTapParams, vbdBePhys, vbdFeDir, vbdFeState,
  S_frontend_id, S_backend_id, S_virtual_device, S_name, F_tapdev, F_image, F_major_minor, BLKTAP_MAJOR,
  XenbusStateInitialising, XenbusStateClosing, XenbusStateClosed,
} from "./device";
import { tapCtlFind, tapCtlCreate, tapCtlDestroy, tapCtlStep, setCallerPid, TC_FIRST, tcErrOf, tcMinorOf, tcTdOf } from "./tapctl";
import { guestStart, guestDead } from "./blkfront";
import { udevDisableNode } from "./blkback";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const TS_4_1_2: i32 = 0;
export const TS_4_1_4: i32 = 1;
export const TS_4_2_0_RC1: i32 = 2;
export const TS_4_2_0: i32 = 3;

// actions (tap-ctl subroutines use >= TC_FIRST)
const XL_CYCLE: i32 = 1;
const XL_DISK_ADD: i32 = 2;
const XL_DEVPATH: i32 = 3;
const XL_CREATED: i32 = 4;
const XL_ADD_TX: i32 = 5;
const XL_ADD_COMMIT: i32 = 6;
const XL_UNPAUSE: i32 = 7;
const XL_UPTIME: i32 = 8;
const XL_SHUTDOWN: i32 = 9;
const XL_WAIT_DEATH: i32 = 10;
const XL_DESTROY: i32 = 11;
const XL41_DEV: i32 = 20;
const XL41_FOUND: i32 = 21;
const XL41_DESTROYED: i32 = 22;
const XL42_INIT_TX: i32 = 30;
const XL42_INIT_COMMIT: i32 = 31;
const XL42_INIT_FOUND: i32 = 32;
const XL42_INIT_DONE: i32 = 33;
const XL42_DEV_TX: i32 = 34;
const XL42_DEV_COMMIT: i32 = 35;
const XL42_FOUND: i32 = 36;
const XL42_DONE: i32 = 37;
const XL_RM_DOM: i32 = 40;
const XL_DOMAIN_DESTROYED: i32 = 41;

const XS_NS: i64 = 60000;
const STEP_NS: i64 = 20000;
const DOMAIN_BUILD_NS: i64 = 30000000;
const DOMAIN_DESTROY_NS: i64 = 5000000;

const N_xl = name("xl");
const N_sleep = name("hrtimer_nanosleep");
const N_event_wait = name("libxl_event_wait");
const S_control = name("control");
const S_shutdown = name("shutdown");
const S_vm = name("vm");
const S_release = name("@releaseDomain");
const V_poweroff = xsValueFormat("poweroff");
const N_create = fn("libxl_domain_create_new", "domid=%d cycle=%d");
const N_disk_add = fn("libxl_device_disk_add", "disk=%d");
const N_devpath = fn("libxl__blktap_devpath", "disk=%d minor=%d reused=%d");
const N_generic_add = fn("libxl__device_generic_add", "domid=%d devid=%d tapdev%d");
const N_add_failed = fn("libxl_device_disk_add: tap_ctl_create failed", "disk=%d err=%e", CAT_LOG);
const N_unpause = fn("libxl_domain_unpause", "domid=%d");
const N_shutdown = fn("libxl_domain_shutdown", "domid=%d poweroff");
const N_death = fn("handle_domain_death", "domid=%d");
const N_destroy = fn("libxl_domain_destroy", "domid=%d");
const N_pause = fn("xc_domain_pause", "domid=%d");
const N_dev_destroy = fn("libxl__device_destroy", "devid=%d state=%d");
const N_destroy_tap = fn("libxl__device_destroy_tapdisk", "devid=%d params=%d");
const N_tap_noop = fn("libxl__device_destroy_tapdisk: no tapdisk-params", "devid=%d", CAT_STATE);
const N_initiate = fn("libxl__initiate_device_remove", "devid=%d state=%d");
const N_find_fail = fn("libxl: Unable to find type vhd disk", "devid=%d err=%e", CAT_LOG);
const N_destroy_fail = fn("libxl: Failed to destroy tap device", "id=%d minor=%d err=%e", CAT_LOG);
const N_rm_dom = fn("libxl_domain_destroy: xs_rm vm_path, dom_path", "domid=%d");
const N_domain_destroy = fn("xc_domain_destroy", "domid=%d teardown=%t");

// per xl slot (guest)
const xThread = zeroed<i32>(MAX_GUESTS);
const xPid = zeroed<i32>(MAX_GUESTS);
const xCycle = zeroed<i32>(MAX_GUESTS);
const xDomid = zeroed<i32>(MAX_GUESTS);
const xCur = zeroed<i32>(MAX_GUESTS);
const xTx = zeroed<i32>(MAX_GUESTS);
const xMinor = zeroed<i32>(MAX_GUESTS);
const xParams = zeroed<bool>(MAX_GUESTS);
const xDeadline = zeroed<i64>(MAX_GUESTS);
const xDestroyStart = zeroed<i64>(MAX_GUESTS);
const xVbds = new StaticArray<StaticArray<i32>>(MAX_GUESTS);
rowsBegin(MAX_ENTS, entCount);
const slotOfThread = zeroed<i32>(MAX_ENTS);
rowsEnd();

// teardown latencies (xc_domain_destroy - libxl_domain_destroy)
const MAX_TEARDOWNS: i32 = 2048;
// Host-wide, as on a dom0: the teardowns any toolstack finished (each names its guest).
let nTeardowns: i32 = 0;
rowsBegin(MAX_TEARDOWNS, (): i32 => nTeardowns);
const tdGuest = zeroed<i32>(MAX_TEARDOWNS);
const tdCycle = zeroed<i32>(MAX_TEARDOWNS);
const tdDomid = zeroed<i32>(MAX_TEARDOWNS);
const tdStart = zeroed<i64>(MAX_TEARDOWNS);
const tdNs = zeroed<i64>(MAX_TEARDOWNS);
rowsEnd();

// A libxl ctx (libxl_ctx_alloc): the toolstack release, its teardown order and the guests
// its xl processes run; a world may hold several, each with its own settings and guests.
export const MAX_CTX: i32 = 4;
const cxToolstack = zeroed<i32>(MAX_CTX);
const cxReorder = zeroed<bool>(MAX_CTX);
const cxCycles = zeroed<i32>(MAX_CTX);
const cxDisks = zeroed<i32>(MAX_CTX);
const cxCpus = zeroed<i32>(MAX_CTX);
const cxUptimeNs = zeroed<i64>(MAX_CTX);
const cxUptimeStream = zeroed<i32>(MAX_CTX);
const cxFirstGuest = zeroed<i32>(MAX_CTX);
const cxGuests = zeroed<i32>(MAX_CTX);
const cxDone = zeroed<i32>(MAX_CTX);       // guests that finished their cycles
const cxAllDone = new StaticArray<() => void>(MAX_CTX);
const cxCycleStart = new StaticArray<() => void>(MAX_CTX);   // the orphan series samples there
const ctxOfGuest = zeroed<i32>(MAX_GUESTS);
let nCtx: i32 = 0;
let nGuestSlots: i32 = 0;   // guest slots (and their xl) are rows across every ctx
// The hypervisor hands out domids, and xenstored has one @releaseDomain: host-wide.
let nextDomid: i32 = 1;
let releaseDomain: i32 = -1;

// What a ctx's toolstack runs (libxlNew checks it). Quantities carry their unit.
export class LibxlOptions {
  toolstack: i32 = TS_4_1_4;     // TS_*: the Xen release whose libxl runs
  teardownOrder: bool = false;   // libxl-teardown-order
  guests: i32 = 1;               // one xl (and one domU slot) per guest
  disksPerGuest: i32 = 1;
  cycles: i32 = 1;               // create/destroy cycles per guest
  dom0Cpus: i32 = 1;             // the ctx's xl g runs on dom0 CPU g % dom0Cpus
  guestUptimeNs: i64 = 0;        // mean time a guest runs before xl destroys it
  uptimeStream: i32 = -1;        // the PRNG stream the uptimes are drawn from
  allDone: () => void = noCallback;      // every guest of the ctx finished its cycles
  cycleStart: () => void = noCallback;   // a guest starts (the orphan series samples there)
}
function noCallback(): void {}

// A ctx and its guests' xl processes; returns the ctx. Its guests take the next free
// guest slots (libxlFirstGuest).
export function libxlNew(o: LibxlOptions): i32 {
  assert(nCtx < MAX_CTX, "libxl: more than MAX_CTX ctxs");
  assert(o.guests >= 1 && nGuestSlots + o.guests <= MAX_GUESTS, "libxl: guests out of range 1..MAX_GUESTS (over every ctx)");
  assert(o.disksPerGuest >= 1 && o.disksPerGuest <= MAX_DISKS, "libxl: disksPerGuest out of range 1..MAX_DISKS");
  assert(o.cycles >= 1 && o.dom0Cpus >= 1 && o.guestUptimeNs > 0 && o.uptimeStream >= 0,
    "libxl: cycles, dom0Cpus and guestUptimeNs must be positive, and the uptime stream given");
  const cx = nCtx++;
  unchecked(cxToolstack[cx] = o.toolstack);
  unchecked(cxReorder[cx] = o.teardownOrder);
  unchecked(cxFirstGuest[cx] = nGuestSlots);
  unchecked(cxGuests[cx] = o.guests);
  unchecked(cxDisks[cx] = o.disksPerGuest);
  unchecked(cxCycles[cx] = o.cycles);
  unchecked(cxCpus[cx] = o.dom0Cpus);
  unchecked(cxUptimeNs[cx] = o.guestUptimeNs);
  unchecked(cxUptimeStream[cx] = o.uptimeStream);
  unchecked(cxAllDone[cx] = o.allDone);
  unchecked(cxCycleStart[cx] = o.cycleStart);
  if (releaseDomain < 0) releaseDomain = xsPath(xsRoot(), S_release);
  for (let i = 0; i < o.guests; i++) {
    const g = nGuestSlots++;
    const pid = 2001 + g;
    const t = threadNew(N_xl, pid, i % o.dom0Cpus, XL_CYCLE, STEP_NS);
    unchecked(ctxOfGuest[g] = cx);
    unchecked(xThread[g] = t);
    unchecked(xPid[g] = pid);
    unchecked(slotOfThread[t] = g);
    unchecked(xVbds[g] = zeroed<i32>(MAX_DISKS));
    setCallerPid(t, pid);
    xsWatch(releaseDomain, t, 0);
  }
  return cx;
}

export function libxlFirstGuest(cx: i32): i32 { return unchecked(cxFirstGuest[cx]); }
export function libxlGuests(cx: i32): i32 { return unchecked(cxGuests[cx]); }
export function libxlDone(cx: i32): i32 { return unchecked(cxDone[cx]); }
export function libxlToolstack(cx: i32): i32 { return unchecked(cxToolstack[cx]); }
export function libxlOfGuest(g: i32): i32 { return unchecked(ctxOfGuest[g]); }

export function releaseDomainNode(): i32 { return releaseDomain; }
export function xlThread(g: i32): i32 { return unchecked(xThread[g]); }

// 4.2's libxl runs the hotplug scripts itself and tells udev's to stand down.
function disablesUdev(cx: i32): bool { return unchecked(cxToolstack[cx]) >= TS_4_2_0_RC1; }

function isCurrent42Final(cx: i32): bool {
  const ts = unchecked(cxToolstack[cx]);
  return ts == TS_4_2_0 || (ts == TS_4_2_0_RC1 && unchecked(cxReorder[cx]));
}

@inline function vbdAt(g: i32, d: i32): i32 { return unchecked(unchecked(xVbds[g])[d]); }

export function xlStep(t: i32): void {
  const action = threadAction(t);
  if (action >= TC_FIRST) { tapCtlStep(t, action); return; }
  const g = unchecked(slotOfThread[t]);
  const cx = unchecked(ctxOfGuest[g]);
  const d = unchecked(xCur[g]);
  switch (action) {
    case XL_CYCLE: cycleStart(t, g); break;
    case XL_DISK_ADD: {
      if (d >= unchecked(cxDisks[cx])) { threadNext(t, XL_UNPAUSE, STEP_NS); break; }
      trace(t, N_disk_add, d);
      // libxl__blktap_devpath: tap_ctl_find_minor(type, path), else tap_ctl_create
      tapCtlFind(t, g, imageKey(g, d), XL_DEVPATH);
      break;
    }
    case XL_DEVPATH: {
      if (tcErrOf(t) == 0) {
        unchecked(xMinor[g] = tcMinorOf(t));
        trace(t, N_devpath, d, unchecked(xMinor[g]), 1);
        threadNext(t, XL_ADD_TX, XS_NS);
      } else tapCtlCreate(t, imageKey(g, d), (g + d + 1) % unchecked(cxCpus[cx]), XL_CREATED);
      break;
    }
    case XL_CREATED: {
      if (tcErrOf(t) < 0) {
        trace(t, N_add_failed, d, tcErrOf(t));
        unchecked(unchecked(xVbds[g])[d] = -1);
        unchecked(xCur[g] = d + 1);
        threadNext(t, XL_DISK_ADD, STEP_NS);
        break;
      }
      unchecked(xMinor[g] = tcMinorOf(t));
      trace(t, N_devpath, d, unchecked(xMinor[g]), 0);
      threadNext(t, XL_ADD_TX, XS_NS);
      break;
    }
    case XL_ADD_TX: unchecked(xTx[g] = xsTransactionStart(t)); threadNext(t, XL_ADD_COMMIT, XS_NS); break;
    case XL_ADD_COMMIT: {
      if (xsTransactionEnd(t, unchecked(xTx[g])) != 0) { threadNext(t, XL_ADD_TX, XS_NS); break; }
      genericAdd(t, g, d);
      unchecked(xCur[g] = d + 1);
      threadNext(t, XL_DISK_ADD, XS_NS);
      break;
    }
    case XL_UNPAUSE: {
      const domid = unchecked(xDomid[g]);
      trace(t, N_unpause, domid);
      guestStart(g, domid, unchecked(cxDisks[cx]), unchecked(xVbds[g]), shutdownNode(domid));
      unchecked(xDeadline[g] = now + randDuration(unchecked(cxUptimeStream[cx]), unchecked(cxUptimeNs[cx])));
      threadNext(t, XL_UPTIME, STEP_NS);
      break;
    }
    case XL_UPTIME: {
      // the operator's `xl shutdown` comes after the guest's uptime
      drainWatches(t);
      if (now < unchecked(xDeadline[g])) {
        threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_sleep, unchecked(xDeadline[g]) - now, XL_UPTIME, STEP_NS);
        break;
      }
      threadNext(t, XL_SHUTDOWN, XS_NS);
      break;
    }
    case XL_SHUTDOWN: {
      const domid = unchecked(xDomid[g]);
      trace(t, N_shutdown, domid);
      xsWrite(t, shutdownNode(domid), 0, V_poweroff);
      threadNext(t, XL_WAIT_DEATH, STEP_NS);
      break;
    }
    case XL_WAIT_DEATH: {
      drainWatches(t);
      if (!guestDead(g)) { threadSleep(t, TASK_INTERRUPTIBLE, N_event_wait, XL_WAIT_DEATH, STEP_NS); break; }
      trace(t, N_death, unchecked(xDomid[g]));
      threadNext(t, XL_DESTROY, STEP_NS);
      break;
    }
    case XL_DESTROY: {
      const domid = unchecked(xDomid[g]);
      unchecked(xDestroyStart[g] = now);
      trace(t, N_destroy, domid);
      trace(t, N_pause, domid);
      unchecked(xCur[g] = 0);
      threadNext(t, unchecked(cxToolstack[cx]) <= TS_4_1_4 ? XL41_DEV : XL42_INIT_TX, XS_NS);
      break;
    }
    case XL41_DEV: device41(t, g, d); break;
    case XL41_FOUND: {
      const v = vbdAt(g, d);
      if (tcErrOf(t) < 0) {
        // destroy_tapdisk returns silently; the 4.1.4 caller still removes the backend,
        // 303b534f's does not (the xenstore leak it was reverted for)
        if (!unchecked(cxReorder[cx])) vbdRmBackend(t, v);
        nextDisk41(t, g);
        break;
      }
      if (unchecked(cxReorder[cx])) vbdRmBackend(t, v);
      tapCtlDestroy(t, tcTdOf(t), tcMinorOf(t), XL41_DESTROYED);
      break;
    }
    case XL41_DESTROYED: {
      // 4.1 ignores tap_ctl_destroy's result
      if (!unchecked(cxReorder[cx])) vbdRmBackend(t, vbdAt(g, d));
      nextDisk41(t, g);
      break;
    }
    case XL42_INIT_TX: {
      if (d >= unchecked(cxDisks[cx])) { unchecked(xCur[g] = 0); threadNext(t, XL42_DEV_TX, XS_NS); break; }
      unchecked(xTx[g] = xsTransactionStart(t));
      threadNext(t, XL42_INIT_COMMIT, XS_NS);
      break;
    }
    case XL42_INIT_COMMIT: initiateRemove(t, g, d); break;
    case XL42_INIT_FOUND: {
      if (tcErrOf(t) < 0) { nextInit42(t, g); break; }
      tapCtlDestroy(t, tcTdOf(t), tcMinorOf(t), XL42_INIT_DONE);
      break;
    }
    case XL42_INIT_DONE: nextInit42(t, g); break;
    case XL42_DEV_TX: {
      if (d >= unchecked(cxDisks[cx])) { threadNext(t, XL_RM_DOM, XS_NS); break; }
      unchecked(xTx[g] = xsTransactionStart(t));
      threadNext(t, XL42_DEV_COMMIT, XS_NS);
      break;
    }
    case XL42_DEV_COMMIT: deviceDestroy42(t, g, d); break;
    case XL42_FOUND: {
      if (tcErrOf(t) < 0) {
        trace(t, N_find_fail, devid(d), tcErrOf(t));
        nextDev42(t, g);
        break;
      }
      tapCtlDestroy(t, tcTdOf(t), tcMinorOf(t), XL42_DONE);
      break;
    }
    case XL42_DONE: {
      if (tcErrOf(t) < 0) trace(t, N_destroy_fail, tcTdOf(t), tcMinorOf(t), tcErrOf(t));
      nextDev42(t, g);
      break;
    }
    case XL_RM_DOM: {
      const domid = unchecked(xDomid[g]);
      trace(t, N_rm_dom, domid);
      xsRm(t, xsNum(xsPath(xsRoot(), S_vm), domid));
      xsRm(t, domainDir(domid));
      threadNext(t, XL_DOMAIN_DESTROYED, DOMAIN_DESTROY_NS);
      break;
    }
    case XL_DOMAIN_DESTROYED: {
      const domid = unchecked(xDomid[g]);
      const ns = now - unchecked(xDestroyStart[g]);
      trace(t, N_domain_destroy, domid, <i32>(ns / NSEC_PER_MSEC));
      if (nTeardowns < MAX_TEARDOWNS) {
        unchecked(tdGuest[nTeardowns] = g);
        unchecked(tdCycle[nTeardowns] = unchecked(xCycle[g]));
        unchecked(tdDomid[nTeardowns] = domid);
        unchecked(tdStart[nTeardowns] = unchecked(xDestroyStart[g]));
        unchecked(tdNs[nTeardowns] = ns);
        nTeardowns++;
      }
      unchecked(xCycle[g] += 1);
      threadNext(t, XL_CYCLE, STEP_NS);
      break;
    }
  }
}

function drainWatches(t: i32): void {
  while (xsNextEvent(t)) { /* @releaseDomain: guestDead() says whose */ }
}

function shutdownNode(domid: i32): i32 { return xsPath(xsPath(domainDir(domid), S_control), S_shutdown); }

function cycleStart(t: i32, g: i32): void {
  const cx = unchecked(ctxOfGuest[g]);
  if (unchecked(xCycle[g]) >= unchecked(cxCycles[cx])) {
    unchecked(cxDone[cx] += 1);
    if (unchecked(cxDone[cx]) == unchecked(cxGuests[cx])) unchecked(cxAllDone[cx])();
    threadExit(t);
    return;
  }
  unchecked(cxCycleStart[cx])();
  const domid = nextDomid++;
  unchecked(xDomid[g] = domid);
  unchecked(xCur[g] = 0);
  trace(t, N_create, domid, unchecked(xCycle[g]));
  // libxl__domain_make: the domain's directories
  xsWrite(t, xsPath(domainDir(domid), S_name), g);
  xsWrite(t, xsPath(xsNum(xsPath(xsRoot(), S_vm), domid), S_name), g);
  if (disablesUdev(cx)) xsWrite(t, udevDisableNode(), 1);
  threadNext(t, XL_DISK_ADD, DOMAIN_BUILD_NS);
}

// libxl__device_generic_add: frontend and backend directories in one transaction.
function genericAdd(t: i32, g: i32, d: i32): void {
  const domid = unchecked(xDomid[g]);
  const m = unchecked(xMinor[g]);
  const v = vbdNew(t, g, d, domid, m);
  unchecked(unchecked(xVbds[g])[d] = v);
  trace(t, N_generic_add, domid, devid(d), m);
  const fe = unchecked(vbdFeDir[v]);
  xsWrite(t, xsPath(fe, S_backend_id), 0);
  xsWrite(t, xsPath(fe, S_virtual_device), devid(d));
  xsWrite(t, unchecked(vbdFeState[v]), XenbusStateInitialising);
  const be = unchecked(vbdBeDir[v]);
  xsWrite(t, xsPath(be, S_frontend_id), domid);
  xsWrite(t, unchecked(vbdBeParams[v]), m, F_tapdev);
  xsWrite(t, unchecked(vbdBeTapParams[v]), g, F_image, d);
  xsWrite(t, unchecked(vbdBePhys[v]), BLKTAP_MAJOR, F_major_minor, m);
  xsWrite(t, unchecked(vbdBeOnline[v]), 1);
  xsWrite(t, unchecked(vbdBeState[v]), XenbusStateInitialising);
}

// 4.1 libxl__device_destroy for the current disk, backend not Connected (clean poweroff).
function device41(t: i32, g: i32, d: i32): void {
  const cx = unchecked(ctxOfGuest[g]);
  if (d >= unchecked(cxDisks[cx])) { threadNext(t, XL_RM_DOM, XS_NS); return; }
  const v = vbdAt(g, d);
  if (v < 0 || !xsExists(unchecked(vbdBeState[v]))) { nextDisk41(t, g); return; }
  const state = xsRead(unchecked(vbdBeState[v]));
  trace(t, N_dev_destroy, devid(d), state);
  if (unchecked(cxToolstack[cx]) == TS_4_1_2) {
    vbdRmBackend(t, v);
    nextDisk41(t, g);
    return;
  }
  // libxl__device_destroy_tapdisk(gc, be_path)
  const params = xsExists(unchecked(vbdBeTapParams[v]));
  trace(t, N_destroy_tap, devid(d), params ? 1 : 0);
  if (!params) {
    trace(t, N_tap_noop, devid(d));
    if (!unchecked(cxReorder[cx])) vbdRmBackend(t, v);
    nextDisk41(t, g);
    return;
  }
  tapCtlFind(t, g, imageKey(g, d), XL41_FOUND);
}

function nextDisk41(t: i32, g: i32): void {
  unchecked(xCur[g] += 1);
  threadNext(t, XL41_DEV, XS_NS);
}

// 4.2 libxl__initiate_device_remove (force=1 on domain destroy): one transaction
// {rm fe; online=0, state=Closing unless already Closed}; rc1 then tears the tapdisk
// down at once, while blkback may still hold tapdevN.
function initiateRemove(t: i32, g: i32, d: i32): void {
  const v = vbdAt(g, d);
  if (v < 0) { nextInit42(t, g); return; }
  if (xsTransactionEnd(t, unchecked(xTx[g])) != 0) { threadNext(t, XL42_INIT_TX, XS_NS); return; }
  const state = xsRead(unchecked(vbdBeState[v]));
  trace(t, N_initiate, devid(d), state);
  xsPathCleanup(t, unchecked(vbdFeDir[v]));
  if (xsExists(unchecked(vbdBeState[v])) && state != XenbusStateClosed) {
    xsWrite(t, unchecked(vbdBeOnline[v]), 0);
    xsWrite(t, unchecked(vbdBeState[v]), XenbusStateClosing);
  }
  if (isCurrent42Final(unchecked(ctxOfGuest[g]))) { nextInit42(t, g); return; }
  const params = xsExists(unchecked(vbdBeTapParams[v]));
  trace(t, N_destroy_tap, devid(d), params ? 1 : 0);
  if (!params) { trace(t, N_tap_noop, devid(d)); nextInit42(t, g); return; }
  tapCtlFind(t, g, imageKey(g, d), XL42_INIT_FOUND);
}

function nextInit42(t: i32, g: i32): void {
  unchecked(xCur[g] += 1);
  threadNext(t, XL42_INIT_TX, XS_NS);
}

// 4.2 libxl__device_destroy: {read tapdisk-params (4.2.0); rm fe; rm be}, then the tap.
function deviceDestroy42(t: i32, g: i32, d: i32): void {
  const v = vbdAt(g, d);
  if (v < 0) { nextDev42(t, g); return; }
  if (xsTransactionEnd(t, unchecked(xTx[g])) != 0) { threadNext(t, XL42_DEV_TX, XS_NS); return; }
  trace(t, N_dev_destroy, devid(d), xsRead(unchecked(vbdBeState[v])));
  const params = xsExists(unchecked(vbdBeTapParams[v]));
  xsPathCleanup(t, unchecked(vbdFeDir[v]));
  vbdRmBackend(t, v, true);
  if (isCurrent42Final(unchecked(ctxOfGuest[g]))) {
    trace(t, N_destroy_tap, devid(d), params ? 1 : 0);
    if (params) { tapCtlFind(t, g, imageKey(g, d), XL42_FOUND); return; }
    nextDev42(t, g);
    return;
  }
  // rc1: destroy_tapdisk(be_path) reads be_path/tapdisk-params, just removed
  trace(t, N_destroy_tap, devid(d), xsExists(unchecked(vbdBeTapParams[v])) ? 1 : 0);
  trace(t, N_tap_noop, devid(d));
  nextDev42(t, g);
}

function nextDev42(t: i32, g: i32): void {
  unchecked(xCur[g] += 1);
  threadNext(t, XL42_DEV_TX, XS_NS);
}

export function teardownCount(): i32 { return nTeardowns; }
export function teardownGuest(i: i32): i32 { return unchecked(tdGuest[i]); }
export function teardownCycle(i: i32): i32 { return unchecked(tdCycle[i]); }
export function teardownDomid(i: i32): i32 { return unchecked(tdDomid[i]); }
export function teardownStart(i: i32): i64 { return unchecked(tdStart[i]); }
export function teardownNs(i: i32): i64 { return unchecked(tdNs[i]); }
