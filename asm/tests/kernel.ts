// The kernel test module: the host ABI, direct handles on each primitive, and a probe
// scenario for the scheduler and khungtaskd. Built to build/kernel-test.wasm and used
// only by test/kernel.test.ts; it is not part of the lab's catalog.
export * from "../abi";
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { scheduleAt, popEvent, cancelEvent, eventPending, curObj, curKind, eventKind, eventKindAt, kindsSeal } from "../kernel/events";
import { wqNew, wqAdd, wqAddHead, wqPop, wqRemove, wqLen } from "../kernel/waitq";
import { stream, randU32, prngSeed } from "../kernel/prng";
import { bitsNew, testAndSetBit, clearBit, testBit } from "../kernel/bitops";
import { resNew, resHold, wfWait, wfFindCycle, wfCycleFrom, wfWaitChecked, wfCycleLen, wfCycleEnt } from "../kernel/waitfor";
import { knob, kv, kvi, scenario } from "../kernel/config";
import { fn, name } from "../kernel/names";
import { setHooks, KIND_MODEL } from "../kernel/hooks";
import {
  cpusInit, threadNew, threadNext, threadSleep, threadState, wakeUpProcess, entNew, entCount,
  TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE, threadSleepTimeout, threadTimedOut, threadCpu, deviceIrq,
} from "../kernel/sched";
import { hungTaskInit, hungReports } from "../kernel/hungtask";
import { timingInit, TIMING_REALISTIC, TIMING_STRESS } from "../kernel/timing";
import { chargeWork, setCostBudget, setTimeLimit, setVerdict, worldStop, VERDICT_LEAK } from "../kernel/world";
import { trace } from "../kernel/trace";
import { jObj, jEndObj, jKI } from "../kernel/json";
import { zeroed } from "../kernel/mem";
import {
  sockCreate, sockRelease, skSetStateChange, tcpState, tcpConnect, tcpRcvSynAck, tcpRcvFin, tcpRcvFinAck, tcpReset,
  tcpShutdown, tcpDisconnect, tcpSendCheck, tcpSockErr,
} from "../net/tcp";

// events
export function t_schedule(at: f64, obj: i32): i32 { return scheduleAt(<i64>at, KIND_MODEL, obj); }
export function t_pop(): i32 { return popEvent(i64.MAX_VALUE) ? curObj : -1; }
export function t_now(): f64 { return <f64>now; }
export function t_cancel(h: i32): i32 { return cancelEvent(h) ? 1 : 0; }
export function t_pending(h: i32): i32 { return eventPending(h) ? 1 : 0; }

// event kinds: register a new one (0), the probe's name again (1), or its number again (2),
// before (sealed 0: as at module start) or after kindsSeal (what worldInit does)
let kindSerial = 0;
export function t_kind_register(how: i32, sealed: i32): i32 {
  if (sealed != 0) kindsSeal();
  if (how == 1) return eventKind("probe.wake_all");
  if (how == 2) return eventKindAt(EV_WAKE_ALL, "probe.again");
  return eventKind("probe.k" + (kindSerial++).toString());
}
export function t_kinds_seal(): void { kindsSeal(); }

// wait queues
export function t_wq_new(levels: i32): i32 { return wqNew(0, levels); }
export function t_wq_add(q: i32, item: i32, level: i32): void { wqAdd(q, item, level); }
export function t_wq_add_head(q: i32, item: i32, level: i32): void { wqAddHead(q, item, level); }
export function t_wq_pop(q: i32): i32 { return wqPop(q); }
export function t_wq_remove(item: i32): i32 { return wqRemove(item) ? 1 : 0; }
export function t_wq_len(q: i32): i32 { return wqLen(q); }

// TCP socket state (asm/net/tcp.ts): ops 0 connect, 1 SYN-ACK in, 2 FIN in, 3 ACK of
// our FIN in, 4 RST in, 5 shutdown(SHUT_WR), 6 AF_UNSPEC connect. The state_change
// callback records the states it saw (one decimal digit pair each).
let skSeen: i64 = 0;
function skSeenState(sk: i32): void { skSeen = skSeen * 100 + tcpState(sk); }
export function t_sk_create(): i32 {
  const sk = sockCreate(0, 1000);
  skSetStateChange(sk, skSeenState);
  skSeen = 0;
  return sk;
}
export function t_sk_op(sk: i32, op: i32): i32 {
  if (op == 0) tcpConnect(sk);
  else if (op == 1) tcpRcvSynAck(sk);
  else if (op == 2) tcpRcvFin(sk);
  else if (op == 3) tcpRcvFinAck(sk);
  else if (op == 4) return tcpReset(sk) ? 1 : 0;
  else if (op == 5) return tcpShutdown(sk) ? 1 : 0;
  else if (op == 6) return tcpDisconnect(sk) ? 1 : 0;
  return 0;
}
export function t_sk_state(sk: i32): i32 { return tcpState(sk); }
export function t_sk_seen(): f64 { return <f64>skSeen; }
export function t_sk_send_check(sk: i32): i32 { return tcpSendCheck(sk); }
export function t_sk_err(sk: i32): i32 { return tcpSockErr(sk); }
export function t_sk_release(sk: i32): i32 { return sockRelease(sk) ? 1 : 0; }

// PRNG streams
const S_A = stream("test.a");
const S_B = stream("test.b");
export function t_seed(lo: u32, hi: u32): void { prngSeed((<u64>hi << 32) | lo); }
export function t_rand(s: i32): u32 { return randU32(s == 0 ? S_A : S_B); }

