// sk_buff: a linear head (here: the descriptor of the RPC record bytes it carries) and
// up to MAX_SKB_FRAGS page fragments. A fragment holds a page reference (get_page) and an
// offset into the page, not the bytes: whoever reads the skb later (the NIC's DMA) reads
// the page as it is then. An skb holds one MSS-sized segment of a record (skbRecOff,
// skbRecLen): a record spans several skbs, and a page may be split between two of them.
// skb_clone() shares the data (dataref); the data, and the page references, go away
// when the last of the original and its clones is freed.
import { fn, CAT_STEP } from "../kernel/names";
import { trace } from "../kernel/trace";
import { getPage, putPage, PAGE_SIZE } from "../mm/page";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const MAX_SKBS: i32 = 8192;
export const MAX_SKB_FRAGS: i32 = 17;

// What the linear part carries: an RPC record of this type (engine/export/oncrpc.ts
// encodes the bytes from it).
export const REC_NONE: i32 = 0;
export const REC_CALL: i32 = 1;   // record marker + RPC call header + NFSv3 WRITE args
export const REC_REPLY: i32 = 2;  // record marker + RPC reply + WRITE3res

let nFree: i32 = 0;
let nUsed: i32 = 0;
let nLive: i32 = 0;
// every skb is below nUsed: the instance reset zeroes those rows
rowsBegin(MAX_SKBS, (): i32 => nUsed);
export const skbSk = zeroed<i32>(MAX_SKBS);
export const skbSeq = zeroed<u32>(MAX_SKBS);
export const skbLen = zeroed<i32>(MAX_SKBS);      // bytes of sequence space
export const skbRecType = zeroed<i32>(MAX_SKBS);
export const skbXid = zeroed<u32>(MAX_SKBS);
export const skbRecA = zeroed<i32>(MAX_SKBS);     // upper layer's words (write id, ...)
export const skbRecB = zeroed<i32>(MAX_SKBS);
export const skbRecOff = zeroed<i32>(MAX_SKBS);   // where this segment starts in its record
export const skbRecLen = zeroed<i32>(MAX_SKBS);   // the whole record's length
export const skbNrFrags = zeroed<i32>(MAX_SKBS);
export const skbFrag = zeroed<i32>(MAX_SKBS * MAX_SKB_FRAGS);
export const skbFragLen = zeroed<i32>(MAX_SKBS * MAX_SKB_FRAGS);
export const skbFragOff = zeroed<i32>(MAX_SKBS * MAX_SKB_FRAGS);   // page_offset
export const skbNext = zeroed<i32>(MAX_SKBS);
export const skbOut = zeroed<bool>(MAX_SKBS);       // sent and not yet acked/re-queued
export const skbRetrans = zeroed<bool>(MAX_SKBS);
export const skbXmitTime = zeroed<i64>(MAX_SKBS);   // last sent (-1: never)
const skbDataref = zeroed<i32>(MAX_SKBS);
const skbDestructorArg = zeroed<i32>(MAX_SKBS);
const freeSkbs = zeroed<i32>(MAX_SKBS);
rowsEnd();

const N_kfree_skb = fn("__kfree_skb", "skb=%x frags=%d");
const N_frag_destructor = fn("skb_frag_destructor", "skb=%x arg=%d frags=%d");

// Ian Campbell's skb paged-fragment destructors (not merged): the page owner is told
// when the network stack has really let go of its fragments. Set by whoever uses it.
// `get` runs as the fragments are attached, `put` when the data is freed.
export let skbFragDestructorGet: (arg: i32, frags: i32) => void = (arg: i32, frags: i32): void => {};
export let skbFragDestructor: (arg: i32, frags: i32) => void = (arg: i32, frags: i32): void => {};
export function setSkbFragDestructor(get: (arg: i32, frags: i32) => void, put: (arg: i32, frags: i32) => void): void {
  skbFragDestructorGet = get;
  skbFragDestructor = put;
}

// Synthetic kernel addresses for the trace, in the style of seed 003 (skb, clone = skb+0xa8).
export function skbAddr(skb: i32): i32 { return <i32>(0xc9000000 + (skb << 8)); }
export function skbCloneAddr(skb: i32): i32 { return skbAddr(skb) + 0xa8; }

export function allocSkb(sk: i32): i32 {
  let s: i32;
  if (nFree > 0) s = unchecked(freeSkbs[--nFree]);
  else {
    assert(nUsed < MAX_SKBS, "out of skbs");
    s = nUsed++;
  }
  nLive++;
  unchecked(skbSk[s] = sk);
  unchecked(skbSeq[s] = 0);
  unchecked(skbLen[s] = 0);
  unchecked(skbRecType[s] = REC_NONE);
  unchecked(skbXid[s] = 0);
  unchecked(skbRecA[s] = 0);
  unchecked(skbRecB[s] = 0);
  unchecked(skbRecOff[s] = 0);
  unchecked(skbRecLen[s] = 0);
  unchecked(skbNrFrags[s] = 0);
  unchecked(skbNext[s] = -1);
  unchecked(skbOut[s] = false);
  unchecked(skbRetrans[s] = false);
  unchecked(skbXmitTime[s] = -1);
  unchecked(skbDataref[s] = 1);
  unchecked(skbDestructorArg[s] = -1);
  return s;
}

// skb_fill_page_desc after get_page(): the fragment now pins the page.
export function skbAddFrag(skb: i32, pfn: i32, off: i32, len: i32): void {
  const n = unchecked(skbNrFrags[skb]);
  assert(n < MAX_SKB_FRAGS && off >= 0 && off + len <= PAGE_SIZE, "skb fragment out of range");
  getPage(pfn);
  unchecked(skbFrag[skb * MAX_SKB_FRAGS + n] = pfn);
  unchecked(skbFragLen[skb * MAX_SKB_FRAGS + n] = len);
  unchecked(skbFragOff[skb * MAX_SKB_FRAGS + n] = off);
  unchecked(skbNrFrags[skb] = n + 1);
}

export function skbSetDestructor(skb: i32, arg: i32): void {
  unchecked(skbDestructorArg[skb] = arg);
  skbFragDestructorGet(arg, unchecked(skbNrFrags[skb]));
}

// skb_clone(): a second header over the same data.
export function skbClone(skb: i32): void { unchecked(skbDataref[skb] += 1); }

// kfree_skb() of the original or of a clone: the last one frees the data.
export function kfreeSkb(skb: i32): void {
  const r = unchecked(skbDataref[skb]) - 1;
  unchecked(skbDataref[skb] = r);
  if (r > 0) return;
  const n = unchecked(skbNrFrags[skb]);
  trace(-1, N_kfree_skb, skbAddr(skb), n);
  for (let i = 0; i < n; i++) putPage(unchecked(skbFrag[skb * MAX_SKB_FRAGS + i]));
  const arg = unchecked(skbDestructorArg[skb]);
  if (arg >= 0 && n > 0) {
    trace(-1, N_frag_destructor, skbAddr(skb), arg, n);
    skbFragDestructor(arg, n);
  }
  nLive--;
  unchecked(freeSkbs[nFree++] = skb);
}

export function skbsLive(): i32 { return nLive; }
