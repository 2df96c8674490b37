// LNet as socklnd sees it: NIDs and their CPT hash, and the lnet_msg descriptors that
// socklnd moves (header fields for the wire export, and what their buffers hold).
//
// Content is tracked per "slot" of a message's wire image (ksock_msg 96 B + payload):
//   slot 0 = the 24-byte ksock_msg header, slot 1 = the 72-byte lnet_hdr,
//   slot 2+k = payload page k (4 KiB).
// A slot holds a tag naming whose bytes it contains: (serial << 9) | slot of the message
// the bytes came from, or 0 = never written. A message is intact when every slot holds
// its own tag. This is how the lab compares "what the receiver got" with "what the
// sender queued" without moving real bytes.
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const SOCKLND = 2;                 // LND type of the tcp network
export const LNET_PID_LUSTRE: i32 = 12345;
export const LNET_MSG_ACK: i32 = 0;
export const LNET_MSG_PUT: i32 = 1;
export const KSOCK_MSG_HDR: i32 = 96;     // sizeof(struct ksock_msg) incl. lnet_hdr
export const KSM_HDR: i32 = 24;           // offsetof(struct ksock_msg, ksm_u)
export const PAGE_SIZE: i32 = 4096;
export const LNET_MAX_PAYLOAD: i32 = 1 << 20;

// Our node is 192.168.1.1@tcp; peer i is 192.168.1.(11+i)@tcp.
export const MY_IP: u32 = 0xc0a80101;
export function peerIp(p: i32): u32 { return 0xc0a8010b + <u32>p; }
export function ipNid(ip: u32): u64 { return (<u64>(SOCKLND << 16) << 32) | <u64>ip; }

// lnet_nid_cpt_hash(): hash_long(nid, LNET_CPT_BITS), folded when ncpt is not a power of 2.
export function lnetNidCptHash(nid: u64, ncpt: i32): i32 {
  if (ncpt == 1) return 0;
  let bits = 0;
  while ((1 << bits) < ncpt) bits++;
  const val = <u32>((nid * 0x61C8864680B583EB) >> <u64>(64 - bits));   // hash_64()
  if (<i32>val < ncpt) return <i32>val;
  return <i32>(<u32>(nid + <u64>val + <u64>(val >> 1)) % <u32>ncpt);
}

// --- image slots -------------------------------------------------------------------
export function slotOf(off: i32): i32 {
  if (off < KSM_HDR) return 0;
  if (off < KSOCK_MSG_HDR) return 1;
  return 2 + ((off - KSOCK_MSG_HDR) >> 12);
}
export function slotStart(s: i32): i32 {
  if (s == 0) return 0;
  if (s == 1) return KSM_HDR;
  return KSOCK_MSG_HDR + ((s - 2) << 12);
}
@inline export function tagOf(serial: i32, slot: i32): i32 { return (serial << 9) | slot; }
@inline export function tagSerial(tag: i32): i32 { return tag >>> 9; }
@inline export function tagSlot(tag: i32): i32 { return tag & 511; }

// --- lnet_msg pool -------------------------------------------------------------------
export const MAX_MSGS: i32 = 4096;
export const MSG_IN: i32 = 0;    // peer -> us
export const MSG_OUT: i32 = 1;   // us -> peer
let msgRows: i32 = 0;            // above every message id allocated (the pool hands out low ids first)
rowsBegin(MAX_MSGS, (): i32 => msgRows);
export const msgSerial = zeroed<i32>(MAX_MSGS);
export const msgConn = zeroed<i32>(MAX_MSGS);
export const msgDir = zeroed<i32>(MAX_MSGS);
export const msgType = zeroed<i32>(MAX_MSGS);
export const msgNob = zeroed<i32>(MAX_MSGS);      // payload bytes
export const msgQueued = zeroed<i64>(MAX_MSGS);   // lnet_send / first byte on our socket
export const msgStream = zeroed<f64>(MAX_MSGS);   // offset of its first byte in the TCP stream
rowsEnd();
export function msgRowsUsed(): i32 { return msgRows; }
// The message pool and its counters are the_lnet's: one per host, as in the kernel.
const freeMsgs = zeroed<i32>(MAX_MSGS);
let nFree: i32 = 0;
let nextSerial: i32 = 0;
export let msgsInUse: i32 = 0;

