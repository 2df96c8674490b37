// Knob rows both sunrpc-* scenarios share: the timing mode (asm/kernel/timing.ts) and
// LTP mmap3, the reproducer of the thread (Andrew Chen ran it on UDP and TCP mounts).
import type { KnobSpec } from "../types";
import { floatKnob as float, intKnob as int } from "../knobs";

export const STRESS_KNOB: KnobSpec = float(
  "stress_per_1k", "Stress mode: starvations per 1000 steps", "kernel", 0, 0, 1000,
  "0: realistic timing (CFS preemption, tick and NIC interrupts: the lab's statistics). Above 0: stress mode, which also takes any thread off its CPU before any step with this probability (per 1000 steps), for 1 µs to 16 ms drawn log-uniformly, like rr's chaos mode: it finds rare interleavings fast and never targets a named point");

export const mmap3Knobs = (cycles: number): KnobSpec[] => [
  int("instances", "mmap3 instances", "workload", 2, 1, 4, "mmap3 processes running side by side (each a thread group with its own file)"),
  int("mmap3_threads", "Threads per mmap3", "workload", 4, 1, 8, "threads of each mmap3: they map the file, dirty it, unmap it, and stat it (GETATTR when the attribute cache expired)"),
  float("map_mb", "Mapping size", "workload", 4, 0.0625, 64, "size of the shared mapping each mmap3 dirties", "MiB"),
  float("mmap3_run_s", "mmap3 run length", "workload", 10, 1, 600, "alarm(): mmap3 exits on SIGALRM after this long; the threads are killed wherever they are (a sync RPC, close)", "s"),
  int("cycles", "mmap3 runs", "workload", cycles, 1, 400, "how many times the LTP loop starts mmap3 (the report needed fewer than 200)"),
  float("think_ms", "Think time", "workload", 40, 0, 10000, "pause between a thread's map/unmap cycles", "ms"),
  float("actimeo_ms", "Attribute cache timeout", "kernel", 200, 10, 60000, "how long a GETATTR result is trusted (acregmin); each expiry sends a sync GETATTR", "ms"),
];

export const EXIT_RACE_KNOB: KnobSpec = float("exit_race_us", "mdelay() in __rpc_execute", "kernel", 0, 0, 1000000, "a debugging mdelay() inserted in __rpc_execute() between a sync task's killable wait returning -ERESTARTSYS ('got signal') and rpc_exit()'s RPC_IS_QUEUED test: the window in which __xprt_lock_write_next can hand the exiting task XPRT_LOCKED (0: stock kernel). do_exit() itself runs only after the RPC is torn down, so it is not in the window", "µs");
