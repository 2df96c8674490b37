// A scenario contributes views of its own from its host spec (spec.ownViews): the worker
// computes their blocks with the snapshot at the cursor, and the workspace lists them.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { Session } from "../browser/session";
import { SCENARIOS } from "../catalog";
import { BUILTIN_VIEWS } from "../scenarios/types";
import "../scenarios/index";

describe("a scenario's own views", () => {
  it("have ids apart from the workspace's views and from each other", () => {
    for (const s of SCENARIOS) {
      const ids = (s.ownViews ?? []).map((v) => v.id);
      expect(new Set(ids).size, s.id).toBe(ids.length);
      for (const id of ids) expect(BUILTIN_VIEWS as readonly string[], `${s.id}: ${id}`).not.toContain(id);
    }
  });

  it("blktap2-teardown's Minors view names the orphans the wrong teardown order leaves", () => {
    const s = new Session(loadModule());
    const v = s.run({ scenario: "blktap2-teardown", seed: 1 });
    expect(v.details.verdict).toBe("leak");
    const [minors] = s.snapshotAt(v.details.simTimeNs).views.minors;
    expect(minors.kv!.orphaned).toBeGreaterThan(0);
    expect(minors.lines!.filter((l) => l.includes("ORPHANED")).length).toBe(minors.kv!.orphaned);
    const fixed = new Session(loadModule());
    const w = fixed.run({ scenario: "blktap2-teardown", seed: 1, patches: { "libxl-teardown-order": true } });
    const [clean] = fixed.snapshotAt(w.details.simTimeNs).views.minors;
    expect(clean.kv!.orphaned).toBe(0);
    expect(clean.lines!.some((l) => l.includes("ORPHANED"))).toBe(false);
  });

  it("a view that throws shows its error in place of its blocks", () => {
    const spec = SCENARIOS.find((x) => x.id === "blktap2-teardown")!;
    const saved = spec.ownViews;
    spec.ownViews = [{ id: "broken", label: "Broken", read: () => { throw new Error("no such field"); } }];
    try {
      const s = new Session(loadModule());
      s.run({ scenario: "blktap2-teardown", seed: 1, knobs: { cycles: 1 } });
      expect(s.snapshotAt(0).views.broken).toEqual([{ id: "error", title: "snapshot", lines: ["view broken failed: no such field"] }]);
    } finally {
      spec.ownViews = saved;
    }
  });
});
