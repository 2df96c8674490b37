// nfs-odirect-retransmit: the documented interleaving unpatched -> corruption (overwrite)
// and crash (xen-unmap); each fix; the seed-003 trace order; the exported pcap through tshark.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModule } from "../../node/load";
import { World, runOnce } from "../../world";
import { nfsOdirectRetransmit as spec } from "../../scenarios/nfs-odirect-retransmit";

const preset = spec.presets.find((p) => p.id === "documented")!;
const run = (patches: Record<string, boolean> = {}, knobs: Record<string, unknown> = {}, seed = preset.seed) =>
  World.create(loadModule(), { scenario: spec.id, seed, knobs: { ...preset.knobs, ...knobs }, patches });

describe("nfs-odirect-retransmit: documented interleaving", () => {
  it("unpatched, app=overwrite: a duplicate WRITE carries 0xdeadbeef on the wire, named by XID", () => {
    const r = run().run();
    expect(r.verdict).toBe("corruption");
    const ev: any = r.evidence;
    expect(ev.wire.found[0]).toBe(0xdeadbeef);
    expect(ev.wire.expected[0]).not.toBe(0xdeadbeef);
    expect(ev.wire.wordsDiffer).toBeGreaterThan(0);
    expect(r.reason).toMatch(new RegExp(`xid 0x${(ev.wire.xid >>> 0).toString(16).padStart(8, "0")}`));
    expect(r.reason).toMatch(/deadbeef/);
    // the server saw the same XID twice and the DRC decided (lru1024: replay or drop)
    expect(ev.drc === "RC_REPLY" || ev.drc === "RC_DROPIT").toBe(true);
  });

  it("the per-request trace follows seed 003's order", () => {
    const r = run().run();
    const tap = (r.evidence as any).blocks.find((b: any) => b.id === "tap").lines.join("\n") as string;
    const order = [
      "rpc_init_task", "call_start", "call_reserve", "call_transmit", "call_encode", "call_header",
      "xs_tcp_send_request", "tcp_sendpage", "do_tcp_sendpages", "call_transmit_status", "tcp_transmit_skb, skb_clone",
      "xprt_timer", "xprt_timer: !req->rq_received", "rpc_make_runnable", "call_status", "timeout (minor)",
      "call_bind", "call_transmit", "xs_tcp_send_request", "tcp_sendpage", "do_tcp_sendpages", "call_transmit_status",
      "rpc_make_runnable", "call_decode", "call_verify", "rpc_exit_task", "nfs_direct_write_result",
      "nfs_direct_write_release", "nfs_direct_free_writedata", "tcp_transmit_skb, skb_clone",
    ];
    let at = 0;
    for (const f of order) {
      const i = tap.indexOf(`"${f}`, at);
      expect(i, `${f} after offset ${at}`).toBeGreaterThanOrEqual(0);
      at = i + 1;
    }
  });

  it("app=xen-unmap: the queued duplicate faults on the page fast_flush_area unmapped", () => {
    const r = run({}, { app: "xen-unmap" }).run();
    expect(r.verdict).toBe("crash");
    const ev: any = r.evidence;
    expect(ev.crash.timeNs).toBeGreaterThan(ev.crash.unmappedAtNs);
    const oops = ev.blocks.find((b: any) => b.id === "oops").lines.join("\n");
    expect(oops).toMatch(/unable to handle kernel paging request/);
    expect(oops).toMatch(/bnx2_start_xmit/);
    const tap = ev.blocks.find((b: any) => b.id === "tap").lines.join("\n");
    expect(tap.indexOf("fast_flush_area")).toBeGreaterThan(tap.indexOf("nfs_direct_write_result"));
  });

  it("a crash's reason names the unmapped page and the function that touched it, never a wire mismatch", () => {
    const N = 20;
    let crashes = 0;
    for (let seed = 1; seed <= N; seed++) {
      const r = runOnce(loadModule(), { scenario: spec.id, seed, knobs: { app: "xen-unmap" } }, { traceCapacity: 0 });
      if (r.verdict !== "crash") continue;
      crashes++;
      const c = (r.evidence as any).crash;
      expect(r.reason).toMatch(new RegExp(`^${c.fn} touched unmapped page pfn 0x${c.pfn.toString(16).padStart(5, "0")} `));
      expect(c.fn).toMatch(/^(bnx2|xenvif)_start_xmit$/);
      // the faulting transmit never became a packet: a wire mismatch, if any, is an earlier,
      // real duplicate (a page the next write reused), not the phantom of the fault
      const w = (r.evidence as any).wire;
      if (w) expect(w.timeNs).toBeLessThan(c.timeNs);
    }
    expect(crashes).toBeGreaterThan(N / 2);
  });

  it("sunrpc-copy-on-resend: the retransmission is a copy -> ok (both variants)", () => {
    expect(run({ "sunrpc-copy-on-resend": true }).run().verdict).toBe("ok");
    expect(run({ "sunrpc-copy-on-resend": true }, { app: "xen-unmap" }).run().verdict).toBe("ok");
  });

  it("nfs-complete-after-skb-release: completion waits for the skb -> ok (both variants)", () => {
    const r = run({ "nfs-complete-after-skb-release": true }).run();
    expect(r.verdict).toBe("ok");
    expect((r.evidence as any).rpcRetransmits).toBeGreaterThan(0);
    expect(run({ "nfs-complete-after-skb-release": true }, { app: "xen-unmap" }).run().verdict).toBe("ok");
  });

  it("xprt-dequeue-xmit-on-complete does not help: the duplicate is already in the socket", () => {
    const r = run({ "xprt-dequeue-xmit-on-complete": true }).run();
    expect(r.verdict).toBe("corruption");
    expect((r.evidence as any).wire.found[0]).toBe(0xdeadbeef);
  });

  it("drc=csum: the garbage duplicate misses the cache and is executed: corrupted on disk", () => {
    let hit = false;
    for (let seed = 1; seed <= 20 && !hit; seed++) {
      const r = run({}, { drc: "csum" }, seed).run();
      const ev: any = r.evidence;
      if (ev.disk) {
        hit = true;
        expect(r.verdict).toBe("corruption");
        expect(ev.disk.found[0]).not.toBe(ev.disk.expected[0]);
      }
    }
    expect(hit).toBe(true);
  });

  it("is deterministic", () => {
    expect(run().run().traceHash).toBe(run().run().traceHash);
  });
});

