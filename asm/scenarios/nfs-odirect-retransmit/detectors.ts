// nfs-odirect-retransmit: the detectors. The oops (the NIC's DMA read an unmapped page),
// the wire (each call segment as the NIC read it, against the buffer at issue) and the
// disk (each executed write's blocks), and the verdict they give.
import { now } from "../../kernel/clock";
import { traceAnomaly } from "../../kernel/trace";
import { worldStop, setVerdict, VERDICT_CORRUPTION, VERDICT_CRASH } from "../../kernel/world";
import { zeroed, rowsBegin, rowsEnd } from "../../kernel/mem";
import { PG_COUNTER, PAGE_SIZE } from "../../mm/page";
import { MAX_SKB_FRAGS, REC_CALL, skbRecA, skbXid } from "../../net/skbuff";
import {
  nicStartXmitName, capSlot, capTime, capDir, capSeq, capRecType, capXid, capRecA, capNrFrags, capFragPattern,
  capFragKind, capFragLen, capFragOff, capRecOff, capRecLen, capRetrans,
} from "../../net/dev";
import { RPC_WRITE_CALL_HDR } from "../../nfs/direct";
import { blkXid, blkRuns, blkRunKind, blkRunPattern, BLK_RUNS } from "../../block/disk";
import { MAX_WRITES, N_corrupt_disk, N_corrupt_wire } from "./defs";
import { expectedWord, npages, nWrites, wExecuted, wOffBlk } from "./workload";

// ---- detectors' findings
export let crashed: bool = false;
export let crashPfn: i32 = -1;
export let crashSkb: i32 = -1;
export let crashXid: u32 = 0;
export let crashWrite: i32 = -1;
export let crashAt: i64 = 0;
export let crashFn: i32 = 0;

// The NIC's DMA touched a page that is no longer mapped: the oops.
export function onDmaFault(nic: i32, skb: i32, pfn: i32): void {
  crashed = true;
  crashPfn = pfn;
  crashSkb = skb;
  crashXid = unchecked(skbXid[skb]);
  crashWrite = unchecked(skbRecA[skb]);
  crashAt = now;
  crashFn = nicStartXmitName(nic);
  worldStop();
}

// The first wire / disk mismatch found, for the evidence. The wire is checked segment by
// segment: each carries the words its pages held when the NIC read them, so one
// transmission of a WRITE can be part as issued, part rewritten.
export let wireBad: i32 = 0;           // transmissions of a call (its segments) with a wrong byte
export let wireBadSegs: i32 = 0;
export let wireCi: i32 = -1;          // its capture slot, and what it held
export let wireWrite: i32 = -1;
export let wireTime: i64 = 0;
export let wireXid: u32 = 0;
export let wireSeq: u32 = 0;
export let wireRecOff: i32 = 0;
export let wireRecLen: i32 = 0;
export let wireRetrans: bool = false;
export let wireKind: u8 = 0;           // the page words found from wireWord on
export let wirePattern: u32 = 0;
export let wirePage: i32 = -1;
export let wireWord: i32 = -1;         // first differing word of the segment, in wirePage
export let wireWords: i32 = 0;         // words of wirePage in the segment, and how many differ
export let wireWordsDiffer: i32 = 0;
export let wireFrom: i32 = -1;         // bytes of the WRITE's data that differ in the segment
export let wireTo: i32 = -1;
rowsBegin(MAX_WRITES, (): i32 => nWrites);
const wWireSeq = zeroed<u32>(MAX_WRITES);   // the last bad transmission counted, per write
const wWireCounted = zeroed<bool>(MAX_WRITES);
rowsEnd();
export let diskBad: i32 = 0;
export let diskBlk: i32 = -1;
export let diskRun: i32 = -1;
export let badWrites: i32 = 0;

// Where the segment in capture slot c starts in the WRITE's data.
@inline export function segDataOff(c: i32): i32 { return max(0, unchecked(capRecOff[c]) - RPC_WRITE_CALL_HDR); }

