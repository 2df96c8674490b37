// The Web Worker entry: the host API (engine/world.ts) behind Comlink, so the UI thread
// never runs the simulation. One worker serves one workspace (its Session: the finished
// run, its trace, the world re-run to the cursor); pool workers (engine/browser/pool.ts)
// only run sweep chunks.
import * as Comlink from "comlink";
import "./scenarios/index";
import { Session } from "./browser/session";
import type { RunProgress, TraceFilter } from "./browser/session";
import type { ConfigInput } from "./config";
import { ConfigError, validateConfig } from "./config";
import { runSeed, describeSeed, traceUpTo } from "./sweep";
import { explain } from "./explain";
import type { Address } from "./explain";

// The Perfetto exporter is the lead's (engine/export/perfetto.ts); offered when present.
const perfettoModules = import.meta.glob("./export/perfetto.ts");

let module: WebAssembly.Module | undefined;
let session: Session | undefined;

// Errors cross the worker boundary as plain objects: the field a ConfigError names survives.
function wrap<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => R {
  return (...a: A) => {
    try {
      return f(...a);
    } catch (e) {
      const err = e as Error;
      throw Object.assign(new Error(err.message), { field: e instanceof ConfigError ? e.field : undefined });
    }
  };
}

function loaded(): WebAssembly.Module {
  if (!module) throw new Error("the simulation module is not loaded");
  return module;
}

function ready(): Session {
  if (!session) throw new Error("the simulation module is not loaded");
  return session;
}

async function load(wasmUrl: string): Promise<void> {
  if (module) return;
  const res = fetch(wasmUrl);
  module = await WebAssembly.compileStreaming(res).catch(async () => WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer()));
  session = new Session(module);
}

const api = {
  load,
  run: wrap((input: ConfigInput, onProgress?: (p: RunProgress) => void, force?: Address[]) => ready().run(input, onProgress, force)),
  // The Why? view: shrink and point of no return, with progress (a Comlink proxy).
  explain: wrap((input: ConfigInput, forks: number, onProgress?: (phase: string, runs: number) => void) => {
    if (!module) throw new Error("the simulation module is not loaded");
    return explain(module, validateConfig(input), { forks, onProgress });
  }),
  timeline: wrap((t0: number, t1: number, bins: number) => {
    const tl = ready().timeline(t0, t1, bins);
    return Comlink.transfer(tl, [tl.counts.buffer, tl.cats.buffer]);
  }),
  filter: wrap((f: TraceFilter) => ready().filter(f)),
  lines: wrap((from: number, count: number) => ready().lines(from, count)),
  positionAt: wrap((t: number) => ready().positionAt(t)),
  linesAt: wrap((from: number, count: number) => ready().linesAt(from, count)),
  laneRecord: wrap((lane: number, t0: number, t1: number) => ready().laneRecord(lane, t0, t1)),
  stepFrom: wrap((t: number, dir: number) => ready().stepFrom(t, dir)),
  snapshotAt: wrap((t: number) => ready().snapshotAt(t)),
  pcap: wrap(() => {
    const b = ready().pcap();
    return b ? Comlink.transfer(b, [b.buffer]) : null;
  }),
  runJson: wrap(() => ready().runJson()),
  hasPerfetto: () => Object.keys(perfettoModules).length > 0,
  // A Blob from the exporter's chunks: never one string of the whole trace.
  async perfetto(): Promise<Blob | null> {
    const loader = Object.values(perfettoModules)[0];
    if (!loader) return null;
    const { writePerfettoJson } = (await loader()) as typeof import("./export/perfetto");
    const parts: Uint8Array<ArrayBuffer>[] = [];
    writePerfettoJson(ready().world, (b) => parts.push(b as Uint8Array<ArrayBuffer>));
    return new Blob(parts, { type: "application/json" });
  },
  // Sweep chunks on the worker's reused instance: outcomes only (with the rolling hash
  // when checking determinism); reasons and traces only for the seeds the view reports.
  sweep: wrap((input: ConfigInput, seeds: number[], marks: boolean) => {
    const base = validateConfig(input);
    return seeds.map((seed) => runSeed(loaded(), base, seed, marks));
  }),
  describe: wrap((input: ConfigInput, seed: number) => describeSeed(loaded(), validateConfig(input), seed)),
  trace: wrap((input: ConfigInput, seed: number, events: number) => traceUpTo(loaded(), validateConfig(input), seed, events)),
};

export type WorkerApi = typeof api;
Comlink.expose(api);