describe("nfs-odirect-retransmit: segmentation at the MSS", () => {
  // The WRITE's record goes out as 1448-byte segments (128 header bytes + 1320 data bytes,
  // then 1448 data bytes each); the NIC reads each segment's page bytes when it sends it.
  it("a duplicate split across segments carries part old, part new data, and the evidence names the byte ranges", () => {
    const r: any = run().run();
    expect(r.verdict).toBe("corruption");
    const w = r.evidence.wire;
    expect(w.segments).toBe(6);
    expect(w.mixed).toBe(true);
    // runs over the duplicate's data: as issued up to a segment boundary, rewritten after
    const runs: Array<[number, number, number]> = w.duplicateRuns;
    expect(runs.map((x) => x[2])).toEqual([0, 1]);
    expect(runs[0][0]).toBe(0);
    expect(runs[1][1]).toBe(8192);
    expect((runs[0][1] + 128) % 1448).toBe(0);
    // the first differing segment's bytes, as the reason says them
    expect(w.dataFrom).toBe(w.segment === 0 ? 0 : w.segment * 1448 - 128);
    expect(w.dataTo).toBe(Math.min(8192, (w.segment + 1) * 1448 - 128));
    expect(r.reason).toContain(`bytes ${w.dataFrom}-${w.dataTo - 1} of the data, segment ${w.segment + 1} of 6`);
    expect(r.reason).toContain(`data bytes 0-${runs[0][1] - 1} as issued, ${runs[1][0]}-8191 rewritten`);
    // the NIC read the as-issued segments before the write completed, the rest after
    const dup = w.transmission.filter((x: any) => x.duplicate);
    for (const x of dup) if (!x.tcpRetransmission) expect(x.differFrom < 0).toBe(x.timeNs < w.completedNs);
  });
  it("a mixed duplicate that knfsd executes (its DRC entry recycled) leaves a block part as issued, part rewritten", () => {
    const r: any = run({}, { server_load: 100000 }).run();
    expect(r.verdict).toBe("corruption");
    const d = r.evidence.disk;
    expect(d.runs).toBe(2);
    // the run starts where a segment boundary falls in the page
    expect([1320, 2768, 4216 - 4096, 5664 - 4096, 7112 - 4096]).toContain(d.bytesFrom);
    expect(d.bytesTo).toBe(4096);
    expect(d.found[0]).toBe(0xdeadbeef);
    expect(r.reason).toContain(`on disk: bytes ${d.bytesFrom}-4095 of block at offset ${d.offset} hold deadbeef`);
  });
  it("the wire is checked as the NIC reads each segment, not from the capture ring (which keeps the last 32768 packets)", () => {
    const w = run({}, { stall_period: 30000, duration_s: 200 });
    const r: any = w.run();
    expect(r.verdict).toBe("corruption");
    const first = (w.rawEvidence() as any).model.capture.packets[0][0];
    expect(r.evidence.wire.timeNs).toBeLessThan(first);
  });
  it("over seeds, most corrupt duplicates are mixed (the reply lands between two of their segments)", () => {
    for (const first of [1, 5001]) {
      let bad = 0, mixed = 0;
      for (let seed = first; seed < first + 20; seed++) {
        const r: any = runOnce(loadModule(), { scenario: spec.id, seed }, { traceCapacity: 0 });
        if (r.verdict !== "corruption") continue;
        bad++;
        if (r.evidence.wire.mixed) mixed++;
      }
      expect(bad).toBeGreaterThan(10);
      expect(mixed / bad).toBeGreaterThan(0.5);
    }
  }, 120000);
});

