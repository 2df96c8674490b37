// Run configuration and its validation. Every error names the offending field, so the
// CLI can print it (exit 2), the UI can show it inline, and the URL parser can replace
// just that value by its default.
import { SCENARIOS, scenarioById } from "./catalog";
import type { KnobSpec, KnobValue, ScenarioSpec } from "./scenarios/types";

export interface RunConfig {
  scenario: string;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  seed: number;
}

export interface ConfigInput {
  scenario: string;
  patches?: Record<string, boolean | string>;
  knobs?: Record<string, unknown>;
  seed?: unknown;
}

export class ConfigError extends Error {
  constructor(public field: string, message: string) {
    super(message);
  }
}

export const MAX_SEED = 2 ** 53 - 1;

function closest(word: string, options: string[]): string {
  let best = "", bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word, o);
    if (d < bestD) { best = o; bestD = d; }
  }
  return bestD <= Math.max(2, word.length / 3) ? ` (did you mean '${best}'?)` : "";
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

export function requireScenario(id: string): ScenarioSpec {
  const spec = scenarioById(id);
  if (!spec) {
    const ids = SCENARIOS.map((s) => s.id);
    throw new ConfigError("scenario", `unknown scenario '${id}'${closest(id, ids)}; known: ${ids.join(", ")}`);
  }
  return spec;
}

// The one number syntax of every numeric input (knobs, seeds, counts, shards, URL values):
// decimal, optional sign, fraction and exponent (12, -3, 0.25, 1e-6). No hex, no
// "Infinity", no blanks inside: `--knob timeo=0x10` and `--seed 0x10` are both refused.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return NaN;
  const t = v.trim();
  return NUMBER.test(t) ? Number(t) : NaN;
}

// A whole number in [min, max] (max at most 2^53 - 1, where integers stay exact).
export function parseWhole(v: unknown, field: string, min = 0, max = MAX_SEED): number {
  const n = parseNumber(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(field, `${field} must be a whole number from ${min} to ${max}, got '${String(v)}'`);
  }
  return n;
}

export function parseSeed(v: unknown, field = "seed"): number {
  return parseWhole(v, field, 0, MAX_SEED);
}

// Parses and range-checks one knob value (from a number, a boolean, or text).
export function parseKnob(spec: ScenarioSpec, name: string, v: unknown): KnobValue {
  const k = spec.knobs.find((x) => x.name === name);
  const field = `knob ${name}`;
  if (!k) {
    const names = spec.knobs.map((x) => x.name);
    throw new ConfigError(field, `unknown knob '${name}' for ${spec.id}${closest(name, names)}; knobs: ${names.join(", ")}`);
  }
  return checkKnob(k, v);
}

function checkKnob(k: KnobSpec, v: unknown): KnobValue {
  const field = `knob ${k.name}`;
  const text = typeof v === "string" ? v.trim() : v;
  switch (k.type) {
    case "bool": {
      if (text === true || text === 1 || text === "1" || text === "true" || text === "on") return true;
      if (text === false || text === 0 || text === "0" || text === "false" || text === "off") return false;
      throw new ConfigError(field, `knob ${k.name} must be on or off, got '${String(v)}'`);
    }
    case "enum": {
      if (typeof text === "string" && k.values!.includes(text)) return text;
      throw new ConfigError(field, `knob ${k.name} must be one of ${k.values!.join(", ")}, got '${String(v)}'`);
    }
    default: {
      const n = parseNumber(text);
      if (!Number.isFinite(n)) throw new ConfigError(field, `knob ${k.name} must be a number, got '${String(v)}'`);
      if (k.type === "int" && !Number.isInteger(n)) throw new ConfigError(field, `knob ${k.name} must be a whole number, got '${String(v)}'`);
      if ((k.min !== undefined && n < k.min) || (k.max !== undefined && n > k.max)) {
        throw new ConfigError(field, `knob ${k.name}=${n} is out of range [${k.min}, ${k.max}]${k.unit ? " " + k.unit : ""}`);
      }
      return n;
    }
  }
}

