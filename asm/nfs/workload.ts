// The processes that drive the NFS client in the sunrpc-* scenarios, as simulated threads:
//
//  dd      (UDP) open -> write() 64 KiB at a time (dirtying page cache; balance_dirty_pages
//          throttles) -> close(): nfs_file_flush -> vfs_fsync -> filemap_write_and_wait_range
//          (D state in sleep_on_page) -> nfs_commit_inode -> exit. A script starts a few of
//          them at once, then sleeps longer than the transport's idle timeout.
//  mmap3   (TCP) LTP mtest06_3: worker threads loop mmap (attribute revalidation: a sync
//          GETATTR) / dirty the mapping / munmap; the alarm ends the test: the group exits on
//          a fatal signal and the last exit closes the file: filp_close -> nfs_file_flush ->
//          nfs_file_fsync, waiting for writeback in D state. Iterations that would change
//          nothing are drawn ahead and slept through (lookahead.ts): no event each.
//  flush-0:22  the bdi flusher: every 5 s writes back chunks dirty for 30 s, and everything
//          when kicked past the background threshold.
import { now, NSEC_PER_SEC, NSEC_PER_USEC, NSEC_PER_MSEC } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_LOG } from "../kernel/names";
import { trace } from "../kernel/trace";
import { scheduleIn } from "../kernel/events";
import { eventKind, scheduleAt, cancelEvent, eventPending, eventTime } from "../kernel/events";
import {
  threadNew, threadNext, threadSleep, threadSleepTimeout, threadExit, threadAction, wakeUpProcess,
  threadState, entPidOf, threadCpu, threadCharge, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_DEAD, MAX_ENTS, entCount,
} from "../kernel/sched";
import { stream, randExp, randRange, randF64 } from "../kernel/prng";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { Lookahead } from "./lookahead";
import { chaosStarveNs } from "../kernel/timing";
import { isSyncRpcAction, procRpcStep, procFatalSignal, sendFatalSignal, procRpcTask } from "../sunrpc/sched";
import { xprtRemount } from "../sunrpc/xprt";
import {
  nfsInit, nfsNewFile, nfsTruncate, nfsDirty, nfsWritepages, nfsCommit, commitInFlight, nfsGetattrSync,
  nfsWaitWriteback, nfsWaitCommit, nfsStopWaiting, fileDirty, fileWriteback, fileCount, totalDirty, totalWb,
  N_sleep_on_page, N_nfs_commit_wait, nfsOnFirstDirty, nfsOnChunkChange, chunkDirtyNoop,
} from "./writeback";

export const EV_WL_BURST: i32 = eventKind("nfs_wl.burst");
export const EV_WL_ALARM: i32 = eventKind("nfs_wl.alarm");
export const EV_WL_NEXT: i32 = eventKind("nfs_wl.next");
export const EV_WL_START_DD: i32 = eventKind("nfs_wl.start_dd");
export const EV_WL_BDI_WAKEUP: i32 = eventKind("nfs_wl.bdi_wakeup");
export const EV_WL_THINK: i32 = eventKind("nfs_wl.think");

const S_WL = stream("sunrpc.workload");

const N_dd = name("dd");
const N_mmap3 = name("mmap3");
const N_flush = name("flush-0:22");
const N_bdi_writeback = name("bdi_writeback_thread");
const N_pthread_join = name("pthread_join");
const N_balance = name("balance_dirty_pages");
const N_think = name("do_nanosleep");
const N_open = fn("nfs_open", "pid=%d", CAT_STEP);
const N_close = fn("nfs_file_flush", "pid=%d dirty=%d writeback=%d", CAT_STEP);
const N_fsync_done = fn("nfs_file_fsync: done", "pid=%d", CAT_STEP);
const N_exit = fn("do_exit", "pid=%d", CAT_STEP);
const N_group_exit = fn("do_group_exit: SIGALRM", "pid=%d threads=%d", CAT_LOG);
const N_burst = fn("script: start writers", "burst=%d writers=%d", CAT_LOG);
const N_mmap = fn("nfs_file_mmap: nfs_revalidate_mapping", "pid=%d", CAT_STEP);