// Tags: `slots` per descriptor. bufTag = what the message's buffers hold (LNet MD pages);
// wireTag = what went onto the wire for an outgoing message.
export let slots: i32 = 2;
export let bufTag = zeroed<i32>(0);
export let wireTag = zeroed<i32>(0);

export function lnetInit(maxPayload: i32): void {
  slots = 2 + ((maxPayload + PAGE_SIZE - 1) >> 12);
  bufTag = zeroed<i32>(MAX_MSGS * slots);
  wireTag = zeroed<i32>(MAX_MSGS * slots);
  for (let i = MAX_MSGS - 1; i >= 0; i--) unchecked(freeMsgs[nFree++] = i);
}

export function msgImage(m: i32): i32 { return KSOCK_MSG_HDR + unchecked(msgNob[m]); }
export function msgSlots(m: i32): i32 { return slotOf(msgImage(m) - 1) + 1; }

// lnet_msg_alloc + lnet_prep_send: -1 when the pool is empty (the caller retries later).
// An outgoing message's buffers hold its own data; an incoming one's are not written yet.
export function msgAlloc(conn: i32, dir: i32, type: i32, nob: i32, t: i64): i32 {
  if (nFree == 0) return -1;
  const m = unchecked(freeMsgs[--nFree]);
  if (m >= msgRows) msgRows = m + 1;
  msgsInUse++;
  nextSerial = nextSerial >= (1 << 22) - 1 ? 1 : nextSerial + 1;
  unchecked(msgSerial[m] = nextSerial);
  unchecked(msgConn[m] = conn);
  unchecked(msgDir[m] = dir);
  unchecked(msgType[m] = type);
  unchecked(msgNob[m] = nob);
  unchecked(msgQueued[m] = t);
  const n = msgSlots(m), base = m * slots;
  for (let s = 0; s < n; s++) {
    unchecked(bufTag[base + s] = dir == MSG_OUT ? tagOf(nextSerial, s) : 0);
    unchecked(wireTag[base + s] = 0);
  }
  return m;
}

export function msgFree(m: i32): void {
  unchecked(msgSerial[m] = 0);
  unchecked(freeMsgs[nFree++] = m);
  msgsInUse--;
}

// Descriptor of a live message by serial, or -1 (it completed and was recycled).
export function msgBySerial(serial: i32): i32 {
  for (let m = 0; m < MAX_MSGS; m++) if (unchecked(msgSerial[m]) == serial) return m;
  return -1;
}

// The tag of image byte `off` of a source: an incoming message on the wire (clean, as
// the peer sent it) or a message's buffers.
export function tagInBuf(m: i32, off: i32): i32 { return unchecked(bufTag[m * slots + slotOf(off)]); }
export function tagOnWire(serial: i32, off: i32): i32 { return tagOf(serial, slotOf(off)); }

// First slot of `m` in `tags` that does not hold m's own bytes, or -1.
export function firstBadSlot(tags: StaticArray<i32>, m: i32, from: i32, to: i32): i32 {
  const serial = unchecked(msgSerial[m]), base = m * slots;
  for (let s = from; s < to; s++) if (unchecked(tags[base + s]) != tagOf(serial, s)) return s;
  return -1;
}

export function countBadSlots(tags: StaticArray<i32>, m: i32, from: i32, to: i32): i32 {
  const serial = unchecked(msgSerial[m]), base = m * slots;
  let n = 0;
  for (let s = from; s < to; s++) if (unchecked(tags[base + s]) != tagOf(serial, s)) n++;
  return n;
}
