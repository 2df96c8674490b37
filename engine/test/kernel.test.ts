// Unit tests of every core primitive, through the compiled kernel test module
// (build/kernel-test.wasm, asm/tests/kernel.ts).
import { describe, expect, it, beforeAll } from "vitest";
import { instantiate } from "../wasm";
import { loadModule } from "../node/load";
import { World } from "../world";
import { validateConfig } from "../config";
import { sweepRange } from "../sweep";
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "../scenarios/types";
import { recordAt, formatRecord } from "../trace";

const mod = () => loadModule("kernel-test.wasm");
const fresh = () => instantiate(mod()) as any;

const probe: ScenarioSpec = {
  id: "kernel-probe", title: "probe", subsystem: "test", year: 2026, symptom: "", seed: "", kernel: "",
  story: [], assumptions: [], patches: [], presets: [], expected: [], views: [],
  knobs: [
    ["probe.threads", 2], ["probe.cpus", 1], ["probe.steps", 3], ["probe.wake_s", 0],
    ["probe.spin", 0], ["probe.budget", 0], ["probe.work", 0], ["probe.interruptible", 0], ["probe.sleep_timeout_s", 0],
  ].map(([name, def]) => ({ name: name as string, label: name as string, group: "workload" as const, type: "int" as const, default: def as number, min: 0, max: 1e9, description: "" })),
  describe: (verdict, raw) => ({ reason: verdict, evidence: raw }),
};

beforeAll(() => {
  if (!SCENARIOS.includes(probe)) SCENARIOS.push(probe);
});

describe("event heap", () => {
  it("pops in time order, and same-time events in the order they were scheduled", () => {
    const x = fresh();
    const times = [50, 10, 30, 10, 10, 20, 30, 0];
    times.forEach((t, i) => x.t_schedule(t, i));
    const order: number[] = [];
    for (let o = x.t_pop(); o >= 0; o = x.t_pop()) order.push(o);
    expect(order).toEqual([7, 1, 3, 4, 5, 2, 6, 0]);
  });

  it("keeps ties in scheduling order across many events", () => {
    const x = fresh();
    for (let i = 0; i < 5000; i++) x.t_schedule(i % 7, i);
    let lastT = -1, lastObj = -1;
    for (let o = x.t_pop(); o >= 0; o = x.t_pop()) {
      const t = x.t_now();
      if (t === lastT) expect(o).toBeGreaterThan(lastObj);
      else expect(t).toBeGreaterThan(lastT);
      lastT = t; lastObj = o;
    }
  });

  it("pops what a sorted list would, with pushes and pops interleaved", () => {
    const x = fresh();
    // the reference: every pending (time, order scheduled), smallest first
    const pending: { t: number; obj: number }[] = [];
    let seed = 0x9e3779b9, now = 0, obj = 0;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    for (let round = 0; round < 40; round++) {
      for (let i = rand() % 300; i > 0; i--) {
        const t = now + (rand() % 5000);          // many ties, and nothing in the past
        x.t_schedule(t, obj);
        pending.push({ t, obj: obj++ });
      }
      pending.sort((a, b) => a.t - b.t || a.obj - b.obj);
      for (let i = rand() % 250; i > 0 && pending.length > 0; i--) {
        const want = pending.shift()!;
        expect([x.t_pop(), x.t_now()]).toEqual([want.obj, want.t]);
        now = want.t;
      }
    }
    for (const want of pending) expect([x.t_pop(), x.t_now()]).toEqual([want.obj, want.t]);
    expect(x.t_pop()).toBe(-1);
  });

  it("cancels a timer: the event never fires and its handle goes stale", () => {
    const x = fresh();
    x.t_schedule(10, 1);
    const h = x.t_schedule(20, 2);
    x.t_schedule(30, 3);
    expect(x.t_pending(h)).toBe(1);
    expect(x.t_cancel(h)).toBe(1);
    expect(x.t_pending(h)).toBe(0);
    expect(x.t_cancel(h)).toBe(0);
    const order: number[] = [];
    for (let o = x.t_pop(); o >= 0; o = x.t_pop()) order.push(o);
    expect(order).toEqual([1, 3]);
  });

  it("a handle of an event that already ran cannot cancel the slot's next event", () => {
    const x = fresh();
    const h1 = x.t_schedule(10, 1);
    expect(x.t_pop()).toBe(1);
    const h2 = x.t_schedule(20, 2);   // reuses the slot
    expect(x.t_cancel(h1)).toBe(0);
    expect(x.t_pending(h2)).toBe(1);
    expect(x.t_pop()).toBe(2);
  });

  it("refuses an event in the past", () => {
    const x = fresh();
    x.t_schedule(100, 1);
    expect(x.t_pop()).toBe(1);
    x.t_schedule(100, 2);                        // now is fine
    expect(() => x.t_schedule(99, 3)).toThrow(/scheduleAt: an event in the past/);
  });
});

