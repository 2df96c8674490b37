// The embed's parameter and message checks: every bad value is named, its default used.
import { describe, expect, it } from "vitest";
import "../../engine/scenarios/index";
import { SCENARIOS } from "../../engine/catalog";
import { applySet, attributesToParams, parseEmbedParams, parseOrigins } from "./params";

const SELF = "http://lab.test";
const q = (s: string) => parseEmbedParams(new URLSearchParams(s), SELF);

describe("embed parameters", () => {
  it("origins: exact origins only, default the embed's own", () => {
    const problems: string[] = [];
    expect(parseOrigins(null, SELF, problems)).toEqual([SELF]);
    expect(parseOrigins("https://a.example/, http://b.example:8080,https://a.example", SELF, problems)).toEqual(["https://a.example", "http://b.example:8080"]);
    expect(problems).toEqual([]);
    expect(parseOrigins("*,javascript:alert(1),https://c.example/path", SELF, problems)).toEqual([SELF]);
    expect(problems.join("\n")).toMatch(/'\*'.*\n.*javascript:alert\(1\).*\n.*c\.example\/path.*\n.*none usable/);
  });

  it("an unknown scenario or view is named and replaced; the embed still has a config", () => {
    const r = q("s=%3Cimg%20src%3Dx%3E&view=x");
    expect(r.fallback).toBe(true);
    expect(r.config.scenario).toBe(SCENARIOS[0].id);
    expect(r.problems[0]).toContain("unknown scenario '<img src=x>'");
    expect(r.problems[0]).toContain(`showing ${SCENARIOS[0].id}`);
    expect(r.problems[1]).toContain("unknown view 'x'");
    expect(q("").problems).toEqual(["URL: no scenario given; showing " + SCENARIOS[0].id]);
  });

  it("a preset gives seed, knobs and patches; explicit parameters win", () => {
    const spec = SCENARIOS.find((s) => s.presets.some((p) => p.patches && Object.keys(p.knobs).length === 0))
      ?? SCENARIOS.find((s) => s.presets.length)!;
    const preset = spec.presets.find((p) => p.patches) ?? spec.presets[0];
    const r = q(`s=${spec.id}&preset=${preset.id}&seed=77`);
    expect(r.problems).toEqual([]);
    expect(r.config.seed).toBe(77);
    for (const [id, on] of Object.entries(preset.patches ?? {})) expect(r.config.patches[id]).toBe(on);
    expect(q(`s=${spec.id}&preset=nope`).problems[0]).toContain("unknown preset 'nope'");
  });

  it("element attributes map onto the URL contract", () => {
    const a: Record<string, string> = { scenario: "x", patches: "a,b", seed: "3", knobs: "n=1, m=two", view: "trace" };
    expect(attributesToParams((n) => a[n] ?? null).toString()).toBe("s=x&p=a%2Cb&seed=3&view=trace&k.n=1&k.m=two");
  });
});

describe("iostack:set", () => {
  const spec = SCENARIOS[0];
  const base = q(`s=${spec.id}`).config;
  const [p0, p1] = spec.patches;

  it("a list sets the full patch set; an object changes only the ones it names", () => {
    const list = applySet(base, { patches: [p0.id] });
    expect(list.problems).toEqual([]);
    expect(Object.entries(list.config!.patches).filter(([, on]) => on).map(([id]) => id)).toEqual([p0.id]);
    const obj = applySet(list.config!, { patches: { [p1.id]: true } });
    expect(obj.config!.patches[p0.id]).toBe(true);
    expect(obj.config!.patches[p1.id]).toBe(true);
  });

  it("refused values are named and leave the rest applied", () => {
    const r = applySet(base, { patches: { nope: true, [p0.id]: "yes" }, knobs: { nope: 1 }, seed: -1 });
    expect(r.config).toBeNull();
    expect(r.problems.join("\n")).toMatch(/unknown patch 'nope'[\s\S]*expected true or false[\s\S]*unknown knob 'nope'[\s\S]*seed must be/);
    const s = applySet(base, { seed: "12", knobs: [] });
    expect(s.config!.seed).toBe(12);
    expect(s.problems[0]).toContain("knobs must be an object");
  });
});
