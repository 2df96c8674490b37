// sunrpc-udp-slot-hang: the documented stress reproducer leaks XPRT_LOCKED through a
// killed GETATTR that 43cedbf0's slot allocation put on xprt_sending; without 43cedbf0,
// or with f39c1bfb, no slot allocation holds the lock, so the path cannot be taken; the
// credit-stranding residual of 3.6 (f39c1bfb leaves it, the out_sleep credit return ends
// it); the spec's knobs are the module's.
import { describe, expect, it } from "vitest";
import { loadModule } from "../../node/load";
import { World, runOnce } from "../../world";
import { sunrpcUdpSlotHang as spec } from "../../scenarios/sunrpc-udp-slot-hang";

const preset = (id: string) => spec.presets.find((p) => p.id === id)!;
const documented = preset("documented");
const cfg = (patches: Record<string, boolean> = {}, knobs: Record<string, unknown> = documented.knobs, seed = documented.seed) =>
  ({ scenario: spec.id, seed, knobs: { ...knobs }, patches });
const LEAK_PATH = /xprt_reserve path=|rpc_sleep_on q=xprt_sending|__rpc_execute: got signal|rpc_wake_up_task q=xprt_sending|rpc_exit status=-ERESTARTSYS|xprt_release: tk_rqstp == NULL|XPRT_LOCKED leaked/;

describe("sunrpc-udp-slot-hang: the leaked lock (documented stress reproducer)", () => {
  it("43cedbf0: a killed GETATTR is handed XPRT_LOCKED between 'got signal' and rpc_exit, and exits without a slot", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 1 << 23 });
    const r = w.run();
    expect(r.verdict).toBe("hang");
    expect(r.timingMode).toBe("stress");
    expect(r.reason).toMatch(/^mmap3:\d+ blocked in nfs_file_fsync from filp_close \(exiting on a signal\): XPRT_LOCKED leaked by rpc_task \d+, which exited without a slot/);
    const ev: any = r.evidence;
    expect(ev.xprt.sndTaskExited).toBe(true);
    expect(ev.counters.absorbingAt).toBeGreaterThan(0);
    expect(ev.dump.filter((l: string) => /\(null\) +0 c0243f40 nfsv3 WRITE a:call_reserveresult q:xprt_sending$/.test(l)).length).toBeGreaterThan(3);
    expect(ev.hungReport[0]).toMatch(/^INFO: task mmap3:\d+ blocked for more than 120 seconds\.$/);

    // step by step, for the task that leaked it
    const leaker = w.traceLines(/XPRT_LOCKED leaked/)[0].match(/GETATTR:\d+/)![0];
    const steps = w.traceLines(new RegExp(`${leaker} `)).filter((l) => LEAK_PATH.test(l)).slice(-7);
    [
      "xprt_reserve path=xprt_lock_write+xprt_alloc_slot (43cedbf0)",   // a slot allocation that takes the lock
      "rpc_sleep_on q=xprt_sending",                                   // lock busy: asleep without a slot
      "__rpc_execute: got signal",                                     // the killable wait returned -ERESTARTSYS
      "rpc_wake_up_task q=xprt_sending",                               // handed XPRT_LOCKED with tk_rqstp == NULL
      "rpc_exit status=-ERESTARTSYS killed=0",                         // rpc_exit: no longer queued
      "xprt_release: tk_rqstp == NULL snd_task_is_us=1 released=0",    // 3.6: early return
      "XPRT_LOCKED leaked",
    ].forEach((f, i) => expect(steps[i]).toContain(f));
    // the hand-off: __xprt_lock_write_next_cong (after a release or a credit return) gives
    // XPRT_LOCKED to the task without a slot, without asking for a credit (43cedbf0's path)
    const all = w.traceLines(/./);
    const wake = all.indexOf(steps[3]);
    const pid = steps[6].match(/pid=(\d+)/)![1];
    expect(all.slice(wake, wake + 4).join("\n")).toMatch(new RegExp(`__xprt_lock_write_next_cong woke=${pid} `));
  });

  it("without 43cedbf0, and with f39c1bfb, the same workload cannot take that path", () => {
    const mod = loadModule();
    const sets: Record<string, boolean>[] = [{ "xprt-lock-before-alloc": false }, { "xprt-alloc-slot-op": true }];
    const runs = sets.map((p) => {
      const w = World.create(mod, cfg(p), { traceCapacity: 1 << 23 });
      const r = w.run();
      expect(r.verdict).toBe("ok");
      // no slot allocation ever takes XPRT_LOCKED, so no task without a slot can hold it
      expect(w.traceLines(/xprt_reserve path=xprt_lock_write/)).toHaveLength(0);
      expect(w.traceLines(/xprt_release: tk_rqstp == NULL snd_task_is_us=1|XPRT_LOCKED leaked/)).toHaveLength(0);
      // the killed GETATTRs are there all the same
      expect((r.evidence as any).xprt.kills).toBeGreaterThan(0);
      return r;
    });
    // UDP's .alloc_slot = xprt_alloc_slot is what a kernel before 43cedbf0 did: the same run
    expect(runs[0].events).toBe(runs[1].events);
  });
});

