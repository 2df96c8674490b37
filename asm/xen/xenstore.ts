// xenstored: the tree, watches and transactions, and the daemon thread that delivers
// watch events.
//
// Writes and removals apply when the calling step completes (the step's cost stands for
// the round trip to the daemon). Watch events are not delivered in the caller's step:
// they queue at the xenstored thread, which hands each one to its watcher (libxl's fd,
// the kernel's xenwatch thread, the guest's xenwatch) and wakes it, so watch latency and
// the order in which watchers see changes come from CPU time, as on a dom0.
//
// Transactions follow 2012's C xenstored: a transaction ends with EAGAIN when any write
// happened in the store since it started (one global generation count).
import { fn, name, CAT_STEP, CAT_STATE } from "../kernel/names";
import { trace } from "../kernel/trace";
import { threadNext, threadSleep, wakeUpProcess, deviceIrq, TASK_INTERRUPTIBLE, MAX_ENTS, entCount } from "../kernel/sched";
import { stream } from "../kernel/prng";
import { scheduleIn } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { fifoNew, fifoPush, fifoPop, fifoLen, popA, popB } from "./fifo";
import { jArr, jEndArr, jObj, jEndObj, jKS, jKI } from "../kernel/json";
import { nameStr } from "../kernel/names";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

// A host runs one xenstored, which every domain's clients share: its tree, watches and
// generation count stay module state, as they are the one daemon's.
export const MAX_NODES: i32 = 1 << 15;
const MAX_WATCHES: i32 = 4096;
export const EAGAIN: i32 = -11;
export const ENOENT: i32 = -2;

// One record of NODE_WORDS per node, not one array per field: a run's ~200 nodes then
// sit on three pages whatever the layout around them. Ten arrays put each one's first
// nodes on a page of its own, and when an unrelated module's allocations shifted them,
// a fresh instance's event loop faulted in a second page of eight of them (blktap2: 12.8
// page faults per seed inside the loop, 5.7 with records).
const NODE_WORDS: i32 = 10;
const F_PARENT: i32 = 0;
const F_SEG: i32 = 1;       // name id of the path segment
const F_NUM: i32 = 2;       // numeric segment (domid, devid), -1: none
const F_CHILD: i32 = 3;
const F_SIBLING: i32 = 4;
const F_LIVE: i32 = 5;      // 0/1
const F_FMT: i32 = 6;       // value format (a name id); 0: a plain integer
const F_VAL: i32 = 7;
const F_VAL2: i32 = 8;
const F_HAS_VAL: i32 = 9;   // 0/1
// nodes, watches and threads below their counts: the instance reset zeroes those rows
let nNodes: i32 = 0;
rowsBegin(MAX_NODES, (): i32 => nNodes);
const nodes = zeroed<i32>(MAX_NODES * NODE_WORDS);
rowsEnd();
export function xsNodeCount(): i32 { return nNodes; }
@inline function nd(n: i32, f: i32): i32 { return unchecked(nodes[n * NODE_WORDS + f]); }
@inline function ndSet(n: i32, f: i32, v: i32): void { unchecked(nodes[n * NODE_WORDS + f] = v); }
@inline function live(n: i32): bool { return nd(n, F_LIVE) != 0; }
let generation: i32 = 0;

let nWatches: i32 = 0;
rowsBegin(MAX_WATCHES, (): i32 => nWatches);
const wNode = zeroed<i32>(MAX_WATCHES);
const wOwner = zeroed<i32>(MAX_WATCHES);
const wToken = zeroed<i32>(MAX_WATCHES);
const wLive = zeroed<bool>(MAX_WATCHES);
rowsEnd();

rowsBegin(MAX_ENTS, entCount);
const thWatchFifo = zeroed<i32>(MAX_ENTS);   // fifo + 1; 0: none yet
const thRingIrqCpu = zeroed<i32>(MAX_ENTS);  // cpu + 1 of a kernel client's xenbus IRQ; 0: socket
rowsEnd();

