// sunrpc-tcp-close-wait: the documented seed (realistic timing, default knobs) leaks
// XPRT_LOCKED through an exiting mmap3 thread and leaves the socket in CLOSE_WAIT; each
// patch combination; a seed sweep gives the hang shares of the spec.
import { describe, expect, it } from "vitest";
import { loadModule } from "../../node/load";
import { World, runOnce } from "../../world";
import { sunrpcTcpCloseWait as spec } from "../../scenarios/sunrpc-tcp-close-wait";

const preset = spec.presets.find((p) => p.id === "documented")!;
const cfg = (patches: Record<string, boolean> = {}, seed = preset.seed) =>
  ({ scenario: spec.id, seed, knobs: { ...preset.knobs }, patches });
const EARLY = "xprt-release-lock-on-early-exit";
const CLOSE_WAIT = "xs-tcp-close-on-close-wait";


describe("sunrpc-tcp-close-wait: documented interleaving", () => {
  it("neither fix: XPRT_LOCKED leaked by an exited task, socket in CLOSE_WAIT, mmap3 hung in filp_close", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 1 << 23 });
    const r = w.run();
    expect(r.verdict).toBe("hang");
    const ev: any = r.evidence;
    expect(r.reason.split("\n")).toHaveLength(1);
    expect(r.reason).toMatch(/^mmap3:\d+ blocked in nfs_file_fsync from filp_close \(exiting on a signal\): XPRT_LOCKED leaked by rpc_task \d+, which exited without a slot/);
    expect(r.reason).toMatch(/socket stuck in CLOSE_WAIT with XPRT_CLOSE_WAIT set/);
    // the seed's rows: WRITEs without a slot asleep on xprt_sending
    expect(ev.dump[0]).toBe("-pid- flgs status -client- --rqstp- -timeout ---ops--");
    expect(ev.dump.filter((l: string) => /^ *\d+ 0001 +-11 cf2910e0 +\(null\) +0 c0243f40 nfsv3 WRITE a:call_reserveresult q:xprt_sending$/.test(l)).length).toBeGreaterThan(3);
    // khungtaskd: mmap3 in the exit path
    expect(ev.hungReport[0]).toMatch(/^INFO: task mmap3:\d+ blocked for more than 120 seconds\.$/);
    const stack = ev.hungReport.join("\n");
    expect(stack).toMatch(/nfs_file_fsync/);
    expect(stack).toMatch(/filp_close/);
    expect(stack).toMatch(/do_exit|put_files_struct/);
    // XPRT_CLOSE_WAIT and the socket in CLOSE_WAIT
    expect(ev.xprt.state).toContain("XPRT_LOCKED");
    expect(ev.xprt.state).toContain("XPRT_CLOSE_WAIT");
    expect(ev.xprt.sndTaskExited).toBe(true);
    expect(ev.closeWait.xprtCloseWait).toBe(true);
    expect(ev.closeWait.socketInCloseWait).toBe(true);
    expect(ev.invariant.broken).toBe(true);
    expect(ev.waitFor.words.join("\n")).toMatch(/waits for XPRT_LOCKED, held by rpc_task \d+ \(.*exited\)/);
    expect(ev.klog.join("\n")).toMatch(/xs_tcp_state_change: socket #\d+ TCP_CLOSE_WAIT/);
    // the trace: the lock handed to a task that then exited, xprt_release returning early
    const leaker = w.traceLines(/XPRT_LOCKED leaked/)[0].match(/GETATTR:\d+/)![0];
    const leak = w.traceLines(new RegExp(`${leaker} (rpc_wake_up_task q=xprt_sending|rpc_exit status=-ERESTARTSYS|xprt_release: tk_rqstp == NULL snd_task_is_us=1 released=0|XPRT_LOCKED leaked)`));
    const order = ["rpc_wake_up_task q=xprt_sending", "rpc_exit status=-ERESTARTSYS", "xprt_release: tk_rqstp == NULL snd_task_is_us=1 released=0", "XPRT_LOCKED leaked"];
    const last = leak.slice(-4);
    order.forEach((f, i) => expect(last[i]).toContain(f));
    expect(w.traceLines(/xprt_force_disconnect\(\): setting XPRT_CLOSE_WAIT autoclose_queued=0/).length).toBe(1);
  });

  it("both fixes: ok", () => {
    expect(runOnce(loadModule(), cfg({ [EARLY]: true, [CLOSE_WAIT]: true }), { traceCapacity: 0 }).verdict).toBe("ok");
  });

  it("87ed5003 alone: ok (the lock never leaks)", () => {
    expect(runOnce(loadModule(), cfg({ [EARLY]: true }), { traceCapacity: 0 }).verdict).toBe("ok");
  });

  it("CLOSE_WAIT fixes alone: still a hang, the leaked lock blocks xprt_force_disconnect", () => {
    const r = runOnce(loadModule(), cfg({ [CLOSE_WAIT]: true }), { traceCapacity: 0 });
    expect(r.verdict).toBe("hang");
    expect((r.evidence as any).xprt.sndTaskExited).toBe(true);
  });

  it("f39c1bfb alone: still a hang (TCP keeps xprt_lock_and_alloc_slot); without 43cedbf0: ok", () => {
    expect(runOnce(loadModule(), cfg({ "xprt-alloc-slot-op": true }), { traceCapacity: 0 }).verdict).toBe("hang");
    expect(runOnce(loadModule(), cfg({ "xprt-lock-before-alloc": false }), { traceCapacity: 0 }).verdict).toBe("ok");
  });

  it("every spec knob is a model knob", () => {
    const w = World.create(loadModule(), cfg(), { traceCapacity: 0 });
    const model = [...w.names.knobs.keys()];
    for (const k of spec.knobs) expect(model).toContain(k.name);
  });
});

describe("sunrpc-tcp-close-wait: seed sweep", () => {
  const N = 40;
  it(`${N} seeds in stress mode: a clear hang share with neither fix, none with 87ed5003`, () => {
    const mod = loadModule();
    const stress = { stress_per_1k: 500 };
    let hang = 0, fixed = 0;
    for (let seed = 1; seed <= N; seed++) {
      const c = cfg({}, seed);
      if (runOnce(mod, { ...c, knobs: stress }, { traceCapacity: 0 }).verdict === "hang") hang++;
      if (runOnce(mod, { ...cfg({ [EARLY]: true }, seed), knobs: stress }, { traceCapacity: 0 }).verdict === "hang") fixed++;
    }
    expect(hang / N).toBeGreaterThanOrEqual(0.1);
    expect(fixed).toBe(0);
  }, 120_000);
});
