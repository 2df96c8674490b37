// blktap2-teardown (seed 004): the 4.1.4 teardown order deadlocks xl, tapdisk2 and
// blkback until tap-ctl's 5 s select() timeout, and orphans one blktap minor per disk per
// guest stop; removing the backend first (libxl-teardown-order) fixes both.
import { describe, expect, it } from "vitest";
import { loadModule } from "../../node/load";
import { World, runOnce } from "../../world";
import { blktap2Teardown } from "../../scenarios/blktap2-teardown";
import "../../scenarios/index";

const S = "blktap2-teardown";
const ORDER = "libxl-teardown-order";
const RESPOND = "tapdisk-respond-before-teardown";
const preset = (id: string) => blktap2Teardown.presets.find((p) => p.id === id)!;

function run(knobs: Record<string, unknown> = {}, patches: Record<string, boolean> = {}, seed = 1) {
  const w = World.create(loadModule(), { scenario: S, knobs, patches, seed });
  const r = w.run();
  return { w, r, ev: r.evidence as any };
}

function runPreset(id: string, patches: Record<string, boolean> = {}) {
  const p = preset(id);
  return run(p.knobs, { ...(p.patches ?? {}), ...patches }, p.seed);
}


const READ_FAIL = "tap-err:tap_ctl_read_message: failure reading message";
const DETACH_FAIL = "tap-err:tap_ctl_send_and_receive: failed to receive 'detach' message";

describe("blktap2-teardown: the documented interleaving (4.1.4, clean poweroff)", () => {
  it("default run: leak, `tap-ctl list` shows one `minor=N` per disk per cycle, and the tap-err lines", () => {
    const { r, ev } = run();
    expect(r.verdict).toBe("leak");
    expect(r.status).toBe("complete");
    // defaults: 1 guest, 2 disks, 4 cycles
    expect(ev.tapCtlList).toEqual(["minor=0", "minor=1", "minor=2", "minor=3", "minor=4", "minor=5", "minor=6", "minor=7"]);
    expect(ev.orphanedMinors).toBe(8);
    expect(ev.tapdisksLeft).toBe(0);
    expect(ev.detachTimeouts).toBe(8);
    expect(ev.syslog.some((l: string) => l.endsWith(READ_FAIL))).toBe(true);
    expect(ev.syslog.some((l: string) => l.endsWith(DETACH_FAIL))).toBe(true);
    const block = ev.blocks.find((b: any) => b.id === "tap-ctl-list");
    expect(block.lines).toContain("minor=7");
    expect(r.reason).toMatch(/8 orphaned blktap minor/);
  });

  it("each stop takes ≈5 s more per disk, and orphans grow by one per disk per cycle", () => {
    const { ev } = run();
    expect(ev.teardowns).toHaveLength(4);
    for (const t of ev.teardowns) {
      expect(t.ns).toBeGreaterThan(2 * 5e9);
      expect(t.ns).toBeLessThan(2 * 5.3e9);
    }
    // sampled at each guest start (the last stop's tapdisk2 may still be finishing), then at the end
    const series = ev.orphanSeries.map((p: number[]) => p[1]);
    expect(series).toHaveLength(5);
    series.forEach((n: number, i: number) => expect(n).toBeGreaterThanOrEqual(Math.max(0, 2 * i - 1)));
    expect(series.at(-1)).toBe(8);
    const lat = ev.blocks.find((b: any) => b.id === "teardown");
    expect(lat.lines[0]).toMatch(/domid 1: 10\.\d{3} s/);
  });

  it("the preset replays it: tapdisk2 blocks in the ring release until xl times out and removes the backend", () => {
    const { w, r, ev } = runPreset("documented");
    expect(r.verdict).toBe("leak");
    expect(ev.tapCtlList).toEqual(["minor=0", "minor=1", "minor=2"]);
    const lines = w.traceLines(/tap_ctl_send_and_receive detach|blktap_device_destroy |tap-err|xs_rm node=\d+ 51712|blkdev_put|tap_ctl_free|FREE|failure writing/);
    const first = lines.slice(0, 7).map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, ""));
    expect(first[0]).toMatch(/^xl:2001 tap_ctl_send_and_receive detach id=0 timeout=5\.000/);
    expect(first[1]).toMatch(/^tapdisk2:\d+ blktap_device_destroy minor=0 err=-EBUSY openers=1/);
    expect(first[2]).toMatch(/^xl:2001 tap-err:tap_ctl_read_message: failure reading message/);
    expect(first[3]).toMatch(/^xl:2001 tap-err:tap_ctl_send_and_receive: failed to receive message 'detach'/);
    expect(first[4]).toMatch(/^xl:2001 xs_rm node=\d+ 51712 err=0/);
    expect(first[5]).toMatch(/^vbd:51712 blkdev_put tapdev0 openers=0/);
    expect(first[6]).toMatch(/^tapdisk2:\d+ blktap_device_destroy minor=0 err=0 openers=0/);
    // tap_ctl_free is never reached; tapdisk's late reply hits a closed socket
    expect(lines.some((l) => l.includes("tap_ctl_free"))).toBe(false);
    expect(lines.some((l) => l.includes("failure writing message detach_rsp"))).toBe(true);
    // the 5 s gap between the detach and the timeout
    const t = (l: string) => Number(l.match(/^\[\s*([\d.]+)\]/)![1]);
    expect(t(lines[2]) - t(lines[0])).toBeCloseTo(5, 2);
  });

  it("the wait-for graph finds the cycle xl → tapdisk2 → blkback → xl, drawn as a graph", () => {
    const { ev } = runPreset("documented");
    expect(ev.waitCycle.found).toBe(true);
    expect(ev.waitForCycles).toBe(3);
    const links = ev.waitCycle.links;
    expect(links.map((l: any) => l.comm)).toEqual(["tapdisk2", "vbd", "xl"]);
    expect(links.map((l: any) => l.waitsOn)).toEqual(["tapdev bd_openers", "backend node (xs_rm be_path)", "tapdisk control reply"]);
    expect(links[2].heldBy).toBe(links[0].ent);
    const g = ev.blocks.find((b: any) => b.id === "wait-cycle").graph;
    expect(g.nodes).toHaveLength(3);
    expect(g.edges.map((e: any) => e.from)).toEqual(g.nodes.map((n: any) => n.id));
  });

  it("is deterministic: same seed, same trace", () => {
    expect(run({}, {}, 7).r.traceHash).toBe(run({}, {}, 7).r.traceHash);
    expect(run({}, {}, 7).r.traceHash).not.toBe(run({}, {}, 8).r.traceHash);
  });
});

