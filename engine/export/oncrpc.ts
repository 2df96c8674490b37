// XDR / ONC RPC (RFC 5531, record marking over TCP) / NFSv3 WRITE (RFC 1813) encoding of
// the client's capture from nfs-odirect-retransmit, written as a libpcap file tshark
// decodes as "NFS V3 WRITE Call" / "Reply" and pairs by XID.
//
// The model's record lengths must match these encoders byte for byte (asm/nfs/clnt.ts:
// RPC_WRITE_CALL_HDR = 128, RPC_WRITE_REPLY_LEN = 56): TCP sequence numbers come from
// the model. Payload words are big-endian, so 0xdeadbeef shows as "de ad be ef".
//
// The Ethernet/IPv4/TCP framing is a small local writer behind the `FrameSink` interface;
// switch it to engine/export/pcap.ts (the shared libpcap writer) when that lands.

export const CALL_HDR_BYTES = 128;
export const REPLY_BYTES = 56;
const NFS_PROGRAM = 100003;
const NFSPROC3_WRITE = 7;
const FILE_SYNC = 2;
const MSS = 1448;
const CLIENT_IP = [10, 0, 0, 1];
const SERVER_IP = [10, 0, 0, 2];
const CLIENT_PORT = 785;
const NFS_PORT = 2049;
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

export interface CapturedFrag { pattern: number; kind: number; len: number }

// Payload bytes of a WRITE: frag f word j = pattern + j (counter, kind 0) or pattern (fill, kind 1).
export function payloadBytes(frags: CapturedFrag[]): Uint8Array {
  const total = frags.reduce((n, f) => n + f.len, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const f of frags) {
    for (let j = 0; j * 4 < f.len; j++) dv.setUint32(off + j * 4, f.kind === 0 ? (f.pattern + j) >>> 0 : f.pattern >>> 0);
    off += f.len;
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

// ---- framing: the part engine/export/pcap.ts will provide
export interface FrameSink { frame(tNs: number, bytes: Uint8Array): void; bytes(): Uint8Array }

export function pcapSink(): FrameSink {
  const parts: Uint8Array[] = [];
  const gh = new DataView(new ArrayBuffer(24));
  gh.setUint32(0, 0xa1b23c4d, true);      // nanosecond-resolution libpcap
  gh.setUint16(4, 2, true); gh.setUint16(6, 4, true);
  gh.setUint32(16, 262144, true); gh.setUint32(20, 1, true);   // LINKTYPE_ETHERNET
  parts.push(new Uint8Array(gh.buffer));
  return {
    frame(tNs, bytes) {
      const h = new DataView(new ArrayBuffer(16));
      h.setUint32(0, Math.floor(tNs / 1e9), true);
      h.setUint32(4, Math.floor(tNs % 1e9), true);
      h.setUint32(8, bytes.length, true); h.setUint32(12, bytes.length, true);
      parts.push(new Uint8Array(h.buffer), bytes);
    },
    bytes() {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return out;
    },
  };
}

const TCP_FIN = 1, TCP_SYN = 2, TCP_PSH = 8, TCP_ACK = 16;

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

let ipId = 1;
export function tcpFrame(fromClient: boolean, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20 + payload.length);
  const dv = new DataView(f.buffer);
  const cmac = [0x00, 0x10, 0x18, 0x00, 0x00, 0x01], smac = [0x00, 0x10, 0x18, 0x00, 0x00, 0x02];
  f.set(fromClient ? smac : cmac, 0); f.set(fromClient ? cmac : smac, 6);
  dv.setUint16(12, 0x0800);
  dv.setUint8(14, 0x45); dv.setUint16(16, 20 + 20 + payload.length); dv.setUint16(18, ipId++ & 0xffff);
  dv.setUint16(20, 0x4000); dv.setUint8(22, 64); dv.setUint8(23, 6);
  f.set(fromClient ? CLIENT_IP : SERVER_IP, 26); f.set(fromClient ? SERVER_IP : CLIENT_IP, 30);
  dv.setUint16(24, ipChecksum(f, 14, 20));
  dv.setUint16(34, fromClient ? CLIENT_PORT : NFS_PORT); dv.setUint16(36, fromClient ? NFS_PORT : CLIENT_PORT);
  dv.setUint32(38, seq >>> 0); dv.setUint32(42, ack >>> 0);
  dv.setUint8(46, 5 << 4); dv.setUint8(47, flags); dv.setUint16(48, 65535);
  f.set(payload, 54);
  return f;
}

// Capture packet as written by the model's evidence:
// [tNs, dir, seq, ack, len, recType, xid, offBlk, fate, [pattern, kind, len, ...]]
export type CapturedPacket = [number, number, number, number, number, number, number, number, number, number[]];

export interface NfsCapture { callHeaderBytes?: number; replyBytes?: number; packets: CapturedPacket[] }

export function recordBytes(p: CapturedPacket): Uint8Array {
  const [, , , , len, recType, xid, offBlk, , fr] = p;
  if (recType === 1) {
    const frags: CapturedFrag[] = [];
    for (let i = 0; i + 2 < fr.length; i += 3) frags.push({ pattern: fr[i], kind: fr[i + 1], len: fr[i + 2] });
    const data = payloadBytes(frags);
    const hdr = writeCallHeader(xid, offBlk * 4096, data.length);
    const out = new Uint8Array(hdr.length + data.length);
    out.set(hdr); out.set(data, hdr.length);
    if (out.length !== len) throw new Error(`record of xid ${xid.toString(16)} is ${out.length} bytes, the model sent ${len}`);
    return out;
  }
  if (recType === 2) return writeReply(xid, 0);
  return new Uint8Array(0);
}

// The whole capture as libpcap bytes: a handshake, then every packet split at the MSS.
export function nfsPcap(cap: NfsCapture, sink: FrameSink = pcapSink()): Uint8Array {
  const pk = cap.packets;
  const firstC = pk.find((p) => p[1] === 0), firstS = pk.find((p) => p[1] === 1);
  const isnC = firstC ? firstC[2] : 1, isnS = firstS ? firstS[2] : (firstC ? firstC[3] : 1);
  const t0 = pk.length ? Math.max(0, pk[0][0] - 3000) : 0;
  sink.frame(t0, tcpFrame(true, isnC - 1, 0, TCP_SYN, new Uint8Array(0)));
  sink.frame(t0 + 1000, tcpFrame(false, isnS - 1, isnC, TCP_SYN | TCP_ACK, new Uint8Array(0)));
  sink.frame(t0 + 2000, tcpFrame(true, isnC, isnS, TCP_ACK, new Uint8Array(0)));
  for (const p of pk) {
    const [t, dir, seq, ack] = p;
    const body = recordBytes(p);
    if (body.length === 0) { sink.frame(t, tcpFrame(dir === 0, seq, ack, TCP_ACK, body)); continue; }
    for (let o = 0; o < body.length; o += MSS) {
      const seg = body.subarray(o, Math.min(body.length, o + MSS));
      const last = o + MSS >= body.length;
      sink.frame(t + Math.floor(o / MSS) * 12, tcpFrame(dir === 0, seq + o, ack, TCP_ACK | (last ? TCP_PSH : 0), seg));
    }
  }
  void TCP_FIN;
  return sink.bytes();
}