export function checkPatch(spec: ScenarioSpec, id: string): void {
  if (!spec.patches.some((p) => p.id === id)) {
    const ids = spec.patches.map((p) => p.id);
    throw new ConfigError(`patch ${id}`, `unknown patch '${id}' for ${spec.id}${closest(id, ids)}; patches: ${ids.join(", ")}`);
  }
}

export function defaultPatches(spec: ScenarioSpec): Record<string, boolean> {
  return Object.fromEntries(spec.patches.map((p) => [p.id, p.default]));
}

export function defaultKnobs(spec: ScenarioSpec): Record<string, KnobValue> {
  return Object.fromEntries(spec.knobs.map((k) => [k.name, k.default]));
}

// Full validation: throws a ConfigError naming the first bad field.
export function validateConfig(input: ConfigInput): RunConfig {
  if (!input || typeof input.scenario !== "string") throw new ConfigError("scenario", "scenario is required");
  const spec = requireScenario(input.scenario);
  const patches = defaultPatches(spec);
  for (const [id, on] of Object.entries(input.patches ?? {})) {
    checkPatch(spec, id);
    if (on === true || on === "on" || on === "true") patches[id] = true;
    else if (on === false || on === "off" || on === "false") patches[id] = false;
    else throw new ConfigError(`patch ${id}`, `patch ${id} must be on or off, got '${String(on)}'`);
  }
  const knobs = defaultKnobs(spec);
  for (const [name, v] of Object.entries(input.knobs ?? {})) knobs[name] = parseKnob(spec, name, v);
  spec.checkKnobs?.(knobs);
  const seed = input.seed === undefined ? 1 : parseSeed(input.seed);
  return { scenario: spec.id, patches, knobs, seed };
}

// The numeric value the model reads for a knob.
export function knobNumber(spec: ScenarioSpec, name: string, v: KnobValue): number {
  const k = spec.knobs.find((x) => x.name === name)!;
  if (k.type === "enum") return k.values!.indexOf(v as string);
  if (k.type === "bool") return v ? 1 : 0;
  return v as number;
}

// The NFS models keep at most `maxChunks` wsize chunks per file (asm/nfs/writeback.ts
// CPF): a file of `sizeMb` MiB needs sizeMb * 1024 / wsize_kb of them.
export const CHUNKS_PER_FILE = 512;

export function checkChunks(spec: ScenarioSpec, knobs: Record<string, KnobValue>, sizeMb: string, wsizeKb: string): void {
  const mb = knobs[sizeMb] as number, kb = knobs[wsizeKb] as number;
  if (Math.floor((mb * 1024) / kb) <= CHUNKS_PER_FILE) return;
  const maxMb = (CHUNKS_PER_FILE * kb) / 1024;
  const needKb = Math.ceil((mb * 1024) / CHUNKS_PER_FILE);
  const kbMax = spec.knobs.find((k) => k.name === wsizeKb)?.max ?? Infinity;
  throw new ConfigError(`knob ${sizeMb}`,
    `knob ${sizeMb}=${mb} with ${wsizeKb}=${kb}: the model keeps at most ${CHUNKS_PER_FILE} WRITEs of ${wsizeKb} per file, ` +
    `so ${sizeMb} can be at most ${maxMb} now${needKb <= kbMax ? ` (or raise ${wsizeKb} to ${needKb})` : ""}`);
}

// The CLI arguments that give `c` again: `<scenario> --seed N` and every patch and knob
// that differs from its default (for reproducer lines: `npx iostack run ${cliArgs(c)}`).
export function cliArgs(c: RunConfig): string {
  const spec = requireScenario(c.scenario);
  const args = [`${c.scenario} --seed ${c.seed}`];
  for (const p of spec.patches) if (c.patches[p.id] !== p.default) args.push(`--patch ${p.id}=${c.patches[p.id] ? "on" : "off"}`);
  for (const k of spec.knobs) {
    const v = c.knobs[k.name];
    if (v !== k.default) args.push(`--knob ${k.name}=${k.type === "bool" ? (v ? "on" : "off") : v}`);
  }
  return args.join(" ");
}