describe("blktap2-teardown: patches", () => {
  it("libxl-teardown-order: ok, no orphan, no tap-err line, no stall, no wait-for cycle", () => {
    const { w, r, ev } = run({}, { [ORDER]: true });
    expect(r.verdict).toBe("ok");
    expect(ev.tapCtlList).toEqual([]);
    expect(ev.syslog).toEqual([]);
    expect(ev.waitForCycles).toBe(0);
    for (const t of ev.teardowns) expect(t.ns).toBeLessThan(0.5e9);
    // backend first, then the whole tap_ctl_destroy, FREE_TAP included
    const lines = w.traceLines(/xl:2001 (xs_rm node=\d+ 51712|tap_ctl_destroy |tap_ctl_free)/).map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, ""));
    expect(lines.slice(0, 4)).toEqual([
      expect.stringMatching(/^xl:2001 xs_rm node=\d+ 51712 err=0/),
      "xl:2001 tap_ctl_destroy id=0 minor=0",
      "xl:2001 tap_ctl_free minor=0 err=0",
      "xl:2001 tap_ctl_destroy err=0 minor=0",
    ]);
  });

  it("tapdisk-respond-before-teardown alone: the stall goes, the orphans stay (FREE_TAP -EBUSY)", () => {
    const { w, r, ev } = run({}, { [RESPOND]: true });
    expect(r.verdict).toBe("leak");
    expect(ev.orphanedMinors).toBe(8);
    expect(ev.detachTimeouts).toBe(0);
    for (const t of ev.teardowns) expect(t.ns).toBeLessThan(0.5e9);
    expect(w.traceLines(/tap_ctl_free minor=\d+ err=-EBUSY/)).toHaveLength(8);
  });

  it("tapdisk-respond-before-teardown on top of the right order still races FREE_TAP (Greg: not formally correct)", () => {
    const { r, ev } = run({ toolstack: "4.2.0" }, { [RESPOND]: true });
    expect(r.verdict).toBe("leak");
    expect(ev.orphanedMinors).toBeGreaterThan(0);
    expect(ev.detachTimeouts).toBe(0);
  });

  it("with the right order, the early reply's race is decided by drawn latencies: one teardown leaks in some seeds, not all", () => {
    // One disk, one cycle: FREE_TAP (reply wake-up + ioctl) against blkback's release and
    // tapdisk2's unmap + del_gendisk, all drawn per call. Two seed ranges, neither tuned on.
    for (const first of [1, 7001]) {
      let leaks = 0;
      const N = 100;
      for (let seed = first; seed < first + N; seed++) {
        const r = runOnce(loadModule(), { scenario: "blktap2-teardown", seed, knobs: { cycles: 1, disks: 1 }, patches: { [ORDER]: true, [RESPOND]: true } }, { traceCapacity: 0 });
        if (r.verdict === "leak") leaks++;
      }
      expect(leaks).toBeGreaterThan(0.2 * N);
      expect(leaks).toBeLessThan(0.9 * N);
    }
  });
});

