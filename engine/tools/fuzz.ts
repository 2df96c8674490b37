// The configuration fuzzer: random configurations within the knobs' own ranges, across
// every scenario. Each must end with a verdict and a status, or a configuration error
// naming a knob, within the cost budget; a re-run must give the same trace hash.
//   npm run fuzz -- [--runs N] [--seed S] [--budget UNITS]
// prints the count per outcome class, the slowest configurations, and a reproducer
// command line for every failure (exit 1 if there is one).
import { SCENARIOS } from "../catalog";
import { ConfigError, MAX_SEED, cliArgs } from "../config";
import type { RunConfig } from "../config";
import { World } from "../world";
import type { WorldOptions } from "../world";
import type { KnobSpec, KnobValue } from "../scenarios/types";

// xorshift64*: the fuzzer's own stream, so a fuzz seed names the same configurations
// on every machine (no Math.random).
class Rng {
  private s: bigint;
  constructor(seed: number) { this.s = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n & 0xffffffffffffffffn; }
  next(): number {
    let x = this.s;
    x ^= x >> 12n; x ^= (x << 25n) & 0xffffffffffffffffn; x ^= x >> 27n;
    this.s = x;
    return Number(((x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
}

// Ends of the range often, else a log-uniform draw (ranges span decades: 1 µs..1 s).
function drawKnob(k: KnobSpec, r: Rng): KnobValue {
  if (k.type === "bool") return r.next() < 0.5;
  if (k.type === "enum") return k.values![r.int(k.values!.length)];
  const lo = k.min ?? 0, hi = k.max ?? Math.max(1, (k.default as number) * 100);
  const u = r.next();
  let v = u < 0.15 ? lo : u < 0.3 ? hi : lo > 0 ? lo * (hi / lo) ** r.next() : hi * (r.next() ** 3);
  if (k.type === "int") v = Math.min(hi, Math.max(lo, Math.round(v)));
  else v = Number(v.toPrecision(4));
  return Math.min(hi, Math.max(lo, v));
}

const SEED_EDGES = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 52, MAX_SEED];

// The i-th configuration of fuzz seed `seed`: a scenario, random patches, about a third
// of its knobs changed, and a seed (sometimes one of the edges).
export function fuzzConfig(seed: number, i: number): RunConfig {
  const r = new Rng(seed * 1_000_003 + i);
  const spec = SCENARIOS[i % SCENARIOS.length];
  const patches = Object.fromEntries(spec.patches.map((p) => [p.id, r.next() < 0.5]));
  const knobs: Record<string, KnobValue> = {};
  for (const k of spec.knobs) knobs[k.name] = r.next() < 0.35 ? drawKnob(k, r) : k.default;
  const s = r.next() < 0.1 ? SEED_EDGES[r.int(SEED_EDGES.length)] : 1 + r.int(1_000_000);
  return { scenario: spec.id, patches, knobs, seed: s };
}

export function reproducer(c: RunConfig): string {
  return `npx iostack run ${cliArgs(c)}`;
}

export type Outcome =
  | { class: "verdict"; status: string; verdict: string; traceHash: string }
  | { class: "config-error"; field: string; message: string }
  | { class: "failure"; message: string };

// cpuMs: this process's CPU time for the case (the figure to read on a shared machine).
export interface FuzzCase { config: RunConfig; outcome: Outcome; wallMs: number; cpuMs: number; cost: number }

const CUT_OR_DONE = new Set(["complete", "hang-detected", "time-limit", "event-budget"]);

// Runs one configuration and classifies how it ended; a "failure" is a bug to fix.
// `limitSearch: false` skips the bisection behind a model-limit error (the test's speed).
export function fuzzOne(module: WebAssembly.Module, config: RunConfig, opts: Omit<WorldOptions, "traceCapacity"> = {}): FuzzCase {
  const t0 = performance.now(), c0 = process.cpuUsage();
  const costBudget = opts.costBudget;
  let outcome: Outcome, cost = 0;
  try {
    const w = World.create(module, config, { ...opts, traceCapacity: 0 });
    const r = w.run();
    cost = r.cost;
    outcome = !CUT_OR_DONE.has(r.status)
      ? { class: "failure", message: `the run ended with status '${r.status}'` }
      : costBudget !== undefined && r.cost > costBudget + costBudget / 10
        ? { class: "failure", message: `spent ${r.cost} units of a ${costBudget}-unit budget` }
        : { class: "verdict", status: r.status, verdict: r.verdict, traceHash: r.traceHash };
  } catch (e) {
    if (e instanceof ConfigError) {
      outcome = e.field.startsWith("knob ")
        ? { class: "config-error", field: e.field, message: e.message }
        : { class: "failure", message: `a configuration error that names no knob: ${e.message}` };
    } else {
      outcome = { class: "failure", message: `threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  const cpu = process.cpuUsage(c0);
  return { config, outcome, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, cost };
}

// The class a case is counted under: status and verdict for runs, the knob for errors.
export function outcomeKey(o: Outcome): string {
  return o.class === "verdict" ? `${o.status} ${o.verdict}` : o.class === "config-error" ? "config-error" : "failure";
}

// Re-runs a case and reports a failure if its hash changed.
export function rerunDiffers(module: WebAssembly.Module, c: FuzzCase, opts: Omit<WorldOptions, "traceCapacity"> = {}): string | undefined {
  if (c.outcome.class !== "verdict") return undefined;
  const again = fuzzOne(module, c.config, opts).outcome;
  if (again.class === "verdict" && again.traceHash === c.outcome.traceHash) return undefined;
  return `re-run gave ${again.class === "verdict" ? `trace ${again.traceHash}` : again.class}, first run trace ${c.outcome.traceHash}`;
}

async function cli(argv: string[]): Promise<number> {
  const { loadModule } = await import("../node/load");
  const { parseWhole } = await import("../config");
  const opt = (f: string, d: number, min: number) => {
    const i = argv.indexOf(f);
    return i < 0 ? d : parseWhole(argv[i + 1], f, min);
  };
  const runs = opt("--runs", 200, 1), seed = opt("--seed", 1, 0);
  const budget = argv.includes("--budget") ? opt("--budget", 0, 1) : undefined;
  const module = loadModule();
  const counts = new Map<string, number>();
  const cases: FuzzCase[] = [];
  let failures = 0;
  for (let i = 0; i < runs; i++) {
    const c = fuzzOne(module, fuzzConfig(seed, i), { costBudget: budget });
    cases.push(c);
    const key = outcomeKey(c.outcome);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const bad = c.outcome.class === "failure" ? c.outcome.message : i % 10 === 0 ? rerunDiffers(module, c, { costBudget: budget }) : undefined;
    if (bad) {
      failures++;
      console.log(`FAIL ${bad}\n  reproduce: ${reproducer(c.config)}`);
    }
    if (process.stderr.isTTY) process.stderr.write(`\rfuzz: ${i + 1}/${runs}`);
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
  console.log(`fuzz seed ${seed}: ${runs} configurations, ${failures} failure(s)`);
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(30)} ${n}`);
  console.log("slowest (CPU time, wall time):");
  for (const c of [...cases].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5)) {
    console.log(`  ${(c.cpuMs / 1000).toFixed(2)} s  ${(c.wallMs / 1000).toFixed(2)} s  ${c.cost} units  ${outcomeKey(c.outcome)}  ${reproducer(c.config)}`);
  }
  return failures ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    console.error(`fuzz: ${e instanceof Error ? e.message : e}`);
    process.exitCode = 2;
  });
}
