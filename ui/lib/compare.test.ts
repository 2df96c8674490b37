// Compare's first divergence and evidence pairing on small hand-made traces and blocks.
import { describe, expect, it } from "vitest";
import type { TraceLine } from "../../engine/browser/session";
import { firstDivergence, pairBlocks } from "./compare";

const line = (t: number, text: string): TraceLine => ({ index: 0, t, lane: 0, cat: 0, anomaly: false, text });
const reader = (ls: TraceLine[]) => async (from: number, n: number) => ls.slice(from, from + n);
const base = Array.from({ length: 25 }, (_, i) => line(i * 10, `rec ${i}`));

describe("firstDivergence", () => {
  it("is null for identical traces, across batch boundaries", async () => {
    expect(await firstDivergence(reader(base), reader([...base]), 4)).toBeNull();
  });
  it("finds the first record whose text or time differs, in a later batch", async () => {
    const b = base.map((l, i) => (i === 13 ? line(l.t, "other") : i === 20 ? line(l.t + 1, l.text) : l));
    const d = await firstDivergence(reader(base), reader(b), 4);
    expect(d?.position).toBe(13);
    expect(d?.b?.text).toBe("other");
    const t = await firstDivergence(reader(base), reader(base.map((l, i) => (i === 6 ? line(l.t + 1, l.text) : l))), 4);
    expect(t?.position).toBe(6);
  });
  it("marks where the shorter trace ends", async () => {
    const d = await firstDivergence(reader(base), reader(base.slice(0, 9)), 4);
    expect(d).toMatchObject({ position: 9, b: null });
    expect(d?.a?.text).toBe("rec 9");
  });
});

describe("pairBlocks", () => {
  it("marks differing kv rows and lines, and blocks only one run has", () => {
    const a = [{ id: "x", title: "X", kv: { cwnd: 256, cong: 256 } }, { id: "l", title: "L", lines: ["a", "b"] }];
    const b = [{ id: "x", title: "X", kv: { cwnd: 512, cong: 256 } }, { id: "l", title: "L", lines: ["a", "c", "d"] }, { id: "g", title: "G", lines: ["only B"] }];
    const [x, l, g] = pairBlocks(a, b);
    expect([...x.kvDiff]).toEqual(["cwnd"]);
    expect([...l.lineDiff]).toEqual([1, 2]);
    expect(g).toMatchObject({ id: "g", differs: true, a: undefined });
    expect(g.lineDiff.size, "nothing to mark against").toBe(0);
    expect(pairBlocks(a, a).every((p) => !p.differs)).toBe(true);
  });
});