// Kernel clients (dom0's and a guest's xenbus) talk to xenstored over the shared ring page:
// each event xenstored puts there raises the xenbus event channel (timing model,
// kernel/sched.ts deviceIrq), bound to the client domain's VCPU 0 as Linux binds it. The
// upcall, wake_waiting and the ring copy take ~3 us on a 2012 PV kernel. libxl talks over
// the Unix socket: no interrupt. The interrupt is an event at the same instant, so it lands
// after xenstored's step boundary (and the wake-up's) is settled. Raising it directly from
// the step is safe now (sched.ts softirqOn carries it to the CPU's next step) but changes
// 33-38 of seeds 1-50 in every blktap2 patch set, so the event stays.
const S_IRQ = stream("irq.xenbus");
const XENBUS_IRQ_NS: i64 = 3000;
export const EV_XENBUS_IRQ: i32 = eventKind("xenbus.irq");   // obj: the CPU
export function xsRingClient(t: i32, irqCpu: i32): void { unchecked(thRingIrqCpu[t] = irqCpu + 1); }
export function xsEvent(kind: i32, obj: i32): bool {
  if (kind != EV_XENBUS_IRQ) return false;
  deviceIrq(obj, S_IRQ, XENBUS_IRQ_NS);
  return true;
}

const N_root = name("");
const N_do_write = fn("xs_write", "node=%d %n=%d", CAT_STATE);
const N_do_rm = fn("xs_rm", "node=%d %n%d err=%e", CAT_STATE);
const N_tx_start = fn("xs_transaction_start", "gen=%d");
const N_tx_end = fn("xs_transaction_end", "err=%e gen=%d now=%d");
const N_fire = fn("fire_watches", "node=%d %n watcher=%d token=%d", CAT_STEP);
const N_xenstored_loop = name("xenstored_main_loop");

// Values that are not plain integers are a pattern with up to two %d/%x, registered at
// module start: one name for the pattern (snapshots) and one xs_write trace format.
const MAX_FORMATS: i32 = 32;
const fmtTrace = zeroed<i32>(MAX_FORMATS);
const fmtName = zeroed<i32>(MAX_FORMATS);
let nFormats: i32 = 0;

export function xsValueFormat(pattern: string): i32 {
  assert(nFormats < MAX_FORMATS, "too many xenstore value formats");
  const id = name(pattern);
  unchecked(fmtName[nFormats] = id);
  unchecked(fmtTrace[nFormats] = fn("xs_write", "node=%d %n=" + pattern, CAT_STATE));
  nFormats++;
  return id;
}

function writeTraceName(fmt: i32): i32 {
  for (let i = 0; i < nFormats; i++) if (unchecked(fmtName[i]) == fmt) return unchecked(fmtTrace[i]);
  return N_do_write;
}

let xenstoredThread: i32 = -1;
let pendingFires: i32 = -1;
export const XS_LOOP: i32 = 1;
const XS_FIRE_NS: i64 = 15000;

export function xsInit(daemon: i32): void {
  xenstoredThread = daemon;
  pendingFires = fifoNew();
  nNodes = 0;
  newNode(-1, N_root, -1);
  ndSet(0, F_LIVE, 1);
}

function newNode(parent: i32, seg: i32, num: i32): i32 {
  assert(nNodes < MAX_NODES, "xenstore node pool exhausted");
  const n = nNodes++;
  ndSet(n, F_PARENT, parent);
  ndSet(n, F_SEG, seg);
  ndSet(n, F_NUM, num);
  ndSet(n, F_CHILD, -1);
  ndSet(n, F_SIBLING, -1);
  if (parent >= 0) {
    ndSet(n, F_SIBLING, nd(parent, F_CHILD));
    ndSet(parent, F_CHILD, n);
  }
  return n;
}

export function xsRoot(): i32 { return 0; }

