// The kernel's timing model (asm/kernel/timing.ts) through the kernel test module's probe:
// threads that spin on one CPU are scheduled as CFS would (slices, fair shares), stress
// mode starves threads at random and says so, every mode is deterministic, and a world
// that does not opt in keeps the stock scheduler.
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";

const mod = () => loadModule("kernel-test.wasm");
const probe: ScenarioSpec = {
  id: "kernel-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [
    ["probe.threads", 2], ["probe.cpus", 1], ["probe.steps", 3], ["probe.wake_s", 0],
    ["probe.spin", 0], ["probe.budget", 0], ["probe.interruptible", 0], ["probe.sleep_timeout_s", 0],
    ["probe.timing", 0], ["probe.chaos", 0], ["probe.irq_ns", 0],
  ].map(([name, def]) => ({ name: name as string, label: name as string, group: "workload" as const, type: "int" as const, default: def as number, min: 0, max: 1e9, description: "" })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  const i = SCENARIOS.findIndex((s) => s.id === probe.id);
  if (i >= 0) SCENARIOS.splice(i, 1);
  SCENARIOS.push(probe);
});

// Three threads spinning 10 µs steps on one CPU for `budget` events.
const spin = (timing: number, extra: Record<string, number> = {}, seed = 1) => {
  const w = World.create(mod(), {
    scenario: "kernel-probe", seed,
    knobs: { "probe.threads": 3, "probe.cpus": 1, "probe.spin": 1, "probe.budget": 30000, "probe.timing": timing, ...extra },
  }, { traceCapacity: 0 });
  const r = w.run();
  const threads: any[] = w.entities().filter((e: any) => e.kind === "thread");
  return { r, threads };
};

describe("timing model", () => {
  it("stock worlds switch at every step boundary; realistic CFS runs a slice (6 ms / 3 threads) before switching", () => {
    const stock = spin(0);
    const cfs = spin(1);
    expect(stock.r.timingMode).toBe("stock");
    expect(cfs.r.timingMode).toBe("realistic");
    const switches = (t: any[]) => t.reduce((n, e) => n + e.switches, 0);
    const busy = (t: any[]) => t.reduce((n, e) => n + e.busyNs, 0);
    // stock: one switch per step (~10 µs); CFS: one per slice (2 ms for 3 threads on 1 CPU)
    expect(switches(stock.threads)).toBeGreaterThan(busy(stock.threads) / 50e3);
    const perSwitch = busy(cfs.threads) / switches(cfs.threads);
    expect(perSwitch).toBeGreaterThan(1.9e6);
    expect(perSwitch).toBeLessThan(2.5e6);
    expect((cfs.r.timing as any).preemptTick).toBeGreaterThan(0);
    // fair: each thread gets about a third of the CPU
    for (const t of cfs.threads) expect(t.busyNs / busy(cfs.threads)).toBeCloseTo(1 / 3, 1);
    // the tick steals time from whatever runs
    expect((cfs.r.timing as any).tickNs).toBeGreaterThan(0);
    expect((stock.r.timing as any).tickNs).toBe(0);
  });

  it("stress mode starves threads at random, deterministically, and the result says so", () => {
    const a = spin(2, { "probe.chaos": 100 }, 5);
    const b = spin(2, { "probe.chaos": 100 }, 5);
    expect(a.r.timingMode).toBe("stress");
    expect((a.r.timing as any).starved).toBeGreaterThan(1000);
    expect(a.r.traceHash).toBe(b.r.traceHash);
    // about 10% of step starts
    const steps = a.threads.reduce((n: number, e: any) => n + e.busyNs, 0) / 10e3;
    expect((a.r.timing as any).starved / steps).toBeGreaterThan(0.05);
    expect((a.r.timing as any).starved / steps).toBeLessThan(0.2);
    expect(spin(2, { "probe.chaos": 100 }, 6).r.traceHash).not.toBe(a.r.traceHash);
    expect(spin(1, {}, 5).r.traceHash).not.toBe(a.r.traceHash);
  });

  it("an interrupt raised inside the step completing on its own CPU delays the next step there, once", () => {
    // Each 10 µs step raises ~5 µs of interrupt on its own CPU. One CPU, always busy:
    // its threads' busy time is the run's time, and every step runs exactly once.
    const plain = spin(1, { "probe.budget": 3000 });
    const irq = spin(1, { "probe.budget": 3000, "probe.irq_ns": 5000 });
    const busy = (t: any[]) => t.reduce((n, e) => n + e.busyNs, 0);
    expect((irq.r.timing as any).irqNs).toBeGreaterThan(0);
    expect(busy(irq.threads)).toBeLessThanOrEqual(irq.r.simTimeNs);
    expect(busy(irq.threads) - busy(plain.threads)).toBeGreaterThan(0.9 * (irq.r.timing as any).irqNs);
    expect(irq.r.events).toBe(plain.r.events);
  });

  it("the other three scenarios run on the model: realistic by default, their devices interrupt, stress on the knob", () => {
    const run = (id: string, knobs: Record<string, unknown> = {}) =>
      World.create(loadModule(), { scenario: id, seed: 1, knobs }, { traceCapacity: 0 }).run();
    for (const id of ["nfs-odirect-retransmit", "socklnd-scheduler", "blktap2-teardown"]) {
      const r = run(id);
      expect(r.timingMode).toBe("realistic");
      expect((r.timing as any).irqNs).toBeGreaterThan(0);
      expect(run(id).traceHash).toBe(r.traceHash);
      const s = run(id, { stress_per_1k: 100 });
      expect(s.timingMode).toBe("stress");
      expect((s.timing as any).starved).toBeGreaterThan(0);
    }
  });
});
