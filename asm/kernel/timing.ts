// The timing model: what delays a thread beyond the CPU cost of its own steps. One set
// of sources, the same at every point of every code path; nothing here knows a model's
// function names. sched.ts asks it three questions: how much time interrupts steal from
// a step, whether the running thread is preempted at a step boundary, and (stress mode)
// whether a thread is starved before its next step.
//
// A scenario opts in with one call after cpusInit(): timingInit(TIMING_REALISTIC, 0) or
// timingInit(TIMING_STRESS, perMille). A world that never calls it keeps the stock
// scheduler (round-robin at every step boundary, no interrupt time), so scenarios not yet
// moved onto the model keep their traces.
//
// Realistic mode, the defaults and where they come from (3.x kernels, 2012):
// - CFS (kernel/sched/fair.c, SCHED_TUNABLESCALING_LOG): factor = 1 + ilog2(min(ncpus, 8));
//   sysctl_sched_latency = 6 ms x factor, sched_min_granularity = 0.75 ms x factor,
//   sched_wakeup_granularity = 1 ms x factor, sched_nr_latency = 8. A thread's slice is
//   period / nr_running, period = latency (or nr x min_granularity above nr_latency);
//   the tick (HZ=1000) preempts the current thread once it has run its slice and another
//   is runnable (check_preempt_tick). A woken thread's vruntime is placed at
//   min_vruntime - latency/2 (GENTLE_FAIR_SLEEPERS) and it preempts the current thread
//   when their vruntimes differ by more than the wakeup granularity (check_preempt_wakeup).
//   Equal nice levels: vruntime advances by CPU time. CONFIG_PREEMPT: a process-context
//   thread can be preempted at any step boundary.
// - The tick itself: HZ=1000, each tick steals TICK_NS (scheduler_tick + run_timer_softirq,
//   ~1-2 us on 2012 x86/ARM) from whatever runs on the CPU.
// - Device interrupts: the model calls softirqOn(cpu, ns) where its NIC raises one
//   (sched.ts stretches the step running there); durations are drawn by the caller from
//   its own stream.
// - kworker queueing is not a source here: work items queue on their kworker's list and
//   the kworker competes for its CPU like any thread.
//
// Stress mode: realistic mode plus chaos (rr's chaos mode, PCT's random priority changes):
// before any step of any thread, with probability perMille/1000, the thread is taken off
// its CPU for a duration drawn log-uniformly from 1 us to ~16 ms. It never looks at what
// the thread is doing.
import { stream, randChanceU32, randRange } from "./prng";
import { jObj, jEndObj, jKI, jKS } from "./json";

export const TIMING_STOCK: i32 = 0;
export const TIMING_REALISTIC: i32 = 1;
export const TIMING_STRESS: i32 = 2;

export const HZ_TICK_NS: i64 = 1000000;
export const TICK_NS: i64 = 1500;

const S_CHAOS = stream("sched.chaos");

export let timingMode: i32 = TIMING_STOCK;
let chaosThreshold: u32 = 0;      // randU32 below this: starve
export let schedLatencyNs: i64 = 6000000;
export let minGranularityNs: i64 = 750000;
export let wakeupGranularityNs: i64 = 1000000;
const SCHED_NR_LATENCY: i32 = 8;

// counters for the result
export let nPreemptTick: i32 = 0;
export let nPreemptWakeup: i32 = 0;
export let nStarved: i32 = 0;
export let irqStolenNs: i64 = 0;
export let tickStolenNs: i64 = 0;

export const PREEMPT_TICK: i32 = 0;
export const PREEMPT_WAKEUP: i32 = 1;
export function notePreempt(kind: i32): void {
  if (kind == PREEMPT_TICK) nPreemptTick++;
  else nPreemptWakeup++;
}
export function noteIrq(ns: i64): void { irqStolenNs += ns; }

function ilog2(n: i32): i32 { return 31 - clz<i32>(n); }

export function timingInit(mode: i32, chaosPerMille: f64, ncpus: i32): void {
  assert(mode == TIMING_REALISTIC || mode == TIMING_STRESS, "timingInit: realistic or stress");
  assert(ncpus >= 1, "timingInit after cpusInit");
  timingMode = mode;
  const factor = <i64>(1 + ilog2(ncpus < 8 ? ncpus : 8));
  schedLatencyNs = 6000000 * factor;
  minGranularityNs = 750000 * factor;
  wakeupGranularityNs = 1000000 * factor;
  if (mode == TIMING_STRESS) {
    assert(chaosPerMille > 0 && chaosPerMille <= 1000, "stress mode needs a starvation rate in (0, 1000] per mille");
    chaosThreshold = <u32>(chaosPerMille / 1000.0 * 4294967295.0);
  }
}

export function timingOn(): bool { return timingMode != TIMING_STOCK; }

// The slice of a thread on a CPU with nr runnable threads (sched_slice, equal weights).
export function cfsSliceNs(nr: i32): i64 {
  if (nr <= 1) return schedLatencyNs;
  const period = nr > SCHED_NR_LATENCY ? <i64>nr * minGranularityNs : schedLatencyNs;
  return period / <i64>nr;
}

// Time the tick steals from a step that runs from `start` for `len` ns: one TICK_NS per
// tick boundary the step crosses (the ticks are in phase on every CPU).
export function tickStealNs(start: i64, len: i64): i64 {
  const ticks = (start + len) / HZ_TICK_NS - start / HZ_TICK_NS;
  const ns = ticks * TICK_NS;
  tickStolenNs += ns;
  return ns;
}

// Stress mode: is the thread starved before this step, and for how long (0: no).
export function chaosStarveNs(): i64 {
  if (timingMode != TIMING_STRESS) return 0;
  if (!randChanceU32(S_CHAOS, chaosThreshold)) return 0;
  nStarved++;
  const k = <i32>randRange(S_CHAOS, 0, 14);          // 1 us .. 16 ms, log-uniform
  const base: i64 = 1000 << k;
  return base + randRange(S_CHAOS, 0, base - 1);
}

export function timingModeName(): string {
  if (timingMode == TIMING_REALISTIC) return "realistic";
  if (timingMode == TIMING_STRESS) return "stress";
  return "stock";
}

// {mode, preemptTick, preemptWakeup, starved, irqNs, tickNs}: which model timed the run
export function timingJson(): void {
  jObj();
  jKS("mode", timingModeName());
  jKI("preemptTick", nPreemptTick);
  jKI("preemptWakeup", nPreemptWakeup);
  jKI("starved", nStarved);
  jKI("irqNs", irqStolenNs);
  jKI("tickNs", tickStolenNs);
  jEndObj();
}