describe("event kinds", () => {
  it("numbers each new kind apart from the others", () => {
    const x = fresh();
    const a = x.t_kind_register(0, 1), b = x.t_kind_register(0, 1);
    expect(b).not.toBe(a);
    expect(a).toBeGreaterThanOrEqual(16);      // KIND_MODEL: below it, the kernel's own
  });

  it("refuses a name registered twice, naming it", () => {
    expect(() => fresh().t_kind_register(1, 1)).toThrow(/event kind "probe.wake_all" registered twice/);
  });

  it("refuses a number registered twice, naming it", () => {
    expect(() => fresh().t_kind_register(2, 1)).toThrow(/event kind number \d+ \("probe.again"\) registered twice/);
  });

  it("holds a clash found at module start until worldInit, where the host can read it", () => {
    const x = fresh();
    expect(() => x.t_kind_register(1, 0)).not.toThrow();
    expect(() => x.t_kinds_seal()).toThrow(/event kind "probe.wake_all" registered twice/);
  });
});

describe("wait queues", () => {
  it("is FIFO within a level and serves the highest level first", () => {
    const x = fresh();
    const q = x.t_wq_new(4);
    x.t_wq_add(q, 1, 1); x.t_wq_add(q, 2, 0); x.t_wq_add(q, 3, 3); x.t_wq_add(q, 4, 1); x.t_wq_add(q, 5, 3);
    expect(x.t_wq_len(q)).toBe(5);
    const out: number[] = [];
    for (let i = x.t_wq_pop(q); i >= 0; i = x.t_wq_pop(q)) out.push(i);
    expect(out).toEqual([3, 5, 1, 4, 2]);
  });

  it("removes from the middle, and an item is on one queue at a time", () => {
    const x = fresh();
    const q = x.t_wq_new(1), r = x.t_wq_new(1);
    [1, 2, 3].forEach((i) => x.t_wq_add(q, i, 0));
    expect(x.t_wq_remove(2)).toBe(1);
    expect(x.t_wq_remove(2)).toBe(0);
    x.t_wq_add_head(r, 2, 0);
    expect(() => x.t_wq_add(q, 2, 0)).toThrow(/already on a wait queue/);
    expect([x.t_wq_pop(q), x.t_wq_pop(q), x.t_wq_pop(q)]).toEqual([1, 3, -1]);
  });
});

