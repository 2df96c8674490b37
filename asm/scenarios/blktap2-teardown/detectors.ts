// blktap2-teardown: the leak detector (orphaned minors, tapdisk2 processes and backend
// directories left when every guest is gone) and the orphan series it samples.
import { now } from "../../kernel/clock";
import { VERDICT_LEAK, setVerdict } from "../../kernel/world";
import { hungReports } from "../../kernel/hungtask";
import { zeroed, rowsBegin, rowsEnd } from "../../kernel/mem";
import { xsExists } from "../../xen/xenstore";
import { vbdBeDir, vbdCount } from "../../xen/device";
import { tapdiskAlive, tapdiskCount, tapdiskMinor } from "../../xen/tapdisk";
import { blktapAllocated, blktapMinorsHigh } from "../../xen/blktap";

// orphaned minors sampled at each guest start, and at the end
const MAX_POINTS: i32 = 2048;
export let nPoints: i32 = 0;
rowsBegin(MAX_POINTS, (): i32 => nPoints);
export const ptTime = zeroed<i64>(MAX_POINTS);
export const ptOrphans = zeroed<i32>(MAX_POINTS);
rowsEnd();

export let cycleOrphans: i32 = 0;
export let endTapdisks: i32 = 0;
export let endBackends: i32 = 0;

// The minor has no live tapdisk2 serving it: what `tap-ctl list` prints as `minor=N`.
export function minorOrphaned(m: i32): bool {
  if (!blktapAllocated(m)) return false;
  for (let td = 0; td < tapdiskCount(); td++) {
    if (tapdiskAlive(td) && tapdiskMinor(td) == m) return false;
  }
  return true;
}

export function countOrphans(): i32 {
  let n = 0;
  for (let m = 0; m < blktapMinorsHigh(); m++) if (minorOrphaned(m)) n++;
  return n;
}

export function sample(): void {
  if (nPoints >= MAX_POINTS) return;
  unchecked(ptTime[nPoints] = now);
  unchecked(ptOrphans[nPoints] = countOrphans());
  nPoints++;
}

// Leaks are resources left when every guest is gone: minors with no tapdisk2 (orphans),
// tapdisk2 processes still running, backend directories still in xenstore.
export function finish(): void {
  sample();
  cycleOrphans = countOrphans();
  endTapdisks = 0;
  for (let td = 0; td < tapdiskCount(); td++) if (tapdiskAlive(td)) endTapdisks++;
  endBackends = 0;
  for (let v = 0; v < vbdCount(); v++) if (xsExists(unchecked(vbdBeDir[v]))) endBackends++;
  if (hungReports() > 0) return;
  if (cycleOrphans > 0 || endTapdisks > 0 || endBackends > 0) setVerdict(VERDICT_LEAK);
}
