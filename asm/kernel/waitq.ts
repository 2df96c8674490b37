// Wait queues over "items": small integers a model chooses (an rpc_task id, a thread,
// a connection's rx side ...). An item is on at most one queue at a time, so removal is
// O(1), as with a list_head. A queue has 1..4 priority levels; FIFO within a level.
// SUNRPC's rpc_wait_queue uses the 4 levels (LOW, NORMAL, HIGH, PRIVILEGED) and its own
// batching policy on top (see wqFirstAt).
import { zeroed, rowsBegin, rowsEnd } from "./mem";

export const MAX_ITEMS: i32 = 1 << 16;
const MAX_QUEUES: i32 = 4096;
const LEVELS: i32 = 4;

// items below itemsUsed, queues below nQueues: the instance reset zeroes those rows
let itemsUsed: i32 = 0;
let nQueues: i32 = 0;
rowsBegin(MAX_ITEMS, (): i32 => itemsUsed);
const itNext = zeroed<i32>(MAX_ITEMS);
const itPrev = zeroed<i32>(MAX_ITEMS);
const itQueue = zeroed<i32>(MAX_ITEMS);
const itLevel = zeroed<i32>(MAX_ITEMS);
rowsEnd();

rowsBegin(MAX_QUEUES, (): i32 => nQueues);
const qHead = zeroed<i32>(MAX_QUEUES * LEVELS);
const qTail = zeroed<i32>(MAX_QUEUES * LEVELS);
const qLen = zeroed<i32>(MAX_QUEUES);
const qLevels = zeroed<i32>(MAX_QUEUES);
const qName = zeroed<i32>(MAX_QUEUES);
rowsEnd();

// An item on no queue has itQueue == -1; StaticArrays start zeroed, so store q + 1.
export function wqNew(nameId: i32, levels: i32 = 1): i32 {
  assert(nQueues < MAX_QUEUES, "too many wait queues");
  assert(levels >= 1 && levels <= LEVELS, "wait queue levels must be 1..4");
  const q = nQueues++;
  unchecked(qLevels[q] = levels);
  unchecked(qName[q] = nameId);
  for (let l = 0; l < LEVELS; l++) {
    unchecked(qHead[q * LEVELS + l] = -1);
    unchecked(qTail[q * LEVELS + l] = -1);
  }
  return q;
}

export function wqOf(item: i32): i32 { return unchecked(itQueue[item]) - 1; }
export function wqLen(q: i32): i32 { return unchecked(qLen[q]); }
export function wqName(q: i32): i32 { return unchecked(qName[q]); }
export function wqLevels(q: i32): i32 { return unchecked(qLevels[q]); }
export function wqLevelOf(item: i32): i32 { return unchecked(itLevel[item]); }
export function wqCount(): i32 { return nQueues; }

// Appends item at the tail of `level` (0 = lowest priority).
export function wqAdd(q: i32, item: i32, level: i32 = 0): void {
  assert(item >= 0 && item < MAX_ITEMS, "wait queue item out of range");
  assert(wqOf(item) < 0, "item already on a wait queue");
  if (item >= itemsUsed) itemsUsed = item + 1;
  if (level >= unchecked(qLevels[q])) level = unchecked(qLevels[q]) - 1;
  const k = q * LEVELS + level;
  const tail = unchecked(qTail[k]);
  unchecked(itPrev[item] = tail);
  unchecked(itNext[item] = -1);
  if (tail >= 0) unchecked(itNext[tail] = item); else unchecked(qHead[k] = item);
  unchecked(qTail[k] = item);
  unchecked(itQueue[item] = q + 1);
  unchecked(itLevel[item] = level);
  unchecked(qLen[q] += 1);
}

// Inserts item at the head of `level` (a task re-queued ahead of others).
export function wqAddHead(q: i32, item: i32, level: i32 = 0): void {
  assert(wqOf(item) < 0, "item already on a wait queue");
  if (item >= itemsUsed) itemsUsed = item + 1;
  if (level >= unchecked(qLevels[q])) level = unchecked(qLevels[q]) - 1;
  const k = q * LEVELS + level;
  const head = unchecked(qHead[k]);
  unchecked(itNext[item] = head);
  unchecked(itPrev[item] = -1);
  if (head >= 0) unchecked(itPrev[head] = item); else unchecked(qTail[k] = item);
  unchecked(qHead[k] = item);
  unchecked(itQueue[item] = q + 1);
  unchecked(itLevel[item] = level);
  unchecked(qLen[q] += 1);
}

// Removes item from whatever queue holds it; returns false if it was on none.
export function wqRemove(item: i32): bool {
  const q = wqOf(item);
  if (q < 0) return false;
  const k = q * LEVELS + unchecked(itLevel[item]);
  const prev = unchecked(itPrev[item]), next = unchecked(itNext[item]);
  if (prev >= 0) unchecked(itNext[prev] = next); else unchecked(qHead[k] = next);
  if (next >= 0) unchecked(itPrev[next] = prev); else unchecked(qTail[k] = prev);
  unchecked(itQueue[item] = 0);
  unchecked(qLen[q] -= 1);
  return true;
}

// First item of one level, or -1.
export function wqFirstAt(q: i32, level: i32): i32 {
  return unchecked(qHead[q * LEVELS + level]);
}

// The item after `item` within its level, or -1.
export function wqNext(item: i32): i32 { return unchecked(itNext[item]); }

// First item of the highest non-empty level, or -1.
export function wqPeek(q: i32): i32 {
  for (let l = unchecked(qLevels[q]) - 1; l >= 0; l--) {
    const h = unchecked(qHead[q * LEVELS + l]);
    if (h >= 0) return h;
  }
  return -1;
}

export function wqPop(q: i32): i32 {
  const it = wqPeek(q);
  if (it >= 0) wqRemove(it);
  return it;
}
