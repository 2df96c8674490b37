// URL state: the DESIGN.md contract round-trips, and every bad value becomes a message
// naming it while its default is used.
import { describe, expect, it } from "vitest";
import "../../engine/scenarios/index";
import { SCENARIOS } from "../../engine/catalog";
import { defaultConfig, parseParams, toParams } from "./urlstate";

const spec = SCENARIOS[0];
const knob = spec.knobs.find((k) => k.type === "int" && k.max !== undefined)!;

describe("URL state", () => {
  it("round-trips patches, seed and knobs, writing only what differs from the defaults", () => {
    const cfg = defaultConfig(spec);
    cfg.seed = 42;
    const p = spec.patches[0];
    cfg.patches[p.id] = !p.default;
    cfg.knobs[knob.name] = knob.min!;
    const q = toParams(cfg);
    expect(q.get("s")).toBe(spec.id);
    expect(q.get("seed")).toBe("42");
    if (knob.min !== knob.default) expect(q.get(`k.${knob.name}`)).toBe(String(knob.min));
    const back = parseParams(q);
    expect(back.problems).toEqual([]);
    expect(back.config).toEqual(cfg);
    expect(toParams(defaultConfig(spec)).has("p")).toBe(false);
  });

  it("names each bad value and uses its default", () => {
    const q = new URLSearchParams(`s=${spec.id}&seed=-1&k.${knob.name}=${knob.max! + 1}&k.nope=3&p=bogus`);
    const { config, problems } = parseParams(q);
    expect(config!.seed).toBe(1);
    expect(config!.knobs[knob.name]).toBe(knob.default);
    expect(problems.join("\n")).toMatch(/seed/);
    expect(problems.join("\n")).toMatch(new RegExp(knob.name.replace(/\./g, "\\.")));
    expect(problems.join("\n")).toMatch(/nope/);
    expect(problems.join("\n")).toMatch(/bogus/);
    expect(config!.patches, "an unknown p leaves the default patches").toEqual(defaultConfig(spec).patches);
  });

  it("p= with no id switches every patch off; known ids beside an unknown one still apply", () => {
    expect(Object.values(parseParams(new URLSearchParams(`s=${spec.id}&p=`)).config!.patches).every((on) => !on)).toBe(true);
    const id = spec.patches.find((p) => !p.default)!.id;
    const { config } = parseParams(new URLSearchParams(`s=${spec.id}&p=bogus,${id}`));
    expect(Object.entries(config!.patches).filter(([, on]) => on).map(([k]) => k)).toEqual([id]);
  });

  it("an unknown scenario falls back to the catalog with a message; no s= is the catalog", () => {
    const bad = parseParams(new URLSearchParams("s=sunrpc-udp-slot-hnag"));
    expect(bad.config).toBeNull();
    expect(bad.problems[0]).toMatch(/unknown scenario/);
    expect(parseParams(new URLSearchParams("")).problems).toEqual([]);
  });
});
