// Registries of scenarios, patches and knobs. Models register what they use at module
// start by name; the host reads the names back and sets values by id. Defaults, ranges
// and descriptions live in the host's schema (engine/scenarios), which is checked
// against these registrations by a unit test.
import { fn, nameStr, CAT_STATE } from "./names";
import { zeroed } from "./mem";

const MAX_KNOBS: i32 = 256;
const MAX_PATCHES: i32 = 64;

const knobName = new Array<i32>();
const knobVal = zeroed<f64>(MAX_KNOBS);
const patchName = new Array<i32>();
const patchOn = zeroed<bool>(MAX_PATCHES);
const scenarioName = new Array<i32>();
const scenarioBuild = new Array<() => void>();

// Knob and patch names are shared across scenarios: two scenarios that both read
// "timeo" get the same knob, and the host sets it for whichever one runs.
export function knob(nameOfKnob: string): i32 {
  for (let i = 0; i < knobName.length; i++) {
    if (knobLabel(i) == nameOfKnob) return i;
  }
  assert(knobName.length < MAX_KNOBS, "too many knobs");
  knobName.push(fn(nameOfKnob, "", CAT_STATE));
  return knobName.length - 1;
}

export function patch(nameOfPatch: string): i32 {
  for (let i = 0; i < patchName.length; i++) {
    if (patchLabel(i) == nameOfPatch) return i;
  }
  assert(patchName.length < MAX_PATCHES, "too many patches");
  patchName.push(fn(nameOfPatch, "", CAT_STATE));
  return patchName.length - 1;
}

// `build` assigns the hooks (setHooks) and constructs the world from the knobs.
export function scenario(nameOfScenario: string, build: () => void): i32 {
  scenarioName.push(fn(nameOfScenario, "", CAT_STATE));
  scenarioBuild.push(build);
  return scenarioName.length - 1;
}

function knobLabel(i: i32): string { return nameStr(knobName[i]); }
function patchLabel(i: i32): string { return nameStr(patchName[i]); }

export function kv(k: i32): f64 { return unchecked(knobVal[k]); }
export function kvi(k: i32): i64 { return <i64>unchecked(knobVal[k]); }
export function patched(p: i32): bool { return unchecked(patchOn[p]); }

export function setKnob(k: i32, v: f64): void { unchecked(knobVal[k] = v); }
export function setPatch(p: i32, on: bool): void { unchecked(patchOn[p] = on); }

export function knobCount(): i32 { return knobName.length; }
export function knobNameId(k: i32): i32 { return knobName[k]; }
export function patchCount(): i32 { return patchName.length; }
export function patchNameId(p: i32): i32 { return patchName[p]; }
export function scenarioCount(): i32 { return scenarioName.length; }
export function scenarioNameId(s: i32): i32 { return scenarioName[s]; }
export function scenarioBuildRun(s: i32): void { scenarioBuild[s](); }
