// Think loops planned ahead (asm/nfs/lookahead.ts, mmap3's workers) against the same loops
// run one iteration at a time, through the SUNRPC test module (asm/tests/sunrpc.ts): three
// loops share dirty flags and an attribute time, a writeback cleans chunks at drawn times.
// Skipping the iterations that change nothing must leave the same state changes, at the
// same times, by the same loops, with the same chunks.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { instantiate } from "../wasm";

describe("think loops planned ahead", () => {
  const x: any = instantiate(loadModule("sunrpc-test.wasm"));
  const run = (seed: number, planned: boolean) => {
    const changes = x.t_la_run(seed, 600e9, planned ? 1 : 0);
    return { changes, hash: x.t_la_hash(), iterations: x.t_la_iterations() };
  };

  it("the same sequence of state changes as one iteration at a time, with far fewer steps", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const one = run(seed, false), planned = run(seed, true);
      expect(one.changes).toBeGreaterThan(2000);
      expect(planned.changes).toBe(one.changes);
      expect(planned.hash).toBe(one.hash);
      // each state change is one iteration run as a step; a few more wake for nothing
      expect(planned.iterations).toBeLessThan(one.iterations / 10);
      expect(planned.iterations).toBeGreaterThanOrEqual(planned.changes / 2);
    }
  });

  it("a different seed gives a different sequence (the hash sees the changes)", () => {
    expect(run(1, true).hash).not.toBe(run(2, true).hash);
  });
});
