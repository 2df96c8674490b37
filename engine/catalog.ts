// The scenario catalog, in the order the lab shows it.
import type { ScenarioSpec } from "./scenarios/types";

export const SCENARIOS: ScenarioSpec[] = [];

export function scenarioById(id: string): ScenarioSpec | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
