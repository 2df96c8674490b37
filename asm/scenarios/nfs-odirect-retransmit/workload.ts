// nfs-odirect-retransmit: the workload. blktest2 (or, with app=xen-unmap, a Xen guest's
// writes through blkback, blktap2 and tapdisk2) issues O_DIRECT writes of counter-filled
// buffers through the NFS mount and reuses (or unmaps) each buffer once its write returns.
// The records here are what each buffer held at issue: the detectors compare against them.
import { now, NSEC_PER_SEC, NSEC_PER_USEC } from "../../kernel/clock";
import { randDuration, randU32 } from "../../kernel/prng";
import { trace } from "../../kernel/trace";
import { scheduleIn } from "../../kernel/events";
import { threadNew, threadNext, threadSleep, threadSleepTimeout, threadExit, threadCpu, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE, MAX_ENTS, entCount } from "../../kernel/sched";
import { zeroed, rowsBegin, rowsEnd } from "../../kernel/mem";
import { allocPage, pageFill, PG_COUNTER, PG_FILL, PAGE_SIZE, PAGE_WORDS } from "../../mm/page";
import { tap } from "../../mm/tap";
import { nfsDirectWriteSchedule } from "../../nfs/direct";
import { blktapMap, fastFlushArea, N_fast_flush_area, N_blkif_response } from "../../xen/blkback_io";
import {
  A_EXIT, A_FILL, A_RETURNED, A_THINK, A_WRITE, DEADBEEF, EV_DRAIN, MAX_APPS, MAX_WRITES, N_blktest2,
  N_nfs_direct_wait, N_tapdisk2, N_think, S_WORKLOAD, X_BLKBACK, X_GETEVENTS, X_GUEST, X_KICK, X_SUBMIT,
} from "./defs";

// ---- the workload's writes: what the buffer held when write() was issued (the instance
// reset zeroes the rows of the writes issued)
export let nWrites: i32 = 0;
rowsBegin(MAX_WRITES, (): i32 => nWrites);
export const wThread = zeroed<i32>(MAX_WRITES);
export const wBase = zeroed<u32>(MAX_WRITES);
const wFirst = zeroed<i32>(MAX_WRITES);
export const wOffBlk = zeroed<i32>(MAX_WRITES);
export const wIssued = zeroed<i64>(MAX_WRITES);
export const wDone = zeroed<i64>(MAX_WRITES);
export const wServerSeen = zeroed<i32>(MAX_WRITES);
export const wExecuted = zeroed<i32>(MAX_WRITES);
export const wDupResult = zeroed<i32>(MAX_WRITES);   // name id of the DRC outcome for a repeat
export const wDupWhy = zeroed<i32>(MAX_WRITES);
export const wDupGarbage = zeroed<bool>(MAX_WRITES);
export const wDupAge = zeroed<i64>(MAX_WRITES);
rowsEnd();

// per app thread
export const appWrite = zeroed<i32>(MAX_APPS);
export const appEnt = zeroed<i32>(MAX_APPS);
export let pfns = zeroed<i32>(0);
export let npages: i32 = 2;
export let writeBytes: i32 = 8192;
export let concurrency: i32 = 4;
let xen: bool = false;
let durationNs: i64 = 0;
let thinkNs: i64 = 0;
let counter: u32 = 0;
let nextBlk: i32 = 0;
let appsLive: i32 = 0;
export let clientSk: i32 = -1;
export let mnt: i32 = 0;          // the NFS mount's rpc_xprt

// The mount the writes go through: its rpc_xprt and the client's TCP socket.
export function mountSet(xprt: i32, sk: i32): void {
  mnt = xprt;
  clientSk = sk;
}

@inline export function expectedWord(w: i32, page: i32, j: i32): u32 {
  return unchecked(wBase[w]) + <u32>(page * PAGE_WORDS + j);
}

function newWrite(i: i32): i32 {
  assert(nWrites < MAX_WRITES, "too many writes");
  const w = nWrites++;
  unchecked(wThread[w] = i);
  unchecked(wBase[w] = counter);
  unchecked(wFirst[w] = i * npages);
  unchecked(wOffBlk[w] = nextBlk);
  unchecked(wDone[w] = -1);
  nextBlk += npages;
  counter += <u32>(npages * PAGE_WORDS);
  unchecked(appWrite[i] = w);
  return w;
}

function issue(t: i32, i: i32, w: i32, e: i32): void {
  unchecked(wIssued[w] = now);
  nfsDirectWriteSchedule(w, t, e, 1000 + i, threadCpu(t), unchecked(wFirst[w]), npages, writeBytes, unchecked(wOffBlk[w]));
}

