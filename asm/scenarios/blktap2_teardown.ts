// blktap2-teardown (seed 004): Xen 4.1.x/4.2 libxl tearing a blktap2 disk down in the
// wrong order. The models are in asm/xen/; this file wires them for one run and writes
// the evidence: `tap-ctl list` state, tap-err syslog lines, teardown latencies, the
// wait-for cycle xl → tapdisk2 → blkback → xl, and the xenstore tree.
import { now, NSEC_PER_SEC, NSEC_PER_MSEC } from "../kernel/clock";
import { knob, kv, kvi, patch, patched, scenario } from "../kernel/config";
import { setHooks } from "../kernel/hooks";
import { eventKind } from "../kernel/events";
import { cpusInit, threadNew, threadAction, entPidOf, entCommOf, entKindOf, MAX_ENTS } from "../kernel/sched";
import { stream } from "../kernel/prng";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../kernel/timing";
import { scheduleIn } from "../kernel/events";
import { hungTaskInit, hungReports, hungReportEnt } from "../kernel/hungtask";
import { wfChainJson } from "../kernel/waitfor";
import { setTimeLimit, setVerdict, setStopOnHung, worldStop, VERDICT_LEAK } from "../kernel/world";
import { name } from "../kernel/names";
import {
  jArr, jEndArr, jObj, jEndObj, jKey, jKI, jKB, jKN, jKName, jInt,
} from "../kernel/json";
import { xsInit, xsTreeJson, xenstoredStep, xsExists, xsWrite, xsPath, xsEvent, XS_LOOP } from "../xen/xenstore";
import { blktapInit, blktapAllocated, blktapMinorsHigh, blktapOpeners, blktapHasDevice, blktapRingTask } from "../xen/blktap";
import {
  tapdiskInit, tapdiskStep, tapdiskCount, tapdiskAlive, tapdiskPid, tapdiskMinor, tapdiskHasVbd,
  tapdiskState, tapdiskImage, tapdiskThread,
} from "../xen/tapdisk";
import {
  tapCtlInit, syslogCount, syslogTotal, detachFailures, syslogTime, syslogPid, syslogKind, syslogArg,
  tapCtlFind, tapCtlStep, setCallerPid, TC_FIRST, tcErr, TAPCTL_LIST_SLOT, tapCtlListCount, tapCtlListTd,
  tapCtlListPidOk, tapCtlListed, tapCtlListMinor, tapCtlListParams, tapCtlListState,
} from "../xen/tapctl";
import { blkbackInit, xenwatchStep, udevStep } from "../xen/blkback";
import { guestInit, guestStep, guestThread } from "../xen/blkfront";
import {
  libxlInit, xlStep, xlThread, releaseDomainNode, teardownCount, teardownGuest, teardownCycle,
  teardownDomid, teardownStart, teardownNs,
} from "../xen/libxl";
import { domainDir, S_name, F_domain0, vbdCount, vbdBeDir, vbdDomid, vbdDevid, vbdMinor, vbdRegistered, vbdBdevOpen } from "../xen/device";
import { wfCycleLen, wfCycleEnt, wfCycleRes, wfCycleTime, wfCyclesSeen, resNameOf, resObjOf } from "../kernel/waitfor";
import { zeroed } from "../kernel/mem";

const K_GUESTS = knob("guests");
const K_DISKS = knob("disks");
const K_CYCLES = knob("cycles");
const K_DETACH_TIMEOUT = knob("tapctl_detach_timeout_s");
const K_RELEASE = knob("blkback_release_ms");
const K_TOOLSTACK = knob("toolstack");
const K_UPTIME = knob("guest_uptime_s");
const K_VCPUS = knob("dom0_vcpus");
const K_STRESS = knob("stress_per_1k");
const P_ORDER = patch("libxl-teardown-order");
const P_RESPOND = patch("tapdisk-respond-before-teardown");

const S_UPTIME = stream("guest-uptime");
const S_BLKBACK = stream("blkback-release");

const N_xenstored = name("xenstored");
const N_xenwatch = name("xenwatch");
const N_udevd = name("udevd");
const N_tapctl = name("tap-ctl");

// Thread roles. Tapdisk2 processes are spawned during the run and keep role 0.
const ROLE_TAPDISK: i32 = 0;
const ROLE_XL: i32 = 1;
const ROLE_GUEST: i32 = 2;
const ROLE_XENSTORED: i32 = 3;
const ROLE_XENWATCH: i32 = 4;
const ROLE_UDEVD: i32 = 5;
const ROLE_TAPCTL: i32 = 6;
const role = zeroed<i32>(MAX_ENTS);

