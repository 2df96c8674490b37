// The world: one run of one scenario. The host instantiates a fresh module per run
// (so nothing needs resetting), selects a scenario, sets seed, knobs and patches,
// builds, then runs in slices of events / simulated time until the run is done.
import { now, setNow, NSEC_PER_SEC } from "./clock";
import { prngSeed, prngArm, prngTick } from "./prng";
import { traceInit } from "./trace";
import { popEvent, pendingEvents, curKind, curObj, curArg, eventKindAt, kindsSeal, kindsBindHook, dispatchEvent } from "./events";
import {
  EV_STEP, EV_TIMEOUT, EV_KHUNGTASKD, EV_UNSTARVE, hookEvent, hookFinish, hookEvidence, hookSnapshot,
} from "./hooks";
import { threadStepDone, threadTimeout, threadUnstarve, entitiesJson, entCount } from "./sched";
import { wfEdgesJson } from "./waitfor";
import { timingJson } from "./timing";
import { checkHungUninterruptibleTasks, hungReports, hungReportsJson } from "./hungtask";
import { scenarioBuildRun } from "./config";
import { nameCount } from "./names";
import { jReset, jObj, jEndObj, jKey, jKI, jKB, jLen } from "./json";

export const VERDICT_OK: i32 = 0;
export const VERDICT_HANG: i32 = 1;
export const VERDICT_CORRUPTION: i32 = 2;
export const VERDICT_CRASH: i32 = 3;
export const VERDICT_LEAK: i32 = 4;
// A performance pathology a model's detector found (e.g. one scheduler thread saturated
// while its siblings idle): the run completed, but not the way the kernel meant it to.
export const VERDICT_DEGRADED: i32 = 5;

// How a run ended (engine/wasm.ts RUN_STATUS names them in this order).
export const RUN_PAUSED: i32 = 0;   // a slice limit was reached; call run again
export const RUN_COMPLETE: i32 = 1; // the model stopped, or nothing is left to run
export const RUN_TIME_LIMIT: i32 = 2;  // cut: the scenario's simulated-time limit was reached
export const RUN_BUDGET: i32 = 3;   // cut: the cost budget ran out
export const RUN_HANG: i32 = 4;     // stopped because a detector found a hang

// The cost budget bounds a run's wall time, whatever the knobs: every event costs one
// unit, and a model charges work it does inside one event (a copy per page, other
// clients' requests) with chargeWork(). 24M units is about 5 s of the slowest
// scenario's work in a warm browser worker (npm run bench: ~5-8M units/s).
export const DEFAULT_COST_BUDGET: i64 = 24000000;

let events: i64 = 0;
let cost: i64 = 0;
let costBudget: i64 = DEFAULT_COST_BUDGET;
let timeLimit: i64 = 3600 * NSEC_PER_SEC;
let stopped: bool = false;
let status: i32 = RUN_PAUSED;
let finished: bool = false;
let verdict: i32 = VERDICT_OK;
let stopOnHung: bool = true;

export function worldInit(scn: i32, seed: u64, traceCapacity: i32): void {
  kindsSeal();
  // a trace record holds its name id in 16 bits
  assert(nameCount() <= 0x10000, "more than 65536 names: trace records cannot hold their ids");
  prngSeed(seed);
  prngArm();
  traceInit(traceCapacity);
  scenarioBuildRun(scn);
  kindsBindHook(hookEvent);
}

// The model's workload is complete (or a fatal condition was found): stop the run.
export function worldStop(): void { stopped = true; }
export function worldStopped(): bool { return stopped; }
export function setTimeLimit(t: i64): void { timeLimit = t; }
export function setCostBudget(n: i64): void { costBudget = n; }
// Work done inside the current event, in units of about one event's cost.
@inline export function chargeWork(units: i64): void { cost += units; }
// A model loop whose length a knob sets stops early once the budget is gone: the run is
// cut at the next event anyway, and reported as such.
@inline export function costExhausted(): bool { return cost >= costBudget; }
export function costSpent(): i64 { return cost; }
export function costBudgetUnits(): i64 { return costBudget; }
export function setStopOnHung(on: bool): void { stopOnHung = on; }
export function timeLimitNs(): i64 { return timeLimit; }
export function eventCount(): i64 { return events; }
export function runStatus(): i32 { return status; }

export function setVerdict(v: i32): void { verdict = v; }
export function getVerdict(): i32 { return verdict; }

// The kernel's own kinds (the model kinds register where they are defined).
eventKindAt(EV_STEP, "sched.step", (kind: i32, t: i32, arg: i32): void => { threadStepDone(t); });
eventKindAt(EV_TIMEOUT, "sched.timeout", (kind: i32, t: i32, arg: i32): void => { threadTimeout(t); });
eventKindAt(EV_UNSTARVE, "sched.unstarve", (kind: i32, t: i32, arg: i32): void => { threadUnstarve(t); });
eventKindAt(EV_KHUNGTASKD, "khungtaskd", (kind: i32, obj: i32, arg: i32): void => {
  checkHungUninterruptibleTasks();
  if (stopOnHung && hungReports() > 0) stopped = true;
});

// Runs at most `maxEvents` events, and none later than `until`. Returns the status.
export function worldRun(maxEvents: i64, until: i64): i32 {
  if (finished) return status;
  const limit = until < timeLimit ? until : timeLimit;
  let n: i64 = 0;
  status = RUN_PAUSED;
  while (true) {
    if (stopped) { status = RUN_COMPLETE; break; }
    if (cost >= costBudget) { status = RUN_BUDGET; break; }
    if (n >= maxEvents) return status;
    if (!popEvent(limit)) {
      if (pendingEvents() == 0) { status = RUN_COMPLETE; break; }
      if (limit == timeLimit) { status = RUN_TIME_LIMIT; break; }
      // Nothing else happens before `until`: the clock moves there.
      if (until > now) setNow(until);
      return status;
    }
    events++;
    cost++;
    prngTick();
    n++;
    // a thread's step is most of every run's events: a direct call the compiler can inline,
    // where the table's indirect call could not be (the table still names and owns the kind)
    if (curKind == EV_STEP) threadStepDone(curObj);
    else dispatchEvent(curKind, curObj, curArg);
  }
  finished = true;
  // Default: the kernel's own detector. The model's finish hook refines it
  // (corruption, crash, leak) from its own checks and writes the evidence.
  verdict = hungReports() > 0 ? VERDICT_HANG : VERDICT_OK;
  hookFinish();
  if (status == RUN_COMPLETE && verdict == VERDICT_HANG) status = RUN_HANG;
  return status;
}

export function worldFinished(): bool { return finished; }

// {time, events, status, hung:[...], entities:[...], waits:[...], model:{...}} into the JSON buffer.
export function snapshotJson(withEntities: bool): usize {
  jReset();
  jObj();
  jKI("time", now);
  jKI("events", events);
  jKI("cost", cost);
  jKI("status", status);
  jKB("finished", finished);
  jKey("hung"); hungReportsJson();
  if (withEntities) { jKey("entities"); entitiesJson(); }
  jKey("waits"); wfEdgesJson(entCount());
  jKey("model"); hookSnapshot();
  jEndObj();
  return jLen();
}

export function evidenceJson(): usize {
  jReset();
  jObj();
  jKey("hung"); hungReportsJson();
  jKey("timing"); timingJson();
  jKey("model"); hookEvidence();
  jEndObj();
  return jLen();
}

// The entity table alone: what the host needs to name actors, without the model's
// snapshot (which for a long run is far larger).
export function entitiesOnlyJson(): usize {
  jReset();
  entitiesJson();
  return jLen();
}
