// Registers every scenario's host-side spec in the catalog, in catalog order.
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "./types";
import { socklndScheduler } from "./socklnd-scheduler";

const specs: ScenarioSpec[] = [socklndScheduler];

for (const s of specs) if (!SCENARIOS.includes(s)) SCENARIOS.push(s);