// The node parent/seg[num], created (absent) if it was never named: building a path
// does not write it.
export function xsPath(parent: i32, seg: i32, num: i32 = -1): i32 {
  for (let c = nd(parent, F_CHILD); c >= 0; c = nd(c, F_SIBLING)) {
    if (nd(c, F_SEG) == seg && nd(c, F_NUM) == num) return c;
  }
  return newNode(parent, seg, num);
}

export function xsParent(n: i32): i32 { return nd(n, F_PARENT); }
export function xsExists(n: i32): bool { return live(n); }
export function xsRead(n: i32): i32 { return live(n) ? nd(n, F_VAL) : -1; }

function makeLive(n: i32): void {
  for (let p = n; p >= 0 && !live(p); p = nd(p, F_PARENT)) ndSet(p, F_LIVE, 1);
}

// xs_write: intermediate directories are created, as xenstored does.
export function xsWrite(actor: i32, n: i32, val: i32, fmt: i32 = 0, val2: i32 = 0): void {
  makeLive(n);
  ndSet(n, F_VAL, val);
  ndSet(n, F_VAL2, val2);
  ndSet(n, F_FMT, fmt);
  ndSet(n, F_HAS_VAL, 1);
  generation++;
  trace(actor, fmt == 0 ? N_do_write : writeTraceName(fmt), n, nd(n, F_SEG), val, val2);
  fireWatches(n, false);
}

function kill(n: i32): void {
  ndSet(n, F_LIVE, 0);
  ndSet(n, F_HAS_VAL, 0);
  for (let c = nd(n, F_CHILD); c >= 0; c = nd(c, F_SIBLING)) if (live(c)) kill(c);
}

// xs_rm of a subtree; watches on the node, its parents and everything under it fire.
export function xsRm(actor: i32, n: i32): i32 {
  if (!live(n)) {
    trace(actor, N_do_rm, n, nd(n, F_SEG), nd(n, F_NUM), ENOENT);
    return ENOENT;
  }
  kill(n);
  generation++;
  trace(actor, N_do_rm, n, nd(n, F_SEG), nd(n, F_NUM), 0);
  fireWatches(n, true);
  return 0;
}

// libxl__xs_path_cleanup (4.2): xs_rm, then every parent left empty.
export function xsPathCleanup(actor: i32, n: i32): i32 {
  const err = xsRm(actor, n);
  for (let p = nd(n, F_PARENT); p > 0 && live(p) && !hasLiveChild(p); p = nd(p, F_PARENT)) {
    xsRm(actor, p);
  }
  return err;
}

function hasLiveChild(n: i32): bool {
  for (let c = nd(n, F_CHILD); c >= 0; c = nd(c, F_SIBLING)) if (live(c)) return true;
  return false;
}

// A special watch path (@releaseDomain): xenstored fires it without a write.
export function xsFireSpecial(n: i32): void { fireWatches(n, false); }

export function xsTransactionStart(actor: i32): i32 {
  trace(actor, N_tx_start, generation);
  return generation;
}

// 0, or -EAGAIN when the store changed since the transaction started: retry.
export function xsTransactionEnd(actor: i32, startGen: i32): i32 {
  const err = startGen == generation ? 0 : EAGAIN;
  trace(actor, N_tx_end, err, startGen, generation);
  return err;
}

export function xsWatch(n: i32, owner: i32, token: i32): i32 {
  let w = 0;
  while (w < nWatches && unchecked(wLive[w])) w++;
  if (w == nWatches) { assert(nWatches < MAX_WATCHES, "too many xenstore watches"); nWatches++; }
  unchecked(wNode[w] = n);
  unchecked(wOwner[w] = owner);
  unchecked(wToken[w] = token);
  unchecked(wLive[w] = true);
  // xenstored fires a new watch once straight away, so a watcher sees the current state
  fifoPush(pendingFires, w, n);
  wakeUpProcess(xenstoredThread);
  return w;
}

export function xsUnwatch(w: i32): void { if (w >= 0) unchecked(wLive[w] = false); }