describe("sunrpc-udp-slot-hang: the credit-stranding residual (3.6's out_sleep)", () => {
  const stranding = preset("credit-stranding");
  const run = (patches: Record<string, boolean>) =>
    World.create(loadModule(), cfg(patches, stranding.knobs, stranding.seed), { traceCapacity: 1 << 23 });

  it("f39c1bfb: a parked credit holder is not woken when a competitor's timeout halves cwnd to its credit", () => {
    const w = run(stranding.patches!);
    const r = w.run();
    expect(r.verdict).toBe("hang");
    expect(r.reason).toMatch(/XPRT_LOCKED free, cong 256 >= cwnd 256 and no credit holder in flight/);
    expect(w.traceLines(/xprt_reserve path=xprt_lock_write/)).toHaveLength(0);
    const lines = w.traceLines(/asleep on xprt_sending holding a congestion credit|xprt_adjust_cwnd .*result=-ETIMEDOUT|liveness: /);
    const stuck = lines.findIndex((l) => /liveness: sending non-empty, lock free, no credit holder in flight/.test(l));
    expect(stuck).toBeGreaterThan(1);
    // before it: a credit holder parked, then a competitor's timeout shrank the window
    expect(lines.slice(0, stuck).some((l) => /holding a congestion credit/.test(l))).toBe(true);
    expect(lines[stuck - 1]).toMatch(/xprt_adjust_cwnd .*cwnd=256 result=-ETIMEDOUT/);
  });

  it("a parked credit holder is woken when no timeout comes between: the credit return at out_sleep ends it", () => {
    const r = run({ ...stranding.patches!, "xprt-put-cong-on-sleep": true }).run();
    expect(r.verdict).toBe("ok");
  });
});

describe("sunrpc-udp-slot-hang: timing and knobs", () => {
  it("realistic timing by default, stress mode from the knob, both deterministic", () => {
    const mod = loadModule();
    const a = runOnce(mod, cfg({}, {}, 2), { traceCapacity: 0 });
    const b = runOnce(mod, cfg({}, {}, 2), { traceCapacity: 0 });
    expect(a.timingMode).toBe("realistic");
    expect(a.traceHash).toBe(b.traceHash);
    expect((a.timing as any).starved).toBe(0);
    expect((a.timing as any).irqNs).toBeGreaterThan(0);
    expect((a.timing as any).preemptWakeup).toBeGreaterThan(0);
    const s = runOnce(mod, cfg({}, { stress_per_1k: 50 }, 2), { traceCapacity: 0 });
    expect(s.timingMode).toBe("stress");
    expect((s.timing as any).starved).toBeGreaterThan(0);
    expect(s.traceHash).not.toBe(a.traceHash);
    expect(runOnce(mod, cfg({}, { stress_per_1k: 50 }, 2), { traceCapacity: 0 }).traceHash).toBe(s.traceHash);
  });

  it("a task blocked past 120 s in a state that can still move is slow progress, not a hang", () => {
    // a 400 s link outage in the middle of a burst: dd waits in close() past khungtaskd's
    // timeout, but its WRITEs keep timers armed and the link comes back
    const outage = { workload: "dd-bursts", bursts: 5, idle_gap_s: 1, idle_jitter_s: 0, link_flap_every_s: 3, link_flap_s: 400 };
    const r = runOnce(loadModule(), cfg({}, outage, 3), { traceCapacity: 0 });
    const c = (r.evidence as any).counters;
    expect(c.firstHungAt).toBeGreaterThan(0);
    expect(c.absorbingAt).toBe(-1);
    expect(c.slowProgress).toBe(true);
    expect(r.verdict).toBe("ok");
    expect(r.reason).toMatch(/^slow progress, not a hang: a task was blocked for more than 120 s/);
  });

  it("no knob delays a named point by default", () => {
    for (const k of spec.knobs.filter((k) => /_race_us$/.test(k.name))) {
      expect(k.default).toBe(0);
      expect(k.label).toMatch(/^mdelay\(\) in /);
    }
    for (const p of spec.presets) {
      const named = Object.keys(p.knobs).filter((k) => /_race_us$/.test(k) && p.knobs[k] !== 0);
      if (named.length) expect(p.label).toMatch(/mdelay\(\) inserted in/);
    }
  });

  it("snapshotBlocks at a cursor: the task dump and the transport state", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 0 });
    // a cursor with WRITEs in flight (an mmap3 run exiting)
    for (let t = 10e9; t < 60e9 && w.snapshot().model.tasks.length === 0; t += 1e9) w.runUntil(t);
    const blocks = spec.snapshotBlocks!(w.snapshot().model, w.describeContext());
    expect(blocks.map((b) => b.id)).toEqual(["rpc-debug", "xprt", "server"]);
    expect(blocks[0].lines![0]).toBe("-pid- flgs status -client- --rqstp- -timeout ---ops--");
    expect(blocks[1].kv!.cwnd).toBeGreaterThanOrEqual(256);
  });

  it("every spec knob is a model knob", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 0 });
    const model = [...w.names.knobs.keys()];
    for (const k of spec.knobs) expect(model).toContain(k.name);
  });
});

