// The NFSv3 client above SUNRPC for the sunrpc-* scenarios: files as runs of wsize
// chunks (a chunk stands for the pages one WRITE carries) that are clean, dirty or under
// writeback; nfs_writepages issuing async WRITE tasks (flags RPC_TASK_ASYNC, ops
// nfs_write_ops); nfs_commit_inode (async COMMIT, waited on killably); a sync GETATTR
// (nfs_revalidate_inode, run in the caller's context); end_page_writeback waking the
// processes that wait for it in filemap_fdatawait_range (TASK_UNINTERRUPTIBLE: what
// khungtaskd reports).
import { now } from "../kernel/clock";
import { fn, name, CAT_STEP } from "../kernel/names";
import { trace } from "../kernel/trace";
import { wakeUpProcess, MAX_ENTS, threadCpu, entCount } from "../kernel/sched";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { RPC_TASK_ASYNC, NFS3PROC_WRITE, NFS3PROC_COMMIT, NFS3PROC_GETATTR } from "../sunrpc/defs";
import {
  rpcNewTask, rpcExecuteAsync, rpcExecuteSync, tkCalldata, tkStatus, tkOps, tkEnt, setRpcSyncDone,
} from "../sunrpc/sched";
import { rpcCallStart, setCallDone, setCallRelease } from "../sunrpc/clnt";

export const OPS_WRITE: i32 = 1;
export const OPS_COMMIT: i32 = 2;
export const OPS_DEFAULT: i32 = 3;

export const N_nfsv3_WRITE = name("nfsv3 WRITE");
export const N_nfsv3_COMMIT = name("nfsv3 COMMIT");
export const N_nfsv3_GETATTR = name("nfsv3 GETATTR");
export const N_sleep_on_page = name("sleep_on_page");
export const N_nfs_commit_wait = name("nfs_wait_bit_killable");
const N_writepages = fn("nfs_writepages", "ino=%d chunks=%d", CAT_STEP);
const N_writeback_done = fn("nfs_writeback_done", "ino=%d chunk=%d status=%e", CAT_STEP);
const N_end_writeback = fn("end_page_writeback", "ino=%d chunk=%d", CAT_STEP);
const N_commit_done = fn("nfs_commit_done", "ino=%d status=%e", CAT_STEP);
const N_dirty = fn("nfs_updatepage", "ino=%d chunks=%d", CAT_STEP);

const MAX_FILES: i32 = 64;
const CPF: i32 = 512;
export const CH_CLEAN: i32 = 0;
export const CH_DIRTY: i32 = 1;
export const CH_WRITEBACK: i32 = 2;
let nFiles: i32 = 0;
rowsBegin(MAX_FILES, (): i32 => nFiles);   // the instance reset zeroes the files' rows
const chState = zeroed<i32>(MAX_FILES * CPF);
const chRedirty = zeroed<bool>(MAX_FILES * CPF);
const chTask = zeroed<i32>(MAX_FILES * CPF);
const chDirtiedAt = zeroed<i64>(MAX_FILES * CPF);
const fChunks = zeroed<i32>(MAX_FILES);
const fDirty = zeroed<i32>(MAX_FILES);
const fWb = zeroed<i32>(MAX_FILES);
const fUnstable = zeroed<i32>(MAX_FILES);
const fIno = zeroed<i32>(MAX_FILES);
rowsEnd();
export let totalDirty: i32 = 0;
export let totalWb: i32 = 0;
export let writesDone: i32 = 0;
export let commitsDone: i32 = 0;

// threads waiting: in filemap_fdatawait_range (file + 1) or for a COMMIT (file + 1)
rowsBegin(MAX_ENTS, entCount);
const waitWb = zeroed<i32>(MAX_ENTS);
const waitCommit = zeroed<i32>(MAX_ENTS);
const waitChunk = zeroed<i32>(MAX_ENTS);      // chunk + 1 (f * CPF + c)
rowsEnd();
const MAXWAIT: i32 = 256;
const waiters = zeroed<i32>(MAXWAIT);
let nWaiters: i32 = 0;
const commitTaskOf = zeroed<i32>(MAX_FILES);   // task + 1

// __mark_inode_dirty on a bdi with no dirty I/O left: the flusher's delayed wake-up
let firstDirty: () => void = (): void => {};
export function nfsOnFirstDirty(f: () => void): void { firstDirty = f; }

// Told when chunk c of file f changes state (clean, dirty, under writeback; c -1: several
// chunks): whoever predicted what dirtying it would do predicts again.
let chunkChanged: (f: i32, c: i32) => void = (f: i32, c: i32): void => {};
export function nfsOnChunkChange(h: (f: i32, c: i32) => void): void { chunkChanged = h; }
function chunkDirtied(f: i32, i: i32): void {
  unchecked(chState[i] = CH_DIRTY);
  unchecked(chDirtiedAt[i] = now);
  unchecked(fDirty[f] += 1);
  if (totalDirty++ == 0) firstDirty();
  chunkChanged(f, i - f * CPF);
}

