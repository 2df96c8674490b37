// What an embed is told, from embed.html's URL or from <iostack-scenario>'s attributes, and
// the postMessage protocol of iframe embeds. Everything here is data checked against the
// scenario's spec: a bad value becomes a message naming it, its default is used, nothing throws.
import { SCENARIOS, scenarioById } from "../../engine/catalog";
import { checkPatch, defaultPatches, parseKnob, parseSeed, requireScenario } from "../../engine/config";
import type { RunConfig } from "../../engine/config";
import type { ScenarioSpec } from "../../engine/scenarios/types";
import type { RunDetails } from "../../engine/world";
import { defaultConfig, parseParams } from "../lib/urlstate";
import type { EmbedView, VerdictMessage } from "./types";

export type { EmbedView, VerdictMessage };

// The views an embed can show, one at a time. "tasks" (a spec's name for the state view) is
// accepted as an alias.
export const EMBED_VIEWS = ["timeline", "evidence", "trace", "metrics", "state", "stack"] as const satisfies readonly EmbedView[];

export interface EmbedSetup {
  config: RunConfig;
  view: EmbedView;
  origins: string[];           // who may drive the embed and hear its verdicts (iframes only)
  problems: string[];
  fallback: boolean;           // no valid scenario was named: config is the catalog's first
}

// The scenario author's first embeddable view, else the evidence.
export function defaultView(spec: ScenarioSpec): EmbedView {
  for (const v of spec.views.map((x) => (x === "tasks" ? "state" : x))) {
    if ((EMBED_VIEWS as readonly string[]).includes(v)) return v as EmbedView;
  }
  return "evidence";
}

export function parseView(spec: ScenarioSpec, raw: string | null, problems: string[]): EmbedView {
  if (raw === null || raw === "") return defaultView(spec);
  const v = raw === "tasks" ? "state" : raw;
  if ((EMBED_VIEWS as readonly string[]).includes(v)) return v as EmbedView;
  const d = defaultView(spec);
  problems.push(`view: unknown view '${raw}' (one of ${EMBED_VIEWS.join(", ")}); showing ${d}`);
  return d;
}