// Issue 13: the same mechanisms at fewer events per rpc_task (the bench prints the figures).
describe("sunrpc: the events a run costs", () => {
  const traced = (knobs: Record<string, unknown>, seed = 1) => {
    const w = World.create(loadModule(), cfg({}, knobs, seed), { traceCapacity: 1 << 22 });
    return { w, r: w.run() };
  };
  const LINE = /^\[\s*([\d.]+)\] (.+?:\d+) (\S+)/;
  const times = (lines: string[], fn: RegExp) => {
    const by = new Map<string, Map<string, string[]>>();
    for (const l of lines) {
      const m = l.match(LINE);
      if (!m || !fn.test(m[3])) continue;
      const ent = by.get(m[2]) ?? new Map<string, string[]>();
      by.set(m[2], ent);
      ent.set(m[3], [...(ent.get(m[3]) ?? []), m[1]]);
    }
    return by;
  };

  it("the functions that touch only the task run in one step with the function after them", () => {
    const { w } = traced({ cycles: 2 });
    const by = times(w.traceLines(/nfsv3 WRITE/), /^(call_\w+|rpc_exit_task)$/);
    expect(by.size).toBeGreaterThan(100);
    let apart = 0;
    for (const fns of by.values()) {
      const at = (f: string) => Number(fns.get(f)![0]);
      // call_start and call_reserve; call_refresh .. call_connect; call_decode and rpc_exit_task
      expect(at("call_start")).toBe(at("call_reserve"));
      for (const f of ["call_refresh", "call_refreshresult", "call_allocate", "call_bind"]) expect(at(f)).toBe(at("call_connect"));
      expect(at("call_decode")).toBe(at("rpc_exit_task"));
      // call_transmit takes XPRT_LOCKED: a step of its own (the trace prints microseconds)
      if (at("call_transmit") !== at("call_connect")) apart++;
    }
    expect(apart).toBeGreaterThan(by.size / 2);
  });

  it("the flusher sleeps through an idle gap, with nothing dirty", () => {
    const { w } = traced({ workload: "dd-bursts", bursts: 2, idle_gap_s: 330, idle_jitter_s: 0 }, 2);
    const second = Number(w.traceLines(/script: start writers burst=2/)[0].match(LINE)![1]);
    const wakes = w.traceLines(/flush-0:22:\d+ try_to_wake_up/).map((l) => Number(l.match(LINE)![1]));
    // at most the delayed wake-up after the first burst's last dirtying, then none until the next burst
    expect(wakes.filter((t) => t > second - 300 && t < second).length).toBe(0);
  });

  // was 42 (UDP) and 54 (TCP), then 28 and 37 while mmap3's think loop cost two events per
  // iteration (the timer, one step) even when it dirtied a dirty chunk
  it("at most 20 events per rpc_task at the UDP and TCP defaults", () => {
    const mod = loadModule();
    for (const id of ["sunrpc-udp-slot-hang", "sunrpc-tcp-close-wait"]) {
      const r = runOnce(mod, { scenario: id, seed: 5, knobs: {}, patches: {} }, { traceCapacity: 0 });
      expect(r.events / (r.evidence as any).counters.tasksCreated).toBeLessThanOrEqual(20);
    }
  });
});
