// The Stack view's pictures (engine/stack.ts + each scenario's layer description) say what
// the model's snapshot says, at the first anomaly and along the run.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { Session } from "../browser/session";
import { cycleOf, stackPicture } from "../stack";
import type { StackPicture } from "../stack";
import { SCENARIOS } from "../catalog";
import "../scenarios/index";

const layer = (p: StackPicture, id: string) => p.layers.find((l) => l.id === id)!;

// The sunrpc scenarios' defaults are realistic timing, where their hangs are rare: their
// pictures are checked at the documented preset's seed and knobs.
function documented(scenario: string): { seed?: number; knobs?: Record<string, string | number | boolean> } {
  const d = SCENARIOS.find((x) => x.id === scenario)!.presets.find((p) => p.id === "documented");
  return scenario.startsWith("sunrpc-") && d ? { seed: d.seed, knobs: d.knobs } : {};
}

function at(scenario: string, patches: Record<string, boolean> = {}, t?: number) {
  const s = new Session(loadModule());
  const v = s.run({ scenario, patches, ...documented(scenario) });
  const snap = s.snapshotAt(t ?? v.firstAnomalyT);
  return { v, snap, pic: snap.stack! };
}

describe("stack pictures", () => {
  it("every scenario describes its layers, each with a title", () => {
    for (const spec of SCENARIOS) {
      expect(spec.stack?.length, spec.id).toBeGreaterThan(3);
      for (const l of spec.stack!) expect(l.title).not.toBe("");
    }
  });

  it("UDP at the first anomaly (documented): XPRT_LOCKED held by the killed GETATTR, sending holds its tasks", () => {
    const { pic, v } = at("sunrpc-udp-slot-hang");
    expect(v.details.verdict).toBe("hang");
    const x = layer(pic, "xprt").facts!;
    expect(String(x["XPRT_LOCKED holder"])).toMatch(/^task \d+ \(exited\)$/);
    expect(x.sending).toBeGreaterThan(0);
    // the tasks layer groups by tk_action and names each task's queue
    const tasks = layer(pic, "tasks").items.filter((i) => i.key.startsWith("t"));
    // (the layer draws the first tasks by tk_action; the facts count them all)
    const drawn = tasks.filter((i) => i.fields!.q === "xprt_sending").length;
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThanOrEqual(Number(x.sending));
    expect(layer(pic, "tasks").facts!["asleep on a queue"]).toBeGreaterThanOrEqual(Number(x.sending));
    expect(new Set(tasks.map((i) => i.group))).toContain("a:call_reserveresult");
  });

  it("UDP credit stranding (its mdelay() preset): lock free, sending holds its tasks, cong == cwnd", () => {
    const d = SCENARIOS.find((x) => x.id === "sunrpc-udp-slot-hang")!.presets.find((p) => p.id === "credit-stranding")!;
    const s = new Session(loadModule());
    const v = s.run({ scenario: "sunrpc-udp-slot-hang", patches: d.patches, seed: d.seed, knobs: d.knobs });
    expect(v.details.verdict).toBe("hang");
    const x = layer(s.snapshotAt(v.firstAnomalyT).stack!, "xprt").facts!;
    expect(x["XPRT_LOCKED holder"]).toBe("none");
    expect(x.cong).toBe(x.cwnd);
    expect(x.sending).toBeGreaterThan(0);
  });

  it("TCP at the first anomaly: XPRT_LOCKED held by an exited task, queue full behind it", () => {
    const { pic } = at("sunrpc-tcp-close-wait");
    const x = layer(pic, "xprt").facts!;
    expect(String(x["XPRT_LOCKED holder"])).toMatch(/^task \d+ \(exited\)$/);
    expect(x.sending).toBeGreaterThan(0);
  });

  it("blktap at the first anomaly: the wait-for cycle is drawn between drawn items", () => {
    const { pic } = at("blktap2-teardown");
    expect(pic.cycle.length).toBeGreaterThanOrEqual(2);
    const cyc = pic.links.filter((l) => l.cycle);
    expect(cyc.length).toBe(pic.cycle.length);
    // a closed loop: every cycle edge's target is some cycle edge's source
    const from = new Set(cyc.map((l) => l.from));
    for (const l of cyc) expect(from.has(l.to)).toBe(true);
  });

  it("socklnd with the shared scheduler: an array used by two in-flight calls at the first anomaly", () => {
    const { pic, v } = at("socklnd-scheduler", { "socklnd-shared-sched": true });
    expect(v.details.verdict).toBe("corruption");
    const shared = layer(pic, "scratch").items.filter((i) => i.tone === "bad");
    expect(shared.length).toBeGreaterThan(0);
    expect(String(shared[0].fields!["calls using it now"]).split(";").length).toBeGreaterThan(1);
  });

  it("O_DIRECT along the run: every page a queued skb points at is pinned (_count > 1), and drawn", () => {
    const s = new Session(loadModule());
    const v = s.run({ scenario: "nfs-odirect-retransmit" });
    let seenQueued = 0;
    for (let k = 1; k <= 24; k++) {
      const pic = s.snapshotAt((v.details.simTimeNs * k) / 25).stack!;
      const pages = new Map(layer(pic, "pages").items.map((i) => [i.key, i]));
      for (const l of pic.links) {
        const page = pages.get(l.to)!;
        expect(page, l.to).toBeDefined();
        expect(Number(page.fields!._count)).toBeGreaterThan(1);
      }
      seenQueued += layer(pic, "skbs").items.length;
    }
    expect(seenQueued).toBeGreaterThan(0);
  });

  it("cycleOf finds a cycle and ignores chains that end at a free resource", () => {
    const w = (ent: number, heldBy: number) => ({ ent, heldBy, waitsOn: "r", obj: 0 });
    expect(cycleOf([w(1, 2), w(2, -1)])).toEqual([]);
    expect(cycleOf([w(9, 1), w(1, 2), w(2, 3), w(3, 1)])).toEqual([1, 2, 3]);
  });

  it("a layer whose read throws names the problem instead of breaking the picture", () => {
    const spec = { ...SCENARIOS[0], stack: [{ id: "x", title: "x", read: () => { throw new Error("boom"); } }] };
    const p = stackPicture(spec, { time: 0, model: {}, entities: [], waits: [], knobs: {}, recentBusy: () => 0 })!;
    expect(p.layers[0].facts!.error).toMatch(/boom/);
  });
});