describe("TCP socket state (net/tcp.ts)", () => {
  // include/net/tcp_states.h
  const EST = 1, SYN_SENT = 2, FIN_WAIT1 = 4, FIN_WAIT2 = 5, CLOSE = 7, CLOSE_WAIT = 8, LAST_ACK = 9, CLOSING = 11;
  const CONNECT = 0, SYNACK = 1, FIN = 2, FINACK = 3, RST = 4, SHUTDOWN = 5, DISCONNECT = 6;
  const seen = (x: any) => { const out: number[] = []; for (let v = x.t_sk_seen(); v > 0; v = Math.floor(v / 100)) out.unshift(v % 100); return out; };
  const established = (x: any) => { const sk = x.t_sk_create(); x.t_sk_op(sk, CONNECT); x.t_sk_op(sk, SYNACK); return sk; };

  it("connect: SYN_SENT without a state_change, ESTABLISHED with one; a sender gets -EAGAIN meanwhile", () => {
    const x = fresh();
    const sk = x.t_sk_create();
    expect(x.t_sk_send_check(sk)).toBe(-107);          // -ENOTCONN
    x.t_sk_op(sk, CONNECT);
    expect(x.t_sk_state(sk)).toBe(SYN_SENT);
    expect(x.t_sk_send_check(sk)).toBe(-11);
    x.t_sk_op(sk, SYNACK);
    expect(x.t_sk_state(sk)).toBe(EST);
    expect(x.t_sk_send_check(sk)).toBe(0);
    expect(seen(x)).toEqual([EST]);
  });

  it("the peer closes first: CLOSE_WAIT until shutdown, then LAST_ACK, then CLOSE on the ACK of our FIN", () => {
    const x = fresh();
    const sk = established(x);
    x.t_sk_op(sk, FIN);
    expect(x.t_sk_state(sk)).toBe(CLOSE_WAIT);
    expect(x.t_sk_send_check(sk)).toBe(0);             // CLOSE_WAIT may still send
    expect(x.t_sk_op(sk, SHUTDOWN)).toBe(1);           // a FIN goes out
    expect(x.t_sk_send_check(sk)).toBe(-32);           // -EPIPE
    x.t_sk_op(sk, FINACK);
    expect(seen(x)).toEqual([EST, CLOSE_WAIT, LAST_ACK, CLOSE]);
  });

  it("we close first: FIN_WAIT1, FIN_WAIT2, then TIME_WAIT leaves the socket CLOSE; at once: CLOSING", () => {
    const x = fresh();
    const a = established(x);
    x.t_sk_op(a, SHUTDOWN); x.t_sk_op(a, FINACK); x.t_sk_op(a, FIN);
    expect(seen(x)).toEqual([EST, FIN_WAIT1, FIN_WAIT2, CLOSE]);
    const b = established(x);
    x.t_sk_op(b, SHUTDOWN); x.t_sk_op(b, FIN);
    expect(x.t_sk_state(b)).toBe(CLOSING);
    x.t_sk_op(b, FINACK);
    expect(seen(x)).toEqual([EST, FIN_WAIT1, CLOSING, CLOSE]);
  });

  it("a reset: EPIPE in CLOSE_WAIT, ECONNRESET otherwise, none on a closed socket; AF_UNSPEC connect and release", () => {
    const x = fresh();
    const a = established(x);
    x.t_sk_op(a, FIN);
    expect(x.t_sk_op(a, RST)).toBe(1);
    expect(x.t_sk_err(a)).toBe(32);
    expect(x.t_sk_state(a)).toBe(CLOSE);
    expect(x.t_sk_op(a, RST)).toBe(0);
    const b = established(x);
    x.t_sk_op(b, RST);
    expect(x.t_sk_err(b)).toBe(104);
    const c = established(x);
    x.t_sk_op(c, SHUTDOWN);
    expect(x.t_sk_op(c, DISCONNECT)).toBe(1);          // the peer gets a reset
    expect(x.t_sk_state(c)).toBe(CLOSE);
    expect(x.t_sk_send_check(c)).toBe(-107);           // shutdown cleared, unconnected again
    expect(x.t_sk_release(c)).toBe(0);
    expect(x.t_sk_create()).toBe(c);                   // the slot is free again
  });
});

describe("PRNG streams", () => {
  const draw = (x: any, s: number, n: number) => Array.from({ length: n }, () => x.t_rand(s));

  it("same seed, same sequence; another seed, another sequence", () => {
    const a = fresh(), b = fresh(), c = fresh();
    a.t_seed(42, 0); b.t_seed(42, 0); c.t_seed(43, 0);
    const sa = draw(a, 0, 16);
    expect(draw(b, 0, 16)).toEqual(sa);
    expect(draw(c, 0, 16)).not.toEqual(sa);
  });

  it("drawing from one stream does not move another", () => {
    const a = fresh(), b = fresh();
    a.t_seed(7, 0); b.t_seed(7, 0);
    draw(a, 0, 1000);               // consume stream A in one instance only
    expect(draw(a, 1, 16)).toEqual(draw(b, 1, 16));
    expect(draw(b, 0, 16)).not.toEqual(draw(b, 1, 16));
  });

  it("the module imports nothing that could reach Math.random or the clock", () => {
    const imports = WebAssembly.Module.imports(mod()).map((i) => `${i.module}.${i.name}`);
    expect(imports).toEqual(["env.abort"]);
    const lab = WebAssembly.Module.imports(loadModule()).map((i) => `${i.module}.${i.name}`);
    expect(lab).toEqual(["env.abort"]);
  });
});