describe("nfs-odirect-retransmit: sweep", () => {
  it("default knobs: corruption in a clear share of seeds; with copy-on-resend in none", () => {
    const N = 40;
    let bad = 0;
    for (let seed = 1; seed <= N; seed++) {
      if (runOnce(loadModule(), { scenario: spec.id, seed }, { traceCapacity: 0 }).verdict === "corruption") bad++;
      expect(runOnce(loadModule(), { scenario: spec.id, seed, patches: { "sunrpc-copy-on-resend": true } }, { traceCapacity: 0 }).verdict).toBe("ok");
    }
    expect(bad / N).toBeGreaterThan(0.1);
  }, 120000);
});

describe("nfs-odirect-retransmit: the stall", () => {
  const share = (knobs: Record<string, unknown>, first: number, n = 20) => {
    let bad = 0;
    for (let seed = first; seed < first + n; seed++) {
      if (runOnce(loadModule(), { scenario: spec.id, seed, knobs }, { traceCapacity: 0 }).verdict === "corruption") bad++;
    }
    return bad / n;
  };
  it("hold (default): a stall shorter than timeo gives ok, a longer one corrupts", () => {
    for (const first of [1, 3001]) {
      expect(share({ stall_s: 55 }, first)).toBe(0);
      expect(share({ stall_s: 65 }, first)).toBeGreaterThan(0.5);
      expect(share({ stall_s: 65, timeo: 700 }, first)).toBe(0);
    }
  });
  // A drop stall ends for TCP at the first RTO after it (backoff: 25.4 s, then 51 s); the
  // ACKs of segments that got through before it echo old timestamps, so tcp_try_undo_loss
  // undoes the loss and the RTT sample (~the stall) inflates the RTO the holes then wait for.
  it("drop: TCP's recovery, not timeo, decides: a 30 s stall already corrupts, a 20 s one does not", () => {
    for (const first of [1, 3001]) {
      expect(share({ stall_mode: "drop", stall_s: 30 }, first)).toBeGreaterThan(0.5);
      expect(share({ stall_mode: "drop", stall_s: 20 }, first)).toBe(0);
    }
  });
  it("held packets are released in order when the stall ends", () => {
    const w = run();
    w.run();
    const rel = w.traceLines(/nfqueue: release dropped=0 held=\d+/);
    expect(rel.length).toBeGreaterThan(0);
    expect(Number(/held=(\d+)/.exec(rel[0])![1])).toBeGreaterThan(0);
  });
}, 120000);