// `origins`: a comma-separated list of exact origins (scheme://host[:port]); absent → the
// embed's own origin only. No wildcard: an embed only talks to pages it was told about.
export function parseOrigins(raw: string | null, self: string, problems: string[]): string[] {
  if (raw === null || raw.trim() === "") return [self];
  const out: string[] = [];
  for (const o of raw.split(",").map((x) => x.trim()).filter(Boolean)) {
    let u: URL | null = null;
    try {
      u = new URL(o);
    } catch {
      // reported below
    }
    if (u && (u.protocol === "http:" || u.protocol === "https:") && (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash) {
      if (!out.includes(u.origin)) out.push(u.origin);
    } else {
      problems.push(`origins: '${o}' is not an origin like https://docs.example.org; ignored`);
    }
  }
  if (!out.length) {
    problems.push(`origins: none usable; only this page's own origin (${self}) is allowed`);
    out.push(self);
  }
  return out;
}

// `preset=<id>`: the scenario's preset (seed, knobs, patches — e.g. "documented", the
// documented interleaving) under the parameters given explicitly.
function withPreset(params: URLSearchParams, problems: string[], source: string): URLSearchParams {
  const id = params.get("preset");
  const spec = scenarioById(params.get("s") ?? "");
  if (id === null || !spec) return params;
  const preset = spec.presets.find((p) => p.id === id);
  if (!preset) {
    problems.push(`${source}: unknown preset '${id}' for ${spec.id} (${spec.presets.map((p) => p.id).join(", ") || "none"}); ignored`);
    return params;
  }
  const q = new URLSearchParams();
  q.set("seed", String(preset.seed));
  for (const [k, v] of Object.entries(preset.knobs)) q.set(`k.${k}`, String(v));
  if (preset.patches) {
    const on = { ...defaultPatches(spec), ...preset.patches };
    q.set("p", Object.keys(on).filter((p) => on[p]).join(","));
  }
  for (const [k, v] of params) if (k !== "preset") q.set(k, v);
  return q;
}

// embed.html's URL: the lab's URL contract plus `view`, `origins` and `preset`. No (valid)
// scenario still gives a working embed: the first scenario of the catalog, with the message.
export function parseEmbedParams(raw: URLSearchParams, self: string, source = "URL"): EmbedSetup {
  const problems: string[] = [];
  const params = withPreset(raw, problems, source);
  const parsed = parseParams(params, source);
  problems.push(...parsed.problems);
  let config = parsed.config;
  const fallback = !config;
  if (!config) {
    const first = SCENARIOS[0];
    if (!parsed.problems.length) problems.push(`${source}: no scenario given; showing ${first.id}`);
    else problems[problems.length - 1] = problems[problems.length - 1].replace(/showing the catalog$/, `showing ${first.id}`);
    config = defaultConfig(first);
  }
  const spec = requireScenario(config.scenario);
  const view = parseView(spec, params.get("view"), problems);
  const origins = parseOrigins(params.get("origins"), self, problems);
  return { config, view, origins, problems, fallback };
}

// <iostack-scenario scenario=".." patches="a,b" seed="N" knobs="name=v,name=v" view="..">:
// the same checks, through the URL contract's names.
export function attributesToParams(get: (name: string) => string | null): URLSearchParams {
  const q = new URLSearchParams();
  const s = get("scenario");
  if (s !== null) q.set("s", s);
  const p = get("patches");
  if (p !== null) q.set("p", p);
  const seed = get("seed");
  if (seed !== null) q.set("seed", seed);
  for (const name of ["view", "preset"]) {
    const v = get(name);
    if (v !== null) q.set(name, v);
  }
  for (const kv of (get("knobs") ?? "").split(/[,\s]+/).filter(Boolean)) {
    const i = kv.indexOf("=");
    if (i > 0) q.set(`k.${kv.slice(0, i)}`, kv.slice(i + 1));
    else q.set(`k.${kv}`, "");
  }
  return q;
}

// ---- postMessage protocol (iframe embeds) ----

// The messages' shapes are the shipped types (types.ts).
export function verdictMessage(d: RunDetails, cfg: RunConfig): VerdictMessage {
  return {
    type: "iostack:verdict", scenario: cfg.scenario, verdict: d.verdict, reason: d.reason,
    traceHash: d.traceHash, patches: { ...cfg.patches }, knobs: { ...cfg.knobs }, seed: cfg.seed,
  };
}

// `{type: "iostack:set", patches?, knobs?, seed?}` applied to a configuration. `patches` is
// either a list of the patches that are on (as in the URL's p=) or an object id → boolean
// changing only the ones named. Returns the new configuration (null: nothing valid to apply)
// and the refused values.
export function applySet(cfg: RunConfig, msg: Record<string, unknown>): { config: RunConfig | null; problems: string[] } {
  const spec = requireScenario(cfg.scenario);
  const next: RunConfig = { ...cfg, patches: { ...cfg.patches }, knobs: { ...cfg.knobs } };
  const problems: string[] = [];
  let changed = false;
  const patch = (id: unknown, on: unknown) => {
    try {
      if (typeof id !== "string") throw new Error(`patch ids are strings, got ${typeof id}`);
      checkPatch(spec, id);
      if (typeof on !== "boolean") throw new Error(`patch ${id}: expected true or false`);
      next.patches[id] = on;
      changed = true;
    } catch (e) {
      problems.push(`iostack:set: ${(e as Error).message}; ignored`);
    }
  };
  const { patches, knobs, seed } = msg;
  if (Array.isArray(patches)) {
    for (const id of Object.keys(next.patches)) next.patches[id] = false;
    changed = true;
    for (const id of patches) patch(id, true);
  } else if (patches && typeof patches === "object") {
    for (const [id, on] of Object.entries(patches)) patch(id, on);
  } else if (patches !== undefined) {
    problems.push("iostack:set: patches must be a list of ids or an object id → boolean; ignored");
  }
  if (knobs && typeof knobs === "object" && !Array.isArray(knobs)) {
    for (const [name, v] of Object.entries(knobs)) {
      try {
        next.knobs[name] = parseKnob(spec, name, v);
        changed = true;
      } catch (e) {
        problems.push(`iostack:set: ${(e as Error).message}; ignored`);
      }
    }
  } else if (knobs !== undefined) {
    problems.push("iostack:set: knobs must be an object name → value; ignored");
  }
  if (seed !== undefined) {
    try {
      next.seed = parseSeed(seed);
      changed = true;
    } catch (e) {
      problems.push(`iostack:set: ${(e as Error).message}; ignored`);
    }
  }
  return { config: changed ? next : null, problems };
}
