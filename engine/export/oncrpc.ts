// XDR / ONC RPC (RFC 5531, record marking over TCP) / NFSv3 WRITE (RFC 1813) encoding of
// the client's capture from nfs-odirect-retransmit, written as a libpcap file tshark
// decodes as "NFS V3 WRITE Call" / "Reply" and pairs by XID.
//
// The model's record lengths must match these encoders byte for byte (asm/nfs/direct.ts:
// RPC_WRITE_CALL_HDR = 128, RPC_WRITE_REPLY_LEN = 56): TCP sequence numbers come from
// the model. Payload words are big-endian, so 0xdeadbeef shows as "de ad be ef".
// Framing (Ethernet/IPv4/TCP, checksums) is engine/export/pcap.ts's.
import { PcapWriter, tcpFrame, ipv4, TCP_SYN, TCP_ACK, TCP_PSH } from "./pcap";
import type { Endpoint } from "./pcap";

export const CALL_HDR_BYTES = 128;
export const REPLY_BYTES = 56;
const NFS_PROGRAM = 100003;
const NFSPROC3_WRITE = 7;
const FILE_SYNC = 2;
const CLIENT: Endpoint = { ip: ipv4("10.0.0.1"), port: 785 };
const SERVER: Endpoint = { ip: ipv4("10.0.0.2"), port: 2049 };
const FH = Array.from({ length: 32 }, (_, i) => (0x01 + i * 7) & 0xff);

class Xdr {
  private buf: number[] = [];
  u32(v: number): this { v >>>= 0; this.buf.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255); return this; }
  u64(v: number): this { return this.u32(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32); }
  opaque(b: number[]): this { this.u32(b.length); this.buf.push(...b); while (this.buf.length % 4) this.buf.push(0); return this; }
  str(s: string): this { return this.opaque([...s].map((c) => c.charCodeAt(0))); }
  bytes(): Uint8Array { return Uint8Array.from(this.buf); }
  get length(): number { return this.buf.length; }
}

// A fragment of a segment: the page's pattern and kind when the NIC read it, how many
// bytes, from which offset in the page. Page word j is pattern + j (counter, kind 0) or
// pattern (fill, kind 1).
export interface CapturedFrag { pattern: number; kind: number; len: number; off: number }

export function payloadBytes(frags: CapturedFrag[]): Uint8Array {
  const total = frags.reduce((n, f) => n + f.len, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const f of frags) {
    if (f.off % 4 || f.len % 4) throw new Error(`fragment at page offset ${f.off}, ${f.len} bytes: not whole words`);
    for (let j = f.off / 4, o = at; o < at + f.len; j++, o += 4) dv.setUint32(o, f.kind === 0 ? (f.pattern + j) >>> 0 : f.pattern >>> 0);
    at += f.len;
  }
  return out;
}

// Record marker + RPC CALL (AUTH_UNIX "client") + WRITE3args, without the data bytes.
export function writeCallHeader(xid: number, offset: number, count: number): Uint8Array {
  const x = new Xdr();
  x.u32(0x80000000 | (CALL_HDR_BYTES - 4 + count));
  x.u32(xid).u32(0).u32(2).u32(NFS_PROGRAM).u32(3).u32(NFSPROC3_WRITE);
  const cred = new Xdr().u32(0).str("client").u32(0).u32(0).u32(0).bytes();
  x.u32(1).opaque([...cred]);             // AUTH_UNIX
  x.u32(0).u32(0);                        // AUTH_NULL verifier
  x.opaque(FH).u64(offset).u32(count).u32(FILE_SYNC).u32(count);
  const b = x.bytes();
  if (b.length !== CALL_HDR_BYTES) throw new Error(`WRITE call header is ${b.length} bytes, the model assumes ${CALL_HDR_BYTES}`);
  return b;
}

