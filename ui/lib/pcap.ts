// Reading the run's libpcap capture back for the Wire view, decoded as tshark decodes it:
// IPv4 and TCP/UDP, then ONC RPC (record marking over TCP; xid, call or reply, the NFSv3
// procedure) and LNet over ksocklnd (acceptor request, HELLO, ksock_msg + lnet_hdr type).
// TCP streams are followed per direction, so a record split over segments is decoded at its
// start and its other segments say whose continuation they are. A call links to its reply;
// a call whose xid an earlier call had is flagged, as tshark's "RPC retransmission of #N".
import { KSOCK_MSG_LNET, LNET_PROTO_ACCEPTOR_MAGIC, LNET_PROTO_MAGIC, LNET_TCP_PORT } from "../../engine/export/lnet";

export interface Packet {
  no: number;
  tNs: number;
  data: Uint8Array;
  summary: string;        // what the packet carries, decoded
  transport: string;      // addresses, ports, TCP flags and sequence number
  poisoned: number[];     // byte offsets of 4-byte words that hold the overwrite pattern
  foreign?: string;       // an LNet message carrying bytes that are not its own
  xid?: string;           // RPC xid, or LNet match bits (hex)
  call?: number;          // a reply: index of its call
  reply?: number;         // a call: index of its reply
  dupOf?: number;         // a call: index of the first call with the same xid
  recOff?: number;        // where the TCP payload starts in its application record
  payloadAt?: number;     // and where it starts in data
}

export const PCAP_MAGIC = [0xa1b2c3d4, 0xa1b23c4d];
const POISON = 0xdeadbeef;
const NFS_PROGRAM = 100003;
const NFS3_PROC = ["NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ", "WRITE", "CREATE", "MKDIR", "SYMLINK",
  "MKNOD", "REMOVE", "RMDIR", "RENAME", "LINK", "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO", "PATHCONF", "COMMIT"];
const LNET_TYPE = ["ACK", "PUT", "GET", "REPLY", "HELLO"];
const KSOCK_MSG_NOOP = 0xc0, KSOCK_MSG_HDR = 96, LNET_ACCEPTOR_REQ = 16, LNET_HELLO = 56;

// One application record found at the start of (or inside) a segment.
interface Rec { len: number; text: string; key?: string; dir?: "call" | "reply"; serial?: string }

const hex32 = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

// ONC RPC message at p (after any record marker): xid, direction, program/procedure.
function rpc(v: DataView, p: number, end: number, procOf: Map<string, string>): Rec | null {
  if (end - p < 8) return null;
  const xid = v.getUint32(p), type = v.getUint32(p + 4);
  if (type === 0 && end - p >= 24 && v.getUint32(p + 8) === 2) {
    const prog = v.getUint32(p + 12), vers = v.getUint32(p + 16), proc = v.getUint32(p + 20);
    const name = prog === NFS_PROGRAM ? `NFS V${vers} ${NFS3_PROC[proc] ?? `proc ${proc}`}` : `RPC prog ${prog} v${vers} proc ${proc}`;
    procOf.set(hex32(xid), name);
    return { len: 0, text: `${name} Call xid ${hex32(xid)}`, key: hex32(xid), dir: "call" };
  }
  if (type === 1) return { len: 0, text: `${procOf.get(hex32(xid)) ?? "RPC"} Reply xid ${hex32(xid)}`, key: hex32(xid), dir: "reply" };
  return null;
}

