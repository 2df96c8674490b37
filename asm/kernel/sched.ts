// Entities, simulated threads and CPUs.
//
// An entity is anything the trace can name as an actor: a thread, an rpc_task, a
// connection, a host. A thread is an entity that runs on a simulated CPU: it executes
// one modelled step at a time, each step costing CPU time drawn from the "sched" PRNG
// stream around the mean the model gave for it. The step's effects are applied when
// the step completes (hookStep), so two CPUs' steps interleave by their drawn costs:
// races emerge from timing, nothing is scripted.
//
// Who runs next is the timing model's (timing.ts). Stock worlds: at each step boundary a
// thread yields to the next runnable thread on its CPU (round-robin at step granularity).
// Worlds that call timingInit(): CFS (vruntime order, slices, tick and wake-up
// preemption), interrupts stretching the step they land in (softirqOn), and in stress
// mode random starvation before any step. Context switches are counted as the kernel's
// nvcsw+nivcsw are, for khungtaskd.
import { now } from "./clock";
import { fn, name, CAT_SCHED } from "./names";
import { randDuration, stream } from "./prng";
import { trace } from "./trace";
import { scheduleAt, scheduleIn, cancelEvent, eventPending } from "./events";
import { EV_STEP, EV_TIMEOUT, EV_UNSTARVE, hookStep } from "./hooks";
import { wqNew, wqAdd, wqPop, wqLen, wqRemove, wqFirstAt, wqNext, MAX_ITEMS } from "./waitq";
import {
  timingOn, cfsSliceNs, tickStealNs, chaosStarveNs, schedLatencyNs, wakeupGranularityNs,
  notePreempt, noteIrq, PREEMPT_TICK, PREEMPT_WAKEUP, timingInit, TIMING_REALISTIC, TIMING_STRESS,
} from "./timing";
import { jArr, jEndArr, jObj, jEndObj, jKI, jKName } from "./json";
import { zeroed, rowsBegin, rowsEnd } from "./mem";

export const MAX_ENTS: i32 = 1 << 14;
export const MAX_CPUS: i32 = 64;
// A runnable thread is an item on its CPU's runqueue (waitq.ts). Checked when compiled.
if (MAX_ENTS > MAX_ITEMS) ERROR("sched: MAX_ENTS must not exceed waitq's MAX_ITEMS");

// Thread states, as in the kernel's task->state.
export const TASK_RUNNING: i32 = 0;
export const TASK_INTERRUPTIBLE: i32 = 1;
export const TASK_UNINTERRUPTIBLE: i32 = 2;
export const TASK_DEAD: i32 = 3;
const NOT_A_THREAD: i32 = -1;

const S_SCHED = stream("sched");
export const N_thread = name("thread");
const N_sleep = fn("schedule", "state=%d wchan=%n", CAT_SCHED);
const N_wake = fn("try_to_wake_up", "cpu=%d", CAT_SCHED);
const N_exit = fn("do_exit", "", CAT_SCHED);

// entity table (every entity below nEnts: the instance reset zeroes those rows)
let nEnts: i32 = 0;
rowsBegin(MAX_ENTS, (): i32 => nEnts);
const entKind = zeroed<i32>(MAX_ENTS);
const entComm = zeroed<i32>(MAX_ENTS);
const entPid = zeroed<i32>(MAX_ENTS);

// thread fields (valid when thState != NOT_A_THREAD)
const thState = zeroed<i32>(MAX_ENTS);
const thCpu = zeroed<i32>(MAX_ENTS);
const thAction = zeroed<i32>(MAX_ENTS);
const thCost = zeroed<i64>(MAX_ENTS);
const thSwitches = zeroed<u32>(MAX_ENTS);
const thSince = zeroed<i64>(MAX_ENTS);
const thWchan = zeroed<i32>(MAX_ENTS);
const thBusy = zeroed<i64>(MAX_ENTS);
const thTimer = zeroed<i32>(MAX_ENTS);
const thTimedOut = zeroed<bool>(MAX_ENTS);
const thOnCpu = zeroed<bool>(MAX_ENTS);
const thStepStart = zeroed<i64>(MAX_ENTS);
const thStepEv = zeroed<i32>(MAX_ENTS);      // the pending EV_STEP (interrupts move it)
const thStepEnd = zeroed<i64>(MAX_ENTS);
const thRunSince = zeroed<i64>(MAX_ENTS);    // switched in at (CFS slice)
const thVruntime = zeroed<i64>(MAX_ENTS);
rowsEnd();

