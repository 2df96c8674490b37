// Sweeps reuse one instance per worker and check their own determinism (issue 13):
// a reused, restored instance must give exactly what a fresh one gives, the check must
// pass on the real model and catch a planted source of nondeterminism, naming its first
// divergent event.
import { afterAll, describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { SCENARIOS } from "../catalog";
import { defaultKnobs, defaultPatches, validateConfig } from "../config";
import { Runner, instantiate } from "../wasm";
import { World } from "../world";
import { runSeed, repro, scheduleSweep } from "../sweep";
import type { SeedOutcome } from "../sweep";
import { sweepParallel } from "../node/sweep";
import { NodePool, sharedPool } from "../node/pool";

const SEEDS = 20;

describe("a reused instance", () => {
  // One runner across every scenario and patch set, so each run starts from state a
  // different configuration left behind.
  const runner = new Runner(loadModule());
  const cases = SCENARIOS.flatMap((spec) => spec.expected.map((e) => [spec.id, JSON.stringify(e.patches), spec, e] as const));
  it.each(cases)(`gives a fresh instance's outcome: %s with %s, ${SEEDS} seeds`, (_id, _label, spec, e) => {
    const base = validateConfig({
      scenario: spec.id,
      patches: { ...defaultPatches(spec), ...e.patches },
      knobs: { ...defaultKnobs(spec), ...(e.knobs ?? {}) },
    });
    for (let seed = 1; seed <= SEEDS; seed++) {
      const reused = runSeed(runner, base, seed);
      const fresh = World.create(loadModule(), { ...base, seed }, { traceCapacity: 0 }).run();
      expect({ ...reused, marks: undefined }).toEqual({
        seed, verdict: fresh.verdict, status: fresh.status, simTimeNs: fresh.simTimeNs, events: fresh.events, traceHash: fresh.traceHash, marks: undefined,
      });
    }
    expect(runner.resets).toBeGreaterThan(0);
  }, 600_000);
});

describe("an instance reset", () => {
  // Byte for byte the memory of an instance just started (and snapshotted the same way):
  // after a run of every scenario and of every preset (their knobs reach tables the
  // defaults leave alone), and after a trap that left a row table's row written but not
  // counted (then the reset must not trust the tables' high-water marks).
  const mod = loadModule();
  const started = (): Uint32Array => {
    const x = instantiate(mod);
    x.globals_save(x.mem_snapshot(x.heap_top(), x.globals_bytes()));
    return new Uint32Array(x.memory.buffer.slice(0));
  };
  const firstDiff = (a: Uint32Array, b: Uint32Array) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i * 4;
    return -1;
  };
  it("gives the started instance's memory back, after runs and after a trap midway", () => {
    const want = started();
    const runner = new Runner(mod);
    for (const spec of SCENARIOS) {
      const runs = [{ seed: 3, knobs: {}, patches: {} }, ...spec.presets];
      for (const r of runs) {
        runSeed(runner, validateConfig({ scenario: spec.id, knobs: r.knobs, patches: r.patches }), r.seed);
        const x = runner.fresh();
        expect(firstDiff(want, new Uint32Array(x.memory.buffer, 0, want.length)), `${spec.id} after ${JSON.stringify(r)}`).toBe(-1);
      }
      const x = runner.fresh();
      expect(() => x.test_uncounted_row()).toThrow(/unreachable/);
      const y = runner.fresh();
      expect(firstDiff(want, new Uint32Array(y.memory.buffer, 0, want.length))).toBe(-1);
    }
  }, 600_000);
});

describe("the sweep scheduler", () => {
  it("runs every seed once, in contiguous chunks, and an idle worker steals from a busy one", async () => {
    const chunks: Array<{ w: number; first: number; count: number }> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const outcome = (seed: number): SeedOutcome => ({ seed, verdict: "ok", status: "complete", simTimeNs: 0, events: 0, traceHash: "0" });
    const seen: number[] = [];
    await scheduleSweep({
      count: 2,
      async chunk(w, first, count) {
        chunks.push({ w, first, count });
        // worker 0 stalls on its first chunk until worker 1 has run out of its own slice
        if (w === 0) await gate;
        return Array.from({ length: count }, (_, i) => outcome(first + i));
      },
      verify: async () => [],
      trace: async () => ({ first: 0, records: [] }),
    }, 1, 199, 0, (rows) => {
      seen.push(...rows.map((r) => r.seed));
      if (chunks.some((c) => c.w === 1 && c.first < 100)) release();
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 199 }, (_, i) => i + 1));
    // worker 1 went on into worker 0's slice (seeds 1..99) while worker 0 was stuck
    expect(chunks.some((c) => c.w === 1 && c.first < 100)).toBe(true);
    expect(chunks.filter((c) => c.w === 0).length).toBeLessThan(chunks.filter((c) => c.w === 1).length);
  });
});

describe("--check-determinism", () => {
  afterAll(() => sharedPool().close());

  it.each(SCENARIOS.map((s) => [s.id] as const))("passes on 100 seeds: %s", async (id) => {
    const r = await sweepParallel(validateConfig({ scenario: id }), 1, 100, { jobs: 2, checkDeterminism: 1 });
    expect(r.determinism).toEqual({ every: 1, checked: 100, diverged: [] });
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(100);
  }, 600_000);

  it("catches a worker whose runs are reseeded mid-run, and names the first divergent event", async () => {
    const pool = new NodePool({ reseedMidRun: [1] });
    try {
      const r = await sweepParallel(validateConfig({ scenario: "sunrpc-udp-slot-hang" }), 1, 6, { jobs: 2, checkDeterminism: 2, pool });
      const d = r.determinism!;
      expect(d.checked).toBe(3);
      expect(d.diverged.length).toBeGreaterThan(0);
      const first = d.diverged[0];
      expect(first.hashes[0]).not.toBe(first.hashes[1]);
      // reseeded after 3072 events: the rolling hash (every 1024) first differs by 4096
      expect(first.event).toBe(4096);
      expect(first.first?.[0]).toMatch(/^trace record \d+:/);
      // both records are kernel lines of one task's step, at different times or with different arguments
      expect(first.first?.[1]).toMatch(/run A: \[\s*\d+\.\d+\] \S+ \w+/);
      expect(first.first?.[2]).toMatch(/run B: \[\s*\d+\.\d+\] \S+ \w+/);
      expect(first.first?.[1].slice(8)).not.toBe(first.first?.[2].slice(8));
    } finally {
      await pool.close();
    }
  });
});

describe("a failing seed's reproduction", () => {
  it("is the run command line and the lab permalink, naming what differs from the defaults", () => {
    const cfg = validateConfig({ scenario: "sunrpc-udp-slot-hang", seed: 7, patches: { "xprt-alloc-slot-op": true } });
    const [cmd, url] = repro(cfg);
    expect(cmd).toBe("npx iostack run sunrpc-udp-slot-hang --seed 7 --patch xprt-alloc-slot-op");
    expect(url).toMatch(/\?s=sunrpc-udp-slot-hang&p=[^&]*xprt-alloc-slot-op[^&]*&seed=7$/);
  });

  it("comes with the reason for the first reported failing seeds of a sweep", async () => {
    const r = await sweepParallel(validateConfig({ scenario: "blktap2-teardown" }), 1, 12, { jobs: 2 });
    expect(r.failing.length).toBe(12);
    expect(r.failing.slice(0, 10).every((f) => f.reason && f.repro?.[0] === `npx iostack run blktap2-teardown --seed ${f.seed}`)).toBe(true);
    expect(r.failing.slice(10).every((f) => f.reason === undefined)).toBe(true);
  });
});
