// The event heap: a 4-ary min-heap ordered by (time, sequence). The sequence number
// is global and monotonic, so events at the same nanosecond run in the order they
// were scheduled: determinism does not depend on heap layout (any heap pops the same
// order). Four children to a node, whose entries share one cache line: a pop reads
// half as many levels as a binary heap, each a line, and pops are most of a run.
//
// Events live in a slot pool; a heap entry names its slot. Timers are events that can
// be cancelled: cancel marks the slot and the heap drops it lazily when it surfaces.
// Everything is preallocated: scheduling and running an event allocate nothing.
import { now, setNow } from "./clock";
import { zeroed, rowsBegin, rowsEnd } from "./mem";
import { KIND_MODEL, hookEvent } from "./hooks";

export const MAX_EVENTS: i32 = 1 << 16;
const SLOT_BITS: i32 = 16;
const SLOT_MASK: i32 = MAX_EVENTS - 1;
// A handle is (generation << SLOT_BITS) | slot, generations 1..0x7fff: it must stay a
// positive i32. Checked when the module is compiled.
if (MAX_EVENTS != 1 << SLOT_BITS || SLOT_BITS + 15 > 31) ERROR("event handles: MAX_EVENTS must be 1 << SLOT_BITS, SLOT_BITS <= 16");

// slot pool
let nFree: i32 = 0;
let nSlotsUsed: i32 = 0;
// every slot and heap position written is below nSlotsUsed: the instance reset zeroes those rows
rowsBegin(MAX_EVENTS, (): i32 => nSlotsUsed);
const evTime = zeroed<i64>(MAX_EVENTS);
const evKind = zeroed<i32>(MAX_EVENTS);
const evObj = zeroed<i32>(MAX_EVENTS);
const evArg = zeroed<i32>(MAX_EVENTS);
const evGen = zeroed<i32>(MAX_EVENTS);
const evCancelled = zeroed<bool>(MAX_EVENTS);
const freeSlots = zeroed<i32>(MAX_EVENTS);
rowsEnd();

// The heap: 16-byte entries (time, seq << SLOT_BITS | slot; a run schedules far fewer than
// 2^48 events). Entry i sits at heapAt + 16 * i, and heapAt is 48 bytes past a line, so
// a node's children 4i+1..4i+4 fill one 64-byte line. Its rows: the positions (fewer than
// the slots used) plus the alignment's.
const HEAP_PAD: i32 = 8;
rowsBegin(MAX_EVENTS + HEAP_PAD, (): i32 => nSlotsUsed + HEAP_PAD);
const heapMem = zeroed<i64>((MAX_EVENTS + HEAP_PAD) * 2);
rowsEnd();
const heapAt: usize = ((changetype<usize>(heapMem) + 63) & ~(<usize>63)) + 48;
@inline function hTime(i: i32): i64 { return load<i64>(heapAt + (<usize>i << 4)); }
@inline function hTie(i: i32): u64 { return load<u64>(heapAt + (<usize>i << 4), 8); }
@inline function hSet(i: i32, t: i64, tie: u64): void {
  store<i64>(heapAt + (<usize>i << 4), t);
  store<u64>(heapAt + (<usize>i << 4), tie, 8);
}
let hLen: i32 = 0;
let seq: u64 = 0;

// What the last popped event was.
export let curKind: i32 = 0;
export let curObj: i32 = 0;
export let curArg: i32 = 0;

@inline function before(t: i64, tie: u64, u: i64, uTie: u64): bool { return t < u || (t == u && tie < uTie); }

// (t, tie) enters at hole i and moves up past its larger parents.
function siftUp(i: i32, t: i64, tie: u64): void {
  while (i > 0) {
    const p = (i - 1) >> 2;
    const pt = hTime(p), pTie = hTie(p);
    if (!before(t, tie, pt, pTie)) break;
    hSet(i, pt, pTie);
    i = p;
  }
  hSet(i, t, tie);
}

// (t, tie) enters at the root's hole and moves down past its smallest child.
function siftDown(t: i64, tie: u64): void {
  let i = 0;
  while (true) {
    const c = 4 * i + 1;
    if (c >= hLen) break;
    let m = c, mt = hTime(c), mTie = hTie(c);
    const end = min(c + 4, hLen);
    for (let j = c + 1; j < end; j++) {
      const jt = hTime(j), jTie = hTie(j);
      if (before(jt, jTie, mt, mTie)) { m = j; mt = jt; mTie = jTie; }
    }
    if (!before(mt, mTie, t, tie)) break;
    hSet(i, mt, mTie);
    i = m;
  }
  hSet(i, t, tie);
}

// Generations cycle through 1..0x7fff, so a live handle is never 0: models use 0
// for "no timer armed".
@inline function nextGen(slot: i32): i32 {
  return unchecked(evGen[slot]) % 0x7fff + 1;
}

function allocSlot(): i32 {
  if (nFree > 0) return unchecked(freeSlots[--nFree]);
  assert(nSlotsUsed < MAX_EVENTS, "event pool exhausted: more than 65536 pending events");
  return nSlotsUsed++;
}

// Event kinds are registered by name at module start, as knobs, patches and streams are:
// each gets a number and a handler, and the world dispatches through the table. Kinds
// below KIND_MODEL are the kernel's own (fixed numbers); model kinds are numbered from
// KIND_MODEL in registration order. A model kind registered without a handler goes to
// the scenario's event hook. A name or a number registered twice is a simulator bug: it
// aborts, naming it. At module start the host cannot read an abort's message yet, so a
// clash found then is held and reported by the first worldInit (kindsSeal).
export const MAX_KINDS: i32 = 256;
if (KIND_MODEL >= MAX_KINDS) ERROR("event kinds: KIND_MODEL must leave room for model kinds below MAX_KINDS");
export type EventHandler = (kind: i32, obj: i32, arg: i32) => void;
function toModelHook(kind: i32, obj: i32, arg: i32): void { hookEvent(kind, obj, arg); }
const kindHandler = new StaticArray<EventHandler>(MAX_KINDS);
for (let k = 0; k < MAX_KINDS; k++) unchecked(kindHandler[k] = toModelHook);
const kindUsed = zeroed<bool>(MAX_KINDS);
const kindLabel = new Array<string>();
let nextModelKind: i32 = KIND_MODEL;
let kindClash: string | null = null;
let kindsSealed = false;

