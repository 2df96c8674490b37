// The iostack CLI: bad input gets one clear line and exit code 2; shards merge exactly.
import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../cli/main";
import { mergeSweeps, shardRange, emptyCounts } from "../sweep";
import type { SweepResult } from "../sweep";
import { SCENARIOS } from "../catalog";
import { loadModule } from "../node/load";
import { World } from "../world";
import { perfettoTrace } from "../export/perfetto";
import { nfsOdirectRetransmit as nfsOdirect } from "../scenarios/nfs-odirect-retransmit";

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

describe("every bad input is one line on stderr and exit 2", () => {
  const oneLine = async (argv: string[], msg: RegExp) => {
    const r = await cli(...argv);
    expect(r.code, argv.join(" ")).toBe(2);
    expect(r.err.split("\n"), argv.join(" ")).toHaveLength(1);
    expect(r.err).toMatch(msg);
  };
  const id = "sunrpc-udp-slot-hang";

  it("prototype keys, a doubled patch state, and a second number syntax", async () => {
    await oneLine(["run", id, "--knob", "__proto__=1"], /unknown knob '__proto__'/);
    await oneLine(["run", id, "--patch", "__proto__"], /unknown patch '__proto__'/);
    await oneLine(["run", id, "--patch", "xprt-alloc-slot-op=on=off"], /must be 'on' or 'off', got 'on=off'/);
    await oneLine(["run", id, "--knob", "timeo=0x10"], /knob timeo must be a number, got '0x10'/);
    await oneLine(["run", id, "--seed", "0x10"], /seed must be a whole number/);
    await oneLine(["run", id, "--knob", "timeo=Infinity"], /must be a number/);
  });

  it("seeds, shards and counts past 2^53 - 1", async () => {
    await oneLine(["sweep", id, "--seeds", "4", "--shard", "1/99999999999999999999"], /--shard N must be a whole number from 1 to 9007199254740991/);
    await oneLine(["sweep", id, "--seeds", "4", "--shard", "1/5"], /5 shards of 4 seeds/);
    await oneLine(["sweep", id, "--seeds", "3", "--first", "9007199254740990"], /runs past the last seed, 9007199254740991.*at most 2 seeds/);
  });

  it("a bad output path, before the run", async () => {
    await oneLine(["export", "pcap", "nfs-odirect-retransmit", "-o", "/nonexistent-dir/x.pcap"], /cannot write '\/nonexistent-dir\/x.pcap' \(ENOENT\)/);
    await oneLine(["export", "pcap", "nfs-odirect-retransmit", "-o", tmpdir()], /\(EISDIR\)/);
  });

  it("usage errors name the problem and point at the command's help", async () => {
    await oneLine(["run", "a", "b"], /^iostack run: unexpected argument 'b'; see iostack run --help$/);
    await oneLine(["rnu"], /^iostack: unknown command 'rnu'; see iostack --help$/);
    await oneLine(["list", "--bogus"], /^iostack list: unknown option '--bogus'; see iostack list --help$/);
    expect((await cli("run", "--help")).out).toMatch(/^usage: iostack run <scenario>/);
  });

  it("parses 100,000 repeated flags in one pass", async () => {
    const flags = Array.from({ length: 100000 }, () => ["--knob", "timeo=600"]).flat();
    const r = await cli("run", id, ...flags, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).knobs.timeo).toBe(600);
  });
});

describe("exports stream to the file", () => {
  it("the streamed pcap and Perfetto JSON equal the ones built whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iostack-export-"));
    const argv = ["nfs-odirect-retransmit", "--seed", "3", "--knob", "write_kb=64", "--knob", "concurrency=16"];
    const pcapFile = join(dir, "x.pcap"), jsonFile = join(dir, "x.json");
    expect((await cli("export", "pcap", ...argv, "-o", pcapFile)).code).toBe(0);
    expect((await cli("export", "perfetto", ...argv, "-o", jsonFile)).code).toBe(0);
    const w = World.create(loadModule(), { scenario: argv[0], seed: 3, knobs: { write_kb: 64, concurrency: 16 } });
    w.run();
    const whole = nfsOdirect.pcap!(w.rawEvidence(), w.describeContext());
    const streamed = readFileSync(pcapFile);
    expect(whole.length).toBeGreaterThan(2 << 20);   // more than one chunk
    expect(Buffer.compare(streamed, Buffer.from(whole))).toBe(0);
    expect(JSON.parse(readFileSync(jsonFile, "utf8"))).toEqual(JSON.parse(JSON.stringify(perfettoTrace(w))));
  });

  it("a write that fails midway is one line and exit 2", async () => {
    const r = await cli("export", "pcap", "nfs-odirect-retransmit", "-o", "/dev/full");
    expect(r.code).toBe(2);
    expect(r.err).toBe("iostack export: cannot write '/dev/full' (ENOSPC)");
  });
});