// bit locks and the wait-for graph
export function t_bits_new(): i32 { return bitsNew(); }
export function t_test_and_set(w: i32, bit: i32): i32 { return testAndSetBit(w, bit) ? 1 : 0; }
export function t_clear(w: i32, bit: i32): void { clearBit(w, bit); }
export function t_test(w: i32, bit: i32): i32 { return testBit(w, bit) ? 1 : 0; }
const N_ent = name("test-entity");
export function t_ent(): i32 { return entNew(N_ent, N_ent, 0); }
export function t_res(): i32 { return resNew(N_ent); }
export function t_hold(r: i32, e: i32): void { resHold(r, e); }
export function t_wait(e: i32, r: i32): void { wfWait(e, r); }
export function t_cycle_from(e: i32): i32 { return wfCycleFrom(e); }
export function t_find_cycle(): i32 { return wfFindCycle(entCount()); }
export function t_wait_checked(e: i32, r: i32): void { wfWaitChecked(e, r); }
export function t_cycle_len(): i32 { return wfCycleLen(); }
export function t_cycle_ent(i: i32): i32 { return wfCycleEnt(i); }

// The probe scenario: `probe.threads` threads on `probe.cpus` CPUs each run
// `probe.steps` steps, then sleep uninterruptibly (or interruptibly with
// probe.interruptible=1). If probe.wake_s > 0 a model event wakes them all then, and
// they finish. probe.spin=1 makes them never sleep (for the event budget).
const K_THREADS = knob("probe.threads");
const K_CPUS = knob("probe.cpus");
const K_STEPS = knob("probe.steps");
const K_WAKE = knob("probe.wake_s");
const K_SPIN = knob("probe.spin");
const K_BUDGET = knob("probe.budget");
const K_WORK = knob("probe.work");
const K_INTR = knob("probe.interruptible");
const K_TIMEOUT = knob("probe.sleep_timeout_s");
const K_TIMING = knob("probe.timing");      // 0 stock scheduler, 1 realistic, 2 stress
const K_CHAOS = knob("probe.chaos");        // stress mode: starvations per 1000 steps
const K_IRQ = knob("probe.irq_ns");         // each step raises an interrupt this long on its own CPU
const S_PROBE_IRQ = stream("irq.probe");
const N_probe = name("probe");
const N_work = fn("probe_work", "step=%d");
const N_wait = name("probe_wait");
const EV_WAKE_ALL = eventKind("probe.wake_all");
let nThreads: i32 = 0;
let stepsDone = zeroed<i32>(256);
let done: i32 = 0;
let timedOut: i32 = 0;

function probeStep(t: i32): void {
  const k = unchecked(stepsDone[t]);
  if (k < 0) {          // woken after its sleep
    if (threadTimedOut(t)) timedOut++;
    unchecked(stepsDone[t] = 1 << 30);
    done++;
    threadSleep(t, TASK_INTERRUPTIBLE, N_wait, 0, 1000);
    if (done == nThreads) worldStop();
    return;
  }
  trace(t, N_work, k);
  chargeWork(kvi(K_WORK));
  if (kv(K_IRQ) > 0) deviceIrq(threadCpu(t), S_PROBE_IRQ, kvi(K_IRQ));
  unchecked(stepsDone[t] = k + 1);
  if (kv(K_SPIN) == 0 && k + 1 >= kvi(K_STEPS)) {
    unchecked(stepsDone[t] = -1);
    const st = kv(K_INTR) != 0 ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE;
    if (kv(K_TIMEOUT) > 0) threadSleepTimeout(t, st, N_wait, kvi(K_TIMEOUT) * NSEC_PER_SEC, 0, 1000);
    else threadSleep(t, st, N_wait, 0, 1000);
  } else {
    threadNext(t, 0, 10000);
  }
}

function probeEvent(kind: i32, obj: i32, arg: i32): void {
  if (kind == EV_WAKE_ALL) for (let t = 0; t < nThreads; t++) wakeUpProcess(t);
}

function probeFinish(): void {
  if (done < nThreads && hungReports() == 0 && kv(K_WAKE) > 0) setVerdict(VERDICT_LEAK);
}

function probeEvidence(): void {
  jObj(); jKI("done", done); jKI("timedOut", timedOut); jEndObj();
}

function probeSnapshot(): void {
  jObj(); jKI("threads", nThreads); jKI("done", done); jEndObj();
}

scenario("kernel-probe", (): void => {
  setHooks(probeStep, probeEvent, (t: i32): void => {}, probeFinish, probeEvidence, probeSnapshot);
  cpusInit(<i32>kvi(K_CPUS));
  if (kvi(K_TIMING) > 0) timingInit(kvi(K_TIMING) == 1 ? TIMING_REALISTIC : TIMING_STRESS, kv(K_CHAOS), <i32>kvi(K_CPUS));
  nThreads = <i32>kvi(K_THREADS);
  for (let i = 0; i < nThreads; i++) threadNew(N_probe, 100 + i, i, 0, 10000);
  if (kv(K_WAKE) > 0) scheduleAt(<i64>(kv(K_WAKE) * <f64>NSEC_PER_SEC), EV_WAKE_ALL, 0);
  hungTaskInit(120 * NSEC_PER_SEC);
  if (kv(K_BUDGET) > 0) setCostBudget(kvi(K_BUDGET));
  setTimeLimit(1000 * NSEC_PER_SEC);
});
