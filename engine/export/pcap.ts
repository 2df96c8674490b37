// A generic libpcap (tcpdump format) writer with Ethernet/IPv4/TCP framing, for the lab's
// wire captures (LNet on port 988, ONC RPC on 2049, ...). Protocol encoders build the TCP
// payload bytes; this file turns them into frames with valid IPv4/TCP checksums and
// consistent sequence numbers, so Wireshark's TCP reassembly works.

const LINKTYPE_ETHERNET = 1;
export const SNAPLEN = 262144;
export const MAX_TCP_PAYLOAD = 65495;   // 65535 - IPv4 and TCP headers

export interface Endpoint { ip: number; port: number; mac?: number[] }

// Bytes are handed to `sink` in chunks of about FLUSH_BYTES as they are written, so a
// capture of any length takes bounded memory; without a sink they are kept for bytes().
export type PcapSink = (chunk: Uint8Array) => void;
const FLUSH_BYTES = 1 << 20;

export class PcapWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;
  written = 0;               // bytes so far, flushed or not

  constructor(private sink?: PcapSink) {
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, 0xa1b2c3d4, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setUint32(16, SNAPLEN, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.push(new Uint8Array(h.buffer));
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
    this.written += b.length;
    if (this.sink && this.size >= FLUSH_BYTES) this.sink(this.take());
  }

  private take(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    this.chunks = [];
    this.size = 0;
    return out;
  }

  // One frame at simulated time tNs.
  packet(tNs: number, frame: Uint8Array): void {
    const r = new DataView(new ArrayBuffer(16));
    const us = Math.floor(tNs / 1000);
    r.setUint32(0, Math.floor(us / 1e6), true);
    r.setUint32(4, us % 1e6, true);
    const cap = Math.min(frame.length, SNAPLEN);
    r.setUint32(8, cap, true);
    r.setUint32(12, frame.length, true);
    this.push(new Uint8Array(r.buffer));
    this.push(cap < frame.length ? frame.subarray(0, cap) : frame);
  }

  // The bytes not yet handed to the sink: the whole file without one. With a sink, the
  // rest is handed over and the result is empty.
  bytes(): Uint8Array {
    const out = this.take();
    if (!this.sink) return out;
    if (out.length) this.sink(out);
    return new Uint8Array(0);
  }
}

export function ipv4(a: string): number {
  return a.split(".").reduce((acc, x) => (acc * 256 + Number(x)) >>> 0, 0);
}

// Locally administered MAC derived from the IPv4 address.
function macOf(e: Endpoint): number[] {
  return e.mac ?? [0x02, 0x00, (e.ip >>> 24) & 255, (e.ip >>> 16) & 255, (e.ip >>> 8) & 255, e.ip & 255];
}

function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if ((end - start) & 1) acc += b[end - 1] << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return ~acc & 0xffff;
}

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10;

// Ethernet + IPv4 + TCP frame (no options), checksums filled in.
export function tcpFrame(src: Endpoint, dst: Endpoint, seq: number, ack: number, flags: number, payload: Uint8Array, ipId = 0): Uint8Array {
  if (payload.length > MAX_TCP_PAYLOAD) throw new Error(`TCP payload ${payload.length} > ${MAX_TCP_PAYLOAD}`);
  const f = new Uint8Array(14 + 20 + 20 + payload.length);
  const v = new DataView(f.buffer);
  f.set(macOf(dst), 0);
  f.set(macOf(src), 6);
  v.setUint16(12, 0x0800);
  const ip = 14, tcp = 34;
  v.setUint8(ip, 0x45);
  v.setUint16(ip + 2, 20 + 20 + payload.length);
  v.setUint16(ip + 4, ipId & 0xffff);
  v.setUint16(ip + 6, 0x4000);          // DF
  v.setUint8(ip + 8, 64);
  v.setUint8(ip + 9, 6);
  v.setUint32(ip + 12, src.ip);
  v.setUint32(ip + 16, dst.ip);
  v.setUint16(ip + 10, fold(sum16(f, ip, ip + 20)));
  v.setUint16(tcp, src.port);
  v.setUint16(tcp + 2, dst.port);
  v.setUint32(tcp + 4, seq >>> 0);
  v.setUint32(tcp + 8, ack >>> 0);
  v.setUint8(tcp + 12, 5 << 4);
  v.setUint8(tcp + 13, flags);
  v.setUint16(tcp + 14, 65535);
  f.set(payload, tcp + 20);
  // pseudo header: src, dst, proto, TCP length
  let acc = ((src.ip >>> 16) + (src.ip & 0xffff) + (dst.ip >>> 16) + (dst.ip & 0xffff) + 6 + 20 + payload.length);
  acc = sum16(f, tcp, f.length, acc);
  v.setUint16(tcp + 16, fold(acc));
  return f;
}

// One TCP connection: handshake, then data at explicit stream offsets in each direction
// (offset 0 = first byte after the SYN), so a capture may skip stretches of a stream and
// still carry correct sequence numbers.
export class TcpFlow {
  private sent = [0, 0];      // highest stream offset sent per direction (0 client, 1 server)
  private ipId = [1, 1];
  constructor(private w: PcapWriter, readonly client: Endpoint, readonly server: Endpoint,
    private isn: [number, number] = [0x10000000, 0x20000000]) {}

  private ep(dir: number): [Endpoint, Endpoint] { return dir === 0 ? [this.client, this.server] : [this.server, this.client]; }
  private seqAt(dir: number, off: number): number { return (this.isn[dir] + 1 + off) >>> 0; }

  handshake(tNs: number): void {
    this.w.packet(tNs, tcpFrame(this.client, this.server, this.isn[0], 0, TCP_SYN, new Uint8Array(0), this.ipId[0]++));
    this.w.packet(tNs + 1000, tcpFrame(this.server, this.client, this.isn[1], this.seqAt(0, 0), TCP_SYN | TCP_ACK, new Uint8Array(0), this.ipId[1]++));
    this.w.packet(tNs + 2000, tcpFrame(this.client, this.server, this.seqAt(0, 0), this.seqAt(1, 0), TCP_ACK, new Uint8Array(0), this.ipId[0]++));
  }

  // Sends `data` from `dir` (0 client -> server, 1 server -> client) at stream offset `off`,
  // split into segments of at most `mss` bytes. Returns the stream offset after it.
  send(tNs: number, dir: number, off: number, data: Uint8Array, mss = MAX_TCP_PAYLOAD): number {
    const [src, dst] = this.ep(dir);
    for (let o = 0; o < data.length; o += mss) {
      const seg = data.subarray(o, Math.min(data.length, o + mss));
      const ack = this.seqAt(1 - dir, this.sent[1 - dir]);
      this.w.packet(tNs, tcpFrame(src, dst, this.seqAt(dir, off + o), ack, TCP_ACK | TCP_PSH, seg, this.ipId[dir]++));
    }
    this.sent[dir] = Math.max(this.sent[dir], off + data.length);
    return off + data.length;
  }
}
