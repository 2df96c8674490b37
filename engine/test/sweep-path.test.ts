// A sweep's seed costs its events and the reset, nothing else: the outcome is read from the
// module's counters, never from the evidence JSON or the entity table (issue 13), and it is
// the outcome a full run reports.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { SCENARIOS } from "../catalog";
import { validateConfig } from "../config";
import { Runner } from "../wasm";
import type { CoreExports } from "../wasm";
import { World } from "../world";
import { runSeed } from "../sweep";

// A runner whose instance refuses to write the evidence or the entity table.
class NoEvidenceRunner extends Runner {
  fresh(): CoreExports {
    const refuse = (what: string) => () => { throw new Error(`the sweep path read the ${what}`); };
    return Object.create(super.fresh(), { evidence: { value: refuse("evidence") }, entities: { value: refuse("entity table") } });
  }
}

describe("the sweep path", () => {
  const runner = new NoEvidenceRunner(loadModule());
  it.each(SCENARIOS.map((s) => [s.id]))("reads %s's outcome without evidence, as a full run reports it", (id) => {
    const base = validateConfig({ scenario: id });
    for (let seed = 1; seed <= 3; seed++) {
      const o = runSeed(runner, base, seed);
      const full = World.create(loadModule(), { ...base, seed }, { traceCapacity: 0 }).run();
      expect([o.verdict, o.status, o.events, o.simTimeNs, o.traceHash]).toEqual([full.verdict, full.status, full.events, full.simTimeNs, full.traceHash]);
    }
  }, 120_000);
});
