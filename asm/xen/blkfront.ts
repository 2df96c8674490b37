// The guest: its xen-blkfront devices (drivers/block/xen-blkfront.c) and the orderly
// poweroff that closes them (xenbus_dev_shutdown), on the guest's own vCPU. A guest
// reacts to its backends only while it runs: once halted its watches are gone, which is
// why the toolstack, not the frontend, has to finish the teardown.
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, name, CAT_STATE } from "../kernel/names";
import { trace } from "../kernel/trace";
import {
  threadNew, threadNext, threadSleep, threadSleepTimeout, threadAction, wakeUpProcess,
  TASK_INTERRUPTIBLE, MAX_ENTS, entCount,
} from "../kernel/sched";
import { xsWatch, xsUnwatch, xsNextEvent, xsExists, xsRead, xsWrite, xsFireSpecial, xsRingClient } from "./xenstore";
import { popA } from "./fifo";
import {
  MAX_GUESTS, MAX_DISKS, vbdBeState, vbdFeState, vbdFeDir, XenbusStateInitialising,
  XenbusStateInitWait, XenbusStateInitialised, XenbusStateConnected, XenbusStateClosing,
  XenbusStateClosed, S_ring_ref, S_event_channel,
} from "./device";
import { xsPath } from "./xenstore";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

const G_IDLE: i32 = 1;
const G_BOOT: i32 = 2;
const G_EVENTS: i32 = 3;
const G_POWEROFF: i32 = 4;
const G_SHUT_WAIT: i32 = 5;
const G_HALT: i32 = 6;
const TOK_SHUTDOWN: i32 = -1;

const BOOT_NS: i64 = 1500000000;
const POWEROFF_NS: i64 = 2000000000;   // init scripts, unmounts, sync
const EVENT_NS: i64 = 30000;
const SHUTDOWN_WAIT: i64 = 5 * NSEC_PER_SEC;   // xenbus_dev_shutdown: 5*HZ per device

const N_domU = name("domU");
const N_idle = name("xen_domain_paused");
const N_xenwatch = name("xenwatch_thread");
const N_wait_down = name("xenbus_dev_shutdown");
const N_boot = fn("xenbus_probe_frontend", "domid=%d disks=%d");
const N_talk = fn("talk_to_blkback", "disk=%d");
const N_connect = fn("blkfront_connect", "disk=%d");
const N_closing = fn("blkfront_closing", "disk=%d");
const N_switch = fn("xenbus_switch_state", "frontend disk=%d state=%d", CAT_STATE);
const N_shutdown_req = fn("shutdown_handler", "poweroff");
const N_dev_shutdown = fn("xenbus_dev_shutdown", "disk=%d");
const N_dev_shutdown_to = fn("xenbus_dev_shutdown: timeout closing device", "disk=%d", CAT_STATE);
const N_halt = fn("SCHEDOP_shutdown", "domid=%d reason=poweroff");

const gThread = zeroed<i32>(MAX_GUESTS);
const gDomid = zeroed<i32>(MAX_GUESTS);
const gDisks = zeroed<i32>(MAX_GUESTS);
const gVbd = zeroed<i32>(MAX_GUESTS * MAX_DISKS);
const gWatch = zeroed<i32>(MAX_GUESTS * (MAX_DISKS + 1));
const gShutdownNode = zeroed<i32>(MAX_GUESTS);
const gShutdownReq = zeroed<bool>(MAX_GUESTS);
const gDead = zeroed<bool>(MAX_GUESTS);
const gCur = zeroed<i32>(MAX_GUESTS);
const gDeadline = zeroed<i64>(MAX_GUESTS);
rowsBegin(MAX_ENTS, entCount);
const guestOfThread = zeroed<i32>(MAX_ENTS);
rowsEnd();
let releaseDomainNode: i32 = -1;   // xenstored's one @releaseDomain

export function guestInit(g: i32, cpu: i32, releaseDomain: i32): void {
  const t = threadNew(N_domU, g + 1, cpu, G_IDLE, EVENT_NS);
  unchecked(gThread[g] = t);
  unchecked(guestOfThread[t] = g);
  xsRingClient(t, cpu);   // its xenbus event channel: the guest's (one) VCPU
  unchecked(gDead[g] = true);
  releaseDomainNode = releaseDomain;
}

// libxl unpaused the new domain: it boots with these devices.
export function guestStart(g: i32, domid: i32, disks: i32, vbds: StaticArray<i32>, shutdownNode: i32): void {
  unchecked(gDomid[g] = domid);
  unchecked(gDisks[g] = disks);
  for (let d = 0; d < disks; d++) unchecked(gVbd[g * MAX_DISKS + d] = vbds[d]);
  unchecked(gShutdownNode[g] = shutdownNode);
  unchecked(gShutdownReq[g] = false);
  unchecked(gDead[g] = false);
  const t = unchecked(gThread[g]);
  wakeUpProcess(t);
}

export function guestThread(g: i32): i32 { return unchecked(gThread[g]); }
export function guestDead(g: i32): bool { return unchecked(gDead[g]); }

@inline function vbdOf(g: i32, d: i32): i32 { return unchecked(gVbd[g * MAX_DISKS + d]); }

