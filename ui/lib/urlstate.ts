// The workspace configuration in the URL (DESIGN.md contract:
// ?s=<scenario>&p=<patch>,<patch>&seed=N&k.<knob>=v) and in localStorage. Parsing never
// throws: each bad value becomes a message naming it, and its default is used instead.
import { SCENARIOS } from "../../engine/catalog";
import { checkPatch, defaultKnobs, defaultPatches, parseKnob, parseSeed, requireScenario } from "../../engine/config";
import type { RunConfig } from "../../engine/config";
import type { ScenarioSpec } from "../../engine/scenarios/types";

export interface Parsed {
  config: RunConfig | null;      // null: no (valid) scenario, show the catalog
  problems: string[];
}

const STORE_KEY = "iostack-lab:last";
export const DEFAULT_SEED = 1;

export function defaultConfig(spec: ScenarioSpec): RunConfig {
  return { scenario: spec.id, patches: defaultPatches(spec), knobs: defaultKnobs(spec), seed: DEFAULT_SEED };
}

// `p` lists the patches that are on; absent means the scenario's defaults.
export function parseParams(params: URLSearchParams, origin = "URL"): Parsed {
  const problems: string[] = [];
  const s = params.get("s");
  if (s === null) return { config: null, problems };
  let spec: ScenarioSpec;
  try {
    spec = requireScenario(s);
  } catch (e) {
    return { config: null, problems: [`${origin}: ${(e as Error).message}; showing the catalog`] };
  }
  const cfg = defaultConfig(spec);
  const p = params.get("p");
  if (p !== null) {
    const on = new Set<string>();
    const ids = p.split(",").map((x) => x.trim()).filter(Boolean);
    for (const id of ids) {
      try {
        checkPatch(spec, id);
        on.add(id);
      } catch (e) {
        problems.push(`${origin}: ${(e as Error).message}; ignored`);
      }
    }
    // `p=` (empty) switches every patch off; a list with no known id says nothing, so the
    // default patches stay as they are (an ignored value must not switch 43cedbf0 off).
    if (on.size || !ids.length) for (const id of Object.keys(cfg.patches)) cfg.patches[id] = on.has(id);
  }
  const seed = params.get("seed");
  if (seed !== null) {
    try {
      cfg.seed = parseSeed(seed);
    } catch (e) {
      problems.push(`${origin}: ${(e as Error).message}; using seed ${DEFAULT_SEED}`);
    }
  }
  for (const [key, v] of params) {
    if (!key.startsWith("k.")) continue;
    const name = key.slice(2);
    try {
      cfg.knobs[name] = parseKnob(spec, name, v);
    } catch (e) {
      const k = spec.knobs.find((x) => x.name === name);
      problems.push(`${origin}: ${(e as Error).message}${k ? `; using the default ${String(k.default)}` : "; ignored"}`);
    }
  }
  return { config: cfg, problems };
}

export function toParams(cfg: RunConfig): URLSearchParams {
  const spec = requireScenario(cfg.scenario);
  const q = new URLSearchParams();
  q.set("s", cfg.scenario);
  const defaults = defaultPatches(spec);
  if (Object.keys(cfg.patches).some((id) => cfg.patches[id] !== defaults[id])) {
    q.set("p", Object.keys(cfg.patches).filter((id) => cfg.patches[id]).join(","));
  }
  q.set("seed", String(cfg.seed));
  const dk = defaultKnobs(spec);
  for (const [k, v] of Object.entries(cfg.knobs)) if (v !== dk[k]) q.set(`k.${k}`, String(v));
  return q;
}

export function permalink(cfg: RunConfig, base = location.href): string {
  const u = new URL(base);
  u.search = toParams(cfg).toString().replace(/%2C/g, ",");
  u.hash = "";
  return u.href;
}

export function saveLast(cfg: RunConfig): void {
  try {
    const all = JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}");
    all[cfg.scenario] = toParams(cfg).toString();
    localStorage.setItem(STORE_KEY, JSON.stringify(all));
  } catch {
    // storage full or disabled: the URL still holds the state
  }
}

// The last configuration of a scenario, as saved; bad saved values are reported like URL ones.
export function loadLast(id: string): Parsed | null {
  let saved: unknown;
  try {
    saved = JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}")?.[id];
  } catch {
    return { config: null, problems: ["saved settings: unreadable; using the defaults"] };
  }
  if (typeof saved !== "string") return null;
  const parsed = parseParams(new URLSearchParams(saved), "saved settings");
  return parsed.config?.scenario === id ? parsed : null;
}

export function scenarioList(): ScenarioSpec[] {
  return SCENARIOS;
}