function isAncestorOrSelf(a: i32, n: i32): bool {
  for (let p = n; p >= 0; p = nd(p, F_PARENT)) if (p == a) return true;
  return false;
}

function fireWatches(n: i32, recursive: bool): void {
  let any = false;
  for (let w = 0; w < nWatches; w++) {
    if (!unchecked(wLive[w])) continue;
    const wn = unchecked(wNode[w]);
    if (isAncestorOrSelf(wn, n) || (recursive && isAncestorOrSelf(n, wn))) {
      fifoPush(pendingFires, w, n);
      any = true;
    }
  }
  if (any) wakeUpProcess(xenstoredThread);
}

// The watcher's queue of (token, node) events.
export function watchFifoOf(t: i32): i32 {
  let f = unchecked(thWatchFifo[t]) - 1;
  if (f < 0) { f = fifoNew(); unchecked(thWatchFifo[t] = f + 1); }
  return f;
}

// Pops the watcher's next event into popA (token) / popB (node).
export function xsNextEvent(t: i32): bool { return fifoPop(watchFifoOf(t)); }

// The xenstored thread: one queued watch event per step.
export function xenstoredStep(t: i32): void {
  if (!fifoPop(pendingFires)) {
    threadSleep(t, TASK_INTERRUPTIBLE, N_xenstored_loop, XS_LOOP, XS_FIRE_NS);
    return;
  }
  const w = popA, n = popB;
  if (unchecked(wLive[w])) {
    const owner = unchecked(wOwner[w]);
    trace(t, N_fire, n, nd(n, F_SEG), owner, unchecked(wToken[w]));
    fifoPush(watchFifoOf(owner), unchecked(wToken[w]), n);
    const irq = unchecked(thRingIrqCpu[owner]) - 1;
    if (irq >= 0) scheduleIn(0, EV_XENBUS_IRQ, irq);
    wakeUpProcess(owner);
  }
  if (fifoLen(pendingFires) > 0) threadNext(t, XS_LOOP, XS_FIRE_NS);
  else threadSleep(t, TASK_INTERRUPTIBLE, N_xenstored_loop, XS_LOOP, XS_FIRE_NS);
}

// ---- the tree as text, for snapshots (allocates: called per request, never per event)

function segText(n: i32): string {
  const num = nd(n, F_NUM);
  return num >= 0 ? num.toString() : nameStr(nd(n, F_SEG));
}

export function xsPathText(n: i32): string {
  if (n <= 0) return "";
  return xsPathText(nd(n, F_PARENT)) + "/" + segText(n);
}

function valueText(n: i32): string {
  const f = nd(n, F_FMT);
  if (f == 0) return nd(n, F_VAL).toString();
  // the format holds up to two %d / %x
  const s = nameStr(f);
  let out = "";
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x25 && i + 1 < s.length) {
      const v = k == 0 ? nd(n, F_VAL) : nd(n, F_VAL2);
      const d = s.charCodeAt(i + 1);
      out += d == 0x78 ? (<u32>v).toString(16) : v.toString();
      k++;
      i++;
    } else out += String.fromCharCode(c);
  }
  return out;
}

function dumpNode(n: i32): void {
  if (n > 0) {
    jObj();
    jKS("path", xsPathText(n));
    if (nd(n, F_HAS_VAL) != 0) jKS("value", valueText(n));
    jKI("node", n);
    jEndObj();
  }
  // children were linked newest first: walk them in creation order
  let c = nd(n, F_CHILD);
  let count = 0;
  while (c >= 0) { count++; c = nd(c, F_SIBLING); }
  for (let i = count - 1; i >= 0; i--) {
    c = nd(n, F_CHILD);
    for (let j = 0; j < i; j++) c = nd(c, F_SIBLING);
    if (live(c)) dumpNode(c);
  }
}

// [{path, value?}] for every live node, depth first.
export function xsTreeJson(): void {
  jArr();
  dumpNode(0);
  jEndArr();
}