describe("bit locks and the wait-for graph", () => {
  it("test_and_set_bit returns the old bit", () => {
    const x = fresh();
    const w = x.t_bits_new();
    expect(x.t_test_and_set(w, 0)).toBe(0);
    expect(x.t_test_and_set(w, 0)).toBe(1);
    expect(x.t_test(w, 1)).toBe(0);
    x.t_clear(w, 0);
    expect(x.t_test(w, 0)).toBe(0);
  });

  it("finds a cycle, and no cycle in a chain that ends at a free resource", () => {
    const x = fresh();
    const [a, b, c] = [x.t_ent(), x.t_ent(), x.t_ent()];
    const [r1, r2, r3] = [x.t_res(), x.t_res(), x.t_res()];
    x.t_wait(a, r1); x.t_hold(r1, b);
    x.t_wait(b, r2); x.t_hold(r2, c);
    x.t_wait(c, r3);
    expect(x.t_find_cycle()).toBe(-1);
    expect(x.t_cycle_from(a)).toBe(-1);
    x.t_hold(r3, a);
    expect(x.t_cycle_from(a)).toBe(a);
    expect(x.t_find_cycle()).toBeGreaterThanOrEqual(0);
  });

  it("a checked wait records the cycle it closes, in order, from the waiter", () => {
    const x = fresh();
    const [a, b] = [x.t_ent(), x.t_ent()];
    const [r1, r2] = [x.t_res(), x.t_res()];
    x.t_hold(r1, b); x.t_hold(r2, a);
    x.t_wait_checked(a, r1);
    expect(x.t_cycle_len()).toBe(0);
    x.t_wait_checked(b, r2);
    expect(x.t_cycle_len()).toBe(2);
    expect([x.t_cycle_ent(0), x.t_cycle_ent(1)]).toEqual([b, a]);
  });
});

