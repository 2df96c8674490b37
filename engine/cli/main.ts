// iostack — the lab's command line, on the same WASM module as the browser.
//   iostack list [--json]
//   iostack run <scenario> [--patch id[=on|off]]... [--knob k=v]... [--seed N] [--preset ID] [--json] [--expect V]
//   iostack sweep <scenario> --seeds N [--first S] [--shard K/N] [--jobs J] [--check-determinism[=K]] [--patch ...] [--knob ...] [--json]
//   iostack merge FILE... [--json]
//   iostack export <pcap|perfetto> <scenario> [--patch ...] [--knob ...] [--seed N] -o FILE
//   iostack explain <scenario> [--patch ...] [--knob ...] [--seed N] [--forks N] [--json]
// Bad arguments: one line on stderr naming the problem, exit code 2.
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { loadModule } from "../node/load";
import { sweepParallel } from "../node/sweep";
import { SCENARIOS } from "../catalog";
import { ConfigError, MAX_SEED, parseSeed, parseWhole, requireScenario, validateConfig } from "../config";
import type { ConfigInput, RunConfig } from "../config";
import { World, contractResult } from "../world";
import { PcapWriter } from "../export/pcap";
import { writePerfettoJson } from "../export/perfetto";
import type { RunDetails } from "../world";
import { asSweepResult, mergeSweeps, shardRange } from "../sweep";
import type { SweepResult } from "../sweep";
import { VERDICTS } from "../wasm";
import type { Verdict } from "../wasm";
import type { EvidenceBlock } from "../scenarios/types";
import { DEFAULT_FORKS, addressOf, explain, parseForce, replay, shrink } from "../explain";

// A usage error: one line naming the problem, then a hint to the command's --help.
export class UsageError extends Error {}

const COMMAND_USAGE: Record<string, string> = {
  list: "iostack list [--json]",
  run: "iostack run <scenario> [--patch id[=on|off]]... [--knob k=v]... [--seed N] [--preset ID] [--json] [--expect VERDICT] [--force <stream>:<index>[,...] | --only-minimal]",
  sweep: "iostack sweep <scenario> --seeds N [--first S] [--shard K/N] [--jobs J] [--check-determinism[=K]] [--patch ...] [--knob ...] [--json]",
  merge: "iostack merge FILE... [--json]",
  export: "iostack export <pcap|perfetto> <scenario> [--patch ...] [--knob ...] [--seed N] [--preset ID] -o FILE",
  explain: "iostack explain <scenario> [--patch ...] [--knob ...] [--seed N] [--preset ID] [--forks N] [--json]",
};
const USAGE = `usage:\n${Object.values(COMMAND_USAGE).map((u) => "  " + u).join("\n")}
numbers: decimal (12, 0.25, 1e-6); seeds and counts are whole numbers up to 2^53 - 1`;

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

// ---- explain (issue 17): `explain`, and `run --force` / `--only-minimal`
const EXPLAIN_VALUE_FLAGS = ["--force", "--forks"];
const EXPLAIN_BOOL_FLAGS = ["--only-minimal"];
const EXPLAIN_RUN_FLAGS = ["--force", "--only-minimal"];

// run --force / --only-minimal: the run with those decisions forced benign (undefined: neither given).
function forcedRun(p: Parsed, cfg: RunConfig): { details: RunDetails; forced: string[] } | undefined {
  const force = one(p, "--force");
  const onlyMinimal = !!one(p, "--only-minimal");
  if (force !== undefined && onlyMinimal) throw new UsageError("--force and --only-minimal exclude each other");
  if (force !== undefined) {
    const addrs = parseForce(force);
    return { details: replay(loadModule(), cfg, { force: addrs }).details, forced: addrs.map(addressOf) };
  }
  if (!onlyMinimal) return undefined;
  const s = shrink(loadModule(), cfg);
  return { details: s.replay, forced: s.forced.map(addressOf) };
}

