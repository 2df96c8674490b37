// Think loops planned ahead: a loop (one per worker) whose iteration ends its step by
// acting on a drawn choice (which chunk to dirty), then draws a think time and sleeps.
// When most iterations change nothing, running each as a wake-up and a step costs events
// nobody observes. Lookahead draws a loop's next iterations ahead, the same draws in the
// same order (choice, then think time), skips those that `noop` says would change nothing,
// and gives the time the first one that would begins: the loop sleeps once until then.
// A skipped iteration's step starts `delay` after its think time ends (what stress mode's
// starvation would have held it off its CPU) and ends `stepNs` later (the step's mean
// cost). When something changes what `noop` answers, replan() predicts again from the
// loop's first iteration whose step has not ended.
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const LOOKAHEAD_ITERATIONS: i32 = 128;          // drawn ahead per loop
const P = LOOKAHEAD_ITERATIONS;

export type NoopFn = (loop: i32, choice: i32, at: i64) => bool;
export type ChoiceFn = (loop: i32) => i32;
export type ThinkFn = (loop: i32) => i64;
export type DelayFn = (loop: i32) => i64;

export class Lookahead {
  private choice: StaticArray<i32>;    // a ring of iterations per loop
  private thinkNs: StaticArray<i64>;   // -1: not drawn yet
  private wakeAt: StaticArray<i64>;    // when the iteration's think sleep ends
  private delayNs: StaticArray<i64>;   // then its step starts this much later; -1: not drawn
  private head: StaticArray<i32>;
  private len: StaticArray<i32>;
  private skip: StaticArray<i32>;      // the ring's first iterations, skipped
  private endAt: StaticArray<i64>;     // when the loop's sleep ends
  skipped: i64 = 0;                    // iterations skipped so far, all loops

  // `used`: above every loop the owner has started (reset), for the instance reset
  constructor(loops: i32, used: () => i32, public stepNs: i64, private noop: NoopFn, private drawChoice: ChoiceFn, private drawThink: ThinkFn, private drawDelay: DelayFn) {
    rowsBegin(loops, used);
    this.choice = zeroed<i32>(loops * P);
    this.thinkNs = zeroed<i64>(loops * P);
    this.wakeAt = zeroed<i64>(loops * P);
    this.delayNs = zeroed<i64>(loops * P);
    this.head = zeroed<i32>(loops);
    this.len = zeroed<i32>(loops);
    this.skip = zeroed<i32>(loops);
    this.endAt = zeroed<i64>(loops);
    rowsEnd();
  }

  @inline private at(l: i32, j: i32): i32 { return l * P + (unchecked(this.head[l]) + j) % P; }
  private pop(l: i32, n: i32): void {
    unchecked(this.head[l] = (unchecked(this.head[l]) + n) % P);
    unchecked(this.len[l] -= n);
  }

  // The loop starts over (a new thread): nothing drawn ahead.
  reset(l: i32): void {
    unchecked(this.head[l] = 0);
    unchecked(this.len[l] = 0);
    unchecked(this.skip[l] = 0);
  }

  // The loop's sleep is over (or was cut short): its skipped iterations are done.
  woke(l: i32): void {
    const n = unchecked(this.skip[l]);
    this.skipped += n;
    this.pop(l, n);
    unchecked(this.skip[l] = 0);
  }

  // The iteration running now: its choice, then its think time (it then leaves the ring).
  nextChoice(l: i32): i32 {
    if (unchecked(this.len[l]) > 0) return unchecked(this.choice[this.at(l, 0)]);
    const f = this.drawChoice;
    return f(l);
  }
  nextThink(l: i32): i64 {
    let d: i64 = -1;
    if (unchecked(this.len[l]) > 0) {
      d = unchecked(this.thinkNs[this.at(l, 0)]);
      this.pop(l, 1);
    }
    if (d >= 0) return d;
    const f = this.drawThink;
    return f(l);
  }