describe("threads, CPUs and khungtaskd", () => {
  const run = (knobs: Record<string, number>, seed = 1) =>
    World.create(mod(), { scenario: "kernel-probe", knobs, seed });

  it("reports a task blocked uninterruptibly for more than 120 s, between 120 and 240 s", () => {
    const w = run({ "probe.threads": 2, "probe.steps": 3 });
    const r = w.run();
    expect(r.verdict).toBe("hang");
    const snap = w.snapshot();
    expect(snap.hung.length).toBeGreaterThanOrEqual(1);
    const h = snap.hung[0];
    expect(h.blockedNs).toBeGreaterThanOrEqual(120e9);
    expect(h.time).toBeGreaterThanOrEqual(120e9);
    expect(h.time).toBeLessThanOrEqual(240e9);
    expect(h.wchan).toBe("probe_wait");
    expect(r.firstAnomaly).toBeGreaterThanOrEqual(0);
  });

  it("does not report interruptible sleepers, nor tasks woken before the timeout", () => {
    expect(run({ "probe.interruptible": 1 }).run().verdict).toBe("ok");
    const woken = run({ "probe.wake_s": 100 }).run();
    expect(woken.verdict).toBe("ok");
    expect(woken.evidence).toMatchObject({ model: { done: 2 } });
    expect(woken.status).toBe("complete");
  });

  it("schedule_timeout wakes a sleeper and says it timed out", () => {
    const r = run({ "probe.sleep_timeout_s": 30, "probe.wake_s": 500 }).run();
    expect(r.verdict).toBe("ok");
    expect(r.evidence).toMatchObject({ model: { done: 2, timedOut: 2 } });
  });

  it("every step costs CPU time, and interleavings differ from seed to seed", () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 5; seed++) {
      const w = run({ "probe.threads": 4, "probe.cpus": 2, "probe.steps": 20, "probe.wake_s": 1 }, seed);
      const r = w.run();
      hashes.add(r.traceHash);
      const busy = w.entities().filter((e: any) => e.kind === "thread").map((e: any) => e.busyNs);
      for (const b of busy) expect(b).toBeGreaterThan(0);
    }
    expect(hashes.size).toBe(5);
  });

  it("stops a run that would spin forever at the event budget, and says it was cut", () => {
    const r = run({ "probe.spin": 1, "probe.budget": 10000 }).run();
    expect(r.status).toBe("event-budget");
    expect(r.events).toBe(10000);
    expect(r.reason).toMatch(/^cut short by the cost budget \(10000 events, 10000 units of work\).*not a clean run/);
  });

  it("a sweep counts cut runs apart from the verdicts, and lists them with their status", () => {
    const base = validateConfig({ scenario: "kernel-probe", knobs: { "probe.spin": 1, "probe.budget": 1000 } });
    const r = sweepRange(mod(), base, 1, 3);
    expect(r.cut).toEqual({ "time-limit": 0, "event-budget": 3 });
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(r.failing.map((f) => [f.seed, f.status])).toEqual([[1, "event-budget"], [2, "event-budget"], [3, "event-budget"]]);
  });

  it("counts work a model charges inside an event against the same budget", () => {
    const r = run({ "probe.spin": 1, "probe.budget": 10000, "probe.work": 9 }).run();
    expect(r.status).toBe("event-budget");
    expect(r.events).toBe(1000);
    expect(r.cost).toBe(10000);
  });

  it("tells a hang that stopped the run from a run cut by its simulated-time limit", () => {
    const hung = run({ "probe.threads": 1 }).run();
    expect([hung.status, hung.verdict]).toEqual(["hang-detected", "hang"]);
    expect(hung.reason).toBe("hang");
    const sleeping = run({ "probe.threads": 1, "probe.interruptible": 1 }).run();
    expect([sleeping.status, sleeping.verdict]).toEqual(["time-limit", "ok"]);
    expect(sleeping.reason).toMatch(/^cut short by the simulated-time limit \(1000\.000 s\)/);
  });

  it("same config twice gives the same trace hash and the same records", () => {
    const a = run({ "probe.threads": 3, "probe.cpus": 2, "probe.steps": 50 }, 9);
    const b = run({ "probe.threads": 3, "probe.cpus": 2, "probe.steps": 50 }, 9);
    expect(a.run().traceHash).toBe(b.run().traceHash);
    const pa = a.tracePage(0, 1000), pb = b.tracePage(0, 1000);
    expect(new Uint8Array(pa.data)).toEqual(new Uint8Array(pb.data));
    const line = formatRecord(a.names, a.entities(), recordAt(pa, 2));
    expect(line).toMatch(/^\[\s+0\.\d{6}\] probe:10\d \S+/);
  });

  it("runUntil stops at the given simulated time and can go on", () => {
    const w = run({ "probe.threads": 1 });
    expect(w.runUntil(60e9)).toBe(false);
    expect(w.now).toBeLessThanOrEqual(60e9);
    expect(w.snapshot().hung).toEqual([]);
    w.run();
    expect(w.result().verdict).toBe("hang");
  });

  it("a small trace ring keeps the last records and the same hash", () => {
    const big = run({ "probe.threads": 3, "probe.steps": 100 }, 3);
    const small = World.create(mod(), { scenario: "kernel-probe", knobs: { "probe.threads": 3, "probe.steps": 100 }, seed: 3 }, { traceCapacity: 16 });
    const rb = big.run(), rs = small.run();
    expect(rs.traceHash).toBe(rb.traceHash);
    const { first, end } = small.traceRange();
    expect(end - first).toBe(16);
    expect(new Uint8Array(small.tracePage(first, 16).data)).toEqual(new Uint8Array(big.tracePage(first, 16).data));
  });
});