// CPUs
const cpuCurr = zeroed<i32>(MAX_CPUS);
const cpuRq = zeroed<i32>(MAX_CPUS);
const cpuBusy = zeroed<i64>(MAX_CPUS);
const cpuMinVruntime = zeroed<i64>(MAX_CPUS);
const cpuNeedResched = zeroed<bool>(MAX_CPUS);
const cpuIrqUntil = zeroed<i64>(MAX_CPUS);   // busy until then with an interrupt raised between two steps
let nCpus: i32 = 0;
const N_runqueue = name("runqueue");

export function entNew(kindName: i32, comm: i32, pid: i32): i32 {
  assert(nEnts < MAX_ENTS, "too many entities");
  const e = nEnts++;
  unchecked(entKind[e] = kindName);
  unchecked(entComm[e] = comm);
  unchecked(entPid[e] = pid);
  unchecked(thState[e] = NOT_A_THREAD);
  return e;
}

export function entCount(): i32 { return nEnts; }
export function entPidOf(e: i32): i32 { return unchecked(entPid[e]); }
export function entCommOf(e: i32): i32 { return unchecked(entComm[e]); }
export function entKindOf(e: i32): i32 { return unchecked(entKind[e]); }
export function entSetComm(e: i32, comm: i32): void { unchecked(entComm[e] = comm); }

export function cpusInit(n: i32): void {
  assert(n >= 1 && n <= MAX_CPUS, "CPU count out of range");
  for (let c = nCpus; c < n; c++) {
    unchecked(cpuCurr[c] = -1);
    unchecked(cpuRq[c] = wqNew(N_runqueue));
  }
  nCpus = n;
}

// A world's machine: its CPUs, and how their time is modelled (timing.ts).
export class MachineOptions {
  cpus: i32 = 1;
  stressPerMille: f64 = 0;   // 0: realistic timing; above: stress, starving that many steps in 1000
}

// cpusInit + timingInit from one checked options object.
export function machineInit(o: MachineOptions): void {
  assert(o.stressPerMille >= 0 && o.stressPerMille <= 1000, "machine: stressPerMille out of range 0..1000");
  cpusInit(o.cpus);
  timingInit(o.stressPerMille > 0 ? TIMING_STRESS : TIMING_REALISTIC, o.stressPerMille, o.cpus);
}

export function cpuCount(): i32 { return nCpus; }
export function cpuBusyNs(c: i32): i64 { return unchecked(cpuBusy[c]); }

// Creates a thread, runnable on `cpu`, whose first step is `action` (mean cost ns).
export function threadNew(comm: i32, pid: i32, cpu: i32, action: i32, meanNs: i64): i32 {
  const t = entNew(N_thread, comm, pid);
  unchecked(thState[t] = TASK_INTERRUPTIBLE);
  unchecked(thCpu[t] = cpu % nCpus);
  unchecked(thAction[t] = action);
  unchecked(thCost[t] = meanNs);
  unchecked(thSince[t] = now);
  wakeUpProcess(t);
  return t;
}

export function isThread(e: i32): bool { return unchecked(thState[e]) != NOT_A_THREAD; }
export function threadState(t: i32): i32 { return unchecked(thState[t]); }
export function threadAction(t: i32): i32 { return unchecked(thAction[t]); }
export function threadCpu(t: i32): i32 { return unchecked(thCpu[t]); }
export function threadSwitches(t: i32): u32 { return unchecked(thSwitches[t]); }
export function threadSince(t: i32): i64 { return unchecked(thSince[t]); }
export function threadWchan(t: i32): i32 { return unchecked(thWchan[t]); }
export function threadBusyNs(t: i32): i64 { return unchecked(thBusy[t]); }
// task_sched_runtime(): the busy time including the step running now, so a sampler sees a
// long step spread over the samples it spans rather than all in the one where it ends.
export function taskSchedRuntime(t: i32): i64 {
  return unchecked(thBusy[t]) + (unchecked(thOnCpu[t]) ? now - unchecked(thStepStart[t]) : 0);
}
// True when the thread's last sleep ended by its timeout rather than a wake-up.
export function threadTimedOut(t: i32): bool { return unchecked(thTimedOut[t]); }

// From inside a step: what the thread does next, and roughly how long it takes.
export function threadNext(t: i32, action: i32, meanNs: i64): void {
  unchecked(thAction[t] = action);
  unchecked(thCost[t] = meanNs);
}

