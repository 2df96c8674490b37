// A thin, typed wrapper over one instance of the simulation module. One instance is one
// run: instantiating a compiled module takes well under a millisecond, and a fresh
// instance needs no reset. The name table is read once per compiled module.

export interface CoreExports {
  memory: WebAssembly.Memory;
  names_count(): number;
  name_ptr(id: number): number;
  name_len(id: number): number;
  name_fmt_ptr(id: number): number;
  name_fmt_len(id: number): number;
  name_category(id: number): number;
  scenario_count(): number;
  scenario_name(s: number): number;
  knob_count(): number;
  knob_name(k: number): number;
  patch_count(): number;
  patch_name(p: number): number;
  set_knob(k: number, v: number): void;
  set_patch(p: number, on: number): void;
  world_init(scn: number, seedLo: number, seedHi: number, traceCap: number): void;
  run(maxEvents: number, until: number): number;
  now_ns(): number;
  time_limit_ns(): number;
  events(): number;
  cost(): number;
  set_cost_budget(n: number): void;
  cost_budget(): number;
  verdict(): number;
  status(): number;
  finished(): number;
  trace_buf(): number;
  trace_cap(): number;
  trace_written(): number;
  trace_hash_hi(): number;
  trace_hash_lo(): number;
  trace_first_anomaly(): number;
  json_ptr(): number;
  snapshot(withEntities: number): number;
  evidence(): number;
  entities(): number;
  bench_heap(n: number): number;
}

export interface NameTable {
  names: string[];
  formats: string[];
  categories: number[];
  scenarios: Map<string, number>;
  knobs: Map<string, number>;
  patches: Map<string, number>;
}

export const VERDICTS = ["ok", "hang", "corruption", "crash", "leak"] as const;
export type Verdict = (typeof VERDICTS)[number];
// How a run ended, in asm/kernel/world.ts RUN_* order; "cancelled" is the host's (a run
// stopped from the UI never reaches the module's end).
export const RUN_STATUS = ["paused", "complete", "time-limit", "event-budget", "hang-detected", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUS)[number];

// A run that did not reach its own end: its verdict is what the detectors had found when
// it stopped, not a finding about the configuration.
export function isCut(s: RunStatus): boolean {
  return s === "time-limit" || s === "event-budget" || s === "cancelled";
}

export class SimAbort extends Error {}

const tables = new WeakMap<WebAssembly.Module, NameTable>();
const utf8 = new TextDecoder();

function readUtf16(mem: WebAssembly.Memory, ptr: number, len: number): string {
  const u16 = new Uint16Array(mem.buffer, ptr, len);
  let s = "";
  for (let i = 0; i < len; i += 4096) s += String.fromCharCode(...u16.subarray(i, i + 4096));
  return s;
}

export function instantiate(module: WebAssembly.Module): CoreExports {
  let exports: CoreExports | undefined;
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        const str = (p: number) => {
          if (!p || !exports) return "?";
          const len = new Uint32Array(exports.memory.buffer, p - 4, 1)[0] >>> 1;
          return readUtf16(exports.memory, p, len);
        };
        throw new SimAbort(`simulation aborted: ${str(msg)} at ${str(file)}:${line}:${col}`);
      },
    },
  });
  exports = instance.exports as unknown as CoreExports;
  return exports;
}

export function nameTable(module: WebAssembly.Module, x: CoreExports): NameTable {
  const cached = tables.get(module);
  if (cached) return cached;
  const n = x.names_count();
  const names: string[] = new Array(n);
  const formats: string[] = new Array(n);
  const categories: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    names[i] = readUtf16(x.memory, x.name_ptr(i), x.name_len(i));
    formats[i] = readUtf16(x.memory, x.name_fmt_ptr(i), x.name_fmt_len(i));
    categories[i] = x.name_category(i);
  }
  const byName = (count: number, at: (i: number) => number) => {
    const m = new Map<string, number>();
    for (let i = 0; i < count; i++) m.set(names[at(i)], i);
    return m;
  };
  const t: NameTable = {
    names, formats, categories,
    scenarios: byName(x.scenario_count(), (i) => x.scenario_name(i)),
    knobs: byName(x.knob_count(), (i) => x.knob_name(i)),
    patches: byName(x.patch_count(), (i) => x.patch_name(i)),
  };
  tables.set(module, t);
  return t;
}

export function readJson(x: CoreExports, len: number): any {
  const bytes = new Uint8Array(x.memory.buffer, x.json_ptr(), len);
  return JSON.parse(utf8.decode(bytes));
}

export function traceHashHex(x: CoreExports): string {
  return (x.trace_hash_hi() >>> 0).toString(16).padStart(8, "0") +
    (x.trace_hash_lo() >>> 0).toString(16).padStart(8, "0");
}
