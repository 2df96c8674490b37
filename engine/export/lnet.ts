// LNet over TCP (ksocklnd, protocol V3) for the wire capture: the acceptor connection
// request, the HELLOs, and ksock_msg + lnet_hdr messages, little-endian as an x86 sender
// writes them. Payload bytes are a pattern naming (message, page), so a capture shows
// whose bytes went out when a message carried another message's data.
//
// Input: the socklnd-scheduler wire log (evidence `wire.msgs`, `conns`): per message its
// conn, direction, stream offset and "runs" - which source message's image bytes each
// stretch of its image carried on the wire.
import { PcapWriter, TcpFlow, ipv4 } from "./pcap";

export const LNET_TCP_PORT = 988;
export const LNET_PROTO_ACCEPTOR_MAGIC = 0xacce7100;
export const LNET_PROTO_MAGIC = 0x45726963;
export const KSOCK_PROTO_V3 = 3;
export const KSOCK_MSG_LNET = 0xc1;
export const LNET_PID_LUSTRE = 12345;
const KSOCK_MSG_HDR = 96;
// lnet_selftest portals: bulk data to SRPC_RDMA_PORTAL, small requests to SRPC_REQUEST_PORTAL
const SRPC_RDMA_PORTAL = 52;
const SRPC_REQUEST_PORTAL = 50;
const MIN_BULK = 1024;
const SOCKLND = 2;

export const MY_IP = "192.168.1.1";
export const peerIpStr = (p: number): string => `192.168.1.${11 + p}`;
export function nidOf(ip: string): bigint { return (BigInt(SOCKLND << 16) << 32n) | BigInt(ipv4(ip)); }

export interface MsgInfo { serial: number; type: number; nob: number; peer: number; dir: "in" | "out" }

// ksock_msg (24 B) + lnet_hdr (72 B) of a message.
export function lnetHeader(m: MsgInfo): Uint8Array {
  const b = new Uint8Array(KSOCK_MSG_HDR);
  const v = new DataView(b.buffer);
  v.setUint32(0, KSOCK_MSG_LNET, true);     // ksm_type; ksm_csum and zc cookies 0: no ZC
  const peer = nidOf(peerIpStr(m.peer)), me = nidOf(MY_IP);
  const [src, dst] = m.dir === "in" ? [peer, me] : [me, peer];
  v.setBigUint64(24, dst, true);            // dest_nid
  v.setBigUint64(32, src, true);            // src_nid
  v.setUint32(40, LNET_PID_LUSTRE, true);   // dest_pid
  v.setUint32(44, LNET_PID_LUSTRE, true);   // src_pid
  v.setUint32(48, m.type, true);
  v.setUint32(52, m.nob, true);             // payload_length
  const match = 0x5c0000000000n + BigInt(m.serial);
  if (m.type === 1) {                       // PUT: ack_wmd, match_bits, hdr_data, ptl_index, offset
    v.setBigUint64(56, 0x1000n + BigInt(m.peer), true);
    v.setBigUint64(64, BigInt(m.serial), true);
    v.setBigUint64(72, match, true);
    v.setBigUint64(80, 0n, true);
    v.setUint32(88, m.nob >= MIN_BULK ? SRPC_RDMA_PORTAL : SRPC_REQUEST_PORTAL, true);
    v.setUint32(92, 0, true);
  } else if (m.type === 0) {                // ACK: dst_wmd, match_bits, mlength
    v.setBigUint64(56, 0x1000n + BigInt(m.peer), true);
    v.setBigUint64(64, BigInt(m.serial), true);
    v.setBigUint64(72, match, true);
    v.setUint32(80, 0, true);
  }
  return b;
}

// Payload page `page` of message `serial`: "msg <serial> page <n>" then a fill byte.
export function payloadPage(serial: number, page: number): Uint8Array {
  const b = new Uint8Array(4096).fill((serial * 31 + page * 7) & 0xff);
  const tag = `msg ${serial.toString(16).padStart(8, "0")} page ${String(page).padStart(3, "0")} `;
  for (let i = 0; i < tag.length; i++) b[i] = tag.charCodeAt(i);
  return b;
}

// Bytes [off, off+len) of a message's wire image.
export function imageBytes(m: MsgInfo, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let o = 0;
  if (off < KSOCK_MSG_HDR) {
    const h = lnetHeader(m).subarray(off, Math.min(KSOCK_MSG_HDR, off + len));
    out.set(h, 0);
    o = h.length;
  }
  while (o < len) {
    const p = off + o - KSOCK_MSG_HDR;
    const page = Math.floor(p / 4096), within = p % 4096;
    const n = Math.min(4096 - within, len - o);
    out.set(payloadPage(m.serial, page).subarray(within, within + n), o);
    o += n;
  }
  return out;
}

