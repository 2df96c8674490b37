// blktap2-teardown: the evidence (`tap-ctl list` as run and as the model's state, tap-err
// syslog lines, teardown latencies, the wait-for cycle xl -> tapdisk2 -> blkback -> xl, the
// xenstore tree) and the snapshot.
import {
  resNameOf, resObjOf, wfChainJson, wfCycleEnt, wfCycleLen, wfCycleRes, wfCycleTime, wfCyclesSeen,
} from "../../kernel/waitfor";
import { hungReportEnt, hungReports } from "../../kernel/hungtask";
import { kvi } from "../../kernel/config";
import { jArr, jEndArr, jEndObj, jInt, jKB, jKI, jKName, jKey, jObj } from "../../kernel/json";
import { entCommOf, entKindOf, entPidOf } from "../../kernel/sched";
import {
  TAPCTL_LIST_SLOT, detachFailures, syslogArg, syslogCount, syslogKind, syslogPid, syslogTime, syslogTotal,
  tapCtlListCount, tapCtlListMinor, tapCtlListParams, tapCtlListPidOk, tapCtlListState, tapCtlListTd,
  tapCtlListed,
} from "../../xen/tapctl";
import { xsTreeJson } from "../../xen/xenstore";
import {
  teardownCount, teardownCycle, teardownDomid, teardownGuest, teardownNs, teardownStart,
} from "../../xen/libxl";
import { vbdBdevOpen, vbdCount, vbdDevid, vbdDomid, vbdMinor, vbdRegistered } from "../../xen/device";
import {
  tapdiskAlive, tapdiskCount, tapdiskHasVbd, tapdiskImage, tapdiskMinor, tapdiskPid, tapdiskState,
  tapdiskThread,
} from "../../xen/tapdisk";
import {
  blktapAllocated, blktapHasDevice, blktapMinorsHigh, blktapOpeners, blktapRingTask,
} from "../../xen/blktap";
import { K_CYCLES, K_DISKS, K_GUESTS, K_TOOLSTACK } from "./defs";
import { listEndNs, listErr, listStartNs, listThread } from "./workload";
import {
  countOrphans, cycleOrphans, endBackends, endTapdisks, minorOrphaned, nPoints, ptOrphans, ptTime,
} from "./detectors";

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

export function evidence(): void {
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

export function snapshot(): void {
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
