// The one knfsd (asm/nfsd/svc.ts) with its duplicate request cache (asm/nfsd/drc.ts), through
// the knfsd test module (build/knfsd-test.wasm, asm/tests/knfsd.ts): it serves an NFS mount
// of the sunrpc client, and nfsd_cache_lookup decides what a retransmitted WRITE does. Every
// case runs with both ways of running the nfsd threads (a pool of service times, scheduled
// kthreads): they share the request path and the DRC, so the outcomes are the same.
import { describe, expect, it, beforeAll } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";

const probe: ScenarioSpec = {
  id: "knfsd-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [["probe.mode", 0], ["probe.writes", 40], ["probe.loss", 0], ["probe.drc", 0], ["probe.mounts", 1], ["probe.kthreads", 0]].map(([name, def]) => ({
    name: name as string, label: name as string, group: "workload" as const, type: "float" as const,
    default: def as number, min: -1, max: 1e6, description: "",
  })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  if (!SCENARIOS.includes(probe)) SCENARIOS.push(probe);
});

interface Probe { done: number; served: number; drcReplies: number; drcDrops: number }
function run(knobs: Record<string, number>, seed: number): Probe {
  const w = World.create(loadModule("knfsd-test.wasm"), { scenario: "knfsd-probe", knobs, seed });
  w.run();
  // the threads that served: kthreads trace their steps (svc_recv, nfsd_dispatch, ...), the
  // pool one nfsd_dispatch line per call it runs
  const lines = w.traceLines();
  const kthreadSteps = lines.filter((l) => l.includes("nfsd_dispatch") && l.includes("proc=WRITE") && !l.includes("wait=")).length;
  const poolRuns = lines.filter((l) => l.includes("nfsd_dispatch") && l.includes("wait=")).length;
  expect(knobs["probe.kthreads"] ? poolRuns : kthreadSteps).toBe(0);
  expect(knobs["probe.kthreads"] ? kthreadSteps : poolRuns).toBeGreaterThan(0);
  return w.rawEvidence().model;
}

for (const [kthreads, threads] of [[0, "a pool of service times"], [1, "scheduled nfsd kthreads"]] as const) {
  describe(`one knfsd serves a sunrpc mount (${threads})`, () => {
    it("on a clean link every WRITE runs once and the DRC sees no duplicate", () => {
      for (let seed = 1; seed <= 3; seed++) {
        expect(run({ "probe.kthreads": kthreads, "probe.writes": 40 }, seed)).toEqual({ done: 40, served: 40, drcReplies: 0, drcDrops: 0 });
      }
    });

    it("on a lossy link a WRITE whose reply was lost is answered from the cache, not run again", () => {
      let replies = 0;
      for (let seed = 1; seed <= 5; seed++) {
        const r = run({ "probe.kthreads": kthreads, "probe.writes": 40, "probe.loss": 0.01 }, seed);
        expect(r.done).toBe(40);
        // each WRITE ran exactly once, however many times it was sent
        expect(r.served).toBe(40);
        replies += r.drcReplies;
      }
      expect(replies).toBeGreaterThan(0);
    });

    it("two mounts sending the same xids are two clients to the DRC: every WRITE of both runs", () => {
      for (let seed = 1; seed <= 3; seed++) {
        expect(run({ "probe.kthreads": kthreads, "probe.writes": 40, "probe.mounts": 2 }, seed)).toEqual({ done: 80, served: 80, drcReplies: 0, drcDrops: 0 });
      }
    });
  });

  describe(`the DRC on a retransmitted WRITE (${threads})`, () => {
    for (const [drc, label] of [[0, "lru1024"], [1, "csum"]] as const) {
      it(`${label}: a duplicate of a call in progress is dropped; one of a call answered gets the cached reply`, () => {
        for (let seed = 1; seed <= 3; seed++) {
          // three arrivals of one xid: at once, at once, a second later
          expect(run({ "probe.kthreads": kthreads, "probe.mode": 1, "probe.drc": drc }, seed)).toEqual({ done: 0, served: 1, drcReplies: 1, drcDrops: 1 });
        }
      });
    }

    it("without a DRC (DRC_NONE) every arrival runs", () => {
      expect(run({ "probe.kthreads": kthreads, "probe.mode": 1, "probe.drc": -1 }, 1)).toEqual({ done: 0, served: 3, drcReplies: 0, drcDrops: 0 });
    });
  });
}