// Would dirtying chunk c of file f change nothing? Dirty already, or under writeback and
// already marked to be redirtied.
export function chunkDirtyNoop(f: i32, c: i32): bool {
  const i = f * CPF + c;
  const s = unchecked(chState[i]);
  return s == CH_DIRTY || (s == CH_WRITEBACK && unchecked(chRedirty[i]));
}

export let syncDoneHook: (th: i32, status: i32) => void = (th: i32, status: i32): void => {};

export function nfsInit(onSyncDone: (th: i32, status: i32) => void): void {
  syncDoneHook = onSyncDone;
  setCallDone(callDone);
  setCallRelease(release);
  setRpcSyncDone(syncDone);
}

export function nfsNewFile(chunks: i32, ino: i32): i32 {
  assert(nFiles < MAX_FILES, "too many files");
  assert(chunks <= CPF, "file too large");
  const f = nFiles++;
  unchecked(fChunks[f] = chunks);
  unchecked(fIno[f] = ino);
  return f;
}

// reuse a file for a new writer (the script rewrites the same files)
export function nfsTruncate(f: i32, chunks: i32): void {
  unchecked(fChunks[f] = chunks);
}

export function fileIno(f: i32): i32 { return unchecked(fIno[f]); }
export function fileDirty(f: i32): i32 { return unchecked(fDirty[f]); }
export function fileWriteback(f: i32): i32 { return unchecked(fWb[f]); }
export function fileUnstable(f: i32): i32 { return unchecked(fUnstable[f]); }
export function fileCount(): i32 { return nFiles; }
export function fileChunks(f: i32): i32 { return unchecked(fChunks[f]); }

// The WRITE task a chunk under writeback waits for (for the wait-for chain), or -1.
export function firstWritebackTask(f: i32): i32 {
  const n = unchecked(fChunks[f]);
  for (let c = 0; c < n; c++) {
    const i = f * CPF + c;
    if (unchecked(chState[i]) == CH_WRITEBACK) return unchecked(chTask[i]);
  }
  return -1;
}
export function firstWritebackChunk(f: i32): i32 {
  const n = unchecked(fChunks[f]);
  for (let c = 0; c < n; c++) if (unchecked(chState[f * CPF + c]) == CH_WRITEBACK) return c;
  return -1;
}

// a write fault or write(): the chunk's pages become dirty
export function nfsDirty(ent: i32, f: i32, first: i32, count: i32): void {
  for (let c = first; c < first + count && c < unchecked(fChunks[f]); c++) {
    const i = f * CPF + c;
    const s = unchecked(chState[i]);
    if (s == CH_CLEAN) chunkDirtied(f, i);
    else if (s == CH_WRITEBACK) unchecked(chRedirty[i] = true);
  }
  trace(ent, N_dirty, unchecked(fIno[f]), count);
}

// nfs_writepages: one async WRITE per dirty chunk (dirtied before `olderThan`), owned by
// `owner`, started on `cpu` (rpc_execute -> queue_work on the caller's CPU).
export function nfsWritepages(ent: i32, f: i32, owner: i32, cpu: i32, olderThan: i64, max: i32): i32 {
  let n = 0;
  const chunks = unchecked(fChunks[f]);
  for (let c = 0; c < chunks && n < max; c++) {
    const i = f * CPF + c;
    if (unchecked(chState[i]) != CH_DIRTY || unchecked(chDirtiedAt[i]) > olderThan) continue;
    unchecked(chState[i] = CH_WRITEBACK);
    unchecked(fDirty[f] -= 1);
    unchecked(fWb[f] += 1);
    totalDirty--;
    totalWb++;
    const t = rpcNewTask(N_nfsv3_WRITE, NFS3PROC_WRITE, RPC_TASK_ASYNC, owner, -1, OPS_WRITE, i);
    unchecked(chTask[i] = t);
    rpcCallStart(t);
    rpcExecuteAsync(t, cpu);
    n++;
  }
  if (n > 0) chunkChanged(f, -1);
  if (n > 0) trace(ent, N_writepages, unchecked(fIno[f]), n);
  return n;
}

