// Compare's two questions about runs A and B of the same seed: where do their traces first
// part (the first record whose time or text differs), and what differs in their evidence.
import type { TraceLine } from "../../engine/browser/session";
import type { EvidenceBlock } from "../../engine/scenarios/types";

export type ReadLines = (from: number, count: number) => Promise<TraceLine[]>;

export interface Divergence { position: number; a: TraceLine | null; b: TraceLine | null }

const same = (x: TraceLine, y: TraceLine) => x.t === y.t && x.text === y.text;

// Reads both traces in step, a batch at a time; null when they are identical. A trace that
// ends first diverges where it ends (its side is null).
export async function firstDivergence(a: ReadLines, b: ReadLines, batch = 4000, cancelled = () => false): Promise<Divergence | null> {
  for (let from = 0; !cancelled(); from += batch) {
    const [la, lb] = await Promise.all([a(from, batch), b(from, batch)]);
    const n = Math.min(la.length, lb.length);
    for (let i = 0; i < n; i++) if (!same(la[i], lb[i])) return { position: from + i, a: la[i], b: lb[i] };
    if (la.length !== lb.length) return { position: from + n, a: la[n] ?? null, b: lb[n] ?? null };
    if (la.length < batch) return null;
  }
  return null;
}

// One evidence block of A beside the same block of B, with what differs marked: kv rows
// whose values differ, lines that differ at the same position, a graph whose edges differ.
export interface BlockPair {
  id: string;
  title: string;
  a?: EvidenceBlock;
  b?: EvidenceBlock;
  differs: boolean;
  kvDiff: Set<string>;
  lineDiff: Set<number>;
}

const edges = (b?: EvidenceBlock) => (b?.graph?.edges ?? []).map((e) => `${b!.graph!.nodes.find((n) => n.id === e.from)?.label ?? e.from} → ${b!.graph!.nodes.find((n) => n.id === e.to)?.label ?? e.to}: ${e.label}`);
export const blockLines = (b?: EvidenceBlock): string[] => [...(b?.lines ?? []), ...edges(b)];

export function pairBlocks(a: EvidenceBlock[], b: EvidenceBlock[]): BlockPair[] {
  const ids = [...new Set([...a.map((x) => x.id), ...b.map((x) => x.id)])];
  return ids.map((id) => {
    const x = a.find((k) => k.id === id), y = b.find((k) => k.id === id);
    // rows and lines are marked only when both runs have the block
    const kvDiff = new Set<string>(), lineDiff = new Set<number>();
    if (x && y) {
      for (const k of new Set([...Object.keys(x.kv ?? {}), ...Object.keys(y.kv ?? {})])) if (String(x.kv?.[k]) !== String(y.kv?.[k])) kvDiff.add(k);
      const lx = blockLines(x), ly = blockLines(y);
      for (let i = 0; i < Math.max(lx.length, ly.length); i++) if (lx[i] !== ly[i]) lineDiff.add(i);
    }
    return { id, title: (x ?? y)!.title, a: x, b: y, differs: !x || !y || kvDiff.size > 0 || lineDiff.size > 0, kvDiff, lineDiff };
  });
}
