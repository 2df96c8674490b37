// struct rpc_wait_queue (net/sunrpc/sched.c, 3.6): FIFO queues (xprt_pending, xprt_binding,
// delayq) and priority queues (xprt_sending, xprt_backlog) with four lists, LOW..PRIVILEGED.
//
// A priority queue serves tasks in batches per owner (tk_owner, the pid that created the
// task): up to RPC_BATCH_COUNT (16) tasks of one owner in a row, and after `count` owner
// switches (1 << 2*priority) it moves to the next lower non-empty list, wrapping from LOW
// to the highest. The kernel keeps an owner's later tasks on the first one's `links`
// sublist; here they sit right behind it in the flat list, which serves them in the same
// order. Items are rpc_task slots; a task is on at most one rpc_wait_queue.
import { MAX_TASKS, RPC_BATCH_COUNT, RPC_NR_PRIORITY } from "./defs";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const MAX_Q: i32 = 16;
const L: i32 = RPC_NR_PRIORITY;

const qName = zeroed<i32>(MAX_Q);
const qMaxPrio = zeroed<i32>(MAX_Q);     // 0 for FIFO queues
const qPriority = zeroed<i32>(MAX_Q);    // current list index
const qCount = zeroed<i32>(MAX_Q);
const qNr = zeroed<i32>(MAX_Q);
const qOwner = zeroed<i32>(MAX_Q);
const qLen = zeroed<i32>(MAX_Q);
const qHead = zeroed<i32>(MAX_Q * L);
const qTail = zeroed<i32>(MAX_Q * L);
let nQ: i32 = 0;

let tRows: i32 = 0;     // above every task slot seen
rowsBegin(MAX_TASKS, (): i32 => tRows);
const tNext = zeroed<i32>(MAX_TASKS);
const tPrev = zeroed<i32>(MAX_TASKS);
const tQueue = zeroed<i32>(MAX_TASKS);   // queue + 1; 0 = not queued
const tLevel = zeroed<i32>(MAX_TASKS);
const tOwner = zeroed<i32>(MAX_TASKS);
rowsEnd();

export function rpcqSetOwner(task: i32, owner: i32): void {
  if (task >= tRows) tRows = task + 1;
  unchecked(tOwner[task] = owner);
}

function setPriority(q: i32, p: i32): void {
  unchecked(qPriority[q] = p);
  unchecked(qCount[q] = 1 << (p * 2));
}

function setOwner(q: i32, pid: i32): void {
  unchecked(qOwner[q] = pid);
  unchecked(qNr[q] = RPC_BATCH_COUNT);
}

function resetPriority(q: i32): void {
  setPriority(q, unchecked(qMaxPrio[q]));
  setOwner(q, 0);
}

// rpc_init_wait_queue / rpc_init_priority_wait_queue
export function rpcqNew(nameId: i32, priority: bool): i32 {
  assert(nQ < MAX_Q, "too many rpc wait queues");
  const q = nQ++;
  unchecked(qName[q] = nameId);
  unchecked(qMaxPrio[q] = priority ? L - 1 : 0);
  for (let l = 0; l < L; l++) {
    unchecked(qHead[q * L + l] = -1);
    unchecked(qTail[q * L + l] = -1);
  }
  resetPriority(q);
  return q;
}

export function rpcqName(q: i32): i32 { return unchecked(qName[q]); }
export function rpcqLen(q: i32): i32 { return q < 0 ? 0 : unchecked(qLen[q]); }
export function rpcqOf(task: i32): i32 { return unchecked(tQueue[task]) - 1; }
export function rpcqLevelOf(task: i32): i32 { return unchecked(tLevel[task]); }
export function rpcqFirstAt(q: i32, level: i32): i32 { return unchecked(qHead[q * L + level]); }
export function rpcqNextOf(task: i32): i32 { return unchecked(tNext[task]); }
export function rpcqIsPriority(q: i32): bool { return unchecked(qMaxPrio[q]) > 0; }
export function rpcqLevelLen(q: i32, level: i32): i32 {
  let n = 0;
  for (let t = unchecked(qHead[q * L + level]); t >= 0; t = unchecked(tNext[t])) n++;
  return n;
}

function linkAfter(q: i32, level: i32, after: i32, task: i32): void {
  const k = q * L + level;
  if (after < 0) {            // at the head
    const h = unchecked(qHead[k]);
    unchecked(tPrev[task] = -1);
    unchecked(tNext[task] = h);
    if (h >= 0) unchecked(tPrev[h] = task); else unchecked(qTail[k] = task);
    unchecked(qHead[k] = task);
  } else {
    const n = unchecked(tNext[after]);
    unchecked(tPrev[task] = after);
    unchecked(tNext[task] = n);
    unchecked(tNext[after] = task);
    if (n >= 0) unchecked(tPrev[n] = task); else unchecked(qTail[k] = task);
  }
}

