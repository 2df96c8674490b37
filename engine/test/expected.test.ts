// Every scenario's spec states what each patch set gives (ExpectedOutcome). The UI's
// banner, the catalog cards, the docs pages and the e2e suite all rely on those
// statements, so they are checked here against the model, over a few seeds each:
// a failing verdict must show in at least 5% of them (the UDP stress reproducer's share
// is 5.6% over 1000 seeds), `ok` in every one.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { SCENARIOS } from "../catalog";
import { defaultKnobs, defaultPatches } from "../config";
import { sweepRange } from "../sweep";

const SEEDS = 40;

describe.each(SCENARIOS.map((s) => [s.id, s] as const))("%s: the spec's expected outcomes", (_id, spec) => {
  it.each(spec.expected.map((e) => [e.verdict, JSON.stringify({ ...e.patches, ...e.knobs }), e] as const))(
    "%s with %s",
    (verdict, _label, e) => {
      const base = {
        scenario: spec.id,
        patches: { ...defaultPatches(spec), ...e.patches },
        knobs: { ...defaultKnobs(spec), ...(e.knobs ?? {}) },
        seed: 1,
      };
      const r = sweepRange(loadModule(), base, 1, SEEDS);
      if (verdict === "ok") expect(r.failing).toEqual([]);
      else expect(r.counts[verdict]).toBeGreaterThanOrEqual(Math.ceil(SEEDS * 0.05));
    },
  );

  it("names only patches and knobs the scenario has", () => {
    for (const e of spec.expected) {
      for (const id of Object.keys(e.patches)) expect(spec.patches.map((p) => p.id)).toContain(id);
      for (const k of Object.keys(e.knobs ?? {})) expect(spec.knobs.map((x) => x.name)).toContain(k);
    }
  });
});