describe("merge refuses what does not add up", () => {
  const dir = mkdtempSync(join(tmpdir(), "iostack-merge-"));
  const good = {
    scenario: "sunrpc-udp-slot-hang", patches: {}, knobs: {}, seeds: { first: 1, count: 5 },
    counts: { ok: 3, hang: 2, corruption: 0, crash: 0, leak: 0, degraded: 0 }, failing: [{ seed: 2, verdict: "hang", reason: "r" }, { seed: 4, verdict: "hang", reason: "r" }],
  };
  const refused = async (x: unknown, msg: RegExp) => {
    const f = join(dir, "part.json");
    writeFileSync(f, JSON.stringify(x));
    const r = await cli("merge", f);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")).toHaveLength(1);
    expect(r.err).toMatch(msg);
  };

  it("accepts a well-formed part", async () => {
    const f = join(dir, "good.json");
    writeFileSync(f, JSON.stringify(good));
    expect((await cli("merge", f)).code).toBe(0);
  });

  it("negative or fractional counts, counts that do not add up, bad seeds, verdicts and scenarios", async () => {
    await refused({ ...good, seeds: { first: 1, count: -5 } }, /whole numbers >= 0/);
    await refused({ ...good, counts: { ...good.counts, ok: -3 } }, /counts must be whole numbers >= 0/);
    await refused({ ...good, counts: { ...good.counts, ok: 1000 } }, /add up to 1002, not its 5 seeds/);
    await refused({ ...good, failing: [{ seed: "a", verdict: "hang", reason: "r" }] }, /failing seed "a"/);
    await refused({ ...good, failing: [{ seed: 2, verdict: "meh", reason: "r" }] }, /unknown verdict "meh"/);
    await refused({ ...good, counts: { ...good.counts, meh: 0 } }, /unknown verdict 'meh'/);
    await refused({ ...good, scenario: "nope" }, /unknown scenario 'nope'/);
  });

  it("a device or an oversized file", async () => {
    const r = await cli("merge", "/dev/zero");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\/dev\/zero: not a regular file/);
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
    expect(Object.keys(a).sort()).toEqual(["events", "evidence", "knobs", "patches", "reason", "scenario", "seed", "simTimeNs", "status", "timingMode", "traceHash", "verdict"]);
    expect(["complete", "hang-detected"]).toContain(a.status);
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
    expect(r.err).toMatch(/nfs-odirect-retransmit: this configuration is beyond the model's limits \(too many entities.*\); with the other knobs as they are, duration_s works up to [\d.]+ \(now 3600\)$/);
    const s = await cli("sweep", "sunrpc-udp-slot-hang", "--seeds", "2", "--jobs", "1", "--knob", "workload=dd-bursts", "--knob", "burst_mb=16", "--knob", "wsize_kb=4");
    expect(s.code).toBe(2);
    expect(s.err).toBe("iostack sweep: knob burst_mb=16 with wsize_kb=4: the model keeps at most 512 WRITEs of wsize_kb per file, so burst_mb can be at most 2 now (or raise wsize_kb to 32)");
    // the default workload (mmap3) writes its mapping, not dd bursts
    const m = await cli("run", "sunrpc-udp-slot-hang", "--knob", "map_mb=4", "--knob", "wsize_kb=4");
    expect(m.err).toBe("iostack run: knob map_mb=4 with wsize_kb=4: the model keeps at most 512 WRITEs of wsize_kb per file, so map_mb can be at most 2 now (or raise wsize_kb to 8)");
    const t = await cli("run", "sunrpc-tcp-close-wait", "--knob", "map_mb=64");
    expect(t.err).toMatch(/map_mb can be at most 32 now \(or raise wsize_kb to 128\)/);
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