function feSwitch(t: i32, g: i32, d: i32, state: i32): void {
  const v = vbdOf(g, d);
  if (v < 0 || xsRead(unchecked(vbdFeState[v])) == state) return;
  xsWrite(t, unchecked(vbdFeState[v]), state);
  trace(t, N_switch, d, state);
}

// blkfront's backend_changed (the otherend watch).
function backendChanged(t: i32, g: i32, d: i32): void {
  const v = vbdOf(g, d);
  if (v < 0) return;
  const be = xsRead(unchecked(vbdBeState[v]));
  const fe = xsRead(unchecked(vbdFeState[v]));
  if (be == XenbusStateInitWait && fe == XenbusStateInitialising) {
    trace(t, N_talk, d);
    const dir = unchecked(vbdFeDir[v]);
    xsWrite(t, xsPath(dir, S_ring_ref), 8 + d);
    xsWrite(t, xsPath(dir, S_event_channel), 20 + d);
    feSwitch(t, g, d, XenbusStateInitialised);
  } else if (be == XenbusStateConnected && fe == XenbusStateInitialised) {
    trace(t, N_connect, d);
    feSwitch(t, g, d, XenbusStateConnected);
  } else if (be == XenbusStateClosing && fe != XenbusStateClosed) {
    // blkfront_closing → xenbus_frontend_closed
    trace(t, N_closing, d);
    feSwitch(t, g, d, XenbusStateClosed);
  }
}

function drainEvents(t: i32, g: i32): void {
  while (xsNextEvent(t)) {
    const token = popA;
    if (token == TOK_SHUTDOWN) {
      if (xsExists(unchecked(gShutdownNode[g])) && !unchecked(gShutdownReq[g])) {
        unchecked(gShutdownReq[g] = true);
        trace(t, N_shutdown_req);
      }
    } else backendChanged(t, g, token);
  }
}

export function guestStep(t: i32): void {
  const g = unchecked(guestOfThread[t]);
  const action = threadAction(t);
  const disks = unchecked(gDisks[g]);
  if (action == G_IDLE) {
    if (unchecked(gDead[g])) { threadSleep(t, TASK_INTERRUPTIBLE, N_idle, G_IDLE, EVENT_NS); return; }
    threadNext(t, G_BOOT, BOOT_NS);
  } else if (action == G_BOOT) {
    trace(t, N_boot, unchecked(gDomid[g]), disks);
    unchecked(gWatch[g * (MAX_DISKS + 1)] = xsWatch(unchecked(gShutdownNode[g]), t, TOK_SHUTDOWN));
    for (let d = 0; d < disks; d++) {
      const v = vbdOf(g, d);
      unchecked(gWatch[g * (MAX_DISKS + 1) + 1 + d] = v >= 0 ? xsWatch(unchecked(vbdBeState[v]), t, d) : -1);
      backendChanged(t, g, d);
    }
    threadNext(t, G_EVENTS, EVENT_NS);
  } else if (action == G_EVENTS) {
    drainEvents(t, g);
    if (unchecked(gShutdownReq[g])) { threadNext(t, G_POWEROFF, POWEROFF_NS); return; }
    threadSleep(t, TASK_INTERRUPTIBLE, N_xenwatch, G_EVENTS, EVENT_NS);
  } else if (action == G_POWEROFF) {
    unchecked(gCur[g] = -1);
    nextDeviceShutdown(t, g);
  } else if (action == G_SHUT_WAIT) {
    drainEvents(t, g);
    const d = unchecked(gCur[g]);
    const v = vbdOf(g, d);
    const closed = v < 0 || xsRead(unchecked(vbdFeState[v])) == XenbusStateClosed;
    if (!closed && now < unchecked(gDeadline[g])) {
      threadSleepTimeout(t, TASK_INTERRUPTIBLE, N_wait_down, unchecked(gDeadline[g]) - now, G_SHUT_WAIT, EVENT_NS);
      return;
    }
    if (!closed) trace(t, N_dev_shutdown_to, d);
    nextDeviceShutdown(t, g);
  } else if (action == G_HALT) {
    for (let i = 0; i <= disks; i++) xsUnwatch(unchecked(gWatch[g * (MAX_DISKS + 1) + i]));
    while (xsNextEvent(t)) { /* a halted domain sees nothing */ }
    unchecked(gDead[g] = true);
    trace(t, N_halt, unchecked(gDomid[g]));
    xsFireSpecial(releaseDomainNode);
    threadSleep(t, TASK_INTERRUPTIBLE, N_idle, G_IDLE, EVENT_NS);
  }
}

// xenbus_dev_shutdown, device by device: Closing, then wait up to 5 s for Closed.
function nextDeviceShutdown(t: i32, g: i32): void {
  const d = unchecked(gCur[g]) + 1;
  unchecked(gCur[g] = d);
  if (d >= unchecked(gDisks[g])) { threadNext(t, G_HALT, EVENT_NS); return; }
  trace(t, N_dev_shutdown, d);
  feSwitch(t, g, d, XenbusStateClosing);
  unchecked(gDeadline[g] = now + SHUTDOWN_WAIT);
  threadNext(t, G_SHUT_WAIT, EVENT_NS);
}