function explainCmd(p: Parsed, out: (s: string) => void): number {
  const scenario = needScenario(p);
  const cfg = configFrom(p, scenario);
  const forks = intFlag(p, "--forks", DEFAULT_FORKS, 1);
  const tty = process.stderr.isTTY;
  const e = explain(loadModule(), cfg, {
    forks,
    onProgress: tty ? (phase, runs) => { if (runs % 8 === 0) process.stderr.write(`\rexplain ${scenario}: ${phase}, ${runs} runs   `); } : undefined,
  });
  if (tty) process.stderr.write("\n");
  const { runs: _runs, ...json } = e;
  if (one(p, "--json")) { out(JSON.stringify(json)); return 0; }
  const pn = e.pointOfNoReturn;
  const sec = (ns: number) => (ns / 1e9).toFixed(6);
  out(`${e.scenario} seed=${e.seed}: ${e.verdict} — ${e.reason}`);
  out(`decisions: ${e.decisions.total} drawn, ${e.decisions.nonBenign} non-benign, ${e.decisions.minimal.length} in the 1-minimal set:`);
  for (const d of e.decisions.minimal) out(`  [${sec(d.timeNs)}] event ${d.event} ${d.stream}:${d.index} ${d.what}`);
  if (!e.decisions.minimal.length) out("  (none: the run fails the same way with every non-benign decision forced benign)");
  out(`point of no return: event ${pn.event} at ${sec(pn.timeNs)} s, P(fail) ${pn.pFail} (${pn.pFailBefore} from the event before; first anomaly at event ${pn.firstAnomalyEvent})`);
  out(`  ${pn.what}`);
  out(`P(fail | prefix up to event k), ${forks} forks each: ${pn.curve.map(([k, pf]) => `${k}:${pf}`).join(" ")}`);
  out(`minimal replay: ${e.replay.verdict}, trace ${e.replay.traceHash} (${e.replay.forced.length} decisions forced benign)`);
  return 0;
}

const VALUE_FLAGS = new Set(["--patch", "--knob", "--seed", "--preset", "--seeds", "--first", "--shard", "--jobs", "-o", "--out", "--expect", ...EXPLAIN_VALUE_FLAGS]);
const BOOL_FLAGS = new Set(["--json", "--help", "-h", ...EXPLAIN_BOOL_FLAGS]);
const OPTIONAL_VALUE_FLAGS = new Set(["--check-determinism"]);   // --flag or --flag=V

// One pass, each value appended in place: linear in the number of arguments.
function parseArgs(argv: string[], allowed: Set<string>): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-") || a === "-") { positional.push(a); continue; }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    if (!allowed.has(flag)) throw new UsageError(`unknown option '${flag}'`);
    let list = flags.get(flag);
    if (!list) flags.set(flag, (list = []));
    if (OPTIONAL_VALUE_FLAGS.has(flag)) { list.push(inline ?? "1"); continue; }
    if (BOOL_FLAGS.has(flag)) {
      if (inline !== undefined) throw new UsageError(`option ${flag} takes no value`);
      list.push("true");
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`option ${flag} needs a value`);
    list.push(v);
  }
  return { positional, flags };
}

const one = (p: Parsed, f: string) => p.flags.get(f)?.at(-1);

