// Knob table rows for the scenario specs: one line per knob, in the order of KnobSpec.
import type { KnobSpec } from "./types";

type Group = KnobSpec["group"];

export const intKnob = (name: string, label: string, group: Group, def: number, min: number, max: number, description: string, unit?: string): KnobSpec =>
  ({ name, label, group, type: "int", default: def, min, max, description, ...(unit ? { unit } : {}) });
export const floatKnob = (name: string, label: string, group: Group, def: number, min: number, max: number, description: string, unit?: string): KnobSpec =>
  ({ name, label, group, type: "float", default: def, min, max, description, ...(unit ? { unit } : {}) });
export const boolKnob = (name: string, label: string, group: Group, def: boolean, description: string): KnobSpec =>
  ({ name, label, group, type: "bool", default: def, description });
