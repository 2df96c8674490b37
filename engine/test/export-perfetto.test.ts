// The Perfetto (Chrome trace-event JSON) exporter: shape, processes per host, tracks per
// entity, async slices per XID.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { World } from "../world";
import { perfettoTrace } from "../export/perfetto";

describe("perfetto export", () => {
  it("writes trace events with process/thread names and async XID slices", () => {
    const w = World.create(loadModule(), { scenario: "nfs-odirect-retransmit", seed: 1 });
    w.run();
    const t = perfettoTrace(w);
    const json = JSON.parse(JSON.stringify(t));
    expect(Array.isArray(json.traceEvents)).toBe(true);
    const procs = json.traceEvents.filter((e: any) => e.ph === "M" && e.name === "process_name").map((e: any) => e.args.name);
    expect(procs).toEqual(expect.arrayContaining(["client", "nfs-server"]));
    const slices = json.traceEvents.filter((e: any) => e.ph === "X");
    expect(slices.length).toBeGreaterThan(1000);
    for (const e of slices.slice(0, 200)) {
      expect(typeof e.ts).toBe("number");
      expect(e.dur).toBeGreaterThan(0);
      expect(typeof e.pid).toBe("number");
      expect(typeof e.tid).toBe("number");
    }
    expect(slices.some((e: any) => e.name === "xprt_timer")).toBe(true);
    const begins = json.traceEvents.filter((e: any) => e.ph === "b");
    const ends = json.traceEvents.filter((e: any) => e.ph === "e");
    expect(begins.length).toBeGreaterThan(10);
    expect(ends.length).toBe(begins.length);
    expect(begins[0].id).toMatch(/^0x[0-9a-f]{8}$/);
    expect(json.metadata.scenario).toBe("nfs-odirect-retransmit");
  });
});