// nfs_commit_inode: an async COMMIT; the caller waits killably (nfsWaitCommit).
export function nfsCommit(f: i32, owner: i32, cpu: i32): i32 {
  if (unchecked(fUnstable[f]) == 0 || unchecked(commitTaskOf[f]) != 0) return -1;
  const t = rpcNewTask(N_nfsv3_COMMIT, NFS3PROC_COMMIT, RPC_TASK_ASYNC, owner, -1, OPS_COMMIT, f);
  unchecked(commitTaskOf[f] = t + 1);
  rpcCallStart(t);
  rpcExecuteAsync(t, cpu);
  return t;
}
export function commitInFlight(f: i32): bool { return unchecked(commitTaskOf[f]) != 0; }

// nfs_revalidate_inode -> nfs3_proc_getattr -> rpc_call_sync: run by the caller
export function nfsGetattrSync(th: i32, owner: i32): i32 {
  const t = rpcNewTask(N_nfsv3_GETATTR, NFS3PROC_GETATTR, 0, owner, th, OPS_DEFAULT, 0);
  rpcCallStart(t);
  rpcExecuteSync(th, t);
  return t;
}

function syncDone(th: i32, task: i32, status: i32): void { syncDoneHook(th, status); }

function addWaiter(th: i32): void {
  for (let i = 0; i < nWaiters; i++) if (unchecked(waiters[i]) == th) return;
  if (nWaiters == MAXWAIT) {                 // forget threads that no longer wait
    let n = 0;
    for (let i = 0; i < nWaiters; i++) {
      const w = unchecked(waiters[i]);
      if (unchecked(waitWb[w]) != 0 || unchecked(waitCommit[w]) != 0) unchecked(waiters[n++] = w);
    }
    nWaiters = n;
  }
  assert(nWaiters < MAXWAIT, "too many writeback waiters");
  unchecked(waiters[nWaiters++] = th);
}

// filemap_fdatawait_range waits page by page (wait_on_page_writeback, in index order): the
// thread sleeps on the first chunk under writeback and is woken when that one ends.
export function nfsWaitWriteback(th: i32, f: i32): void {
  unchecked(waitWb[th] = f + 1);
  unchecked(waitChunk[th] = f * CPF + firstWritebackChunk(f) + 1);
  addWaiter(th);
}
export function nfsWaitCommit(th: i32, f: i32): void { unchecked(waitCommit[th] = f + 1); addWaiter(th); }
export function nfsStopWaiting(th: i32): void { unchecked(waitWb[th] = 0); unchecked(waitChunk[th] = 0); unchecked(waitCommit[th] = 0); }
export function waitingOnFile(th: i32): i32 { return unchecked(waitWb[th]) - 1; }

// end_page_writeback of chunk i (commit false) or the COMMIT of file i done (commit true)
function wakeWaiters(i: i32, commit: bool): void {
  for (let j = 0; j < nWaiters; j++) {
    const th = unchecked(waiters[j]);
    if ((commit ? unchecked(waitCommit[th]) : unchecked(waitChunk[th])) == i + 1) wakeUpProcess(th);
  }
}

// rpc_call_done
function callDone(t: i32): void {
  const ops = unchecked(tkOps[t]);
  const st = unchecked(tkStatus[t]);
  if (ops == OPS_WRITE) {
    const i = unchecked(tkCalldata[t]);
    const f = i / CPF;
    trace(unchecked(tkEnt[t]), N_writeback_done, unchecked(fIno[f]), i % CPF, st);
    if (st >= 0) unchecked(fUnstable[f] += 1);
    else unchecked(chRedirty[i] = true);
  } else if (ops == OPS_COMMIT) {
    const f = unchecked(tkCalldata[t]);
    trace(unchecked(tkEnt[t]), N_commit_done, unchecked(fIno[f]), st);
    if (st >= 0) unchecked(fUnstable[f] = 0);
  }
}

// rpc_release: nfs_writeback_release -> end_page_writeback; nfs_commit_release
function release(t: i32): void {
  const ops = unchecked(tkOps[t]);
  if (ops == OPS_WRITE) {
    const i = unchecked(tkCalldata[t]);
    const f = i / CPF;
    unchecked(fWb[f] -= 1);
    totalWb--;
    writesDone++;
    if (unchecked(chRedirty[i])) {
      unchecked(chRedirty[i] = false);
      chunkDirtied(f, i);
    } else {
      unchecked(chState[i] = CH_CLEAN);
      chunkChanged(f, i % CPF);
    }
    unchecked(chTask[i] = -1);
    trace(unchecked(tkEnt[t]), N_end_writeback, unchecked(fIno[f]), i % CPF);
    wakeWaiters(i, false);
  } else if (ops == OPS_COMMIT) {
    const f = unchecked(tkCalldata[t]);
    unchecked(commitTaskOf[f] = 0);
    commitsDone++;
    wakeWaiters(f, true);
  }
}

export function nfsCpuOf(th: i32): i32 { return threadCpu(th); }