// thread roles and actions
const R_NONE: i32 = 0;
const R_DD: i32 = 1;
const R_FLUSHER: i32 = 2;
const R_MMAP_MAIN: i32 = 3;
const R_MMAP_WORKER: i32 = 4;
const R_HOG: i32 = 5;
const A_DD_OPEN: i32 = 101;
const A_DD_WRITE: i32 = 102;
const A_DD_CLOSE: i32 = 103;
const A_DD_WAIT: i32 = 104;
const A_DD_COMMIT: i32 = 105;
const A_DD_EXIT: i32 = 106;
const A_FL_RUN: i32 = 110;
const A_MW_MMAP: i32 = 120;
const A_MW_DIRTY: i32 = 121;
const A_MM_JOIN: i32 = 130;
const A_MM_FLUSH: i32 = 131;
const A_MM_WAIT: i32 = 132;
const A_MM_EXIT: i32 = 133;
const A_HOG: i32 = 140;

rowsBegin(MAX_ENTS, entCount);
const role = zeroed<i32>(MAX_ENTS);
const tFile = zeroed<i32>(MAX_ENTS);
const tPos = zeroed<i32>(MAX_ENTS);
const tAfterRpc = zeroed<i32>(MAX_ENTS);
rowsEnd();

// knobs (set by the scenario)
export let cpus: i32 = 2;
export let copyNs: i64 = 30 * NSEC_PER_USEC;
export let chunksPerWrite: i32 = 2;
export let bgThreshChunks: i32 = 64;
export let dirtyLimitChunks: i32 = 256;
let flusherTh: i32 = -1;
let dirtyExpireNs: i64 = 30 * NSEC_PER_SEC;
let writebackEveryNs: i64 = 5 * NSEC_PER_SEC;
// vm.dirty_expire_centisecs / vm.dirty_writeback_centisecs
export function flusherTunables(expireS: f64, everyS: f64): void {
  dirtyExpireNs = <i64>(expireS * <f64>NSEC_PER_SEC);
  writebackEveryNs = <i64>(everyS * <f64>NSEC_PER_SEC);
}
let flusherKicked: bool = false;
let nextPid: i32 = 2200;

// ---- dd bursts (UDP) -------------------------------------------------------------------
let writers: i32 = 2;
let burstChunks: i32 = 128;
let bursts: i32 = 0;
let gapNs: f64 = 0;
let gapJitterNs: f64 = 0;
let startJitterNs: f64 = 0;
let remountEachBurst: bool = false;
let remountXprt: i32 = 0;         // the mount's rpc_xprt
export function ddRemount(on: bool, x: i32): void { remountEachBurst = on; remountXprt = x; }
export let burstsDone: i32 = 0;
let ddRunning: i32 = 0;
const ddFiles = zeroed<i32>(16);
export let workloadDone: bool = false;
// Told once, when the workload has started its last work (the harness then waits for it).
let onWorkloadDone: () => void = (): void => {};
export function setOnWorkloadDone(f: () => void): void { onWorkloadDone = f; }
function finishWorkload(): void {
  if (workloadDone) return;
  workloadDone = true;
  onWorkloadDone();
}
// Every rpc_task is a trace entity: stop starting new work well before the table is full.
export let budgetStop: bool = false;
function budgetLeft(): bool {
  if (entCount() < MAX_ENTS - 4000) return true;
  budgetStop = true;
  finishWorkload();
  return false;
}
export let lastBurstAt: i64 = 0;

export function ddStartJitter(ms: f64): void { startJitterNs = ms * <f64>NSEC_PER_MSEC; }

export function ddInit(nWriters: i32, chunks: i32, nBursts: i32, gapS: f64, jitterS: f64, firstAtS: f64): void {
  writers = nWriters;
  burstChunks = chunks;
  bursts = nBursts;
  gapNs = gapS * <f64>NSEC_PER_SEC;
  gapJitterNs = jitterS * <f64>NSEC_PER_SEC;
  for (let i = 0; i < writers; i++) unchecked(ddFiles[i] = nfsNewFile(chunks, 1000 + i));
  scheduleIn(<i64>(firstAtS * <f64>NSEC_PER_SEC), EV_WL_BURST, 0);
}

// The script starts the writers one after another (fork + exec each).
function startBurst(): void {
  lastBurstAt = now;
  if (remountEachBurst && burstsDone > 0) xprtRemount(remountXprt);
  trace(flusherTh, N_burst, burstsDone + 1, writers);
  ddRunning = writers;
  for (let i = 0; i < writers; i++) {
    const d = startJitterNs > 0 ? <i64>(randF64(S_WL) * startJitterNs) : 0;
    scheduleIn(d, EV_WL_START_DD, i);
  }
  startHogs();
}

