// The timing-model knob both sunrpc-* scenarios share (asm/kernel/timing.ts).
import type { KnobSpec } from "../types";
import { floatKnob } from "../knobs";

export const STRESS_KNOB: KnobSpec = floatKnob(
  "stress_per_1k", "Stress mode: starvations per 1000 steps", "kernel", 0, 0, 1000,
  "0: realistic timing (CFS preemption, tick and NIC interrupts: the lab's statistics). Above 0: stress mode, which also takes any thread off its CPU before any step with this probability (per 1000 steps), for 1 µs to 16 ms drawn log-uniformly, like rr's chaos mode: it finds rare interleavings fast and never targets a named point");
