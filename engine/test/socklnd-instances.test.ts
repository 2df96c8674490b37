// Two ksock_conns in one world, through the socklnd test module (build/socklnd-test.wasm,
// asm/tests/socklnd.ts): each keeps its own tx queue, socket and scheduler; closing one
// fails its own txs back to LNet and leaves the other to send all of its own.
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";

const probe: ScenarioSpec = {
  id: "two-conns-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [["probe.tx0", 8], ["probe.tx1", 8], ["probe.close", -1], ["probe.shared", 0]].map(([name, def]) => ({
    name: name as string, label: name as string, group: "workload" as const, type: "int" as const,
    default: def as number, min: -1, max: 1000, description: "",
  })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  if (!SCENARIOS.includes(probe)) SCENARIOS.push(probe);
});

interface Conn { conn: number; sched: number; schedConns: number; up: boolean; dead: boolean; txDone: number; txFailed: number; peerReceived: number; txQueued: number }
function run(knobs: Record<string, number>, seed: number): Conn[] {
  const w = World.create(loadModule("socklnd-test.wasm"), { scenario: "two-conns-probe", knobs, seed });
  w.run();
  return w.rawEvidence().model.conns;
}

describe("two ksock_conns in one world", () => {
  it("each conn sends its own txs, on a ksock_sched of its own (the old scheduler spreads them)", () => {
    for (let seed = 1; seed <= 3; seed++) {
      const [a, b] = run({ "probe.tx0": 5, "probe.tx1": 9 }, seed);
      expect(a).toMatchObject({ conn: 0, up: true, txDone: 5, peerReceived: 5, txFailed: 0, txQueued: 0, schedConns: 1 });
      expect(b).toMatchObject({ conn: 1, up: true, txDone: 9, peerReceived: 9, txFailed: 0, txQueued: 0, schedConns: 1 });
      expect(a.sched).not.toBe(b.sched);
    }
  });

  it("with socklnd-shared-sched (and per-thread scratch) both conns share the CPT's one ksock_sched and still keep their own counts", () => {
    const [a, b] = run({ "probe.tx0": 5, "probe.tx1": 9, "probe.shared": 1 }, 1);
    expect(a.sched).toBe(b.sched);
    expect(a.schedConns).toBe(2);
    expect([a.txDone, b.txDone]).toEqual([5, 9]);
  });

  for (const close of [0, 1]) {
    it(`closing conn ${close} fails its own txs and leaves the other conn to send all of its own`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const r = run({ "probe.tx0": 6, "probe.tx1": 6, "probe.close": close }, seed);
        const closed = r[close], other = r[1 - close];
        expect(closed).toMatchObject({ up: false, txQueued: 0 });
        expect(closed.txFailed).toBeGreaterThan(0);
        expect(closed.txDone + closed.txFailed).toBe(6);
        expect(other).toMatchObject({ up: true, dead: false, txDone: 6, peerReceived: 6, txFailed: 0, txQueued: 0 });
      }
    });
  }
});