function startDd(i: i32): void {
  const f = unchecked(ddFiles[i]);
  nfsTruncate(f, burstChunks);
  const pid = nextPid++;
  const th = threadNew(N_dd, pid, i % cpus, A_DD_OPEN, 20 * NSEC_PER_USEC);
  unchecked(role[th] = R_DD);
  unchecked(tFile[th] = f);
  unchecked(tPos[th] = 0);
}

function ddExited(): void {
  ddRunning--;
  if (ddRunning > 0) return;
  burstsDone++;
  if (burstsDone >= bursts || !budgetLeft()) { finishWorkload(); return; }
  const gap = gapNs + randF64(S_WL) * gapJitterNs;
  scheduleIn(<i64>gap, EV_WL_BURST, 0);
}

function ddStep(th: i32, a: i32): void {
  const pid = entPidOf(th);
  const f = unchecked(tFile[th]);
  if (a == A_DD_OPEN) {
    trace(th, N_open, pid);
    unchecked(tAfterRpc[th] = A_DD_WRITE);
    nfsGetattrSync(th, pid);                     // close-to-open: GETATTR
    return;
  }
  if (a == A_DD_WRITE) {
    const pos = unchecked(tPos[th]);
    nfsDirty(th, f, pos, chunksPerWrite);
    unchecked(tPos[th] = pos + chunksPerWrite);
    if (totalDirty >= bgThreshChunks) kickFlusher();
    if (pos + chunksPerWrite >= burstChunks) { threadNext(th, A_DD_CLOSE, 15 * NSEC_PER_USEC); return; }
    if (totalDirty + totalWb >= dirtyLimitChunks) {
      // balance_dirty_pages: io_schedule_timeout in TASK_KILLABLE
      threadSleepTimeout(th, TASK_INTERRUPTIBLE, N_balance, 20 * NSEC_PER_MSEC, A_DD_WRITE, copyNs);
      return;
    }
    threadNext(th, A_DD_WRITE, copyNs);
    return;
  }
  if (a == A_DD_CLOSE) {
    trace(th, N_close, pid, fileDirty(f), fileWriteback(f));
    nfsWritepages(th, f, pid, threadCpu(th), i64.MAX_VALUE, 1 << 30);
    threadNext(th, A_DD_WAIT, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == A_DD_WAIT) {
    if (fileDirty(f) > 0) nfsWritepages(th, f, pid, threadCpu(th), i64.MAX_VALUE, 1 << 30);
    if (fileWriteback(f) > 0) {
      nfsWaitWriteback(th, f);
      threadSleep(th, TASK_UNINTERRUPTIBLE, N_sleep_on_page, A_DD_WAIT, 3 * NSEC_PER_USEC);
      return;
    }
    nfsStopWaiting(th);
    threadNext(th, A_DD_COMMIT, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == A_DD_COMMIT) {
    if (!commitInFlight(f)) {
      const t = nfsCommit(f, pid, threadCpu(th));
      if (t < 0) { threadNext(th, A_DD_EXIT, 5 * NSEC_PER_USEC); return; }
    }
    nfsWaitCommit(th, f);
    threadSleep(th, TASK_INTERRUPTIBLE, N_nfs_commit_wait, A_DD_EXIT, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == A_DD_EXIT) {
    if (commitInFlight(f)) {
      threadSleep(th, TASK_INTERRUPTIBLE, N_nfs_commit_wait, A_DD_EXIT, 3 * NSEC_PER_USEC);
      return;
    }
    nfsStopWaiting(th);
    trace(th, N_fsync_done, pid);
    trace(th, N_exit, pid);
    threadExit(th);
    ddExited();
  }
}

// ---- the flusher -------------------------------------------------------------------------
export function flusherInit(cpu: i32): void {
  flusherTh = threadNew(N_flush, 1800, cpu, A_FL_RUN, 10 * NSEC_PER_USEC);
  unchecked(role[flusherTh] = R_FLUSHER);
  nfsOnFirstDirty(bdiWakeupThreadDelayed);
}

// bdi_wakeup_thread_delayed (3.x __mark_inode_dirty, when the bdi had no dirty I/O): the
// flusher, asleep with nothing to write, is woken dirty_writeback_interval later.
let bdiWakeupArmed: bool = false;
function bdiWakeupThreadDelayed(): void {
  if (bdiWakeupArmed || flusherTh < 0) return;
  bdiWakeupArmed = true;
  scheduleIn(writebackEveryNs, EV_WL_BDI_WAKEUP, 0);
}
function bdiWakeupTimer(): void {
  bdiWakeupArmed = false;
  wakeUpProcess(flusherTh);
}

function kickFlusher(): void {
  if (flusherTh < 0 || flusherKicked) return;
  flusherKicked = true;
  wakeUpProcess(flusherTh);
}

function flusherStep(th: i32): void {
  const all = flusherKicked || totalDirty >= bgThreshChunks;
  flusherKicked = false;
  const older = all ? i64.MAX_VALUE : now - dirtyExpireNs;
  const pid = entPidOf(th);
  const n = fileCount();
  for (let f = 0; f < n; f++) nfsWritepages(th, f, pid, threadCpu(th), older, 1 << 30);
  // bdi_writeback_thread: a periodic wake-up only while there is dirty data; otherwise
  // schedule() until the next dirtying wakes it (bdiWakeupThreadDelayed) or a kick
  if (totalDirty > 0) threadSleepTimeout(th, TASK_INTERRUPTIBLE, N_bdi_writeback, writebackEveryNs, A_FL_RUN, 10 * NSEC_PER_USEC);
  else threadSleep(th, TASK_INTERRUPTIBLE, N_bdi_writeback, A_FL_RUN, 10 * NSEC_PER_USEC);
}

// ---- mmap3 (TCP) ---------------------------------------------------------------------------
// Several instances may run side by side (runltp with parallel tests); each has its own file,
// main thread and workers, restarts when its previous run has exited, and ends on SIGALRM.
const MI: i32 = 8;
let mInstances: i32 = 1;
let mWorkers: i32 = 4;
let mChunks: i32 = 32;
let mRunNs: i64 = 0;
let mCycles: i32 = 0;
let mThinkNs: f64 = 0;
let mActimeoNs: i64 = 0;
export let mCyclesDone: i32 = 0;
let mGapNs: i64 = NSEC_PER_SEC;
const mFile = zeroed<i32>(MI);
const mMain = zeroed<i32>(MI);
const mAttrAt = zeroed<i64>(MI);
const mExiting = zeroed<bool>(MI);
const mStarted = zeroed<i32>(MI);
const mThreads = zeroed<i32>(MI * 16);
rowsBegin(MAX_ENTS, entCount);
const tInst = zeroed<i32>(MAX_ENTS);
rowsEnd();

export function mmap3Init(instances: i32, workers: i32, chunks: i32, runS: f64, cycles: i32, thinkMs: f64, actimeoMs: f64): void {
  mInstances = instances < 1 ? 1 : instances > MI ? MI : instances;
  mWorkers = workers > 16 ? 16 : workers;
  mChunks = chunks;
  mRunNs = <i64>(runS * <f64>NSEC_PER_SEC);
  mCycles = cycles;
  mThinkNs = thinkMs * <f64>NSEC_PER_MSEC;
  mActimeoNs = <i64>(actimeoMs * <f64>NSEC_PER_MSEC);
  for (let k = 0; k < mInstances; k++) {
    unchecked(mFile[k] = nfsNewFile(chunks, 2000 + k));
    unchecked(mAttrAt[k] = -1);
    // instances start staggered over one run length
    scheduleIn(NSEC_PER_SEC + <i64>(randF64(S_WL) * <f64>mRunNs), EV_WL_NEXT, k);
  }
}

function mmap3Start(k: i32): void {
  if (workloadDone) return;
  const pid = nextPid;
  nextPid += mWorkers + 8;
  unchecked(mExiting[k] = false);
  unchecked(mStarted[k] += 1);
  const main = threadNew(N_mmap3, pid, k % cpus, A_MM_JOIN, 50 * NSEC_PER_USEC);
  unchecked(mMain[k] = main);
  unchecked(role[main] = R_MMAP_MAIN);
  unchecked(tFile[main] = unchecked(mFile[k]));
  unchecked(tInst[main] = k);
  for (let i = 0; i < mWorkers; i++) {
    const th = threadNew(N_mmap3, pid + 1 + i, (k + i + 1) % cpus, A_MW_MMAP, 30 * NSEC_PER_USEC + copyNs);
    unchecked(role[th] = R_MMAP_WORKER);
    unchecked(tFile[th] = unchecked(mFile[k]));
    unchecked(tInst[th] = k);
    unchecked(mThreads[k * 16 + i] = th);
    unchecked(tSlot[th] = k * 16 + i);
    if (k * 16 + i >= mLoops) mLoops = k * 16 + i + 1;
    mLook.reset(k * 16 + i);
  }
  unchecked(mAlarmAt[k] = now + mRunNs);
  scheduleIn(mRunNs, EV_WL_ALARM, main);
}

// SIGALRM: the main thread's handler exits; do_group_exit kills the other threads.
function mmap3Alarm(main: i32): void {
  const k = unchecked(tInst[main]);
  if (unchecked(mMain[k]) != main || threadState(main) == TASK_DEAD) return;
  unchecked(mExiting[k] = true);
  trace(main, N_group_exit, entPidOf(main), mWorkers);
  for (let i = 0; i < mWorkers; i++) {
    const s = k * 16 + i;
    const th = unchecked(mThreads[s]);
    // a worker inside a skipped iteration's step is not asleep: it acts on the signal
    // when that step ends, as the step would have
    const runsAt = eventPending(unchecked(mWakeEv[s])) ? mLook.keepRunning(s, now) : -1;
    if (runsAt >= 0) { armThink(s, runsAt); sendFatalSignal(th, false); continue; }
    if (cancelEvent(unchecked(mWakeEv[s]))) thinkEnds(s);
    if (threadState(th) != TASK_DEAD) sendFatalSignal(th, true);
  }
  sendFatalSignal(main, false);
  wakeUpProcess(main);
}

// A fatal signal is acted on at the return to user space (the end of a syscall or of a
// fault) and in killable sleeps; a syscall already under way (mmap's revalidation, with
// its sync GETATTR) runs on until it sleeps or returns.
function workerStep(th: i32, a: i32): void {
  const pid = entPidOf(th);
  const k = unchecked(tInst[th]);
  const f = unchecked(mFile[k]);
  const s = unchecked(tSlot[th]);
  if (a == A_MW_MMAP) thinkOver(s);
  // mmap() -> nfs_file_mmap -> nfs_revalidate_mapping: GETATTR when the attributes expired
  if (a == A_MW_MMAP && (unchecked(mAttrAt[k]) < 0 || now - unchecked(mAttrAt[k]) >= mActimeoNs)) {
    unchecked(mAttrAt[k] = now);
    replanInstance(k);
    trace(th, N_mmap, pid);
    unchecked(tAfterRpc[th] = A_MW_DIRTY);
    nfsGetattrSync(th, pid);
    return;
  }
  // Back in user space (from mmap, or from the GETATTR's syscall): a fatal signal is acted
  // on; otherwise the thread dirties the mapping. Without an RPC that is the same step as
  // the mmap (an A_MW_MMAP step is planned as the mmap's cost + copy_us).
  if (procFatalSignal(th)) {
    trace(th, N_exit, pid);
    threadExit(th);
    return;
  }
  nfsDirty(th, f, mLook.nextChoice(s), 1);
  if (totalDirty >= bgThreshChunks) kickFlusher();
  if (mThinkNs <= 0) { threadNext(th, A_MW_MMAP, copyNs + copyNs); return; }
  const thinkNs = mLook.nextThink(s);
  threadSleep(th, TASK_INTERRUPTIBLE, N_think, A_MW_MMAP, mLook.stepNs);
  thinkSleep(s, thinkNs);
}

// ---- mmap3: the iterations that change nothing
// Most iterations of a worker dirty a chunk that is dirty already, well within the
// attribute cache's lifetime: nothing anyone can observe changes. A worker draws them ahead
// and sleeps once, until the first iteration that would change state (lookahead.ts): a
// chunk not dirty, expired attributes, dirty data over the background threshold. What can
// change that prediction (a chunk of the file changing state, the attributes refreshed)
// makes the sleeping workers predict again. A worker's loop is its slot, instance * 16 + i.
let mLoops: i32 = 0;     // above every worker slot started
const mLook = new Lookahead(MI * 16, (): i32 => mLoops, 0, iterationNoop, drawChunk, drawThinkNs, starveNs);
const mWakeEv = zeroed<i32>(MI * 16);         // the think sleep's end (EV_WL_THINK)
rowsBegin(MAX_ENTS, entCount);
const tSlot = zeroed<i32>(MAX_ENTS);
rowsEnd();
const mAlarmAt = zeroed<i64>(MI);
export function mmap3Skipped(): i64 { return mLook.skipped; }

function drawChunk(s: i32): i32 { return <i32>randRange(S_WL, 0, mChunks - 1); }
function drawThinkNs(s: i32): i64 { return <i64>randExp(S_WL, mThinkNs) + NSEC_PER_USEC; }
// stress mode's starvation before a skipped iteration's step, as the scheduler draws it
function starveNs(s: i32): i64 { return chaosStarveNs(); }

// Would worker s's iteration ending at `at`, dirtying chunk c, change nothing?
function iterationNoop(s: i32, c: i32, at: i64): bool {
  const k = s >> 4;
  const a = unchecked(mAttrAt[k]);
  return a >= 0 && at - a < mActimeoNs && totalDirty < bgThreshChunks && chunkDirtyNoop(unchecked(mFile[k]), c);
}

function thinkSleep(s: i32, thinkNs: i64): void {
  armThink(s, mLook.sleep(s, now + thinkNs, unchecked(mAlarmAt[s >> 4])));
}
// A prediction made again may end the sleep inside an iteration's step: the worker then
// wakes at once, and that step ends less than one step later than it would have.
function armThink(s: i32, at: i64): void {
  cancelEvent(unchecked(mWakeEv[s]));
  unchecked(mWakeEv[s] = scheduleAt(at > now ? at : now, EV_WL_THINK, unchecked(mThreads[s])));
}
function thinkOver(s: i32): void {
  cancelEvent(unchecked(mWakeEv[s]));
  mLook.woke(s);
}
// The think sleep ends (its timer, or the alarm's signal): the skipped iterations ran on
// the worker's CPU, so their time counts in its run time and vruntime before it wakes.
function thinkEnds(s: i32): void {
  threadCharge(unchecked(mThreads[s]), <i64>mLook.doneBy(s, now) * mLook.stepNs);
}

// Instance k's workers asleep in their think time predict again (for those dirtying
// chunk c only, or -1: all).
function replanInstance(k: i32, c: i32 = -1): void {
  for (let i = 0; i < mWorkers; i++) {
    const s = k * 16 + i;
    if (!eventPending(unchecked(mWakeEv[s]))) continue;
    const at = mLook.replan(s, now, unchecked(mAlarmAt[k]), c);
    if (at <= now || at != eventTime(unchecked(mWakeEv[s]))) armThink(s, at);
  }
}

// Chunk c of file f changed state: its workers, or all of them once the dirty data is at
// the background threshold (each iteration then kicks the flusher, and one more dirty chunk
// or one less changes that).
function chunkChanged(f: i32, c: i32): void {
  const all = totalDirty >= bgThreshChunks;
  const near = totalDirty >= bgThreshChunks - 1;
  for (let k = 0; k < mInstances; k++) {
    if (all) replanInstance(k);
    else if (unchecked(mFile[k]) == f) replanInstance(k, near ? -1 : c);
  }
}

function mainStep(th: i32, a: i32): void {
  const pid = entPidOf(th);
  const k = unchecked(tInst[th]);
  const f = unchecked(mFile[k]);
  if (a == A_MM_JOIN) {
    if (!unchecked(mExiting[k])) { threadSleep(th, TASK_INTERRUPTIBLE, N_pthread_join, A_MM_JOIN, 5 * NSEC_PER_USEC); return; }
    a = A_MM_FLUSH;
  }
  if (a == A_MM_FLUSH) {
    // do_exit -> exit_files -> put_files_struct -> filp_close -> nfs_file_flush -> vfs_fsync
    trace(th, N_close, pid, fileDirty(f), fileWriteback(f));
    nfsWritepages(th, f, pid, threadCpu(th), i64.MAX_VALUE, 1 << 30);
    threadNext(th, A_MM_WAIT, 3 * NSEC_PER_USEC);
    return;
  }
  if (a == A_MM_WAIT) {
    if (fileDirty(f) > 0) nfsWritepages(th, f, pid, threadCpu(th), i64.MAX_VALUE, 1 << 30);
    if (fileWriteback(f) > 0) {
      nfsWaitWriteback(th, f);
      threadSleep(th, TASK_UNINTERRUPTIBLE, N_sleep_on_page, A_MM_WAIT, 3 * NSEC_PER_USEC);
      return;
    }
    nfsStopWaiting(th);
    // nfs_commit_inode(FLUSH_SYNC): the COMMIT is sent, but the killable wait returns at
    // once with a fatal signal pending
    nfsCommit(f, pid, threadCpu(th));
    threadNext(th, A_MM_EXIT, 5 * NSEC_PER_USEC);
    return;
  }
  if (a == A_MM_EXIT) {
    trace(th, N_fsync_done, pid);
    trace(th, N_exit, pid);
    threadExit(th);
    mCyclesDone++;
    if (mCyclesDone >= mCycles || !budgetLeft()) { finishWorkload(); return; }
    scheduleIn(mGapNs, EV_WL_NEXT, k);
  }
}


// ---- background load: CPU-bound processes pinned to the last CPUs, running while the
// writers run (a compute job beside the writers; preempted at step boundaries)
const N_stress = name("stress");
let hogNs: i64 = 0;
let hogCount: i32 = 0;
export let hogsAlive: i32 = 0;
export function hogsInit(n: i32, sliceUs: f64): void {
  hogNs = <i64>(sliceUs * <f64>NSEC_PER_USEC);
  hogCount = hogNs > 0 ? n : 0;
}
function startHogs(): void {
  for (let i = 0; i < hogCount; i++) {
    const c = (cpus - 1 - (i % cpus) + cpus) % cpus;
    const th = threadNew(N_stress, nextPid++, c, A_HOG, hogNs);
    unchecked(role[th] = R_HOG);
    hogsAlive++;
  }
}
function hogStep(th: i32): void {
  if (ddRunning == 0) { threadExit(th); hogsAlive--; return; }
  threadNext(th, A_HOG, hogNs);
}

// ---- dispatch ------------------------------------------------------------------------------
export function workloadInit(nCpus: i32, copyUs: f64, perWrite: i32, bgThresh: i32, dirtyLimit: i32): void {
  cpus = nCpus;
  copyNs = <i64>(copyUs * <f64>NSEC_PER_USEC);
  mLook.stepNs = 20 * NSEC_PER_USEC + copyNs;       // a worker's A_MW_MMAP step: the mmap's cost + copy_us
  chunksPerWrite = perWrite;
  bgThreshChunks = bgThresh;
  dirtyLimitChunks = dirtyLimit;
  nfsInit(syncDone);
  nfsOnChunkChange(chunkChanged);
}

// a sync RPC finished: the process goes on where it left off
function syncDone(th: i32, status: i32): void {
  threadNext(th, unchecked(tAfterRpc[th]), 10 * NSEC_PER_USEC);
}

// The step hook for workload threads. Returns false if the thread is not ours.
export function workloadStep(th: i32): bool {
  const r = unchecked(role[th]);
  if (r == R_NONE) return false;
  const a = threadAction(th);
  if (isSyncRpcAction(a)) { procRpcStep(th, a); return true; }
  if (r == R_DD) ddStep(th, a);
  else if (r == R_FLUSHER) flusherStep(th);
  else if (r == R_MMAP_WORKER) workerStep(th, a);
  else if (r == R_MMAP_MAIN) mainStep(th, a);
  else if (r == R_HOG) hogStep(th);
  return true;
}

export function workloadEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_WL_BURST) { startBurst(); return true; }
  if (kind == EV_WL_ALARM) { mmap3Alarm(obj); return true; }
  if (kind == EV_WL_NEXT) { mmap3Start(obj); return true; }
  if (kind == EV_WL_START_DD) { startDd(obj); return true; }
  if (kind == EV_WL_BDI_WAKEUP) { bdiWakeupTimer(); return true; }
  if (kind == EV_WL_THINK) { thinkEnds(unchecked(tSlot[obj])); wakeUpProcess(obj); return true; }
  return false;
}

export function threadRoleIsDd(th: i32): bool { return unchecked(role[th]) == R_DD; }
export function threadRoleIsMmap(th: i32): bool { return unchecked(role[th]) == R_MMAP_MAIN || unchecked(role[th]) == R_MMAP_WORKER; }
export function threadWaitFile(th: i32): i32 { return unchecked(tFile[th]); }
export function flusherThread(): i32 { return flusherTh; }
export function inSyncRpc(th: i32): bool { return procRpcTask(th) >= 0; }