function nid(v: DataView, o: number): string {
  const addr = v.getUint32(o, true);
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}@tcp`;
}

// LNet over ksocklnd, little-endian as lnet.ts writes it.
function lnet(v: DataView, p: number, end: number): Rec | null {
  if (end - p < 4) return null;
  const m = v.getUint32(p, true);
  if (m === LNET_PROTO_ACCEPTOR_MAGIC) return { len: LNET_ACCEPTOR_REQ, text: "LNet acceptor connection request" };
  if (m === LNET_PROTO_MAGIC) return { len: LNET_HELLO, text: `ksocklnd HELLO v${end - p >= 8 ? v.getUint32(p + 4, true) : "?"}` };
  if (m === KSOCK_MSG_NOOP) return { len: 24, text: "ksocklnd NOOP" };
  if (m !== KSOCK_MSG_LNET || end - p < 80) return null;
  const type = v.getUint32(p + 48, true), nob = v.getUint32(p + 52, true);
  const match = type <= 1 ? v.getBigUint64(p + 72, true).toString(16) : undefined;
  const name = LNET_TYPE[type] ?? `type ${type}`;
  return {
    serial: match ? (BigInt("0x" + match) & 0xffffffffn).toString(16).padStart(8, "0") : undefined,   // low word of the match bits
    len: KSOCK_MSG_HDR + nob,
    text: `LNet ${name} ${nid(v, p + 32)} → ${nid(v, p + 24)} payload ${nob}${match ? ` match 0x${match}` : ""}`,
    key: match ? "0x" + match : undefined,
    dir: type === 1 ? "call" : type === 0 ? "reply" : undefined,
  };
}

// lnet.ts starts each payload page with "msg <serial> page <n>": whose bytes these are.
function payloadTag(v: DataView, p: number, end: number): string | null {
  if (end - p < 17) return null;
  return /^msg ([0-9a-f]{8}) page/.exec(String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset + p, 17)))?.[1] ?? null;
}

// The first payload page in bytes [p, end) of a message (p is image offset `off`) whose tag
// names another message than `serial`: a message carrying someone else's bytes.
function foreignPage(v: DataView, p: number, end: number, off: number, serial: string): string | null {
  for (let k = Math.max(0, Math.ceil((off - KSOCK_MSG_HDR) / 4096)); ; k++) {
    const at = p + KSOCK_MSG_HDR + k * 4096 - off;
    if (at >= end) return null;
    const tag = payloadTag(v, at, end);
    if (tag && tag !== serial) return tag;
  }
}

// An RPC record (marker + message) at p; `strict` (no stream boundary known here) also wants
// the last-fragment bit, a sane length and an RPC version or reply status that fits.
function rpcRecord(v: DataView, p: number, end: number, procOf: Map<string, string>, strict: boolean): Rec | null {
  if (end - p < 12) return null;
  const marker = v.getUint32(p);
  if (strict && (!(marker & 0x80000000) || (marker & 0x7fffffff) > 1 << 24 || v.getUint32(p + 12) > 2)) return null;
  const r = rpc(v, p + 4, end, procOf);
  if (r) r.len = 4 + (marker & 0x7fffffff);
  return r;
}

interface Flow { next: number; starts: Map<number, string>; last: string; lastStart: number; lastSerial?: string }

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
  const st: State = { flows: new Map(), procOf: new Map(), calls: new Map(), open: new Map() };
  for (let o = 24; o + 16 <= bytes.length; ) {
    const sec = v.getUint32(o, le), frac = v.getUint32(o + 4, le), incl = v.getUint32(o + 8, le);
    const data = bytes.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    const pkt: Packet = { no: out.length + 1, tNs: sec * 1e9 + (nano ? frac : frac * 1000), data, summary: "", transport: "", poisoned: poisonAt(data) };
    decode(pkt, link, st, out);
    out.push(pkt);
  }
  return out;
}

interface State {
  flows: Map<string, Flow>;
  procOf: Map<string, string>;
  calls: Map<string, number>;     // xid → index of its first call
  open: Map<string, number>;      // xid → index of its latest call still without a reply
}

// Byte by byte, not a DataView read at every offset: a capture has megabytes of payload.
function poisonAt(d: Uint8Array): number[] {
  const out: number[] = [];
  const [b0, b1, b2, b3] = [POISON >>> 24, (POISON >>> 16) & 255, (POISON >>> 8) & 255, POISON & 255];
  for (let i = d.indexOf(b0); i >= 0 && i + 4 <= d.length; i = d.indexOf(b0, i + 1)) {
    if (d[i + 1] === b1 && d[i + 2] === b2 && d[i + 3] === b3) { out.push(i); i += 3; }
  }
  return out;
}

function ip(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

// Links a decoded record into the call/reply pairs and flags a call's reused xid.
function pair(r: Rec, self: number, st: State, out: Packet[], pkt: Packet): void {
  if (!r.key) return;
  pkt.xid ??= r.key;
  if (r.dir === "call") {
    const first = st.calls.get(r.key);
    if (first === undefined) st.calls.set(r.key, self);
    else pkt.dupOf ??= first;
    st.open.set(r.key, self);
  } else if (r.dir === "reply") {
    const c = st.open.get(r.key);
    if (c !== undefined) { pkt.call ??= c; out[c].reply ??= self; st.open.delete(r.key); }
  }
}

function decode(pkt: Packet, link: number, st: State, out: Packet[]): void {
  const d = pkt.data;
  let o = 0;
  if (link === 1) {
    if (d.length < 14 || ((d[12] << 8) | d[13]) !== 0x0800) { pkt.summary = `${d.length} bytes`; return; }
    o = 14;
  } else if (link !== 101 && link !== 228) { pkt.summary = `${d.length} bytes (link ${link})`; return; }
  if (d.length < o + 20 || d[o] >> 4 !== 4) { pkt.summary = `${d.length} bytes`; return; }
  const ihl = (d[o] & 15) * 4, proto = d[o + 9], src = ip(d, o + 12), dst = ip(d, o + 16);
  const l4 = o + ihl;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const self = out.length;
  if (proto === 17 && d.length >= l4 + 8) {
    const sp = v.getUint16(l4), dp = v.getUint16(l4 + 2), pay = l4 + 8;
    pkt.transport = `${src}:${sp} → ${dst}:${dp} UDP len=${d.length - pay}`;
    const r = rpc(v, pay, d.length, st.procOf);
    pkt.summary = r ? r.text : "UDP datagram";
    if (r) pair(r, self, st, out, pkt);
    return;
  }
  if (proto !== 6 || d.length < l4 + 20) { pkt.summary = `${src} → ${dst} proto ${proto}`; pkt.transport = `${d.length} bytes`; return; }
  const sp = v.getUint16(l4), dp = v.getUint16(l4 + 2), seq = v.getUint32(l4 + 4);
  const flags = d[l4 + 13], doff = (d[l4 + 12] >> 4) * 4, pay = l4 + doff, len = d.length - pay;
  const names = ["FIN", "SYN", "RST", "PSH", "ACK"].filter((_, i) => flags & (1 << i)).join(",");
  pkt.transport = `${src}:${sp} → ${dst}:${dp} TCP [${names}] seq=${seq} len=${len}`;
  if (!len) { pkt.summary = flags & 2 ? "TCP connection set-up" : "TCP ACK"; return; }
  const isLnet = sp === LNET_TCP_PORT || dp === LNET_TCP_PORT;
  const key = `${src}:${sp}>${dst}:${dp}`;
  const f: Flow = st.flows.get(key) ?? { next: seq, starts: new Map<number, string>(), last: "", lastStart: seq };
  st.flows.set(key, f);
  // A segment is decoded when it begins a record: the next one the stream expects. After a
  // gap in the capture it is decoded when its bytes are clearly a record's start; otherwise
  // it continues the last record.
  // A record's start sent again below the stream's end is TCP's retransmission of it (tshark:
  // "TCP Retransmission"), not another call: no RPC pairing.
  if (((seq - f.next) | 0) < 0 && f.starts.has(seq)) {
    pkt.summary = `TCP retransmission of ${f.starts.get(seq)}`;
    pkt.recOff = 0;
    return;
  }
  const boundary = seq === f.next, gap = ((seq - f.next) | 0) > 0;
  const texts: string[] = [];
  let p = pay;
  pkt.payloadAt = pay;
  while ((boundary || gap) && p < d.length) {
    const r = isLnet ? lnet(v, p, d.length) : rpcRecord(v, p, d.length, st.procOf, !boundary);
    if (!r) break;
    if (p === pay) pkt.recOff = 0;
    f.starts.set((seq + (p - pay)) >>> 0, r.text);
    f.last = r.text;
    f.lastStart = (seq + (p - pay)) >>> 0;
    f.lastSerial = r.serial;
    const tag = r.serial ? foreignPage(v, p, Math.min(d.length, p + r.len), 0, r.serial) : null;
    if (tag) pkt.foreign ??= `payload of msg ${tag}`;
    const end = (seq + (p - pay) + r.len) >>> 0;
    if (((end - f.next) | 0) > 0) f.next = end;     // a retransmitted record does not rewind the stream
    texts.push(r.text);
    pair(r, self, st, out, pkt);
    p += r.len;
  }
  if (texts.length) { pkt.summary = texts.join("; "); return; }
  // lnet.ts starts every segment after a gap at a message: bytes that are no header there
  // are the corruption (another message's payload, or a header never written: zeros)
  if (isLnet && (boundary || gap)) {
    const tag = payloadTag(v, pay, d.length);
    const what = tag ? `msg ${tag}'s payload bytes` : `bytes ${Array.from(d.subarray(pay, pay + 8), (b) => b.toString(16).padStart(2, "0")).join(" ")}…`;
    pkt.foreign = tag ? `payload of msg ${tag}` : "no header";
    pkt.summary = `no ksock_msg header where a message starts: ${what}`;
  } else if (gap) pkt.summary = `TCP data after a gap in the capture, ${len} bytes`;
  else {
    // the record this segment continues: the last one begun or, for a TCP retransmission
    // of one of its middle segments, an earlier one; and where in that record it lies
    let start = f.lastStart;
    if (((seq - start) | 0) < 0) {
      for (const s of f.starts.keys()) if (((seq - s) | 0) > 0 && (start === f.lastStart || ((s - start) | 0) > 0)) start = s;
    }
    const off = (seq - start) >>> 0;
    pkt.recOff = off;
    pkt.summary = `continuation of ${f.starts.get(start) ?? f.last}, record bytes ${off}–${off + len - 1}`;
    const t = f.lastSerial ? foreignPage(v, pay, d.length, (seq - f.lastStart) >>> 0, f.lastSerial) : null;
    if (t) pkt.foreign = `payload of msg ${t}`;
  }
}
