// The iostack CLI: bad input gets one clear line and exit code 2; shards merge exactly.
import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli/main";
import { mergeSweeps, shardRange, emptyCounts } from "../sweep";
import type { SweepResult } from "../sweep";
import { SCENARIOS } from "../catalog";
import "../node/load";

async function cli(...argv: string[]) {
  const out: string[] = [], err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("bad input", () => {
  it("an unknown scenario exits 2 naming it", async () => {
    const r = await cli("run", "no-such-scenario");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown scenario 'no-such-scenario'/);
  });

  it("an unknown command or option exits 2 with the usage", async () => {
    expect((await cli("rnu")).code).toBe(2);
    const r = await cli("list", "--bogus");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--bogus'/);
  });

  it("a missing value, a missing scenario, a malformed shard exit 2", async () => {
    expect((await cli("run")).err).toMatch(/which scenario/);
    expect((await cli("run", "x", "--seed")).err).toMatch(/--seed needs a value/);
    const merge = await cli("merge");
    expect(merge.code).toBe(2);
  });

  it("merge rejects a file that is not a sweep result, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iostack-"));
    const f = join(dir, "bad.json");
    writeFileSync(f, JSON.stringify({ hello: 1 }));
    const r = await cli("merge", f);
    expect(r.code).toBe(2);
    expect(r.err).toContain("bad.json: not a sweep result");
    writeFileSync(f, "{not json");
    expect((await cli("merge", f)).err).toContain("bad.json: not JSON");
    expect((await cli("merge", join(dir, "missing.json"))).err).toMatch(/cannot read/);
  });

  it("the installed bin exits 2 with the message on stderr", () => {
    const r = spawnSync(process.execPath, ["engine/cli/iostack.js", "run", "no-such-scenario"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario 'no-such-scenario'/);
    expect(r.stdout).toBe("");
  });
});

describe("shards", () => {
  const part = (first: number, count: number, hang: number[]): SweepResult => {
    const counts = emptyCounts();
    counts.ok = count - hang.length;
    counts.hang = hang.length;
    return {
      scenario: "s", patches: { p: true }, knobs: { k: 1 }, seeds: { first, count }, counts,
      failing: hang.map((seed) => ({ seed, verdict: "hang" as const, reason: "r" })),
    };
  };

  it("slices are disjoint and cover the range", () => {
    const covered: number[] = [];
    for (let k = 1; k <= 7; k++) {
      const s = shardRange(10, 100, k, 7);
      for (let i = s.first; i < s.first + s.count; i++) covered.push(i);
    }
    expect(covered).toEqual(Array.from({ length: 100 }, (_, i) => 10 + i));
    expect(() => shardRange(1, 10, 0, 3)).toThrow(/K\/N/);
    expect(() => shardRange(1, 10, 4, 3)).toThrow(/K\/N/);
  });

  it("merge adds counts, orders failing seeds, and refuses gaps, overlaps and mismatches", () => {
    const m = mergeSweeps([part(6, 5, [7, 9]), part(1, 5, [2])]);
    expect(m.seeds).toEqual({ first: 1, count: 10 });
    expect(m.counts.hang).toBe(3);
    expect(m.counts.ok).toBe(7);
    expect(m.failing.map((f) => f.seed)).toEqual([2, 7, 9]);
    expect(() => mergeSweeps([part(1, 5, []), part(7, 5, [])])).toThrow(/leave a gap/);
    expect(() => mergeSweeps([part(1, 5, []), part(4, 5, [])])).toThrow(/overlap/);
    expect(() => mergeSweeps([part(1, 5, []), { ...part(6, 5, []), patches: { p: false } }])).toThrow(/different patches/);
  });
});

describe("with the lab's scenarios", () => {
  const id = () => SCENARIOS[0].id;

  it("list names every scenario", async () => {
    const r = await cli("list", "--json");
    expect(JSON.parse(r.out).map((s: any) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
  });

  it("run --json twice gives the same traceHash, in the contract's shape", async () => {
    const a = JSON.parse((await cli("run", id(), "--json", "--seed", "5")).out);
    const b = JSON.parse((await cli("run", id(), "--json", "--seed", "5")).out);
    expect(Object.keys(a).sort()).toEqual(["events", "evidence", "knobs", "patches", "reason", "scenario", "seed", "simTimeNs", "timingMode", "traceHash", "verdict"]);
    expect(a.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.traceHash).toBe(a.traceHash);
  });

  it("an unknown patch, a knob out of range and a bad seed exit 2 naming them", async () => {
    const p = await cli("run", id(), "--patch", "no-such-patch");
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/unknown patch 'no-such-patch'/);
    const k = SCENARIOS[0].knobs.find((x) => x.type === "int" && x.max !== undefined)!;
    const r = await cli("run", id(), "--knob", `${k.name}=${k.max! + 1}`);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`knob ${k.name}=${k.max! + 1} is out of range`);
    expect((await cli("run", id(), "--seed", "-3")).err).toMatch(/seed must be a whole number/);
    expect((await cli("run", id(), "--knob", "nonsense")).err).toMatch(/expected name=value/);
  });

  it("knobs each in range whose combination overruns a model limit exit 2 with that limit named", async () => {
    const r = await cli("run", "nfs-odirect-retransmit", "--knob", "stall_period=0", "--knob", "duration_s=3600");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nfs-odirect-retransmit: this configuration is beyond the model's limits \(too many entities/);
    const s = await cli("sweep", "sunrpc-udp-slot-hang", "--seeds", "2", "--jobs", "1", "--knob", "burst_mb=64", "--knob", "wsize_kb=4");
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/beyond the model's limits \(file too large/);
  });

  it("two shards merged equal the whole sweep", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iostack-"));
    const whole = JSON.parse((await cli("sweep", id(), "--seeds", "24", "--json", "--jobs", "1")).out);
    const files = [1, 2].map((k) => {
      const f = join(dir, `part${k}.json`);
      writeFileSync(f, execFileSync(process.execPath, ["engine/cli/iostack.js", "sweep", id(), "--seeds", "24", "--shard", `${k}/2`, "--json"], { encoding: "utf8" }));
      return f;
    });
    const merged = JSON.parse((await cli("merge", ...files, "--json")).out);
    expect(merged).toEqual(whole);
  });
});
