// Two libxl ctxs on one dom0 in one world, through the Xen test module
// (build/xen-test.wasm, asm/tests/xen.ts): each ctx keeps its own toolstack release, cycle
// count, guests and callbacks while they share xenstored, blkback and blktap2.
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";

const TS_4_1_4 = 1, TS_4_2_0 = 3;
const probe: ScenarioSpec = {
  id: "two-toolstacks-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [["probe.cycles0", 1], ["probe.cycles1", 1], ["probe.toolstack0", TS_4_2_0], ["probe.toolstack1", TS_4_1_4]].map(([name, def]) => ({
    name: name as string, label: name as string, group: "workload" as const, type: "int" as const,
    default: def as number, min: 0, max: 100, description: "",
  })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  if (!SCENARIOS.includes(probe)) SCENARIOS.push(probe);
});

interface Ctx { ctx: number; toolstack: number; firstGuest: number; guests: number; done: number; starts: number; allDone: number; allDoneMs: number; teardowns: { guest: number; cycle: number; domid: number }[] }
function run(cycles0: number, cycles1: number, seed: number, toolstack0 = TS_4_2_0, toolstack1 = TS_4_1_4): Ctx[] {
  const w = World.create(loadModule("xen-test.wasm"), {
    scenario: "two-toolstacks-probe", seed,
    knobs: { "probe.cycles0": cycles0, "probe.cycles1": cycles1, "probe.toolstack0": toolstack0, "probe.toolstack1": toolstack1 },
  });
  w.run();
  return w.rawEvidence().model.ctxs;
}

describe("two libxl ctxs on one dom0", () => {
  for (const [c0, c1] of [[1, 3], [3, 1]]) {
    it(`with ${c0} and ${c1} cycles, each ctx runs its own guest through its own cycles and calls its own callbacks once`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const [a, b] = run(c0, c1, seed);
        expect(a).toMatchObject({ ctx: 0, toolstack: TS_4_2_0, firstGuest: 0, guests: 1, done: 1, starts: c0, allDone: 1 });
        expect(b).toMatchObject({ ctx: 1, toolstack: TS_4_1_4, firstGuest: 1, guests: 1, done: 1, starts: c1, allDone: 1 });
        // each ctx's teardowns are its own guest's, one per cycle, each a new domain
        expect(a.teardowns.map((t) => [t.guest, t.cycle])).toEqual([...Array(c0).keys()].map((c) => [0, c]));
        expect(b.teardowns.map((t) => [t.guest, t.cycle])).toEqual([...Array(c1).keys()].map((c) => [1, c]));
        expect(new Set([...a.teardowns, ...b.teardowns].map((t) => t.domid)).size).toBe(c0 + c1);
        // the ctx with fewer cycles finished first: one ctx's count does not end the other
        if (c0 < c1) expect(a.allDoneMs).toBeLessThan(b.allDoneMs);
        else expect(b.allDoneMs).toBeLessThan(a.allDoneMs);
      }
    });
  }

  it("each ctx keeps the release it was created with", () => {
    const [a, b] = run(1, 1, 1, TS_4_1_4, TS_4_2_0);
    expect([a.toolstack, b.toolstack]).toEqual([TS_4_1_4, TS_4_2_0]);
  });
});