export function writeReply(xid: number, count: number): Uint8Array {
  const x = new Xdr();
  x.u32(0x80000000 | (REPLY_BYTES - 4));
  x.u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0);   // REPLY, MSG_ACCEPTED, AUTH_NULL, SUCCESS
  x.u32(0).u32(0).u32(0);                          // NFS3_OK, wcc_data: no pre_op, no post_op attrs
  x.u32(count).u32(FILE_SYNC).u32(0x5eed0003).u32(0x00000001);
  const b = x.bytes();
  if (b.length !== REPLY_BYTES) throw new Error(`WRITE reply is ${b.length} bytes, the model assumes ${REPLY_BYTES}`);
  return b;
}

// Capture packet as written by the model's evidence, one TCP segment:
// [tNs, dir, seq, ack, len, recType, xid, offBlk (a call) | count (a reply), fate,
//  [pattern, kind, len, pageOff, ...], recOff, recLen]: the segment holds bytes
// [recOff, recOff + len) of a record of recLen bytes.
export type CapturedPacket = [number, number, number, number, number, number, number, number, number, number[], number, number];

export interface NfsCapture { callHeaderBytes?: number; replyBytes?: number; packets: CapturedPacket[] }

// The segment's bytes: its slice of the record's header, then its page fragments.
export function segmentBytes(p: CapturedPacket): Uint8Array {
  const [, , , , len, recType, xid, offBlk, , fr, recOff, recLen] = p;
  const frags: CapturedFrag[] = [];
  for (let i = 0; i + 3 < fr.length; i += 4) frags.push({ pattern: fr[i], kind: fr[i + 1], len: fr[i + 2], off: fr[i + 3] });
  const head = recType === 1 ? writeCallHeader(xid, offBlk * 4096, recLen - CALL_HDR_BYTES)
    : recType === 2 ? writeReply(xid, offBlk) : new Uint8Array(0);
  const lin = head.subarray(Math.min(recOff, head.length), Math.min(recOff + len, head.length));
  const data = payloadBytes(frags);
  const out = new Uint8Array(lin.length + data.length);
  out.set(lin); out.set(data, lin.length);
  if (out.length !== len) throw new Error(`segment at ${recOff} of the record of xid ${xid.toString(16)} is ${out.length} bytes, the model sent ${len}`);
  return out;
}

// The whole capture as libpcap bytes: a handshake, then every segment as the model sent
// it. Sequence and acknowledgement numbers are the model's own; PSH marks a record's end.
export function nfsPcap(cap: NfsCapture, w = new PcapWriter()): Uint8Array {
  const pk = cap.packets;
  const frame = (t: number, dir: number, seq: number, ack: number, flags: number, body: Uint8Array, id: number) =>
    w.packet(t, dir === 0 ? tcpFrame(CLIENT, SERVER, seq, ack, flags, body, id) : tcpFrame(SERVER, CLIENT, seq, ack, flags, body, id));
  const firstC = pk.find((p) => p[1] === 0), firstS = pk.find((p) => p[1] === 1);
  const isnC = firstC ? firstC[2] : 1, isnS = firstS ? firstS[2] : (firstC ? firstC[3] : 1);
  const t0 = pk.length ? Math.max(0, pk[0][0] - 3000) : 0;
  let id = 1;
  frame(t0, 0, isnC - 1, 0, TCP_SYN, new Uint8Array(0), id++);
  frame(t0 + 1000, 1, isnS - 1, isnC, TCP_SYN | TCP_ACK, new Uint8Array(0), id++);
  frame(t0 + 2000, 0, isnC, isnS, TCP_ACK, new Uint8Array(0), id++);
  for (const p of pk) {
    const [t, dir, seq, ack, len, , , , , , recOff, recLen] = p;
    const body = segmentBytes(p);
    frame(t, dir, seq, ack, TCP_ACK | (len > 0 && recOff + len === recLen ? TCP_PSH : 0), body, id++);
  }
  return w.bytes();
}