function kindRefuse(msg: string): void {
  if (kindsSealed) abort(msg);
  if (kindClash === null) kindClash = msg;
}

// Registers kind `number` as `label`; returns the number.
export function eventKindAt(number: i32, label: string, handler: EventHandler = toModelHook): i32 {
  assert(number > 0 && number < MAX_KINDS, "event kind number out of range");
  for (let i = 0; i < kindLabel.length; i++) {
    if (kindLabel[i] == label) kindRefuse("event kind \"" + label + "\" registered twice");
  }
  if (unchecked(kindUsed[number])) kindRefuse("event kind number " + number.toString() + " (\"" + label + "\") registered twice");
  kindLabel.push(label);
  unchecked(kindUsed[number] = true);
  unchecked(kindHandler[number] = handler);
  return number;
}

// Registers a model kind by name; returns its number.
export function eventKind(label: string, handler: EventHandler = toModelHook): i32 {
  while (nextModelKind < MAX_KINDS && unchecked(kindUsed[nextModelKind])) nextModelKind++;
  assert(nextModelKind < MAX_KINDS, "too many event kinds");
  return eventKindAt(nextModelKind, label, handler);
}

// worldInit: registration is over; report a clash found at module start.
export function kindsSeal(): void {
  kindsSealed = true;
  const clash = kindClash;
  if (clash !== null) abort(clash);
}

// worldInit, after the build set the hooks: the kinds without a handler of their own go
// straight to the scenario's event hook (one indirect call per event, not two).
export function kindsBindHook(hook: EventHandler): void {
  for (let k = 0; k < MAX_KINDS; k++) {
    if (unchecked(kindHandler[k]) == toModelHook) unchecked(kindHandler[k] = hook);
  }
}

@inline export function dispatchEvent(kind: i32, obj: i32, arg: i32): void {
  unchecked(kindHandler[kind])(kind, obj, arg);
}

// Schedules event `kind` on object `obj` at absolute time `at`, which must not lie in the
// past; returns a handle that `cancelEvent` accepts.
export function scheduleAt(at: i64, kind: i32, obj: i32, arg: i32 = 0): i32 {
  assert(at >= now, "scheduleAt: an event in the past");
  const slot = allocSlot();
  const gen = nextGen(slot);
  unchecked(evGen[slot] = gen);
  unchecked(evTime[slot] = at);
  unchecked(evKind[slot] = kind);
  unchecked(evObj[slot] = obj);
  unchecked(evArg[slot] = arg);
  unchecked(evCancelled[slot] = false);
  siftUp(hLen++, at, (seq++ << <u64>SLOT_BITS) | <u64>slot);
  return (gen << SLOT_BITS) | slot;
}

export function scheduleIn(delay: i64, kind: i32, obj: i32, arg: i32 = 0): i32 {
  return scheduleAt(now + delay, kind, obj, arg);
}

// A handle is live until its event runs or is cancelled; a stale handle is ignored.
export function eventPending(handle: i32): bool {
  if (handle <= 0) return false;
  const slot = handle & SLOT_MASK;
  return unchecked(evGen[slot]) == (handle >>> SLOT_BITS) && !unchecked(evCancelled[slot]);
}

export function cancelEvent(handle: i32): bool {
  if (!eventPending(handle)) return false;
  unchecked(evCancelled[handle & SLOT_MASK] = true);
  return true;
}

export function eventTime(handle: i32): i64 {
  return unchecked(evTime[handle & SLOT_MASK]);
}

// Pops the next live event, advances the clock and fills curKind/curObj/curArg.
// Returns false when nothing is left or the next event lies beyond `until`.
export function popEvent(until: i64): bool {
  while (hLen > 0) {
    if (hTime(0) > until) return false;
    const slot = <i32>(hTie(0) & SLOT_MASK);
    setNow(hTime(0));
    hLen--;
    if (hLen > 0) siftDown(hTime(hLen), hTie(hLen));
    const cancelled = unchecked(evCancelled[slot]);
    curKind = unchecked(evKind[slot]);
    curObj = unchecked(evObj[slot]);
    curArg = unchecked(evArg[slot]);
    // bump the generation so the handle goes stale, then recycle the slot
    unchecked(evGen[slot] = nextGen(slot));
    unchecked(freeSlots[nFree++] = slot);
    if (!cancelled) return true;
  }
  return false;
}

export function pendingEvents(): i32 { return hLen; }
export function nextEventTime(): i64 { return hLen > 0 ? hTime(0) : -1; }

// The plain heap bound for `npm run bench`: n pushes then n pops with random times,
// through the same arrays and comparisons, with no dispatch.
export function benchHeap(n: i32): i64 {
  let x: u64 = 0x12345678;
  let sum: i64 = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    // from now, not from the start: a drain moves the clock, and the past is refused
    scheduleAt(now + <i64>(x & 0xffffff), 0, i);
    if (hLen >= MAX_EVENTS - 1) {
      while (popEvent(i64.MAX_VALUE)) sum += curObj;
    }
  }
  while (popEvent(i64.MAX_VALUE)) sum += curObj;
  return sum;
}
