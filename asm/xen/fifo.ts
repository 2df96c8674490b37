// FIFOs of (a, b) pairs over one preallocated cell pool: socket backlogs, watch-event
// queues, the uevent queue. The kernel's wait queues (kernel/waitq.ts) share one item
// namespace with the run queues, so messages that are not threads live here instead.
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const MAX_FIFOS: i32 = 4096;
const MAX_CELLS: i32 = 1 << 14;

let freeCell: i32 = -1;
let cellsUsed: i32 = 0;
rowsBegin(MAX_CELLS, (): i32 => cellsUsed);
const cellA = zeroed<i32>(MAX_CELLS);
const cellB = zeroed<i32>(MAX_CELLS);
const cellNext = zeroed<i32>(MAX_CELLS);
rowsEnd();

let nFifos: i32 = 0;
rowsBegin(MAX_FIFOS, (): i32 => nFifos);
const fHead = zeroed<i32>(MAX_FIFOS);
const fTail = zeroed<i32>(MAX_FIFOS);
const fLen = zeroed<i32>(MAX_FIFOS);
rowsEnd();

// The pair popped last.
export let popA: i32 = 0;
export let popB: i32 = 0;

export function fifoNew(): i32 {
  assert(nFifos < MAX_FIFOS, "too many fifos");
  const f = nFifos++;
  unchecked(fHead[f] = -1);
  unchecked(fTail[f] = -1);
  return f;
}

export function fifoPush(f: i32, a: i32, b: i32): void {
  let c = freeCell;
  if (c >= 0) freeCell = unchecked(cellNext[c]);
  else { assert(cellsUsed < MAX_CELLS, "fifo cells exhausted"); c = cellsUsed++; }
  unchecked(cellA[c] = a);
  unchecked(cellB[c] = b);
  unchecked(cellNext[c] = -1);
  const t = unchecked(fTail[f]);
  if (t >= 0) unchecked(cellNext[t] = c); else unchecked(fHead[f] = c);
  unchecked(fTail[f] = c);
  unchecked(fLen[f] += 1);
}

// Pops the oldest pair into popA/popB; false when empty.
export function fifoPop(f: i32): bool {
  const c = unchecked(fHead[f]);
  if (c < 0) return false;
  popA = unchecked(cellA[c]);
  popB = unchecked(cellB[c]);
  const n = unchecked(cellNext[c]);
  unchecked(fHead[f] = n);
  if (n < 0) unchecked(fTail[f] = -1);
  unchecked(fLen[f] -= 1);
  unchecked(cellNext[c] = freeCell);
  freeCell = c;
  return true;
}

export function fifoLen(f: i32): i32 { return unchecked(fLen[f]); }