const EV_SETTLE: i32 = eventKind("blktap2.settle");
const SETTLE_NS: i64 = 30 * NSEC_PER_SEC;

// orphaned minors sampled at each guest start, and at the end
const MAX_POINTS: i32 = 2048;
const ptTime = zeroed<i64>(MAX_POINTS);
const ptOrphans = zeroed<i32>(MAX_POINTS);
let nPoints: i32 = 0;

let cycleOrphans: i32 = 0;
let endTapdisks: i32 = 0;
let endBackends: i32 = 0;

function step(t: i32): void {
  const r = unchecked(role[t]);
  if (r == ROLE_TAPDISK) tapdiskStep(t);
  else if (r == ROLE_XL) xlStep(t);
  else if (r == ROLE_GUEST) guestStep(t);
  else if (r == ROLE_XENSTORED) xenstoredStep(t);
  else if (r == ROLE_XENWATCH) xenwatchStep(t);
  else if (r == ROLE_TAPCTL) tapCtlListStep(t);
  else udevStep(t);
}

// ---- the operator's `tap-ctl list` once the workload is over (or a task hangs): a real
// PID + LIST exchange with every tapdisk2 (2 s per read), so a frozen tapdisk2 costs its
// timeout and drops out of the list; then the minors in /sys/class/blktap2 no LIST claimed.
const TAPCTL_PID: i32 = 6000;
const TL_START: i32 = 1;
const TL_DONE: i32 = 2;
let listThread: i32 = -1;
let listStartNs: i64 = -1;
let listEndNs: i64 = -1;
let listErr: i32 = 0;

function startTapCtlList(): void {
  if (listThread >= 0) return;
  listThread = threadNew(N_tapctl, TAPCTL_PID, 0, TL_START, 1000000);   // fork + exec
  unchecked(role[listThread] = ROLE_TAPCTL);
  setCallerPid(listThread, TAPCTL_PID);
  listStartNs = now;
}

function tapCtlListStep(t: i32): void {
  const a = threadAction(t);
  if (a >= TC_FIRST) { tapCtlStep(t, a); return; }
  if (a == TL_START) { tapCtlFind(t, TAPCTL_LIST_SLOT, -1, TL_DONE); return; }
  listErr = unchecked(tcErr[t]) == -71 ? -71 : 0;   // tap_ctl_list: -EPROTO if a LIST failed
  listEndNs = now;
  worldStop();
}

function onEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_SETTLE) startTapCtlList();
  else xsEvent(kind, obj);
}

function onHung(t: i32): void { startTapCtlList(); }

// The minor has no live tapdisk2 serving it: what `tap-ctl list` prints as `minor=N`.
function minorOrphaned(m: i32): bool {
  if (!blktapAllocated(m)) return false;
  for (let td = 0; td < tapdiskCount(); td++) {
    if (tapdiskAlive(td) && tapdiskMinor(td) == m) return false;
  }
  return true;
}

function countOrphans(): i32 {
  let n = 0;
  for (let m = 0; m < blktapMinorsHigh(); m++) if (minorOrphaned(m)) n++;
  return n;
}

function sample(): void {
  if (nPoints >= MAX_POINTS) return;
  unchecked(ptTime[nPoints] = now);
  unchecked(ptOrphans[nPoints] = countOrphans());
  nPoints++;
}

function allDone(): void { scheduleIn(SETTLE_NS, EV_SETTLE, 0); }

// Leaks are resources left when every guest is gone: minors with no tapdisk2 (orphans),
// tapdisk2 processes still running, backend directories still in xenstore.
function finish(): void {
  sample();
  cycleOrphans = countOrphans();
  endTapdisks = 0;
  for (let td = 0; td < tapdiskCount(); td++) if (tapdiskAlive(td)) endTapdisks++;
  endBackends = 0;
  for (let v = 0; v < vbdCount(); v++) if (xsExists(unchecked(vbdBeDir[v]))) endBackends++;
  if (hungReports() > 0) return;
  if (cycleOrphans > 0 || endTapdisks > 0 || endBackends > 0) setVerdict(VERDICT_LEAK);
}