export function appStep(t: i32, i: i32, a: i32): void {
  const e = unchecked(appEnt[i]);
  const first = i * npages;
  if (a == A_THINK) {
    if (now >= durationNs) {
      trace(e, A_EXIT);
      threadExit(t);
      if (--appsLive == 0) scheduleIn(NSEC_PER_SEC, EV_DRAIN, 0);
      return;
    }
    threadNext(t, xen ? X_GUEST : A_FILL, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == A_FILL) {
    const w = newWrite(i);
    for (let p = 0; p < npages; p++) pageFill(unchecked(pfns[first + p]), PG_COUNTER, unchecked(wBase[w]) + <u32>(p * PAGE_WORDS));
    trace(e, A_FILL, unchecked(pfns[first]), <i32>unchecked(wBase[w]));
    threadNext(t, A_WRITE, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == A_WRITE) {
    const w = unchecked(appWrite[i]);
    trace(e, A_WRITE, writeBytes, unchecked(wOffBlk[w]) * PAGE_SIZE);
    issue(t, i, w, e);
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_nfs_direct_wait, A_RETURNED, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == A_RETURNED) {
    // blktest2: "immediately after the write() returns fills the buffer with 0xdeadbeef"
    for (let p = 0; p < npages; p++) pageFill(unchecked(pfns[first + p]), PG_FILL, DEADBEEF);
    trace(e, A_RETURNED, unchecked(pfns[first]));
    threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_think, randDuration(S_WORKLOAD, thinkNs), A_THINK, 2 * NSEC_PER_USEC);
    return;
  }
  // Xen: domU blkfront -> blkback -> blktap2 -> tapdisk2
  if (a == X_GUEST) {
    const w = newWrite(i);
    trace(e, X_GUEST, w);
    threadNext(t, X_BLKBACK, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == X_BLKBACK) {
    const w = unchecked(appWrite[i]);
    trace(e, X_BLKBACK, w);
    blktapMap(e, pfns, first, npages, unchecked(wBase[w]));
    threadNext(t, X_SUBMIT, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == X_SUBMIT) {
    const w = unchecked(appWrite[i]);
    trace(e, X_SUBMIT, w);
    issue(t, i, w, e);
    threadSleep(t, TASK_UNINTERRUPTIBLE, N_nfs_direct_wait, X_GETEVENTS, 2 * NSEC_PER_USEC);
    return;
  }
  if (a == X_GETEVENTS) {
    trace(e, X_GETEVENTS, unchecked(appWrite[i]));
    threadNext(t, X_KICK, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == X_KICK) {
    const w = unchecked(appWrite[i]);
    trace(e, X_KICK, w);
    fastFlushArea(e, pfns, first, npages);
    tap(w, N_fast_flush_area, 0, 0);
    trace(e, N_blkif_response, w);
    threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_think, randDuration(S_WORKLOAD, thinkNs), A_THINK, 2 * NSEC_PER_USEC);
    return;
  }
}

export function onWriteComplete(dreq: i32): void { unchecked(wDone[dreq] = now); }

export class WorkloadOptions {
  xenUnmap: bool = false;
  concurrency: i32 = 4;
  writeKiB: i32 = 8;
  durationNs: i64 = 0;
  thinkNs: i64 = 0;
}

// The buffers (one per thread) and the counter's start, drawn from the workload stream.
export function workloadInit(o: WorkloadOptions): void {
  xen = o.xenUnmap;
  concurrency = o.concurrency;
  if (concurrency < 1) concurrency = 1;
  if (concurrency > MAX_APPS) concurrency = MAX_APPS;
  writeBytes = o.writeKiB * 1024;
  npages = (writeBytes + PAGE_SIZE - 1) / PAGE_SIZE;
  durationNs = o.durationNs;
  thinkNs = o.thinkNs;
  pfns = zeroed<i32>(concurrency * npages);
  for (let i = 0; i < concurrency * npages; i++) unchecked(pfns[i] = allocPage());
  counter = randU32(S_WORKLOAD) & 0xffff0000;
}

// entity -> application thread index + 1
rowsBegin(MAX_ENTS, entCount);
const appIndexOf = zeroed<i32>(MAX_ENTS);
rowsEnd();

export function appOf(t: i32): i32 { return unchecked(appIndexOf[t]) - 1; }

export function appsStart(): void {
  for (let i = 0; i < concurrency; i++) {
    const t = threadNew(xen ? N_tapdisk2 : N_blktest2, 1000 + i, i & 1, xen ? X_GUEST : A_FILL, 2 * NSEC_PER_USEC);
    unchecked(appEnt[i] = t);
    unchecked(appIndexOf[t] = i + 1);
  }
  appsLive = concurrency;
}