// Compares fragment f of the call segment in slot c with write w's buffer at issue: sets
// diffFrom/diffTo (bytes of the WRITE's data, -1 if it matches), diffPage, diffWord (its
// first wrong word in the page), diffWords (its words) and diffCount (how many differ).
export let diffFrom: i32 = -1;
export let diffTo: i32 = -1;
let diffPage: i32 = 0;
let diffWord: i32 = -1;
let diffWords: i32 = 0;
let diffCount: i32 = 0;
let diffKind: u8 = 0;
let diffPattern: u32 = 0;
export function fragDiff(c: i32, f: i32, w: i32, dataOff: i32): void {
  const k = unchecked(capFragKind[c * MAX_SKB_FRAGS + f]);
  const p = unchecked(capFragPattern[c * MAX_SKB_FRAGS + f]);
  diffKind = k;
  diffPattern = p;
  const off = unchecked(capFragOff[c * MAX_SKB_FRAGS + f]);
  const len = unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
  diffPage = dataOff / PAGE_SIZE;
  diffFrom = -1;
  diffTo = -1;
  diffWord = -1;
  diffWords = len >> 2;
  diffCount = 0;
  const j0 = off >> 2;
  for (let j = j0; j < j0 + diffWords; j++) {
    if ((k == PG_COUNTER ? p + <u32>j : p) == expectedWord(w, diffPage, j)) continue;
    if (diffWord < 0) { diffWord = j; diffFrom = dataOff + (j - j0) * 4; }
    diffTo = dataOff + (j - j0 + 1) * 4;
    diffCount++;
  }
}

// A segment's first differing fragment (diff* set), or false.
function segDiff(c: i32, w: i32): bool {
  let at = segDataOff(c);
  for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
    fragDiff(c, f, w, at);
    if (diffFrom >= 0) return true;
    at += unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
  }
  return false;
}

// Each call segment as the NIC reads it (the capture ring is only the last CAP_MAX packets).
export function onCapture(ci: i32): void {
  const c = capSlot(ci);
  if (unchecked(capDir[c]) != 0 || unchecked(capRecType[c]) != REC_CALL) return;
  const w = unchecked(capRecA[c]);
  if (!segDiff(c, w)) return;
  wireBadSegs++;
  if (wireCi < 0) {
    wireCi = ci;
    wireWrite = w;
    wireTime = unchecked(capTime[c]);
    wireXid = unchecked(capXid[c]);
    wireSeq = unchecked(capSeq[c]);
    wireRecOff = unchecked(capRecOff[c]);
    wireRecLen = unchecked(capRecLen[c]);
    wireRetrans = unchecked(capRetrans[c]);
    wireKind = diffKind;
    wirePattern = diffPattern;
    wirePage = diffPage;
    wireWord = diffWord;
    wireWords = diffWords;
    wireWordsDiffer = diffCount;
    wireFrom = diffFrom;
    // the rest of this segment's differing bytes
    let at = segDataOff(c);
    for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
      fragDiff(c, f, w, at);
      if (diffTo > wireTo) wireTo = diffTo;
      at += unchecked(capFragLen[c * MAX_SKB_FRAGS + f]);
    }
    traceAnomaly(-1, N_corrupt_wire, <i32>unchecked(capXid[c]), w, <i32>unchecked(capSeq[c]));
  }
  // one transmission of the call: its record's first sequence number
  const recSeq = unchecked(capSeq[c]) - <u32>unchecked(capRecOff[c]);
  if (!unchecked(wWireCounted[w]) || unchecked(wWireSeq[w]) != recSeq) {
    unchecked(wWireCounted[w] = true);
    unchecked(wWireSeq[w] = recSeq);
    wireBad++;
  }
}

@inline function runBad(b: i32, r: i32, w: i32, p: i32): bool {
  const k = b * BLK_RUNS + r;
  return unchecked(blkRunKind[k]) != PG_COUNTER || unchecked(blkRunPattern[k]) != expectedWord(w, p, 0);
}

function scanDisk(): void {
  for (let w = 0; w < nWrites; w++) {
    if (unchecked(wExecuted[w]) == 0) continue;
    let bad = false;
    for (let p = 0; p < npages; p++) {
      const b = unchecked(wOffBlk[w]) + p;
      for (let r = 0; r < unchecked(blkRuns[b]); r++) {
        if (!runBad(b, r, w, p)) continue;
        if (diskBad == 0) {
          diskBlk = b;
          diskRun = r;
          traceAnomaly(-1, N_corrupt_disk, b, w, <i32>unchecked(blkXid[b]));
        }
        diskBad++;
        bad = true;
        break;
      }
    }
    if (bad) badWrites++;
  }
}

export function onFinish(): void {
  scanDisk();
  if (crashed) setVerdict(VERDICT_CRASH);
  else if (wireBad > 0 || diskBad > 0) setVerdict(VERDICT_CORRUPTION);
}

function onHung(t: i32): void {}