  // The loop sleeps; its next iteration's think sleep would end at `wakeAt`. Returns when
  // its sleep ends: when the first iteration that would change state begins (or at or
  // past `horizon`, when the loop is woken anyway).
  sleep(l: i32, wakeAt: i64, horizon: i64): i64 { return this.plan(l, 0, wakeAt, horizon); }

  // Has the loop an iteration from j on (the one its sleep ends for included) with `choice`?
  private pending(l: i32, j: i32, choice: i32): bool {
    const n = min(unchecked(this.skip[l]) + 1, unchecked(this.len[l]));
    for (; j < n; j++) if (unchecked(this.choice[this.at(l, j)]) == choice) return true;
    return false;
  }

  private lastNoop(l: i32): bool {
    const j = unchecked(this.skip[l]);
    if (j >= unchecked(this.len[l])) return false;
    const e = this.at(l, j);
    const noop = this.noop;
    return noop(l, unchecked(this.choice[e]), this.stepEnd(e));
  }

  @inline private stepEnd(e: i32): i64 { return unchecked(this.wakeAt[e]) + unchecked(this.delayNs[e]) + this.stepNs; }

  // The sleeping loop's skipped iterations whose step has ended by `now`.
  doneBy(l: i32, now: i64): i32 {
    let j = 0;
    const n = unchecked(this.skip[l]);
    while (j < n && this.stepEnd(this.at(l, j)) <= now) j++;
    return j;
  }

  // A skipped iteration whose think time is over by `now` but whose step has not ended
  // (held off its CPU, or running) runs after all: the loop's sleep ends when its step
  // starts, returned; -1 if there is none.
  keepRunning(l: i32, now: i64): i64 {
    const j = this.doneBy(l, now);
    if (j == unchecked(this.skip[l])) return -1;
    const e = this.at(l, j);
    if (unchecked(this.wakeAt[e]) > now) return -1;
    unchecked(this.skip[l] = j);
    unchecked(this.endAt[l] = unchecked(this.wakeAt[e]));
    return unchecked(this.wakeAt[e]) + unchecked(this.delayNs[e]);
  }

  // Something `noop` reads changed at `now`, for choice `choice` only (-1: for any): when
  // the sleeping loop's sleep ends now. Iterations with another choice answer as before,
  // unless the one the sleep ends for now changes nothing (changes that way are not told).
  replan(l: i32, now: i64, horizon: i64, choice: i32 = -1): i64 {
    const j = this.doneBy(l, now);
    if (choice >= 0 && !this.pending(l, j, choice) && !this.lastNoop(l)) return unchecked(this.endAt[l]);
    return this.plan(l, j, j < unchecked(this.skip[l]) ? unchecked(this.wakeAt[this.at(l, j)]) : unchecked(this.endAt[l]), horizon);
  }

  private plan(l: i32, j: i32, wakeAt: i64, horizon: i64): i64 {
    const noop = this.noop;
    let w = wakeAt;
    while (j < P && w < horizon) {
      if (j == unchecked(this.len[l])) {
        const f = this.drawChoice;
        const e = this.at(l, j);
        unchecked(this.choice[e] = f(l));
        unchecked(this.thinkNs[e] = -1);
        unchecked(this.delayNs[e] = -1);
        unchecked(this.len[l] += 1);
      }
      const e = this.at(l, j);
      unchecked(this.wakeAt[e] = w);
      if (unchecked(this.delayNs[e]) < 0) {
        const f = this.drawDelay;
        unchecked(this.delayNs[e] = f(l));
      }
      if (!noop(l, unchecked(this.choice[e]), this.stepEnd(e))) break;
      if (unchecked(this.thinkNs[e]) < 0) {
        const f = this.drawThink;
        unchecked(this.thinkNs[e] = f(l));
      }
      w = this.stepEnd(e) + unchecked(this.thinkNs[e]);
      j++;
    }
    unchecked(this.skip[l] = j);
    unchecked(this.endAt[l] = w);
    return w;
  }
}
