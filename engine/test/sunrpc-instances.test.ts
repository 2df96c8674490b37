// Two rpc_xprts (two NFS mounts over UDP) against one knfsd in one world, through the
// SUNRPC test module (build/sunrpc-test.wasm, asm/tests/sunrpc.ts): each transport keeps
// its own XPRT_LOCKED, congestion window and wait queues. And the one link model both
// xprtsock and the NICs of asm/net/dev.ts use (asm/net/link.ts).
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { instantiate } from "../wasm";
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

describe("the link model (asm/net/link.ts), shared by xprtsock and the NICs", () => {
  const fresh = () => { const x = instantiate(loadModule("sunrpc-test.wasm")) as any; x.t_seed(7); return x; };

  it("loses a packet of n frames with probability 1 - (1 - p)^n, from one draw per packet", () => {
    const x = fresh();
    const l = x.t_link_new(1e9, 0, 0, 0.01);
    const share = (frames: number, n: number) => { let lost = 0; for (let i = 0; i < n; i++) lost += x.t_link_lost(l, frames); return lost / n; };
    expect(share(1, 40000)).toBeCloseTo(0.01, 2);
    expect(share(23, 40000)).toBeCloseTo(1 - 0.99 ** 23, 1);   // a 32 KiB UDP WRITE: 23 IP fragments
    const none = x.t_link_new(1e9, 0, 0, 0);
    for (let i = 0; i < 1000; i++) expect(x.t_link_lost(none, 23)).toBe(0);
  });

  it("serializes at the link rate and delays by the fixed part plus a draw", () => {
    const x = fresh();
    const l = x.t_link_new(1e8, 50_000, 2_000, 0);
    expect(x.t_link_serialize(l, 1500)).toBe(120_001);          // 1500 B at 100 Mbit/s, + 1 ns
    const d = Array.from({ length: 2000 }, () => x.t_link_delay(l));
    expect(Math.min(...d)).toBeGreaterThanOrEqual(51_000);       // the draw is at least half its mean
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(mean).toBeGreaterThan(51_500);
    expect(mean).toBeLessThan(52_500);
  });

  it("refuses a loss probability outside [0, 1)", () => {
    expect(() => fresh().t_link_new(1e9, 0, 0, 1)).toThrow();
  });
});
