// The generic libpcap writer (engine/export/pcap.ts) and the LNet capture of
// socklnd-scheduler decoded by tshark's LNet dissector (engine/export/lnet.ts).
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter, TcpFlow, tcpFrame, ipv4, TCP_SYN } from "../export/pcap";
import { lnetHeader, imageBytes } from "../export/lnet";
import { loadModule } from "../node/load";
import { World } from "../world";
import { socklndScheduler } from "../scenarios/socklnd-scheduler";

const TSHARK = "/usr/bin/tshark";

function onesSum(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i < end; i += 2) acc += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

describe("pcap writer", () => {
  it("writes the libpcap global header and one record per packet", () => {
    const w = new PcapWriter();
    w.packet(1_500_000_000, new Uint8Array(60));
    const b = w.bytes(), v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b2c3d4);
    expect(v.getUint32(20, true)).toBe(1);             // LINKTYPE_ETHERNET
    expect(v.getUint32(24, true)).toBe(1);             // ts_sec
    expect(v.getUint32(28, true)).toBe(500000);        // ts_usec
    expect(v.getUint32(32, true)).toBe(60);
    expect(b.length).toBe(24 + 16 + 60);
  });

  it("fills IPv4 and TCP checksums that verify", () => {
    const src = { ip: ipv4("10.0.0.1"), port: 1023 }, dst = { ip: ipv4("10.0.0.2"), port: 988 };
    const f = tcpFrame(src, dst, 1234, 0, TCP_SYN, new Uint8Array([1, 2, 3]));
    expect(onesSum(f, 14, 34)).toBe(0xffff);
    const pseudo = (src.ip >>> 16) + (src.ip & 0xffff) + (dst.ip >>> 16) + (dst.ip & 0xffff) + 6 + (f.length - 34);
    expect(onesSum(f, 34, f.length, pseudo)).toBe(0xffff);
  });

  it("numbers TCP data by stream offset and splits at the MSS", () => {
    const w = new PcapWriter();
    const f = new TcpFlow(w, { ip: 1, port: 2 }, { ip: 3, port: 4 }, [100, 200]);
    f.handshake(0);
    f.send(10, 0, 5, new Uint8Array(10), 4);
    const b = w.bytes(), v = new DataView(b.buffer);
    let o = 24; const seqs: number[] = [];
    while (o < b.length) { const len = v.getUint32(o + 8, true); seqs.push(v.getUint32(o + 16 + 38)); o += 16 + len; }
    expect(seqs.slice(3)).toEqual([106, 110, 114]);    // isn + 1 + 5, then +4, +4
  });
});

describe("LNet encoding", () => {
  it("lays out ksock_msg + lnet_hdr as the V3 wire does", () => {
    const h = lnetHeader({ serial: 7, type: 1, nob: 4096, peer: 0, dir: "in" });
    const v = new DataView(h.buffer);
    expect(h.length).toBe(96);
    expect(v.getUint32(0, true)).toBe(0xc1);
    expect(Array.from(h.subarray(24, 32))).toEqual([1, 1, 0xa8, 0xc0, 0, 0, 2, 0]);  // 192.168.1.1@tcp
    expect(v.getUint32(48, true)).toBe(1);
    expect(v.getUint32(52, true)).toBe(4096);
    const page = imageBytes({ serial: 7, type: 1, nob: 4096, peer: 0, dir: "in" }, 96, 4096);
    expect(new TextDecoder().decode(page.subarray(0, 22))).toBe("msg 00000007 page 000 ");
    expect(page[100]).toBe((7 * 31) & 0xff);
  });
});

const run = (patches: Record<string, boolean>) =>
  World.create(loadModule(), { scenario: "socklnd-scheduler", patches, seed: 1 }, { traceCapacity: 0 }).run();

describe.skipIf(!existsSync(TSHARK))("tshark decodes the socklnd capture (skipped: /usr/bin/tshark absent)", () => {
  const dir = mkdtempSync(join(tmpdir(), "socklnd-pcap-"));
  const tshark = (file: string, ...args: string[]) =>
    execFileSync(TSHARK, ["-r", file, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

  it("every logged message is an LNet message on tcp.port 988 with our NIDs", () => {
    const r = run({});
    const file = join(dir, "old.pcap");
    writeFileSync(file, socklndScheduler.pcap!(r.evidence, {} as any));
    const wire = (r.evidence as any).wire.msgs;
    const rows = tshark(file, "-Y", "lnet", "-T", "fields", "-e", "tcp.dstport", "-e", "lnet.msg_type", "-e", "lnet.payload_length", "-e", "lnet.nid.addr")
      .trim().split("\n").map((l) => l.split("\t"));
    expect(rows.length).toBe(wire.length);
    expect(rows.filter((x) => x[1] === "1").length).toBe(wire.filter((m: any) => m.type === 1).length);
    expect(rows.filter((x) => x[1] === "1" && x[2] === "65536").length).toBeGreaterThan(0);
    for (const x of rows) expect(x[3]).toContain("192.168.1.1");
  });

  it("the corrupted run's capture shows another message's bytes on the wire", () => {
    const r = run({ "socklnd-shared-sched": true });
    const file = join(dir, "shared.pcap");
    const bytes = socklndScheduler.pcap!(r.evidence, {} as any);
    writeFileSync(file, bytes);
    const bad = (r.evidence as any).wire.msgs.filter((m: any) => m.runs.some((x: number[]) => x[2] !== m.msg));
    expect(bad.length).toBeGreaterThan(0);
    expect(Number(tshark(file, "-q", "-z", "io,stat,0,lnet").match(/\|\s+(\d+)\s+\|/)?.[1] ?? 0)).toBeGreaterThan(0);
    const foreign = bad.flatMap((m: any) => m.runs.filter((x: number[]) => x[2] !== m.msg && x[2] !== 0 && x[0] >= 96).map((x: number[]) => x[2]));
    const text = Buffer.from(bytes).toString("latin1");
    for (const s of foreign.slice(0, 3)) expect(text).toContain(`msg ${s.toString(16).padStart(8, "0")}`);
  });
});