export function helloV3(srcIp: string, dstIp: string, ctype: number, incarnation: bigint): Uint8Array {
  const b = new Uint8Array(56);
  const v = new DataView(b.buffer);
  v.setUint32(0, LNET_PROTO_MAGIC, true);
  v.setUint32(4, KSOCK_PROTO_V3, true);
  v.setBigUint64(8, nidOf(srcIp), true);
  v.setBigUint64(16, nidOf(dstIp), true);
  v.setUint32(24, LNET_PID_LUSTRE, true);
  v.setBigUint64(32, incarnation, true);
  v.setUint32(48, ctype, true);
  return b;
}

export function acceptorConnreq(targetIp: string): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, LNET_PROTO_ACCEPTOR_MAGIC, true);
  v.setUint32(4, 1, true);
  v.setBigUint64(8, nidOf(targetIp), true);
  return b;
}

const CTYPE: Record<string, number> = { ANY: 0, CONTROL: 1, BULK_IN: 2, BULK_OUT: 3 };
// The peer's own type for our conn of type t (BULK_IN <-> BULK_OUT).
const peerCtype = (t: number): number => (t === 2 ? 3 : t === 3 ? 2 : t);

// The capture: one TCP flow per conn (peer, reserved port 1023 down) to our port 988.
export function lnetPcap(ev: any, _ctx?: unknown, w = new PcapWriter()): Uint8Array {
  const conns: any[] = ev.conns ?? [];
  const msgs: any[] = ev.wire?.msgs ?? [];
  const used = new Set<number>(msgs.map((m) => m.conn));
  const firstT = new Map<number, number>();
  for (const m of msgs) if (!firstT.has(m.conn)) firstT.set(m.conn, m.t);
  const nth = new Map<number, number>();
  const flows = new Map<number, TcpFlow>();
  const HELLO_C = 16 + 56, HELLO_S = 56;
  // conn setup first (in conn order), then the messages in time order
  const setups = conns.filter((c) => used.has(c.c)).map((c) => {
    const k = nth.get(c.peer) ?? 0;
    nth.set(c.peer, k + 1);
    return { c, port: 1023 - k, t: Math.max(0, (firstT.get(c.c) ?? 0) - 200000) };
  }).sort((a, b) => a.t - b.t || a.c.c - b.c.c);
  const events: Array<{ t: number; run: () => void }> = [];
  for (const s of setups) {
    const client = { ip: ipv4(peerIpStr(s.c.peer)), port: s.port }, server = { ip: ipv4(MY_IP), port: LNET_TCP_PORT };
    const f = new TcpFlow(w, client, server, [(0x10000000 + s.c.c * 0x10000) >>> 0, (0x60000000 + s.c.c * 0x10000) >>> 0]);
    flows.set(s.c.c, f);
    const type = CTYPE[s.c.type];
    events.push({ t: s.t, run: () => {
      f.handshake(s.t);
      f.send(s.t + 10000, 0, 0, acceptorConnreq(MY_IP));
      f.send(s.t + 10000, 0, 16, helloV3(peerIpStr(s.c.peer), MY_IP, peerCtype(type), BigInt(s.c.peer + 1) << 32n));
      f.send(s.t + 20000, 1, 0, helloV3(MY_IP, peerIpStr(s.c.peer), type, 0x5eed0001n));
    } });
  }
  for (const m of msgs) {
    const c = conns[m.conn];
    const f = flows.get(m.conn)!;
    events.push({ t: m.t, run: () => {
      const own: MsgInfo = { serial: m.msg, type: m.type, nob: m.nob, peer: c.peer, dir: m.dir };
      const image = new Uint8Array(KSOCK_MSG_HDR + m.nob);
      for (const [off, len, srcSerial, srcOff, srcConn, srcType, srcNob, srcDir] of m.runs as number[][]) {
        if (srcSerial === 0) continue;   // never-written bytes: zeros
        const src: MsgInfo = srcSerial === m.msg ? own
          : { serial: srcSerial, type: Math.max(0, srcType), nob: Math.max(0, srcNob), peer: srcConn >= 0 ? conns[srcConn].peer : c.peer, dir: srcDir === 0 ? "in" : "out" };
        image.set(imageBytes(src, srcOff, len), off);
      }
      const dir = m.dir === "in" ? 0 : 1;
      f.send(m.t, dir, (dir === 0 ? HELLO_C : HELLO_S) + m.stream, image);
    } });
  }
  for (const e of events.sort((a, b) => a.t - b.t)) e.run();
  return w.bytes();
}