function unlink(q: i32, level: i32, task: i32): void {
  const k = q * L + level;
  const p = unchecked(tPrev[task]), n = unchecked(tNext[task]);
  if (p >= 0) unchecked(tNext[p] = n); else unchecked(qHead[k] = n);
  if (n >= 0) unchecked(tPrev[n] = p); else unchecked(qTail[k] = p);
}

// __rpc_add_wait_queue: priority queues group an owner's tasks together.
export function rpcqAdd(q: i32, task: i32, level: i32): void {
  assert(rpcqOf(task) < 0, "rpc_task already queued");
  if (task >= tRows) tRows = task + 1;
  const max = unchecked(qMaxPrio[q]);
  if (level > max) level = max;
  if (level < 0) level = 0;
  let after = unchecked(qTail[q * L + level]);
  if (max > 0) {
    // behind the last queued task of the same owner, if any
    const owner = unchecked(tOwner[task]);
    for (let t = after; t >= 0; t = unchecked(tPrev[t])) {
      if (unchecked(tOwner[t]) == owner) { after = t; break; }
    }
  }
  linkAfter(q, level, after, task);
  unchecked(tQueue[task] = q + 1);
  unchecked(tLevel[task] = level);
  unchecked(qLen[q] += 1);
}

// __rpc_remove_wait_queue
export function rpcqRemove(task: i32): bool {
  const q = rpcqOf(task);
  if (q < 0) return false;
  unlink(q, unchecked(tLevel[task]), task);
  unchecked(tQueue[task] = 0);
  unchecked(qLen[q] -= 1);
  return true;
}

// list_move_tail of a batch leader: its same-owner followers go with it.
function moveGroupToTail(q: i32, level: i32, head: i32): void {
  const owner = unchecked(tOwner[head]);
  let last = head;
  while (unchecked(tNext[last]) >= 0 && unchecked(tOwner[unchecked(tNext[last])]) == owner) last = unchecked(tNext[last]);
  const k = q * L + level;
  if (unchecked(tNext[last]) < 0) return;          // already the tail
  // detach [head..last]
  const p = unchecked(tPrev[head]), n = unchecked(tNext[last]);
  if (p >= 0) unchecked(tNext[p] = n); else unchecked(qHead[k] = n);
  unchecked(tPrev[n] = p);
  // append
  const tail = unchecked(qTail[k]);
  unchecked(tNext[tail] = head);
  unchecked(tPrev[head] = tail);
  unchecked(tNext[last] = -1);
  unchecked(qTail[k] = last);
}

// __rpc_find_next_queued_priority (3.6), including its batching quirks.
function findNextPriority(q: i32): i32 {
  let lvl = unchecked(qPriority[q]);
  let task = unchecked(qHead[q * L + lvl]);
  if (task >= 0) {
    if (unchecked(qOwner[q]) == unchecked(tOwner[task])) {
      unchecked(qNr[q] -= 1);
      if (unchecked(qNr[q]) != 0) return task;
      moveGroupToTail(q, lvl, task);
    }
    unchecked(qCount[q] -= 1);
    if (unchecked(qCount[q]) != 0) {
      setOwner(q, unchecked(tOwner[task]));
      return task;
    }
  }
  const start = unchecked(qPriority[q]);
  const max = unchecked(qMaxPrio[q]);
  let l = start;
  do {
    if (l == 0) l = max; else l = l - 1;
    const h = unchecked(qHead[q * L + l]);
    if (h >= 0) {
      setPriority(q, l);
      setOwner(q, unchecked(tOwner[h]));
      return h;
    }
  } while (l != start);
  resetPriority(q);
  return -1;
}

// __rpc_find_next_queued: the task rpc_wake_up_first() would pick, or -1.
export function rpcqFindNext(q: i32): i32 {
  if (unchecked(qMaxPrio[q]) > 0) return findNextPriority(q);
  return unchecked(qHead[q * L]);
}

// Head of the highest non-empty list (for rpc_wake_up / rpc_wake_up_status order).
export function rpcqHighest(q: i32): i32 {
  for (let l = unchecked(qMaxPrio[q]); l >= 0; l--) {
    const h = unchecked(qHead[q * L + l]);
    if (h >= 0) return h;
  }
  return -1;
}