function entJson(e: i32): void {
  jKI("ent", e);
  jKName("comm", entCommOf(e));
  jKI("pid", entPidOf(e));
  jKName("kind", entKindOf(e));
}

// What `tap-ctl list` printed: each tapdisk2 that answered PID and LIST, with its VBD (or
// none: an orphaned tapdisk), then the allocated minors no LIST reply claimed.
function tapCtlListRunJson(): void {
  jKB("ran", listEndNs >= 0);
  jKI("startNs", listStartNs); jKI("endNs", listEndNs); jKI("err", listErr);
  jKey("noAnswer"); jArr();
  const n = listThread >= 0 ? tapCtlListCount(listThread) : 0;
  for (let i = 0; i < n; i++) {
    if (!tapCtlListPidOk(TAPCTL_LIST_SLOT, i)) jInt(tapdiskPid(tapCtlListTd(TAPCTL_LIST_SLOT, i)));
  }
  jEndArr();
  jKey("entries"); jArr();
  if (listEndNs >= 0 && listErr == 0) {
    for (let i = 0; i < n; i++) {
      if (!tapCtlListed(TAPCTL_LIST_SLOT, i)) continue;
      jObj();
      jKI("pid", tapdiskPid(tapCtlListTd(TAPCTL_LIST_SLOT, i)));
      const m = tapCtlListMinor(TAPCTL_LIST_SLOT, i);
      if (m >= 0) {
        const img = tapCtlListParams(TAPCTL_LIST_SLOT, i);
        jKI("minor", m); jKI("state", tapCtlListState(TAPCTL_LIST_SLOT, i));
        jKI("guest", img >> 4); jKI("disk", img & 15);
      }
      jEndObj();
    }
    for (let m = 0; m < blktapMinorsHigh(); m++) {
      if (!blktapAllocated(m)) continue;
      let claimed = false;
      for (let i = 0; i < n; i++) if (tapCtlListed(TAPCTL_LIST_SLOT, i) && tapCtlListMinor(TAPCTL_LIST_SLOT, i) == m) claimed = true;
      if (!claimed) { jObj(); jKI("minor", m); jEndObj(); }
    }
  }
  jEndArr();
}

// The model's own state in tap-ctl list's shape (for live snapshots): live tapdisks with
// their VBD, then the minors no live tapdisk serves.
function tapCtlListJson(): void {
  jArr();
  for (let td = 0; td < tapdiskCount(); td++) {
    if (!tapdiskAlive(td)) continue;
    jObj();
    jKI("pid", tapdiskPid(td));
    if (tapdiskHasVbd(td)) {
      jKI("minor", tapdiskMinor(td));
      jKI("state", tapdiskState(td));
      const img = tapdiskImage(td);
      jKI("guest", img >> 4);
      jKI("disk", img & 15);
    }
    jEndObj();
  }
  for (let m = 0; m < blktapMinorsHigh(); m++) {
    if (!minorOrphaned(m)) continue;
    jObj(); jKI("minor", m); jEndObj();
  }
  jEndArr();
}

