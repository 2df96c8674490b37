// khungtaskd: every hung_task_timeout seconds, check_hung_uninterruptible_tasks()
// looks at each task in TASK_UNINTERRUPTIBLE; one whose context-switch count has not
// moved since the previous check has been blocked for more than the timeout and is
// reported ("INFO: task <comm>:<pid> blocked for more than 120 seconds."), at most
// hung_task_warnings (10) times in all, as in the kernel.
import { now, NSEC_PER_SEC } from "./clock";
import { fn, CAT_ANOMALY } from "./names";
import { traceAnomaly } from "./trace";
import { scheduleIn } from "./events";
import { EV_KHUNGTASKD, hookHung } from "./hooks";
import {
  MAX_ENTS, entCount, isThread, threadState, threadSwitches, threadSince, threadWchan,
  TASK_UNINTERRUPTIBLE,
} from "./sched";
import { jArr, jEndArr, jObj, jEndObj, jKI, jKName } from "./json";
import { zeroed, rowsBegin, rowsEnd } from "./mem";

const N_hung = fn("check_hung_task", "blocked_for=%t wchan=%n", CAT_ANOMALY);

let timeout: i64 = 120 * NSEC_PER_SEC;
let warnings: i32 = 10;
rowsBegin(MAX_ENTS, entCount);
const lastSwitches = zeroed<u32>(MAX_ENTS);
rowsEnd();
const MAX_REPORTS: i32 = 10;
const repEnt = zeroed<i32>(MAX_REPORTS);
const repTime = zeroed<i64>(MAX_REPORTS);
const repBlocked = zeroed<i64>(MAX_REPORTS);
let nReports: i32 = 0;

export function hungTaskInit(timeoutNs: i64): void {
  timeout = timeoutNs;
  if (timeout > 0) scheduleIn(timeout, EV_KHUNGTASKD, 0);
}

export function hungTaskTimeout(): i64 { return timeout; }

export function checkHungUninterruptibleTasks(): void {
  const n = entCount();
  for (let t = 0; t < n && warnings > 0; t++) {
    if (!isThread(t) || threadState(t) != TASK_UNINTERRUPTIBLE) continue;
    const sw = threadSwitches(t);
    if (sw != unchecked(lastSwitches[t])) {
      unchecked(lastSwitches[t] = sw);
      continue;
    }
    const blocked = now - threadSince(t);
    // A task that entered D state after the previous check has not been seen still.
    if (blocked < timeout) continue;
    warnings--;
    traceAnomaly(t, N_hung, <i32>(blocked / 1000000), threadWchan(t));
    if (nReports < MAX_REPORTS) {
      unchecked(repEnt[nReports] = t);
      unchecked(repTime[nReports] = now);
      unchecked(repBlocked[nReports] = blocked);
      nReports++;
    }
    hookHung(t);
  }
  scheduleIn(timeout, EV_KHUNGTASKD, 0);
}

export function hungReports(): i32 { return nReports; }
export function hungReportEnt(i: i32): i32 { return unchecked(repEnt[i]); }

export function hungReportsJson(): void {
  jArr();
  for (let i = 0; i < nReports; i++) {
    const t = unchecked(repEnt[i]);
    jObj();
    jKI("ent", t);
    jKI("time", unchecked(repTime[i]));
    jKI("blockedNs", unchecked(repBlocked[i]));
    jKI("timeoutNs", timeout);
    jKName("wchan", threadWchan(t));
    jEndObj();
  }
  jEndArr();
}
