// The Wire view's decoder on captures made by the lab's own encoders (engine/export): NFS
// WRITE calls split over segments, their replies, an RPC retransmission with the same xid,
// and LNet messages over ksocklnd.
import { describe, expect, it } from "vitest";
import { nfsPcap, CALL_HDR_BYTES, REPLY_BYTES } from "../../engine/export/oncrpc";
import type { CapturedPacket } from "../../engine/export/oncrpc";
import { lnetPcap } from "../../engine/export/lnet";
import { parsePcap } from "./pcap";

describe("parsePcap: ONC RPC over TCP", () => {
  const DATA = 4096;
  const MSS = 1448;
  const rec = CALL_HDR_BYTES + DATA;
  // a call as the model sends it: one page (a counter, or filled with 0xdeadbeef) in
  // MSS-sized segments
  const call = (t: number, seq: number, xid: number, pattern: number): CapturedPacket[] => {
    const out: CapturedPacket[] = [];
    for (let o = 0; o < rec; o += MSS) {
      const len = Math.min(MSS, rec - o), from = Math.max(0, o - CALL_HDR_BYTES), to = o + len - CALL_HDR_BYTES;
      out.push([t + o, 0, seq + o, 5000, len, 1, xid, 0, 0, [pattern, pattern === 0xdeadbeef ? 1 : 0, to - from, from], o, rec]);
    }
    return out;
  };
  // the same segment sent again at t (TCP's retransmission)
  const again = (p: CapturedPacket, t: number): CapturedPacket => { const q = [...p] as CapturedPacket; q[0] = t; return q; };
  const reply = (t: number, seq: number, xid: number): CapturedPacket => [t, 1, seq, 9000, REPLY_BYTES, 2, xid, 0, 0, [], 0, REPLY_BYTES];
  const pk = parsePcap(nfsPcap({ packets: [
    ...call(10_000, 1000, 0x11, 1), again(call(10_000, 1000, 0x11, 1)[0], 15_000), reply(20_000, 5000, 0x11),
    ...call(30_000, 1000 + rec, 0x22, 2), ...call(40_000, 1000 + 2 * rec, 0x22, 0xdeadbeef), reply(50_000, 5000 + REPLY_BYTES, 0x22),
  ] }));
  const by = (re: RegExp) => pk.map((p, i) => [p, i] as const).filter(([p]) => re.test(p.summary));

  it("decodes the procedure and xid of calls and replies, and says what a segment continues", () => {
    expect(pk.slice(0, 3).every((p) => /connection set-up|ACK/.test(p.summary))).toBe(true);
    expect(by(/^NFS V3 WRITE Call xid 0x00000011$/)).toHaveLength(1);
    expect(by(/^NFS V3 WRITE Reply xid 0x00000011$/)).toHaveLength(1);
    expect(by(/^continuation of NFS V3 WRITE Call xid 0x00000022, record bytes \d+–\d+$/).length).toBeGreaterThanOrEqual(2);
    // where in the record: the second segment of a call starts at the MSS
    expect(by(/^continuation of NFS V3 WRITE Call xid 0x00000011, record bytes 1448–2895$/)).toHaveLength(1);
    expect(pk.some((p) => /seq=\d+/.test(p.transport))).toBe(true);
  });

  it("a record's first segment sent again is TCP's retransmission, not a second call", () => {
    const re = by(/^TCP retransmission of NFS V3 WRITE Call xid 0x00000011$/);
    expect(re).toHaveLength(1);
    expect(re[0][0].dupOf).toBeUndefined();
  });

  it("links each call to its reply and flags the retransmission's duplicate xid", () => {
    const [[c1, i1]] = by(/^NFS V3 WRITE Call xid 0x00000011$/);
    const [[r1, j1]] = by(/^NFS V3 WRITE Reply xid 0x00000011$/);
    expect(c1.reply).toBe(j1);
    expect(r1.call).toBe(i1);
    const calls = by(/^NFS V3 WRITE Call xid 0x00000022$/);
    expect(calls).toHaveLength(2);
    expect(calls[0][0].dupOf).toBeUndefined();
    expect(calls[1][0].dupOf).toBe(calls[0][1]);
    const [[r2]] = by(/^NFS V3 WRITE Reply xid 0x00000022$/);
    expect(r2.call, "the reply answers the latest transmission").toBe(calls[1][1]);
    expect(pk.some((p) => p.poisoned.length > 0)).toBe(true);
  });

  it("says where in its record each segment, and the overwrite pattern in it, lies", () => {
    const at = (p: (typeof pk)[number], o: number) => p.recOff! + o - p.payloadAt!;
    const [[first]] = by(/^NFS V3 WRITE Call xid 0x00000022$/).slice(1);
    expect(first.recOff).toBe(0);
    expect(at(first, first.poisoned[0])).toBe(CALL_HDR_BYTES);     // the data after the call header
    const [[second]] = by(/^continuation of NFS V3 WRITE Call xid 0x00000022, record bytes 1448–2895$/).filter(([p]) => p.poisoned.length);
    expect(at(second, second.poisoned[0])).toBe(1448);
    expect(at(second, second.poisoned[second.poisoned.length - 1]) + 4).toBe(2896);
  });
});

describe("parsePcap: LNet over ksocklnd", () => {
  it("decodes the acceptor request, the HELLOs and the lnet_hdr type, and pairs PUT with its ACK", () => {
    const msgs = [
      { conn: 0, dir: "in", msg: 7, type: 1, nob: 200, t: 1_000_000, stream: 0, runs: [[0, 296, 7, 0, 0, 1, 200, 0]] },
      { conn: 0, dir: "out", msg: 7, type: 0, nob: 0, t: 2_000_000, stream: 0, runs: [[0, 96, 7, 0, 0, 0, 0, 1]] },
      // msg 9's header with msg 7's payload bytes: a shared scratch buffer
      { conn: 0, dir: "in", msg: 9, type: 1, nob: 200, t: 3_000_000, stream: 296, runs: [[0, 96, 9, 0, 0, 1, 200, 0], [96, 200, 7, 96, 0, 1, 200, 0]] },
    ];
    const pk = parsePcap(lnetPcap({ conns: [{ c: 0, peer: 0, type: "ANY" }], wire: { msgs } }));
    const s = pk.map((p) => p.summary);
    expect(s).toContain("LNet acceptor connection request");
    expect(s.filter((x) => x === "ksocklnd HELLO v3")).toHaveLength(2);
    const put = pk.findIndex((p) => /^LNet PUT 192\.168\.1\.11@tcp → 192\.168\.1\.1@tcp payload 200 match 0x/.test(p.summary));
    const ack = pk.findIndex((p) => /^LNet ACK /.test(p.summary));
    expect(put).toBeGreaterThan(0);
    expect(pk[put].reply).toBe(ack);
    expect(pk[put].foreign).toBeUndefined();
    expect(pk.filter((p) => p.foreign).map((p) => p.foreign)).toEqual(["payload of msg 00000007"]);
  });
});