function evidence(): void {
  jObj();
  jKI("toolstack", kvi(K_TOOLSTACK));
  jKI("guests", kvi(K_GUESTS));
  jKI("disks", kvi(K_DISKS));
  jKI("cycles", kvi(K_CYCLES));
  jKI("orphanedMinors", cycleOrphans);
  jKI("tapdisksLeft", endTapdisks);
  jKI("backendsLeft", endBackends);
  jKI("minorsHigh", blktapMinorsHigh());
  jKey("tapCtlList"); jObj(); tapCtlListRunJson(); jEndObj();
  jKey("syslog");
  jArr();
  for (let i = 0; i < syslogCount(); i++) {
    jObj();
    jKI("t", syslogTime(i));
    jKI("pid", syslogPid(i));
    jKI("kind", syslogKind(i));
    if (syslogKind(i) == 1) jKName("msg", syslogArg(i)); else jKI("arg", syslogArg(i));
    jEndObj();
  }
  jEndArr();
  jKI("syslogTotal", syslogTotal());
  jKI("detachFailures", detachFailures());
  jKey("teardowns");
  jArr();
  for (let i = 0; i < teardownCount(); i++) {
    jObj();
    jKI("guest", teardownGuest(i));
    jKI("cycle", teardownCycle(i));
    jKI("domid", teardownDomid(i));
    jKI("t", teardownStart(i));
    jKI("ns", teardownNs(i));
    jEndObj();
  }
  jEndArr();
  jKey("orphanSeries");
  jArr();
  for (let i = 0; i < nPoints; i++) { jArr(); jInt(unchecked(ptTime[i])); jInt(unchecked(ptOrphans[i])); jEndArr(); }
  jEndArr();
  jKI("cyclesSeen", wfCyclesSeen());
  jKey("waitCycle");
  jObj();
  jKB("found", wfCycleLen() > 0);
  jKI("t", wfCycleTime());
  jKey("links");
  jArr();
  for (let i = 0; i < wfCycleLen(); i++) {
    const e = wfCycleEnt(i);
    const r = wfCycleRes(i);
    const next = wfCycleEnt((i + 1) % wfCycleLen());
    jObj();
    entJson(e);
    jKName("waitsOn", resNameOf(r));
    jKI("obj", resObjOf(r));
    jKI("heldBy", next);
    jKName("heldByComm", entCommOf(next));
    jKI("heldByPid", entPidOf(next));
    jEndObj();
  }
  jEndArr();
  jEndObj();
  jKey("hungChains");
  jArr();
  for (let i = 0; i < hungReports(); i++) {
    const e = hungReportEnt(i);
    jObj();
    entJson(e);
    jKey("chain"); wfChainJson(e);
    jEndObj();
  }
  jEndArr();
  jKey("xenstore"); xsTreeJson();
  jEndObj();
}

function snapshot(): void {
  jObj();
  jKey("xenstore"); xsTreeJson();
  jKey("minors");
  jArr();
  for (let m = 0; m < blktapMinorsHigh(); m++) {
    if (!blktapAllocated(m)) continue;
    jObj();
    jKI("minor", m);
    jKI("ringTask", blktapRingTask(m));
    jKB("device", blktapHasDevice(m));
    jKI("openers", blktapOpeners(m));
    jEndObj();
  }
  jEndArr();
  jKey("tapCtlList"); tapCtlListJson();
  jKey("tapdisks");
  jArr();
  for (let td = 0; td < tapdiskCount(); td++) {
    if (!tapdiskAlive(td)) continue;
    jObj();
    jKI("pid", tapdiskPid(td));
    jKI("thread", tapdiskThread(td));
    jKI("minor", tapdiskMinor(td));
    jEndObj();
  }
  jEndArr();
  jKey("vbds");
  jArr();
  for (let v = 0; v < vbdCount(); v++) {
    if (!unchecked(vbdRegistered[v])) continue;
    jObj();
    jKI("domid", unchecked(vbdDomid[v]));
    jKI("devid", unchecked(vbdDevid[v]));
    jKI("minor", unchecked(vbdMinor[v]));
    jKB("bdevOpen", unchecked(vbdBdevOpen[v]));
    jEndObj();
  }
  jEndArr();
  jKI("orphanedMinors", countOrphans());
  jEndObj();
}

scenario("blktap2-teardown", (): void => {
  setHooks(step, onEvent, onHung, finish, evidence, snapshot);
  const dom0 = <i32>kvi(K_VCPUS);
  const guests = <i32>kvi(K_GUESTS);
  cpusInit(dom0 + guests);
  const stress = kv(K_STRESS);
  timingInit(stress > 0 ? TIMING_STRESS : TIMING_REALISTIC, stress, dom0 + guests);
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
  blkbackInit(xenwatch, udevd, <i64>(kv(K_RELEASE) * <f64>NSEC_PER_MSEC), S_BLKBACK);
  libxlInit(<i32>kvi(K_TOOLSTACK), patched(P_ORDER), guests, <i32>kvi(K_DISKS), <i32>kvi(K_CYCLES),
    dom0, <i64>(kv(K_UPTIME) * <f64>NSEC_PER_SEC), S_UPTIME, allDone, sample);
  for (let g = 0; g < guests; g++) {
    unchecked(role[xlThread(g)] = ROLE_XL);
    guestInit(g, dom0 + g, releaseDomainNode());
    unchecked(role[guestThread(g)] = ROLE_GUEST);
  }
  hungTaskInit(120 * NSEC_PER_SEC);
  setStopOnHung(false);   // the run ends when the operator's tap-ctl list has finished
  setTimeLimit(<i64>kvi(K_CYCLES) * (<i64>(kv(K_UPTIME) * 4.0) + 600) * NSEC_PER_SEC);
});