// From inside a step: block. When woken the thread resumes with `action`.
export function threadSleep(t: i32, state: i32, wchan: i32, action: i32, meanNs: i64): void {
  // Only a running thread can put itself to sleep: one still waiting on a runqueue would
  // be dispatched while asleep.
  assert(unchecked(thOnCpu[t]), "threadSleep outside the thread's own step");
  unchecked(thState[t] = state);
  unchecked(thWchan[t] = wchan);
  unchecked(thSince[t] = now);
  unchecked(thAction[t] = action);
  unchecked(thCost[t] = meanNs);
  unchecked(thTimedOut[t] = false);
  trace(t, N_sleep, state, wchan);
}

// schedule_timeout(): sleep at most `timeout` ns; threadTimedOut() tells which ended it.
export function threadSleepTimeout(t: i32, state: i32, wchan: i32, timeout: i64, action: i32, meanNs: i64): void {
  threadSleep(t, state, wchan, action, meanNs);
  unchecked(thTimer[t] = scheduleIn(timeout, EV_TIMEOUT, t));
}

export function threadExit(t: i32): void {
  unchecked(thState[t] = TASK_DEAD);
  unchecked(thSince[t] = now);
  cancelEvent(unchecked(thTimer[t]));
  wqRemove(t);
  trace(t, N_exit);
}

export function wakeUpProcess(t: i32): bool {
  const st = unchecked(thState[t]);
  if (st == TASK_RUNNING || st == TASK_DEAD || st == NOT_A_THREAD) return false;
  cancelEvent(unchecked(thTimer[t]));
  unchecked(thTimer[t] = 0);
  unchecked(thState[t] = TASK_RUNNING);
  unchecked(thSince[t] = now);
  unchecked(thWchan[t] = 0);
  const c = unchecked(thCpu[t]);
  trace(t, N_wake, c);
  if (unchecked(thOnCpu[t])) return true;
  if (timingOn()) placeWakee(c, t);
  wqAdd(unchecked(cpuRq[c]), t);
  kick(c);
  return true;
}

// place_entity() for a wakee, then check_preempt_wakeup() against the running thread.
function placeWakee(c: i32, t: i32): void {
  const floor = unchecked(cpuMinVruntime[c]) - (schedLatencyNs >> 1);
  if (unchecked(thVruntime[t]) < floor) unchecked(thVruntime[t] = floor);
  const curr = unchecked(cpuCurr[c]);
  if (curr >= 0 && unchecked(thVruntime[curr]) - unchecked(thVruntime[t]) > wakeupGranularityNs) {
    if (!unchecked(cpuNeedResched[c])) notePreempt(PREEMPT_WAKEUP);
    unchecked(cpuNeedResched[c] = true);
  }
}

// The schedule_timeout timer of a sleeping thread fired.
export function threadTimeout(t: i32): void {
  unchecked(thTimer[t] = 0);
  if (wakeUpProcess(t)) unchecked(thTimedOut[t] = true);
}

// Starts t's next step on CPU c. Stress mode may starve it first: it leaves the CPU
// (still TASK_RUNNING, on no runqueue) until EV_UNSTARVE; false then.
function startStep(c: i32, t: i32): bool {
  const starve = chaosStarveNs();
  if (starve > 0) {
    unchecked(thOnCpu[t] = false);
    unchecked(cpuCurr[c] = -1);
    scheduleIn(starve, EV_UNSTARVE, t);
    return false;
  }
  unchecked(cpuCurr[c] = t);
  unchecked(thOnCpu[t] = true);
  unchecked(thStepStart[t] = now);
  let len = randDuration(S_SCHED, unchecked(thCost[t]));
  if (timingOn()) {
    len += tickStealNs(now, len);
    const irqLeft = unchecked(cpuIrqUntil[c]) - now;
    if (irqLeft > 0) len += irqLeft;
  }
  unchecked(thStepEnd[t] = now + len);
  unchecked(thStepEv[t] = scheduleAt(now + len, EV_STEP, t));
  return true;
}

// The next thread for CPU c: FIFO in stock worlds, the smallest vruntime under CFS.
function pickNext(c: i32): i32 {
  const rq = unchecked(cpuRq[c]);
  if (!timingOn()) return wqPop(rq);
  let best = -1;
  for (let t = wqFirstAt(rq, 0); t >= 0; t = wqNext(t)) {
    if (best < 0 || unchecked(thVruntime[t]) < unchecked(thVruntime[best])) best = t;
  }
  if (best >= 0) wqRemove(best);
  return best;
}

