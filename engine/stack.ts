// The Stack view's picture at one instant, built in the worker (never on the UI thread)
// from the scenario's layer description and the snapshot: the layers with their items,
// and the wait-for edges between drawn items, with a cycle marked while one exists.
// Nothing here knows a scenario: the descriptions say what each layer shows.
import type { ScenarioSpec, StackInput, StackItem, StackLayerState, StackTone } from "./scenarios/types";

// Items drawn per layer; the rest are counted ("+N more"), so a frame stays small.
export const STACK_MAX_ITEMS = 64;

export interface StackLayer extends StackLayerState { id: string; title: string; items: StackItem[]; hidden: number }
export interface StackLink { from: string; to: string; label: string; cycle: boolean }
export interface StackPicture { time: number; layers: StackLayer[]; links: StackLink[]; cycle: string[] }

type Ent = StackInput["entities"][number];

export function stackPicture(spec: ScenarioSpec, input: StackInput): StackPicture | null {
  if (!spec.stack) return null;
  const waits = new Map(input.waits.map((w) => [w.ent, w]));
  const layers: StackLayer[] = spec.stack.map((l) => {
    let st: StackLayerState;
    try {
      st = l.read(input);
    } catch (e) {
      st = { facts: { error: `cannot read this layer: ${(e as Error).message}` } };
    }
    const all = st.items ?? [];
    const items = capped(all, waits).map((it) => withWait(it, waits.get(it.ent ?? -1), input.entities));
    return { ...st, id: l.id, title: l.title, items, hidden: all.length - items.length };
  });
  const keyOf = new Map<number, string>();
  for (const l of layers) for (const it of l.items) if (it.ent !== undefined && !keyOf.has(it.ent)) keyOf.set(it.ent, it.key);
  const onCycle = cycleOf(input.waits);
  const drawn = new Set(layers.flatMap((l) => l.items.map((it) => it.key)));
  const links: StackLink[] = layers.flatMap((l) => (l.links ?? []).filter((k) => drawn.has(k.from) && drawn.has(k.to)).map((k) => ({ ...k, cycle: false })));
  for (const w of input.waits) {
    const from = keyOf.get(w.ent), to = keyOf.get(w.heldBy);
    if (from && to) links.push({ from, to, label: w.waitsOn, cycle: onCycle.includes(w.ent) });
  }
  const cycle = onCycle.map((e) => entLabel(input.entities[e]) + " waits on " + waits.get(e)!.waitsOn);
  return { time: input.time, layers, links, cycle };
}

// At most STACK_MAX_ITEMS, in their order; what tells the story (a holder, a fault, a
// waiter in the wait-for graph) is kept first, then whatever sleeps on a queue, then the rest.
function capped(all: StackItem[], waits: Map<number, unknown>): StackItem[] {
  if (all.length <= STACK_MAX_ITEMS) return all;
  const telling = (it: StackItem) => it.tone === "bad" || it.tone === "held" || waits.has(it.ent ?? -1);
  const keep = new Set<StackItem>();
  for (const tier of [all.filter(telling), all.filter((it) => it.tone === "wait"), all]) {
    for (const it of tier) if (keep.size < STACK_MAX_ITEMS) keep.add(it);
  }
  return all.filter((it) => keep.has(it));
}

// The entities on a wait-for cycle, in chain order (the first cycle found), or [].
export function cycleOf(waits: StackInput["waits"]): number[] {
  const next = new Map(waits.filter((w) => w.heldBy >= 0).map((w) => [w.ent, w.heldBy]));
  for (const start of next.keys()) {
    const seen: number[] = [];
    for (let e: number | undefined = start; e !== undefined && seen.length <= next.size; e = next.get(e)) {
      const i = seen.indexOf(e);
      if (i >= 0) return seen.slice(i);
      seen.push(e);
    }
  }
  return [];
}

// An item whose entity waits says on what and held by whom: a lock with no holder shows.
function withWait(it: StackItem, w: StackInput["waits"][number] | undefined, ents: Ent[]): StackItem {
  if (!w) return it;
  const by = w.heldBy >= 0 ? entLabel(ents[w.heldBy]) : "nobody";
  return { ...it, tone: it.tone === "bad" ? "bad" : "wait", fields: { ...it.fields, "waits on": `${w.waitsOn} (held by ${by})` } };
}

export function entLabel(e: Ent | undefined): string {
  if (!e) return "?";
  return e.pid ? `${e.comm}:${e.pid}` : e.comm;
}

const STATE = ["R", "S", "D", "X"];

// A task or thread as an item: its ps-like fields, and its tone from its state.
export function entityItem(e: Ent, extra: Partial<StackItem> = {}): StackItem {
  const fields: Record<string, string | number | boolean> = { comm: e.comm, pid: e.pid, kind: e.kind };
  if (e.state !== undefined) fields.state = STATE[e.state] ?? e.state;
  if (e.wchan && e.wchan !== "?") fields.wchan = e.wchan;
  if (e.cpu !== undefined) fields.cpu = e.cpu;
  const tone: StackTone = e.state === 0 ? "run" : e.state === 2 ? "wait" : e.state === 3 ? "bad" : "idle";
  return { key: `e${e.id}`, label: entLabel(e), ent: e.id, tone, ...extra, fields: { ...fields, ...extra.fields } };
}

export const hex = (v: number): string => "0x" + (v >>> 0).toString(16).padStart(8, "0");
