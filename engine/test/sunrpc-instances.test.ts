// Two rpc_xprts (two NFS mounts over UDP) against one knfsd in one world, through the
// SUNRPC test module (build/sunrpc-test.wasm, asm/tests/sunrpc.ts): each transport keeps
// its own XPRT_LOCKED, congestion window and wait queues.
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";

const probe: ScenarioSpec = {
  id: "two-mounts-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [["probe.writes", 40], ["probe.wedge", -1]].map(([name, def]) => ({
    name: name as string, label: name as string, group: "workload" as const, type: "int" as const,
    default: def as number, min: -1, max: 1e6, description: "",
  })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  if (!SCENARIOS.includes(probe)) SCENARIOS.push(probe);
});

interface Mount { xprt: number; done: number; locked: boolean; lockedByWedge: boolean; cwnd: number; cong: number; sending: number; pending: number; backlog: number; freeSlots: number }
function run(writes: number, wedge: number, seed: number): { served: number; mounts: Mount[] } {
  const w = World.create(loadModule("sunrpc-test.wasm"), { scenario: "two-mounts-probe", knobs: { "probe.writes": writes, "probe.wedge": wedge }, seed });
  w.run();
  return w.rawEvidence().model;
}

describe("two rpc_xprts against one knfsd", () => {
  it("with neither wedged, both mounts complete every WRITE and end unlocked with empty queues", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = run(40, -1, seed);
      expect(r.mounts.map((m) => m.xprt)).toEqual([0, 1]);
      for (const m of r.mounts) {
        expect(m).toMatchObject({ done: 40, locked: false, sending: 0, pending: 0, backlog: 0, cong: 0, freeSlots: 4 });
      }
      expect(r.served).toBe(80);
    }
  });

  for (const wedge of [0, 1]) {
    it(`with mount ${wedge}'s XPRT_LOCKED held by a task that never runs, the other mount still completes every WRITE`, () => {
      for (let seed = 1; seed <= 5; seed++) {
        const r = run(40, wedge, seed);
        const stuck = r.mounts[wedge], free = r.mounts[1 - wedge];
        // the wedged mount: its own lock held, nothing sent, its tasks on its own queues
        expect(stuck).toMatchObject({ done: 0, locked: true, lockedByWedge: true, cong: 0, pending: 0 });
        expect(stuck.sending + stuck.backlog).toBe(40);
        // the other mount: its own lock free, its own window, its own empty queues
        expect(free).toMatchObject({ done: 40, locked: false, lockedByWedge: false, sending: 0, pending: 0, backlog: 0, cong: 0, freeSlots: 4 });
        expect(r.served).toBe(40);
        // the window moved on the mount that sent (replies grow it), not on the wedged one
        expect(free.cwnd).toBeGreaterThan(stuck.cwnd);
      }
    });
  }
});
