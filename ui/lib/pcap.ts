// Reading the run's libpcap capture back for the Wire view: packet list with a one-line
// decode (IPv4, TCP/UDP ports, ONC RPC xid and direction) and the raw bytes for the hex view.
export interface Packet {
  no: number;
  tNs: number;
  data: Uint8Array;
  summary: string;
  poisoned: number[];     // byte offsets of 4-byte words that hold the overwrite pattern
}

export const PCAP_MAGIC = [0xa1b2c3d4, 0xa1b23c4d];
const POISON = 0xdeadbeef;

export function parsePcap(bytes: Uint8Array): Packet[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) return [];
  let le = true;
  let magic = v.getUint32(0, true);
  if (!PCAP_MAGIC.includes(magic)) { le = false; magic = v.getUint32(0, false); }
  if (!PCAP_MAGIC.includes(magic)) throw new Error("not a libpcap file");
  const nano = magic === 0xa1b23c4d;
  const link = v.getUint32(20, le);
  const out: Packet[] = [];
  for (let o = 24; o + 16 <= bytes.length; ) {
    const sec = v.getUint32(o, le), frac = v.getUint32(o + 4, le), incl = v.getUint32(o + 8, le);
    const data = bytes.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    out.push({ no: out.length + 1, tNs: sec * 1e9 + (nano ? frac : frac * 1000), data, summary: describe(data, link), poisoned: poisonAt(data) });
  }
  return out;
}

function poisonAt(d: Uint8Array): number[] {
  const out: number[] = [];
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  for (let i = 0; i + 4 <= d.length; i++) if (v.getUint32(i, false) === POISON) { out.push(i); i += 3; }
  return out;
}

function ip(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

function describe(d: Uint8Array, link: number): string {
  let o = 0;
  if (link === 1) {
    if (d.length < 14 || ((d[12] << 8) | d[13]) !== 0x0800) return `${d.length} bytes`;
    o = 14;
  } else if (link !== 101 && link !== 228) return `${d.length} bytes (link ${link})`;
  if (d.length < o + 20 || d[o] >> 4 !== 4) return `${d.length} bytes`;
  const ihl = (d[o] & 15) * 4, proto = d[o + 9], src = ip(d, o + 12), dst = ip(d, o + 16);
  const l4 = o + ihl;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const port = (p: number) => v.getUint16(p, false);
  if (proto === 6 && d.length >= l4 + 20) {
    const flags = d[l4 + 13], doff = (d[l4 + 12] >> 4) * 4;
    const names = ["FIN", "SYN", "RST", "PSH", "ACK"].filter((_, i) => flags & (1 << i)).join(",");
    const pay = l4 + doff, len = d.length - pay;
    let rpc = "";
    if (len >= 12) {
      const xid = v.getUint32(pay + 4, false), dir = v.getUint32(pay + 8, false);
      if (dir <= 1) rpc = ` RPC ${dir ? "reply" : "call"} xid 0x${xid.toString(16).padStart(8, "0")}`;
    }
    return `${src}:${port(l4)} → ${dst}:${port(l4 + 2)} TCP [${names}] seq=${v.getUint32(l4 + 4, false)} len=${len}${rpc}`;
  }
  if (proto === 17 && d.length >= l4 + 8) {
    const pay = l4 + 8, len = d.length - pay;
    let rpc = "";
    if (len >= 8) {
      const xid = v.getUint32(pay, false), dir = v.getUint32(pay + 4, false);
      if (dir <= 1) rpc = ` RPC ${dir ? "reply" : "call"} xid 0x${xid.toString(16).padStart(8, "0")}`;
    }
    return `${src}:${port(l4)} → ${dst}:${port(l4 + 2)} UDP len=${len}${rpc}`;
  }
  return `${src} → ${dst} proto ${proto} ${d.length} bytes`;
}
