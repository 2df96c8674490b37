// Trace hashes of seeds 1..N for every scenario's expected patch sets: the behaviour
// fingerprint a refactor must keep.
//   npx tsx engine/tools/hashes.ts [--seeds N] [--only ID] > before.json
//   npx tsx engine/tools/hashes.ts --check before.json      (exit 1 on a difference)
// --decoded: a digest of the trace as decoded lines instead (name ids resolved to their
// strings), for a change that moves where names are registered: it renumbers the name ids
// every later record carries, and so changes every raw hash, without changing a line.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { SCENARIOS } from "../catalog";
import { validateConfig } from "../config";
import { loadModule } from "../node/load";
import { runSeed } from "../sweep";
import { Runner } from "../wasm";
import { World } from "../world";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const check = opt("--check");
const only = opt("--only");
const decoded = args.includes("--decoded");
const before: Record<string, string[]> | undefined = check ? JSON.parse(readFileSync(check, "utf8")) : undefined;
const seeds = Number(opt("--seeds") ?? (before ? Object.values(before)[0]?.length : 50) ?? 50);

const runner = new Runner(loadModule());
const DECODED_CAPACITY = 1 << 22;
function decodedDigest(base: ReturnType<typeof validateConfig>, seed: number): string {
  const w = World.create(runner.module, { ...base, seed }, { traceCapacity: DECODED_CAPACITY });
  w.run();
  if (w.traceWritten > DECODED_CAPACITY) throw new Error(`${base.scenario} seed ${seed}: ${w.traceWritten} records, more than --decoded keeps`);
  const h = createHash("sha1");
  for (const line of w.traceLines()) h.update(line + "\n");
  return `${h.digest("hex").slice(0, 16)}:${w.traceWritten}`;
}
const now: Record<string, string[]> = {};
let differ = 0;
for (const spec of SCENARIOS) {
  if (only && spec.id !== only) continue;
  for (const e of spec.expected) {
    const label = `${spec.id} ${JSON.stringify(e.patches)} ${JSON.stringify(e.knobs ?? {})}`;
    const base = validateConfig({ scenario: spec.id, patches: e.patches, knobs: e.knobs });
    const hs: string[] = [];
    for (let s = 1; s <= seeds; s++) hs.push(decoded ? decodedDigest(base, s) : runSeed(runner, base, s).traceHash);
    now[label] = hs;
    const was = before?.[label];
    if (!before) continue;
    if (!was) { console.error(`new: ${label}`); differ++; continue; }
    const bad = hs.map((h, i) => (h === was[i] ? 0 : i + 1)).filter(Boolean);
    if (bad.length) { console.error(`differ: ${label} seeds ${bad.join(",")}`); differ++; }
  }
}
if (before) {
  console.error(differ ? `${differ} patch sets differ` : `all ${Object.keys(now).length} patch sets identical, seeds 1-${seeds}`);
  process.exit(differ ? 1 : 0);
} else console.log(JSON.stringify(now, null, 1));
