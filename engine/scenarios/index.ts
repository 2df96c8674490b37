// Registers every scenario's host-side spec in the catalog, in catalog order.
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "./types";
import { nfsOdirectRetransmit } from "./nfs-odirect-retransmit";
import { socklndScheduler } from "./socklnd-scheduler";

const specs: ScenarioSpec[] = [nfsOdirectRetransmit, socklndScheduler];

for (const s of specs) if (!SCENARIOS.includes(s)) SCENARIOS.push(s);