// Puts the next runnable thread on an idle CPU: a context switch.
function kick(c: i32): void {
  while (unchecked(cpuCurr[c]) < 0) {
    const t = pickNext(c);
    if (t < 0) return;
    unchecked(thSwitches[t] += 1);
    unchecked(thRunSince[t] = now);
    unchecked(cpuNeedResched[c] = false);
    if (unchecked(thVruntime[t]) > unchecked(cpuMinVruntime[c])) unchecked(cpuMinVruntime[c] = unchecked(thVruntime[t]));
    startStep(c, t);
  }
}

// EV_UNSTARVE: a starved thread is runnable on its CPU again.
export function threadUnstarve(t: i32): void {
  if (unchecked(thState[t]) != TASK_RUNNING) return;
  wqAdd(unchecked(cpuRq[unchecked(thCpu[t])]), t);
  kick(unchecked(thCpu[t]));
}

// An interrupt (hardirq + softirq) of `ns` ran on CPU c: the step running there ends
// that much later. Its effects are the caller's, applied now. Raised from inside the step
// that is completing on c (its EV_STEP already fired), it delays the step that starts
// there next instead.
export function softirqOn(c: i32, ns: i64): void {
  if (!timingOn() || ns <= 0) return;
  noteIrq(ns);
  const t = unchecked(cpuCurr[c]);
  if (t < 0) return;
  if (!eventPending(unchecked(thStepEv[t]))) {
    const from = unchecked(cpuIrqUntil[c]) > now ? unchecked(cpuIrqUntil[c]) : now;
    unchecked(cpuIrqUntil[c] = from + ns);
    return;
  }
  cancelEvent(unchecked(thStepEv[t]));
  const end = unchecked(thStepEnd[t]) + ns;
  unchecked(thStepEnd[t] = end);
  unchecked(thStepEv[t] = scheduleAt(end, EV_STEP, t));
}

// A device raised an interrupt on CPU c: its handler and softirq take a drawn time
// (mean `meanNs`, from the device's stream) out of whatever runs there. Worlds on the
// stock scheduler draw nothing.
export function deviceIrq(c: i32, s: i32, meanNs: i64): void {
  if (timingOn()) softirqOn(c, randDuration(s, meanNs));
}

// At a step boundary with others runnable: does the running thread give up its CPU?
function preempted(c: i32, t: i32): bool {
  const nr = wqLen(unchecked(cpuRq[c])) + 1;
  if (!timingOn()) return nr > 1;
  if (nr == 1) return false;
  if (unchecked(cpuNeedResched[c])) return true;
  if (now - unchecked(thRunSince[t]) >= cfsSliceNs(nr)) { notePreempt(PREEMPT_TICK); return true; }
  return false;
}

// CPU time thread t used in steps the model did not run one by one (a think loop planned
// ahead, nfs/lookahead.ts): accounted as those steps would have been (vruntime included,
// which orders its next wake-up against the others on its CPU).
export function threadCharge(t: i32, ns: i64): void {
  unchecked(thBusy[t] += ns);
  unchecked(cpuBusy[unchecked(thCpu[t])] += ns);
  unchecked(thVruntime[t] += ns);
}

// EV_STEP: thread t finished its step. Apply it, then decide who runs next.
export function threadStepDone(t: i32): void {
  const c = unchecked(thCpu[t]);
  const spent = now - unchecked(thStepStart[t]);
  unchecked(thBusy[t] += spent);
  unchecked(cpuBusy[c] += spent);
  unchecked(thVruntime[t] += spent);
  hookStep(t);
  if (unchecked(thState[t]) == TASK_RUNNING) {
    if (preempted(c, t)) {
      unchecked(thOnCpu[t] = false);
      unchecked(cpuCurr[c] = -1);
      wqAdd(unchecked(cpuRq[c]), t);
      kick(c);
    } else if (!startStep(c, t)) {
      kick(c);
    }
    return;
  }
  unchecked(thOnCpu[t] = false);
  unchecked(cpuCurr[c] = -1);
  kick(c);
}

export function entitiesJson(): void {
  jArr();
  for (let e = 0; e < nEnts; e++) {
    jObj();
    jKI("id", e);
    jKName("kind", unchecked(entKind[e]));
    jKName("comm", unchecked(entComm[e]));
    jKI("pid", unchecked(entPid[e]));
    if (isThread(e)) {
      jKI("cpu", unchecked(thCpu[e]));
      jKI("state", unchecked(thState[e]));
      jKName("wchan", unchecked(thWchan[e]));
      jKI("since", unchecked(thSince[e]));
      jKI("busyNs", unchecked(thBusy[e]));
      jKI("switches", unchecked(thSwitches[e]));
    }
    jEndObj();
  }
  jEndArr();
}