// --patch/--knob/--seed/--preset → a validated RunConfig (ConfigError names the field).
function configFrom(p: Parsed, scenario: string): RunConfig {
  const spec = requireScenario(scenario);
  // No prototype: `--knob __proto__=1` is then an own key, refused as an unknown knob.
  const input: ConfigInput = { scenario, patches: Object.create(null), knobs: Object.create(null) };
  const presetId = one(p, "--preset");
  if (presetId !== undefined) {
    const preset = spec.presets.find((x) => x.id === presetId);
    if (!preset) throw new ConfigError("preset", `unknown preset '${presetId}' for ${scenario}; presets: ${spec.presets.map((x) => x.id).join(", ") || "none"}`);
    Object.assign(input.knobs!, preset.knobs);
    Object.assign(input.patches!, preset.patches ?? {});
    input.seed = preset.seed;
  }
  for (const arg of p.flags.get("--patch") ?? []) {
    const eq = arg.indexOf("=");
    const id = eq < 0 ? arg : arg.slice(0, eq);
    const state = eq < 0 ? "on" : arg.slice(eq + 1);
    if (state !== "on" && state !== "off") throw new ConfigError(`patch ${id}`, `--patch ${arg}: the state must be 'on' or 'off', got '${state}'`);
    input.patches![id] = state === "on";
  }
  for (const arg of p.flags.get("--knob") ?? []) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new ConfigError("knob", `--knob ${arg}: expected name=value`);
    input.knobs![arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const seed = one(p, "--seed");
  if (seed !== undefined) input.seed = parseSeed(seed, "--seed");
  return validateConfig(input);
}

function needScenario(p: Parsed): string {
  if (p.positional.length === 0) throw new UsageError("which scenario? (iostack list shows them)");
  if (p.positional.length > 1) throw new UsageError(`unexpected argument '${p.positional[1]}'`);
  return p.positional[0];
}

function printBlocks(blocks: EvidenceBlock[], out: (s: string) => void): void {
  for (const b of blocks) {
    out(`\n-- ${b.title}`);
    for (const l of b.lines ?? []) out(l);
    for (const [k, v] of Object.entries(b.kv ?? {})) out(`${k}: ${v}`);
    for (const e of b.graph?.edges ?? []) {
      const label = (id: string) => b.graph!.nodes.find((n) => n.id === id)?.label ?? id;
      out(`${label(e.from)} --${e.label}--> ${label(e.to)}`);
    }
  }
}

function runCmd(p: Parsed, out: (s: string) => void): number {
  const scenario = needScenario(p);
  const cfg = configFrom(p, scenario);
  const expect = one(p, "--expect");
  if (expect !== undefined && !VERDICTS.includes(expect as Verdict)) {
    throw new ConfigError("expect", `--expect must be one of ${VERDICTS.join(", ")}, got '${expect}'`);
  }
  const forced = forcedRun(p, cfg);
  const r: RunDetails = forced?.details ?? World.create(loadModule(), cfg, { traceCapacity: 0 }).run();
  if (one(p, "--json")) out(JSON.stringify({ ...contractResult(r), ...(forced && { forced: forced.forced }) }));
  else {
    const on = Object.entries(r.patches).filter(([, v]) => v).map(([k]) => k);
    out(`${r.scenario} seed=${r.seed} patches=${on.join(",") || "none"}`);
    out(`verdict: ${r.verdict} (${r.status}) — ${r.reason}`);
    out(`simulated ${(r.simTimeNs / 1e9).toFixed(3)} s in ${r.events} events (${r.timingMode} timing), trace ${r.traceHash}`);
    printBlocks((r.evidence.blocks as EvidenceBlock[]) ?? [], out);
  }
  return expect !== undefined && expect !== r.verdict ? 1 : 0;
}

function intFlag(p: Parsed, f: string, def: number | undefined, min: number): number {
  const v = one(p, f);
  if (v === undefined) {
    if (def === undefined) throw new UsageError(`${f} N is required`);
    return def;
  }
  return parseWhole(v, f, min);
}

async function sweepCmd(p: Parsed, out: (s: string) => void): Promise<number> {
  const scenario = needScenario(p);
  const cfg = configFrom(p, scenario);
  let first = intFlag(p, "--first", 1, 0);
  let count = intFlag(p, "--seeds", undefined, 1);
  if (count - 1 > MAX_SEED - first) throw new ConfigError("seeds", `--first ${first} --seeds ${count} runs past the last seed, ${MAX_SEED} (2^53 - 1); at most ${MAX_SEED - first + 1} seeds from there`);
  const shardArg = one(p, "--shard");
  let shard: SweepResult["shard"];
  if (shardArg !== undefined) {
    const m = /^([^/]+)\/([^/]+)$/.exec(shardArg);
    if (!m) throw new ConfigError("shard", `--shard must be K/N (e.g. 2/8), got '${shardArg}'`);
    const [k, n] = [parseWhole(m[1], "--shard K", 1), parseWhole(m[2], "--shard N", 1)];
    if (n > count) throw new ConfigError("shard", `--shard ${k}/${n}: ${n} shards of ${count} seeds would leave some empty; use at most ${count}`);
    ({ first, count } = shardRange(first, count, k, n));
    shard = { index: k, of: n };
  }
  const jobs = one(p, "--jobs") !== undefined ? intFlag(p, "--jobs", 1, 1) : undefined;
  const checkDeterminism = one(p, "--check-determinism") !== undefined ? intFlag(p, "--check-determinism", 1, 1) : 0;
  const tty = process.stderr.isTTY;
  const r = await sweepParallel(cfg, first, count, {
    jobs, checkDeterminism,
    onProgress: tty ? (done, total, c) => {
      const bad = VERDICTS.filter((v) => v !== "ok" && c[v]).map((v) => `${v} ${c[v]}`).join(", ");
      process.stderr.write(`\rsweep ${scenario}: ${done}/${total} seeds${bad ? " (" + bad + ")" : ""}   `);
    } : undefined,
  });
  if (tty) process.stderr.write("\n");
  if (shard) r.shard = shard;
  printSweep(r, !!one(p, "--json"), out);
  return r.determinism?.diverged.length ? 1 : 0;
}

function printSweep(r: SweepResult, json: boolean, out: (s: string) => void): void {
  if (json) { out(JSON.stringify(r)); return; }
  const n = r.seeds.count;
  const pct = (k: number) => `${n ? ((100 * k) / n).toFixed(1) : "0.0"}%`;
  out(`${r.scenario}: seeds ${r.seeds.first}..${r.seeds.first + n - 1} (${n})${r.shard ? ` shard ${r.shard.index}/${r.shard.of}` : ""}`);
  for (const v of VERDICTS) out(`  ${v.padEnd(10)} ${String(r.counts[v]).padStart(7)}  ${pct(r.counts[v])}`);
  for (const [why, k] of Object.entries(r.cut ?? {})) if (k) out(`  cut by ${why}: ${k} (${pct(k)}), not counted above`);
  const show = r.failing.slice(0, 10);
  if (show.length) out(`first failing or cut seeds: ${show.map((f) => `${f.seed} (${f.status ?? f.verdict})`).join(", ")}`);
  for (const f of show.filter((x) => x.reason).slice(0, 3)) {
    out(`seed ${f.seed}: ${f.verdict} — ${f.reason}`);
    for (const line of f.repro ?? []) out(`  ${line}`);
  }
  const d = r.determinism;
  if (d) {
    out(`determinism: ${d.checked} seed(s) (every ${d.every}) run twice on different workers, ${d.diverged.length} diverged`);
    for (const x of d.diverged) {
      out(`  seed ${x.seed}: trace hashes ${x.hashes[0]} and ${x.hashes[1]}, rolling hash first differs by event ${x.event}`);
      for (const line of x.first ?? ["  (the re-runs did not reproduce the divergence)"]) out(`  ${line}`);
    }
  }
}

// A sweep result of a million seeds with every one failing is ~100 MB of JSON; anything
// larger is not ours (and /dev/zero would never end).
const MERGE_MAX_BYTES = 256 * 1024 * 1024;

function readSweepFile(file: string): string {
  let fd: number;
  try { fd = openSync(file, "r"); } catch (e) { throw new ConfigError("merge", `cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? e})`); }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError("merge", `${file}: not a regular file`);
    if (st.size > MERGE_MAX_BYTES) throw new ConfigError("merge", `${file}: ${st.size} bytes is over the ${MERGE_MAX_BYTES}-byte limit for a sweep result`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

function mergeCmd(p: Parsed, out: (s: string) => void): number {
  if (p.positional.length === 0) throw new UsageError("give the sweep JSON files to combine");
  const parts = p.positional.map((file) => {
    const text = readSweepFile(file);
    let json: unknown;
    try { json = JSON.parse(text); } catch { throw new ConfigError("merge", `${file}: not JSON`); }
    const { shard: _shard, ...rest } = asSweepResult(json, file);
    return rest;
  });
  printSweep(mergeSweeps(parts), !!one(p, "--json"), out);
  return 0;
}

// A failed write of the output, told apart from a failure of the exporter itself.
class OutputError extends Error {}

const errText = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));

async function exportCmd(p: Parsed, out: (s: string) => void): Promise<number> {
  const [format, scenario, extra] = p.positional;
  if (!format || !["pcap", "perfetto"].includes(format)) throw new UsageError(`the format must be pcap or perfetto, got '${format ?? ""}'`);
  if (!scenario) throw new UsageError("which scenario?");
  if (extra) throw new UsageError(`unexpected argument '${extra}'`);
  const file = one(p, "-o") ?? one(p, "--out");
  if (!file) throw new UsageError("-o FILE is required");
  const spec = requireScenario(scenario);
  const cfg = configFrom(p, scenario);
  if (format === "pcap" && !spec.pcap) throw new ConfigError("format", `${scenario} has no wire capture to export (pcap)`);
  // Open the file before the run: a bad path fails at once, not after it.
  let fd: number;
  try { fd = openSync(file, "w"); } catch (e) { throw new ConfigError("output", `cannot write '${file}' (${errText(e)})`); }
  let bytes = 0;
  // Chunks go to the file as they are made: memory stays bounded whatever the run's length.
  const sink = (b: Uint8Array) => {
    try { for (let o = 0; o < b.length; ) o += writeSync(fd, b, o); } catch (e) { throw new OutputError(`cannot write '${file}' (${errText(e)})`); }
    bytes += b.length;
  };
  try {
    // A capture reads the evidence, not the trace: keep none.
    const w = World.create(loadModule(), cfg, format === "pcap" ? { traceCapacity: 0 } : {});
    w.run();
    try {
      if (format === "pcap") spec.pcap!(w.rawEvidence(), w.describeContext(), new PcapWriter(sink));
      else writePerfettoJson(w, sink);
    } catch (e) {
      if (e instanceof OutputError) throw new ConfigError("output", e.message);
      throw new ConfigError("export", `the ${format} exporter failed for this run of ${scenario}: ${errText(e)}`);
    }
    out(`wrote ${file} (${bytes} bytes)`);
  } finally {
    closeSync(fd);
  }
  return 0;
}

function listCmd(p: Parsed, out: (s: string) => void): number {
  if (p.positional.length) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  if (one(p, "--json")) {
    out(JSON.stringify(SCENARIOS.map((s) => ({
      id: s.id, title: s.title, subsystem: s.subsystem, year: s.year, symptom: s.symptom,
      patches: s.patches.map((x) => ({ id: x.id, commit: x.commit, title: x.title, default: x.default })),
      knobs: s.knobs.map(({ name, type, default: d, min, max, values, unit, group }) => ({ name, type, default: d, min, max, values, unit, group })),
      presets: s.presets.map((x) => x.id),
    }))));
    return 0;
  }
  for (const s of SCENARIOS) {
    out(`${s.id.padEnd(26)} ${s.subsystem.padEnd(14)} ${s.year}  ${s.symptom}`);
    out(`${"".padEnd(26)} patches: ${s.patches.map((x) => x.id + (x.default ? " (on)" : "")).join(", ")}`);
  }
  return 0;
}

const COMMANDS: Record<string, { flags: string[]; run: (p: Parsed, out: (s: string) => void) => number | Promise<number> }> = {
  list: { flags: ["--json"], run: listCmd },
  run: { flags: ["--patch", "--knob", "--seed", "--preset", "--json", "--expect", ...EXPLAIN_RUN_FLAGS], run: runCmd },
  sweep: { flags: ["--patch", "--knob", "--preset", "--seeds", "--first", "--shard", "--jobs", "--check-determinism", "--json"], run: sweepCmd },
  merge: { flags: ["--json"], run: mergeCmd },
  export: { flags: ["--patch", "--knob", "--seed", "--preset", "-o", "--out"], run: exportCmd },
  explain: { flags: ["--patch", "--knob", "--seed", "--preset", "--forks", "--json"], run: (p, out) => explainCmd(p, out) },
};

export async function main(argv: string[], out = (s: string) => console.log(s), err = (s: string) => console.error(s)): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    if (cmd) { out(USAGE); return 0; }
    err("iostack: which command? see iostack --help");
    return 2;
  }
  const c = COMMANDS[cmd];
  if (!c) { err(`iostack: unknown command '${cmd}'; see iostack --help`); return 2; }
  try {
    const parsed = parseArgs(rest, new Set([...c.flags, "--help", "-h"]));
    if (parsed.flags.has("--help") || parsed.flags.has("-h")) { out(`usage: ${COMMAND_USAGE[cmd]}`); return 0; }
    return await c.run(parsed, out);
  } catch (e) {
    if (e instanceof UsageError) { err(`iostack ${cmd}: ${e.message}; see iostack ${cmd} --help`); return 2; }
    if (e instanceof ConfigError) { err(`iostack ${cmd}: ${e.message}`); return 2; }
    throw e;
  }
}
