// A thin, typed wrapper over one instance of the simulation module, and the Runner that
// reuses one instance for many runs (sweeps). The name table is read once per compiled module.

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
  test_reseed(seedLo: number, seedHi: number): void;
  heap_top(): number;
  mem_snapshot(top: number, globalsBytes: number): number;
  mem_reset(top: number): number;
  test_uncounted_row(): void;
  globals_bytes(): number;
  globals_save(ptr: number): void;
  globals_restore(ptr: number): void;
}

export interface NameTable {
  names: string[];
  formats: string[];
  categories: number[];
  scenarios: Map<string, number>;
  knobs: Map<string, number>;
  patches: Map<string, number>;
}

export const VERDICTS = ["ok", "hang", "corruption", "crash", "leak", "degraded"] as const;
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

// One instance reused for run after run, each starting from the state right after start.
// A fresh instance costs its start function (growing and faulting in tens of MiB) every
// time; here the module records its own image once after start (mem_snapshot: the
// non-zero lines of every page, in an area of its memory no run touches) and the host
// saves every mutable global beside it (asbuild.js adds globals_save/restore). Before
// each later run, mem_reset puts every page back to its image (zeroing the row tables
// up to their high-water marks instead of scanning them) and the globals are reloaded.
export class Runner {
  readonly x: CoreExports;
  private readonly globalsAt: number;     // where the globals are saved
  private readonly top: number;           // the heap top after start
  private used = false;
  resets = 0;

  constructor(readonly module: WebAssembly.Module) {
    const x = (this.x = instantiate(module));
    this.top = x.heap_top();
    this.globalsAt = x.mem_snapshot(this.top, x.globals_bytes());
    x.globals_save(this.globalsAt);
  }

  // The instance, in its after-start state (restored if a run has used it).
  fresh(): CoreExports {
    if (this.used) this.restore();
    this.used = true;
    return this.x;
  }

  // The heap top is the last run's (read before the globals put it back).
  private restore(): void {
    const x = this.x;
    x.mem_reset(Math.max(x.heap_top(), this.top));
    x.globals_restore(this.globalsAt);
    this.resets++;
  }
}

const runners = new WeakMap<WebAssembly.Module, Runner>();

// The thread's reusable instance of `src` (or `src` itself, when it is a Runner). A World
// built on it lives until the next run on the same Runner.
export function runnerOf(src: Runner | WebAssembly.Module): Runner {
  if (src instanceof Runner) return src;
  let r = runners.get(src);
  if (!r) runners.set(src, (r = new Runner(src)));
  return r;
}