describe("nfs-odirect-retransmit: xprt-dequeue-xmit-on-complete", () => {
  const DEQ = "xprt-dequeue-xmit-on-complete";
  const cancelled = (r: any) => r.evidence.blocks.find((b: any) => b.id === "summary").kv["retransmissions cancelled before the socket"];
  it("default send buffer: nothing waits on xprt->sending, the patch changes nothing (same trace)", () => {
    for (const seed of [1, 2, 3]) {
      const a = runOnce(loadModule(), { scenario: spec.id, seed }, { traceCapacity: 0 });
      const b = runOnce(loadModule(), { scenario: spec.id, seed, patches: { [DEQ]: true } }, { traceCapacity: 0 });
      expect(b.traceHash).toBe(a.traceHash);
      expect(cancelled(b)).toBe(0);
    }
  });
  // The patch cancels the retransmissions still waiting in the RPC layer when their reply
  // arrives; 2.6's xprt_prepare_transmit drops the same ones (no byte in the socket), so
  // only the timing moves. A duplicate that corrupts was handed to the socket (wholly, or
  // the rest of a record partly sent, which both kernels must finish) before the reply.
  it("small-sndbuf preset: the patch cancels retransmissions in the RPC layer, and the verdict share does not move", () => {
    const p = spec.presets.find((x) => x.id === "small-sndbuf")!;
    for (const seed of [1, 2, 3]) {
      const a = runOnce(loadModule(), { scenario: spec.id, seed, knobs: p.knobs }, { traceCapacity: 0 });
      const b = runOnce(loadModule(), { scenario: spec.id, seed, knobs: p.knobs, patches: { [DEQ]: true } }, { traceCapacity: 0 });
      expect(cancelled(b)).toBeGreaterThan(0);
      expect(b.traceHash).not.toBe(a.traceHash);
    }
    for (const first of [1, 5001]) {
      const n = 30;
      let off = 0, on = 0;
      for (let seed = first; seed < first + n; seed++) {
        if (runOnce(loadModule(), { scenario: spec.id, seed, knobs: p.knobs }, { traceCapacity: 0 }).verdict === "corruption") off++;
        const b: any = runOnce(loadModule(), { scenario: spec.id, seed, knobs: p.knobs, patches: { [DEQ]: true } }, { traceCapacity: 0 });
        if (b.verdict !== "corruption") continue;
        on++;
        // what corrupted is a duplicate on the wire: in the socket, out of the patch's reach
        expect(b.evidence.wire.transmission.some((x: any) => x.duplicate && x.differFrom >= 0)).toBe(true);
      }
      expect(Math.abs(on - off) / n).toBeLessThan(0.25);
    }
  }, 120000);
});

describe("nfs-odirect-retransmit: TCP of the named kernel", () => {
  it("2.6.18's TCP_TIMEOUT_INIT: a first segment lost before any RTT sample is retransmitted after 3 s", () => {
    let seen = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const w = run({}, { loss: 0.5, duration_s: 5 }, seed);
      w.run();
      const first = w.traceLines(/tcp_retransmit_timer/)[0] ?? "";
      const m = /^\[\s*([\d.]+)\] .* backoff=1 rto=([\d.]+)/.exec(first);
      if (!m || Number(m[1]) < 1) continue;   // the first loss came after an RTT sample
      seen++;
      expect(Number(m[1])).toBeCloseTo(3, 2);
      expect(Number(m[2])).toBeCloseTo(6, 2);
    }
    expect(seen).toBeGreaterThan(0);
  });
});