describe("blktap2-teardown: toolstack versions", () => {
  it("4.1.2: no tap teardown at all; tapdisks live on and are reused, no orphaned minor, no stall", () => {
    const { r, ev } = run({ toolstack: "4.1.2" });
    expect(r.verdict).toBe("leak");
    expect(ev.tapCtlList).toEqual([
      expect.stringMatching(/^pid=\d+ minor=0 state=0 args=vhd:\/images\/guest0-disk0\.vhd$/),
      expect.stringMatching(/^pid=\d+ minor=1 state=0 args=vhd:\/images\/guest0-disk1\.vhd$/),
    ]);
    expect(ev.orphanedMinors).toBe(0);
    expect(ev.tapdisksLeft).toBe(2);
    for (const t of ev.teardowns) expect(t.ns).toBeLessThan(0.5e9);
  });

  it("4.2.0: backend first in one transaction: ok, no stall", () => {
    const { r, ev } = run({ toolstack: "4.2.0" });
    expect(r.verdict).toBe("ok");
    expect(ev.detachTimeouts).toBe(0);
    for (const t of ev.teardowns) expect(t.ns).toBeLessThan(0.5e9);
  });

  it("4.2.0-rc1: tears the tapdisk down while blkback is still letting go; fine while blkback is quick", () => {
    const { w, r } = run({ toolstack: "4.2.0-rc1" });
    expect(r.verdict).toBe("ok");
    // the race is visible: some DETACHes find tapdevN still open and wait for blkback
    const busy = w.traceLines(/blktap_device_destroy minor=\d+ err=-EBUSY/);
    expect(busy.length).toBeGreaterThan(0);
  });

  it("4.2.0-rc1 with a slow blkback: stall, orphan, and the second destroy_tapdisk is a no-op", () => {
    const { w, r, ev } = runPreset("rc1-slow-blkback");
    expect(r.verdict).toBe("leak");
    expect(ev.detachTimeouts).toBeGreaterThan(0);
    expect(ev.orphanedMinors + ev.tapdisksLeft).toBeGreaterThan(0);
    expect(w.traceLines(/libxl__device_destroy_tapdisk: no tapdisk-params/).length).toBeGreaterThan(0);
    // the residual race of the right order (research §7.3): a blkback slower than the
    // timeout still orphans, with the backend already gone
    const fixed = run({ toolstack: "4.2.0-rc1", blkback_release_ms: 8000 }, { [ORDER]: true });
    expect(fixed.r.verdict).toBe("leak");
    expect(fixed.ev.detachTimeouts).toBeGreaterThan(0);
    expect(fixed.ev.backendsLeft).toBe(0);
  });

  it("`tap-ctl list` is a PID/LIST exchange: a frozen tapdisk2 costs its 2 s read and drops out, its minor listed alone", () => {
    const { w, ev } = runPreset("blktap-2.5");
    const run2 = ev.tapCtlListRun;
    expect(run2.ran).toBe(true);
    expect(run2.noAnswer).toHaveLength(1);
    expect(run2.ns).toBeGreaterThanOrEqual(2e9);
    expect(ev.tapCtlList).toEqual(["minor=0"]);
    expect(w.traceLines(/tap-ctl:6000 .*pid/).length).toBeGreaterThan(0);
    const lines = ev.blocks.find((b: any) => b.id === "tap-ctl-list").lines.join("\n");
    expect(lines).toMatch(new RegExp(`tapdisk2 pid ${run2.noAnswer[0]} did not answer PID within 2 s`));
    expect(ev.blocks.find((b: any) => b.id === "syslog").lines.join("\n")).toMatch(/tap-ctl\[6000\]: tap-err:tap_ctl_send_and_receive: failed to receive 'pid' message/);
    // a live, answering tapdisk2 is listed from its own reply, quickly
    const live = run({ toolstack: "4.1.2" });
    expect(live.ev.tapCtlListRun.noAnswer).toEqual([]);
    expect(live.ev.tapCtlListRun.ns).toBeLessThan(0.1e9);
    expect(live.ev.tapCtlList.every((l: string) => /^pid=\d+ minor=\d+ state=\d+ args=vhd:/.test(l))).toBe(true);
  });

  it("no detach timeout (blktap 2.5 tap-ctl): the cycle never breaks, khungtaskd reports tapdisk2", () => {
    const { r, ev } = runPreset("blktap-2.5");
    expect(r.verdict).toBe("hang");
    const hung = ev.blocks.find((b: any) => b.id === "hung").lines;
    expect(hung[0]).toMatch(/^INFO: task tapdisk2:\d+ blocked for more than 120 seconds\.$/);
    expect(hung.join("\n")).toMatch(/a cycle/);
    expect(r.reason).toMatch(/blktap_device_destroy_sync/);
    // the same with the backend removed first: nothing to wait for
    expect(runPreset("blktap-2.5", { [ORDER]: true }).r.verdict).toBe("ok");
  });
});

