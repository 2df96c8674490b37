// The host-side description of a scenario: catalog metadata, the patches with their
// real commits, the knobs with ranges and defaults, presets, and the function that turns
// the model's raw evidence into the reason line and the evidence a kernel engineer reads.
import type { PcapWriter } from "../export/pcap";
import type { Verdict } from "../wasm";

export type KnobGroup = "workload" | "faults" | "kernel";
export type KnobValue = number | string | boolean;

export interface KnobSpec {
  name: string;           // as registered by the model: knob("name")
  label: string;
  group: KnobGroup;
  type: "int" | "float" | "enum" | "bool";
  default: KnobValue;
  min?: number;           // int and float
  max?: number;
  values?: string[];      // enum: passed to the model as the index
  unit?: string;
  description: string;
}

export interface PatchSpec {
  id: string;             // as registered by the model: patch("id")
  commit: string;         // upstream commit id (or "unmerged" / "not found")
  title: string;
  summary: string;        // one paragraph in our words: what it changes and why
  diff: string;           // the real diff excerpt, a few lines
  default: boolean;
  inferred?: string;      // set when the behaviour is inferred: what the lab assumed
}

export interface PresetSpec {
  id: string;
  label: string;
  description: string;
  seed: number;
  knobs: Record<string, KnobValue>;
  patches?: Record<string, boolean>;
}

export interface ExpectedOutcome {
  patches: Record<string, boolean>;
  knobs?: Record<string, KnobValue>;   // when the outcome needs more than the defaults
  verdict: Verdict;
  note: string;
}

// A piece of evidence the UI (Evidence view), the CLI (text output) and docs render
// without knowing the scenario: preformatted lines (task dumps, syslog, tap-ctl list),
// key/value facts, or a small graph (the wait-for chain).
export interface EvidenceBlock {
  id: string;
  title: string;
  lines?: string[];
  kv?: Record<string, string | number | boolean>;
  graph?: { nodes: Array<{ id: string; label: string }>; edges: Array<{ from: string; to: string; label: string }> };
}

// A time series for the Metrics view: points are [tNs, value] pairs.
export interface Series {
  id: string;
  title: string;
  unit: string;
  points: Array<[number, number]>;
}

// evidence: the scenario's structured facts (tests assert on them), plus `blocks` and
// optionally `series` for generic rendering.
export interface Described {
  reason: string;
  evidence: Record<string, unknown> & { blocks: EvidenceBlock[]; series?: Series[] };
}

export interface DescribeContext {
  entities: Array<{ id: number; kind: string; comm: string; pid: number; state?: number; wchan?: string; cpu?: number; busyNs?: number }>;
  simTimeNs: number;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
}

// The Stack view: the whole I/O stack at the cursor, one layer per row, top to bottom, in
// kernel words. Each scenario lists its layers; a layer's `read` turns the snapshot into
// plain facts, gauges and items, and one renderer (ui/stack/) draws every scenario from them.
export type StackTone = "idle" | "run" | "wait" | "held" | "bad";

export interface StackItem {
  key: string;            // stable across cursor moves: an item that changes layer moves there
  label: string;
  ent?: number;           // its entity: a click selects it in the timeline and the trace
  tone?: StackTone;
  group?: string;         // a sub-row of the layer (tk_action, CPT, scheduler...)
  fields?: Record<string, string | number | boolean>;   // the kernel struct's fields (hover)
}

export interface StackGauge { label: string; value: number; max: number; text: string; alarm?: boolean }

export interface StackLayerState {
  facts?: Record<string, string | number | boolean>;
  gauges?: StackGauge[];
  items?: StackItem[];
  // references drawn as lines: item key -> item key (an skb pinning a page)
  links?: Array<{ from: string; to: string; label: string }>;
}

export interface StackInput {
  time: number;
  model: any;
  entities: DescribeContext["entities"];
  // the wait-for graph now: who waits on what, held by whom (-1: nobody)
  waits: Array<{ ent: number; waitsOn: string; obj: number; heldBy: number }>;
  knobs: Record<string, KnobValue>;
  // CPU share of a thread since the previous picture (the cursor's last position), or since
  // the start when the cursor moved back
  recentBusy(ent: number): number;
}

export interface StackLayerSpec {
  id: string;
  title: string;          // "struct rpc_xprt", "knfsd", "blkback"
  read(s: StackInput): StackLayerState;
}

// A view a scenario contributes to the workspace from its spec, with no edit to ui/ (as
// Perfetto's registerTab): a tab labelled `label` showing the blocks `read` makes of the
// model's snapshot at the cursor. Its id must differ from the built-in views' (BUILTIN_VIEWS).
export interface ScenarioView {
  id: string;
  label: string;
  read(model: any, ctx: DescribeContext): EvidenceBlock[];
}

// The workspace's own views (ui/components/Workspace.svelte), which a scenario's view id
// must not take.
export const BUILTIN_VIEWS = ["stack", "evidence", "state", "trace", "wire", "metrics", "compare", "sweep", "export", "why"] as const;

export interface ScenarioSpec {
  id: string;
  title: string;
  subsystem: string;
  year: number;
  symptom: string;
  seed: string;           // the mailing-list thread or commit it reproduces
  kernel: string;         // the code base modelled
  story: string[];        // what the engineers saw, what to try
  assumptions: string[];  // where the model chose, said in the UI
  patches: PatchSpec[];
  knobs: KnobSpec[];
  presets: PresetSpec[];
  expected: ExpectedOutcome[];
  views: string[];        // the workspace views that matter for this scenario
  describe(verdict: Verdict, raw: any, ctx: DescribeContext): Described;
  // The model's snapshot (state at the UI's cursor) as blocks: the State and Tasks views.
  snapshotBlocks?(model: any, ctx: DescribeContext): EvidenceBlock[];
  // The Stack view's layers, top to bottom.
  stack?: StackLayerSpec[];
  // Views of its own, listed after the workspace's.
  ownViews?: ScenarioView[];
  // Limits between knobs that no single range can say (throws a ConfigError naming both).
  checkKnobs?(knobs: Record<string, KnobValue>): void;
  // A model limit (its abort message) -> the knob whose value drives it: the error then
  // says the largest value of that knob that works with the others as they are.
  limitKnobs?: Record<string, string>;
  // Wire capture of the finished run (libpcap bytes), from the raw evidence. Given a
  // writer with a sink, the bytes stream to it (and the result is empty).
  pcap?(raw: any, ctx: DescribeContext, w?: PcapWriter): Uint8Array;
}
