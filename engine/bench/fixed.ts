// The sweep path's fixed cost per seed alone (the bench's own figure, in seconds rather
// than minutes): npx tsx engine/bench/fixed.ts [seeds] [scenario...]
import { fixedCost } from "./run";
import { SCENARIOS } from "../catalog";

const seeds = Number(process.argv[2] ?? 40);
const ids = process.argv.length > 3 ? process.argv.slice(3) : SCENARIOS.map((s) => s.id);
for (const id of ids) {
  fixedCost(id, 3);     // warm the JIT and the instance
  const f = fixedCost(id, seeds);
  console.log(`${id.padEnd(24)} ${f.reusedMs.toFixed(3)} ms (reset ${f.resetMs.toFixed(3)}, clean ${f.cleanResetMs.toFixed(3)})`);
}