describe("blktap2-teardown: tap-ctl list format", () => {
  it("prints the non-tty dict, leaving out missing fields", async () => {
    const { tapCtlListLine } = await import("../../scenarios/blktap2-teardown");
    expect(tapCtlListLine({ pid: 4321, minor: 0, state: 0, guest: 1, disk: 0 })).toBe("pid=4321 minor=0 state=0 args=vhd:/images/guest1-disk0.vhd");
    expect(tapCtlListLine({ pid: 4321, minor: 3, state: 2, guest: 0, disk: 1 })).toBe("pid=4321 minor=3 state=2 args=vhd:/images/guest0-disk1.vhd");
    expect(tapCtlListLine({ pid: 4321 })).toBe("pid=4321");
    expect(tapCtlListLine({ minor: 7 })).toBe("minor=7");
  });
});

describe("blktap2-teardown: state views", () => {
  it("snapshotBlocks show the xenstore tree with the backend's tapdisk-params while a guest runs", () => {
    const w = World.create(loadModule(), { scenario: S, seed: 1 });
    w.runUntil(10e9);
    const snap = w.snapshot();
    const blocks = blktap2Teardown.snapshotBlocks!(snap.model, { entities: snap.entities, simTimeNs: w.now, patches: {}, knobs: {} });
    const tree = blocks.find((b) => b.id === "xenstore")!.lines!;
    expect(tree).toContain('/local/domain/0/backend/vbd/1/51712/tapdisk-params = "vhd:/images/guest0-disk0.vhd"');
    expect(tree).toContain('/local/domain/0/backend/vbd/1/51712/params = "/dev/xen/blktap-2/tapdev0"');
    expect(tree).toContain('/local/domain/0/backend/vbd/1/51712/state = "4"');
    expect(tree).toContain('/local/domain/1/device/vbd/51712/state = "4"');
    const list = blocks.find((b) => b.id === "tap-ctl-list")!.lines!;
    expect(list[0]).toMatch(/^pid=\d+ minor=0 state=0 args=vhd:\/images\/guest0-disk0\.vhd$/);
  });
});

describe("blktap2-teardown: sweeps", () => {
  const sweep = (knobs: Record<string, unknown>, patches: Record<string, boolean>, n: number) => {
    const counts: Record<string, number> = {};
    for (let seed = 1; seed <= n; seed++) {
      const r = World.create(loadModule(), { scenario: S, knobs, patches, seed }, { traceCapacity: 0 }).run();
      counts[r.verdict] = (counts[r.verdict] ?? 0) + 1;
    }
    return counts;
  };

  it("300 seeds: 4.1.4 always leaks; with libxl-teardown-order never", () => {
    expect(sweep({}, {}, 300)).toEqual({ leak: 300 });
    expect(sweep({}, { [ORDER]: true }, 300)).toEqual({ ok: 300 });
  }, 120000);

  it("200 seeds with 3 guests stopped concurrently: the fix removes every stall and orphan", () => {
    const runs = (patches: Record<string, boolean>) => Array.from({ length: 200 }, (_, i) =>
      World.create(loadModule(), { scenario: S, knobs: { guests: 3 }, patches, seed: i + 1 }, { traceCapacity: 0 }).run());
    const bad = runs({});
    expect(bad.every((r) => r.verdict === "leak" && (r.evidence as any).orphanedMinors >= 6)).toBe(true);
    const good = runs({ [ORDER]: true });
    for (const r of good) {
      const ev = r.evidence as any;
      expect(ev.orphanedMinors).toBe(0);
      expect(ev.detachTimeouts).toBe(0);
    }
    // what is left is tap-ctl's own race: a tapdisk2 that exits between another xl's PID
    // and LIST makes tap_ctl_list, hence tap_ctl_find, fail, and that tapdisk2 is never
    // destroyed (tap-ctl-list.c: any per-tapdisk error fails the list); rare, never with one guest
    expect(good.filter((r) => r.verdict === "ok").length).toBeGreaterThanOrEqual(190);
}, 120000);
});
