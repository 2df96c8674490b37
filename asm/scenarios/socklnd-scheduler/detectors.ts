// socklnd-scheduler: the detectors and the verdict they give.
import { VERDICT_CORRUPTION, VERDICT_CRASH, VERDICT_DEGRADED, setVerdict } from "../../kernel/world";
import { nIncidents, nThreads, nViolations, thCpt } from "../../lnet/socklnd";
import { nSamples, sampBusy, sampOwnQ, sampT, sampleNs, warmNs } from "./workload";

// --- the imbalance detector: what an engineer reads off `top -H` and the ready lists ----------
// Over DEG_WINDOW consecutive samples after all conns are up, one scheduler thread is busy
// >= 90% while every sibling of its CPT is busy < 20%, and the lists that thread serves hold
// ready conns in at least half of the samples: work is waiting that an idle sibling could
// do but is not allowed to. A single hot conn on a single thread is not flagged (no backlog:
// one thread per direction per conn is the design, old or new).
export const DEG_WINDOW: i32 = 10;
export const DEG_HOT_PERMILLE: i64 = 900;
export const DEG_IDLE_PERMILLE: i64 = 200;
export let degThread: i32 = -1;
export let degFrom: i32 = 0;
export let degBusy: i64 = 0;          // per mille of the window
export let degSiblingMax: i64 = 0;    // busiest sibling, per mille
export let degBacklogSamples: i32 = 0;
export let degBacklogSum: i32 = 0;
export let degWindows: i32 = 0;       // windows (by first sample) that met the condition

function windowBusy(t: i32, k0: i32): i64 {
  let b: i64 = 0;
  for (let k = k0; k < k0 + DEG_WINDOW; k++) b += min(unchecked(sampBusy[k * 64 + t]), sampleNs);
  return b * 1000 / (<i64>DEG_WINDOW * sampleNs);
}

function imbalanceDetector(): void {
  let k0 = 0;
  while (k0 < nSamples && unchecked(sampT[k0]) - sampleNs < warmNs) k0++;
  for (; k0 + DEG_WINDOW <= nSamples; k0++) {
    for (let t = 0; t < nThreads; t++) {
      const busy = windowBusy(t, k0);
      if (busy < DEG_HOT_PERMILLE) continue;
      let sibMax: i64 = -1;
      for (let o = 0; o < nThreads; o++) {
        if (o != t && unchecked(thCpt[o]) == unchecked(thCpt[t])) sibMax = max(sibMax, windowBusy(o, k0));
      }
      if (sibMax < 0 || sibMax >= DEG_IDLE_PERMILLE) continue;
      let backlog = 0, sum = 0;
      for (let k = k0; k < k0 + DEG_WINDOW; k++) {
        const q = unchecked(sampOwnQ[k * 64 + t]);
        if (q > 0) backlog++;
        sum += q;
      }
      if (2 * backlog < DEG_WINDOW) continue;
      if (degWindows++ == 0) {
        degThread = t; degFrom = k0; degBusy = busy; degSiblingMax = sibMax;
        degBacklogSamples = backlog; degBacklogSum = sum;
      }
      break;
    }
  }
}

export function onFinish(): void {
  imbalanceDetector();
  if (nViolations > 0) setVerdict(VERDICT_CRASH);
  else if (nIncidents > 0) setVerdict(VERDICT_CORRUPTION);
  else if (degWindows > 0) setVerdict(VERDICT_DEGRADED);
}
