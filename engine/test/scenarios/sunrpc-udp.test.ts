// sunrpc-udp-slot-hang: the documented interleaving (default knobs, seed 1) hangs with
// WRITEs asleep on xprt_sending behind a parked credit; f39c1bfb lets it finish; the
// spec's knobs are the module's; a seed sweep gives the hang shares of the spec.
import { describe, expect, it } from "vitest";
import { loadModule } from "../../node/load";
import { World, runOnce } from "../../world";
import { sunrpcUdpSlotHang as spec } from "../../scenarios/sunrpc-udp-slot-hang";

const preset = spec.presets.find((p) => p.id === "documented")!;
const cfg = (patches: Record<string, boolean> = {}, knobs: Record<string, unknown> = {}, seed = preset.seed) =>
  ({ scenario: spec.id, seed, knobs: { ...preset.knobs, ...knobs }, patches });


describe("sunrpc-udp-slot-hang: documented interleaving", () => {
  it("43cedbf0 without f39c1bfb: hang, WRITEs asleep on xprt_sending, lock free, credit parked", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 1 << 23 });
    const r = w.run();
    expect(r.verdict).toBe("hang");
    const ev: any = r.evidence;
    expect(r.reason.split("\n")).toHaveLength(1);
    expect(r.reason).toMatch(/^dd:\d+ blocked in nfs_file_fsync from close\(\): \d+ rpc_task\(s\) asleep on xprt_sending, XPRT_LOCKED free/);
    // rpc_show_tasks: header and the rows of the report
    expect(ev.dump[0]).toBe("-pid- flgs status -client- --rqstp- -timeout ---ops--");
    expect(ev.dump.some((l: string) => /^ *\d+ 0001 +-11 cf2910e0 +\(null\) +0 c0243f40 nfsv3 WRITE a:call_reserveresult q:xprt_backlog$/.test(l))).toBe(true);
    expect(ev.dump.some((l: string) => / nfsv3 GETATTR a:call_reserveresult q:xprt_sending$/.test(l))).toBe(true);
    // call_transmit sets tk_action = call_status before xprt_prepare_transmit sleeps
    expect(ev.dump.filter((l: string) => / nfsv3 WRITE a:call_status q:xprt_sending$/.test(l)).length).toBeGreaterThan(5);
    // khungtaskd
    expect(ev.hungReport[0]).toMatch(/^INFO: task dd:\d+ blocked for more than 120 seconds\.$/);
    expect(ev.hungReport.join("\n")).toMatch(/nfs_file_fsync\+0x5c\/0x154/);
    // the transport: lock free, congested, nothing in flight, the invariant broken
    expect(ev.xprt.state).not.toContain("XPRT_LOCKED");
    expect(ev.xprt.cong).toBeGreaterThanOrEqual(ev.xprt.cwnd);
    expect(ev.xprt.creditParked).toBeGreaterThan(0);
    expect(ev.invariant.broken).toBe(true);
    expect(ev.invariant.text).toBe("sending is non-empty, the lock is free, and no request holding a credit is in flight or has a timer armed");
    // the wait-for chain ends at the parked credit holder, nobody to wake it
    expect(ev.waitFor.words.join("\n")).toMatch(/holds a credit\) waits for __xprt_put_cong.*no wake-up will ever come/);
    expect(ev.blocks.map((b: any) => b.id)).toEqual(expect.arrayContaining(["hung", "rpc-debug", "xprt", "wait-for", "wait-for-graph", "invariant"]));
    expect(ev.series.length).toBeGreaterThan(0);
    // the trace: a credit holder found the lock taken and slept on xprt_sending; the
    // last lock release found the window full and woke nobody
    expect(w.traceLines(/xprt_reserve_xprt_cong: asleep on xprt_sending holding a congestion credit/).length).toBeGreaterThan(0);
    expect(w.traceLines(/xprt_reserve path=xprt_lock_write\+xprt_alloc_slot \(43cedbf0\)/).length).toBeGreaterThan(0);
    expect(w.traceLines(/__xprt_lock_write_next_cong woke=0 .* congested=1/).length).toBeGreaterThan(0);
    expect(w.traceLines(/liveness: sending non-empty, lock free, no credit holder in flight/).length).toBe(1);
  });

  it("f39c1bfb (xprt-alloc-slot-op): the same run completes", () => {
    const r = runOnce(loadModule(), cfg({ "xprt-alloc-slot-op": true }), { traceCapacity: 0 });
    expect(r.verdict).toBe("ok");
    expect((r.evidence as any).counters.workloadDone).toBe(true);
  });

  it("before 43cedbf0 the same run completes; so does the later credit fix alone", () => {
    expect(runOnce(loadModule(), cfg({ "xprt-lock-before-alloc": false }), { traceCapacity: 0 }).verdict).toBe("ok");
    expect(runOnce(loadModule(), cfg({ "xprt-put-cong-on-sleep": true }), { traceCapacity: 0 }).verdict).toBe("ok");
  });

  // What f39c1bfb leaves (3.6's UDP congestion code, not the slot allocation): a credit
  // holder that released XPRT_LOCKED in xprt_connect finds it taken by a transmitter that
  // got a credit meanwhile, sleeps on xprt_sending keeping its own credit, and the
  // transmitter's lost datagram times out: xs_udp_timer halves cwnd to that one credit
  // before __xprt_put_cong, and nothing is left to wake the sleeper.
  it("f39c1bfb alone: a credit holder stranded behind a transmitter whose timeout halves cwnd", () => {
    const fix = { "xprt-alloc-slot-op": true };
    const knobs = { connect_status_race_us: 50 };
    const w = World.create(loadModule(), cfg(fix, knobs, 40), { traceCapacity: 1 << 23 });
    const r = w.run();
    expect(r.verdict).toBe("hang");
    expect(w.traceLines(/xprt_reserve path=xprt_lock_write/)).toHaveLength(0);   // no slot allocation took the lock
    const lines = w.traceLines(/asleep on xprt_sending holding a congestion credit|xprt_adjust_cwnd .*result=-ETIMEDOUT|liveness: /);
    const parked = lines.findIndex((l) => /holding a congestion credit cong=512 cwnd=512/.test(l));
    expect(parked).toBeGreaterThanOrEqual(0);
    expect(lines[parked + 1]).toMatch(/xprt_adjust_cwnd cong=512 cwnd=256 result=-ETIMEDOUT/);
    expect(lines[parked + 2]).toMatch(/liveness: sending non-empty, lock free, no credit holder in flight cong=256 cwnd=256/);
    // the later credit return at out_sleep ends it
    expect(runOnce(loadModule(), cfg({ ...fix, "xprt-put-cong-on-sleep": true }, knobs, 40), { traceCapacity: 0 }).verdict).toBe("ok");
  });

  it("snapshotBlocks at a cursor: the task dump and the transport state", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 0 });
    w.runUntil(3e9);
    const blocks = spec.snapshotBlocks!(w.snapshot().model, w.describeContext());
    expect(blocks.map((b) => b.id)).toEqual(["rpc-debug", "xprt", "server"]);
    expect(blocks[0].lines![0]).toBe("-pid- flgs status -client- --rqstp- -timeout ---ops--");
    expect(blocks[0].lines!.some((l) => / nfsv3 WRITE a:call_\w+ q:xprt_\w+$/.test(l))).toBe(true);
    expect(blocks[1].kv!.cwnd).toBeGreaterThanOrEqual(256);
  });

  it("every spec knob is a model knob, and back", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 0 });
    const model = [...w.names.knobs.keys()];
    for (const k of spec.knobs) expect(model).toContain(k.name);
    const udp = ["cpus", "writers", "burst_mb", "bursts", "idle_gap_s", "idle_jitter_s", "start_jitter_ms", "copy_us", "wsize_kb",
      "dirty_bg_chunks", "autofs_remount", "loss", "srv_restart_every_s", "srv_down_s", "link_flap_every_s", "link_flap_s",
      "nic_tx_hang_per_1k", "nic_tx_hang_s", "link_mbps", "latency_us", "timeo", "retrans", "udp_slots", "nfsd_threads",
      "cpu_hogs", "hog_slice_us", "connect_race_us", "connect_status_race_us", "reserve_race_us", "timeout_race_us"];
    expect(spec.knobs.map((k) => k.name).sort()).toEqual(udp.sort());
  });
});

describe("sunrpc-udp-slot-hang: seed sweep", () => {
  const N = 120;
  it(`${N} seeds: a clear hang share with 43cedbf0, none with the credit fix`, () => {
    const mod = loadModule();
    let hang = 0, fixed = 0;
    for (let seed = 1; seed <= N; seed++) {
      if (runOnce(mod, cfg({}, {}, seed), { traceCapacity: 0 }).verdict === "hang") hang++;
      if (runOnce(mod, cfg({ "xprt-alloc-slot-op": true, "xprt-put-cong-on-sleep": true }, {}, seed), { traceCapacity: 0 }).verdict === "hang") fixed++;
    }
    expect(hang / N).toBeGreaterThan(0.25);
    expect(fixed).toBe(0);
  }, 120_000);
});
