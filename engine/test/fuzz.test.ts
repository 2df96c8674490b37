// The configuration fuzzer as a property test: 100 random configurations from a fixed
// fuzz seed, within the knobs' ranges, over every scenario. Each ends with a verdict and
// a status (or a configuration error naming a knob) within the cost budget, and a sample
// re-runs to the same trace hash. `npm run fuzz -- --runs N` runs more.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { SCENARIOS } from "../catalog";
import { fuzzConfig, fuzzOne, outcomeKey, reproducer, rerunDiffers } from "../tools/fuzz";
import type { FuzzCase } from "../tools/fuzz";

// A smaller budget than the lab's keeps the test short; cut runs must say so all the same.
const OPTS = { costBudget: 3_000_000, limitSearch: false };
const RUNS = 100;

describe("fuzz", () => {
  const module = loadModule();
  const cases: FuzzCase[] = [];

  it(`${RUNS} random configurations each end with a status or name a knob`, () => {
    for (let i = 0; i < RUNS; i++) cases.push(fuzzOne(module, fuzzConfig(20261201, i), OPTS));
    const failures = cases.filter((c) => c.outcome.class === "failure").map((c) => `${(c.outcome as { message: string }).message}: ${reproducer(c.config)}`);
    expect(failures).toEqual([]);
    expect(new Set(cases.map((c) => c.config.scenario))).toEqual(new Set(SCENARIOS.map((s) => s.id)));
    for (const c of cases) {
      if (c.outcome.class === "verdict" && c.outcome.status === "event-budget") expect(c.cost).toBeGreaterThanOrEqual(OPTS.costBudget);
    }
    // Several classes, not one: the draws reach cut runs and findings, not only clean runs.
    expect(new Set(cases.map((c) => outcomeKey(c.outcome))).size).toBeGreaterThan(3);
  }, 600_000);

  it("a sample re-runs to the same trace hash", () => {
    const sample = cases.filter((c) => c.outcome.class === "verdict").filter((_, i) => i % 8 === 0);
    expect(sample.length).toBeGreaterThan(5);
    for (const c of sample) expect(rerunDiffers(module, c, OPTS), reproducer(c.config)).toBeUndefined();
  }, 600_000);

  it("a reproducer line runs the same configuration", async () => {
    const { main } = await import("../cli/main");
    const c = cases.find((x) => x.outcome.class === "verdict" && x.outcome.status === "complete")!;
    const argv = reproducer(c.config).split(" ").slice(2);
    const out: string[] = [];
    expect(await main([...argv, "--json"], (s) => out.push(s), () => {})).toBe(0);
    expect(JSON.parse(out[0]).traceHash).toBe((c.outcome as { traceHash: string }).traceHash);
  }, 600_000);
});