describe("nfs-odirect-retransmit: pcap", () => {
  it.skipIf(!existsSync("/usr/bin/tshark"))("tshark decodes NFS V3 WRITE calls, the duplicate XID and its 0xdeadbeef payload", () => {
    const w = run();
    const r = w.run();
    const xid = "0x" + ((r.evidence as any).wire.xid >>> 0).toString(16).padStart(8, "0");
    const dir = mkdtempSync(join(tmpdir(), "nfs-pcap-"));
    const file = join(dir, "x.pcap");
    writeFileSync(file, spec.pcap!(w.rawEvidence(), w.describeContext()));
    const all = execFileSync("/usr/bin/tshark", ["-r", file], { encoding: "utf8" });
    expect(all).toMatch(/NFS .* V3 WRITE Call/);
    expect(all).toMatch(/V3 WRITE Reply \(Call In \d+\)/);
    const dup = execFileSync("/usr/bin/tshark", ["-r", file, "-Y", `rpc.xid == ${xid}`], { encoding: "utf8" });
    expect(dup).toMatch(/RPC retransmission of #\d+\]V3 WRITE Call/);
    const bad = execFileSync("/usr/bin/tshark", ["-r", file, "-Y", `rpc.xid == ${xid} && nfs.data contains de:ad:be:ef`], { encoding: "utf8" });
    expect(bad).toMatch(/V3 WRITE Call/);
    // WRITE3resok.count is what was written, not 0 (a short write to a real client)
    const counts = execFileSync("/usr/bin/tshark", ["-r", file, "-Y", "nfs && rpc.msgtyp == 1", "-T", "fields", "-e", "nfs.count3"], { encoding: "utf8" });
    const cs = counts.trim().split("\n").map(Number);
    expect(cs.length).toBeGreaterThan(0);
    for (const c of cs) expect(c).toBe(8192);
  });
  it.skipIf(!existsSync("/usr/bin/tshark"))("every packet is one TCP segment of at most the MSS, with the model's seq, and records reassemble", () => {
    const w = run();
    const r: any = w.run();
    const dir = mkdtempSync(join(tmpdir(), "nfs-pcap-"));
    const file = join(dir, "x.pcap");
    writeFileSync(file, spec.pcap!(w.rawEvidence(), w.describeContext()));
    const rows = execFileSync("/usr/bin/tshark", ["-r", file, "-o", "tcp.relative_sequence_numbers:FALSE", "-T", "fields", "-e", "tcp.seq", "-e", "tcp.len", "-e", "tcp.segment.count", "-e", "rpc.msgtyp"], { encoding: "utf8" })
      .trim().split("\n").map((l) => l.split("\t"));
    const lens = rows.map((x) => Number(x[1]));
    expect(Math.max(...lens)).toBe(1448);
    // each decoded call is the record reassembled from its 6 segments
    const calls = rows.filter((x) => x[3] === "0");
    expect(calls.length).toBeGreaterThan(100);
    for (const c of calls) expect(c[2]).toBe("6");
    // the corrupt segment is in the capture at the model's sequence number and length
    const seg = r.evidence.wire.transmission.find((x: any) => x.differFrom >= 0);
    const at = rows.find((x) => Number(x[0]) === ((r.evidence.wire.seq as number) >>> 0));
    expect(at).toBeDefined();
    expect(Number(at![1])).toBe(seg.dataTo - seg.dataFrom + (seg.segment === 0 ? 128 : 0));
    const counts = execFileSync("/usr/bin/tshark", ["-r", file, "-Y", "nfs && rpc.msgtyp == 0", "-T", "fields", "-e", "nfs.count3"], { encoding: "utf8" });
    for (const c of counts.trim().split("\n")) expect(Number(c)).toBe(8192);
  });
  it.skipIf(!existsSync("/usr/bin/tshark"))("the Xen variant (a run that ends in the oops) exports and decodes", () => {
    const w = run({}, { app: "xen-unmap" });
    expect(w.run().verdict).toBe("crash");
    const dir = mkdtempSync(join(tmpdir(), "nfs-pcap-"));
    const file = join(dir, "x.pcap");
    writeFileSync(file, spec.pcap!(w.rawEvidence(), w.describeContext()));
    const all = execFileSync("/usr/bin/tshark", ["-r", file], { encoding: "utf8" });
    expect(all).toMatch(/V3 WRITE Call/);
    expect(all).not.toMatch(/Malformed/);
  });
});
