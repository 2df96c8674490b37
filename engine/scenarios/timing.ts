// The assumption line every scenario on the kernel's timing model states, with what its
// devices interrupt.
export const timingAssumption = (interrupts: string): string =>
  "Timing is the kernel core's model (asm/kernel/timing.ts), realistic by default: CFS slices and wake-up preemption (CONFIG_PREEMPT, HZ=1000), tick time and device interrupts; stress_per_1k > 0 adds random starvation of any thread before any step (rr's chaos mode). Every result says which mode made it. " + interrupts;
