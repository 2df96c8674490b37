// dom0's kernel side of a vbd: xen-blkback's xenbus driver, run by the single xenwatch
// kthread (drivers/block/xen-blkback/xenbus.c, drivers/xen/xenbus/xenbus_probe*.c), and
// udevd running xen-hotplug-cleanup on the backend device's "remove" uevent.
//
// blkback opens tapdevN when the backend appears (xen_vbd_create → blkdev_get_by_dev)
// and closes it (xen_vbd_free → blkdev_put) only when the xenbus device is unregistered:
// the backend directory is removed, or the frontend is Closed with online=0, or the
// frontend directory is gone (its state reads as Unknown). After a clean guest poweroff
// the backend sits at Closed with online=1: blkback keeps tapdevN open, waiting for the
// toolstack to remove the backend.
import { fn, name, CAT_STATE } from "../kernel/names";
import { trace } from "../kernel/trace";
import { threadNext, threadSleep, threadAction, wakeUpProcess, TASK_INTERRUPTIBLE } from "../kernel/sched";
import { wfDone, wfWaitChecked } from "../kernel/waitfor";
import { randDuration } from "../kernel/prng";
import {
  xsWatch, xsUnwatch, xsNextEvent, xsExists, xsRead, xsWrite, xsRm, xsPath, xsRoot, xsRingClient,
} from "./xenstore";
import { popA, popB, fifoNew, fifoPush, fifoPop } from "./fifo";
import { blkdevGet, blkdevPut } from "./blktap";
import {
  vbdOfBackendNode, backendVbdDir, vbdRegistered, vbdRemoving, vbdBdevOpen, vbdConnected,
  vbdOtherendWatch, vbdEnt, vbdMinor, vbdBeDir, vbdBeState, vbdBeOnline, vbdFeDir, vbdFeState,
  vbdResBe, vbdRmBackend, vbdDevid, XenbusStateUnknown, XenbusStateInitWait, XenbusStateInitialised, XenbusStateConnected,
  XenbusStateClosing, XenbusStateClosed,
} from "./device";

const TOK_BACKEND_BUS: i32 = -1;
const XW_LOOP: i32 = 1;
const XW_REMOVE: i32 = 2;
const UD_LOOP: i32 = 1;
const UD_RUN: i32 = 2;

const WATCH_NS: i64 = 20000;
const UDEV_SCRIPT_NS: i64 = 25000000;   // fork+exec of a bash hotplug script

const N_xenwatch_wchan = name("xenwatch_thread");
const N_udev_wchan = name("udev_event_wait");
const N_probe = fn("xen_blkbk_probe", "vbd=%d devid=%d");
const N_vbd_create = fn("xen_vbd_create", "vbd=%d tapdev%d");
const N_switch = fn("xenbus_switch_state", "vbd=%d state=%d", CAT_STATE);
const N_fe_changed = fn("frontend_changed", "vbd=%d frontend=%d online=%d");
const N_connect = fn("connect_ring", "vbd=%d");
const N_disconnect = fn("xen_blkif_disconnect", "vbd=%d");
const N_keep = fn("frontend_changed: online, device kept", "vbd=%d tapdev%d", CAT_STATE);
const N_dev_changed = fn("xenbus_dev_changed", "vbd=%d exists=%d");
const N_unregister = fn("device_unregister", "vbd=%d");
const N_remove = fn("xen_blkbk_remove", "vbd=%d");
const N_vbd_free = fn("xen_vbd_free", "vbd=%d tapdev%d");
const N_uevent = fn("kobject_uevent", "vbd=%d action=remove");
const N_udev_run = fn("udev_event_execute_run", "/etc/xen/scripts/xen-hotplug-cleanup vbd=%d");
const N_cleanup_gated = fn("xen-hotplug-cleanup: libxl/disable_udev set, exiting", "vbd=%d", CAT_STATE);
const S_libxl = name("libxl");
const S_disable_udev = name("disable_udev");

// One per dom0 kernel, as in Linux: its xenwatch kthread (every backend watch runs on it,
// and the VBD it is removing is that thread's), and the host's udevd with its uevent
// queue. Each VBD's backend state is a row of device.ts.
let xenwatch: i32 = -1;
let udevd: i32 = -1;
let uevents: i32 = -1;
let removing: i32 = -1;
let releaseMeanNs: i64 = 0;
let sRelease: i32 = 0;

// dom0's side of the block backend (blkbackInit checks it).
export class BlkbackOptions {
  xenwatchThread: i32 = -1;   // runs the backend's xenbus watches
  udevThread: i32 = -1;       // runs the hotplug scripts on uevents
  releaseMeanNs: i64 = 0;     // mean time blkback takes to release a VBD's device
  releaseStream: i32 = -1;    // the PRNG stream those times are drawn from
}

export function blkbackInit(o: BlkbackOptions): void {
  assert(o.xenwatchThread >= 0 && o.udevThread >= 0 && o.releaseStream >= 0, "blkback: xenwatch, udevd and the release stream must be given");
  assert(o.releaseMeanNs >= 0, "blkback: negative releaseMeanNs");
  xenwatch = o.xenwatchThread;
  udevd = o.udevThread;
  uevents = fifoNew();
  releaseMeanNs = o.releaseMeanNs;
  sRelease = o.releaseStream;
  xsRingClient(xenwatch, 0);   // dom0's xenbus event channel: VCPU 0
  // the backend bus watch (xenbus_probe_backend: watch_otherend on backend/vbd)
  xsWatch(backendVbdDir(), xenwatch, TOK_BACKEND_BUS);
}

export function udevDisableNode(): i32 { return xsPath(xsPath(xsRoot(), S_libxl), S_disable_udev); }

function switchState(v: i32, state: i32): void {
  // __xenbus_switch_state reads the node first and does not write if it is gone
  const n = unchecked(vbdBeState[v]);
  if (!xsExists(n) || xsRead(n) == state) return;
  xsWrite(xenwatch, n, state);
  trace(xenwatch, N_switch, v, state);
}

export function xenwatchStep(t: i32): void {
  if (threadAction(t) == XW_REMOVE) { blkbkRemove(t); return; }
  if (!xsNextEvent(t)) {
    threadSleep(t, TASK_INTERRUPTIBLE, N_xenwatch_wchan, XW_LOOP, WATCH_NS);
    return;
  }
  const token = popA, node = popB;
  if (token == TOK_BACKEND_BUS) backendBusChanged(t, node);
  else frontendChanged(t, token);
  if (threadAction(t) == XW_LOOP) threadNext(t, XW_LOOP, WATCH_NS);
}

// xenbus_dev_changed: a backend directory appeared (probe) or went (unregister).
function backendBusChanged(t: i32, node: i32): void {
  const v = vbdOfBackendNode(node);
  if (v < 0 || unchecked(vbdRemoving[v])) return;
  const exists = xsExists(unchecked(vbdBeDir[v]));
  if (exists && !unchecked(vbdRegistered[v])) {
    unchecked(vbdRegistered[v] = true);
    trace(t, N_probe, v, unchecked(vbdDevid[v]));
    unchecked(vbdOtherendWatch[v] = xsWatch(unchecked(vbdFeState[v]), t, v));
    switchState(v, XenbusStateInitWait);
    // backend_changed on physical-device: xen_vbd_create opens tapdevN
    trace(t, N_vbd_create, v, unchecked(vbdMinor[v]));
    if (blkdevGet(unchecked(vbdEnt[v]), unchecked(vbdMinor[v])) == 0) unchecked(vbdBdevOpen[v] = true);
  } else if (!exists && unchecked(vbdRegistered[v])) {
    trace(t, N_dev_changed, v, 0);
    unregister(t, v);
  }
}

function frontendChanged(t: i32, v: i32): void {
  if (!unchecked(vbdRegistered[v]) || unchecked(vbdRemoving[v])) return;
  const fe = unchecked(vbdFeState[v]);
  const state = xsExists(fe) ? xsRead(fe) : XenbusStateUnknown;
  const online = xsRead(unchecked(vbdBeOnline[v]));
  trace(t, N_fe_changed, v, state, online);
  if (state == XenbusStateInitialised || state == XenbusStateConnected) {
    if (!unchecked(vbdConnected[v])) {
      trace(t, N_connect, v);
      unchecked(vbdConnected[v] = true);
      switchState(v, XenbusStateConnected);
    }
  } else if (state == XenbusStateClosing) {
    switchState(v, XenbusStateClosing);
  } else if (state == XenbusStateClosed) {
    disconnect(t, v);
    switchState(v, XenbusStateClosed);
    if (online == 1) {
      // xenbus_dev_is_online: keep the device, and tapdevN, until the toolstack removes it
      trace(t, N_keep, v, unchecked(vbdMinor[v]));
      wfWaitChecked(unchecked(vbdEnt[v]), unchecked(vbdResBe[v]));
      return;
    }
    unregister(t, v);
  } else if (state == XenbusStateUnknown) {
    unregister(t, v);
  }
}

function disconnect(t: i32, v: i32): void {
  if (!unchecked(vbdConnected[v])) return;
  unchecked(vbdConnected[v] = false);
  trace(t, N_disconnect, v);
}

// device_unregister → xen_blkbk_remove: the step's cost is blkback's release latency
// (kthread_stop of the blkif thread, waiting for in-flight requests, the bdev close).
function unregister(t: i32, v: i32): void {
  trace(t, N_unregister, v);
  unchecked(vbdRemoving[v] = true);
  wfDone(unchecked(vbdEnt[v]));
  xsUnwatch(unchecked(vbdOtherendWatch[v]));
  removing = v;
  threadNext(t, XW_REMOVE, randDuration(sRelease, releaseMeanNs));
}

function blkbkRemove(t: i32): void {
  const v = removing;
  trace(t, N_remove, v);
  disconnect(t, v);
  if (unchecked(vbdBdevOpen[v])) {
    trace(t, N_vbd_free, v, unchecked(vbdMinor[v]));
    unchecked(vbdBdevOpen[v] = false);
    blkdevPut(unchecked(vbdEnt[v]), unchecked(vbdMinor[v]));
  }
  unchecked(vbdRegistered[v] = false);
  // xenbus_dev_remove: state Closed, if the node is still there
  switchState(v, XenbusStateClosed);
  trace(t, N_uevent, v);
  fifoPush(uevents, v, 0);
  wakeUpProcess(udevd);
  threadNext(t, XW_LOOP, WATCH_NS);
}

// udevd: SUBSYSTEM=="xen-backend", ACTION=="remove" → xen-hotplug-cleanup, which
// xenstore-rm's the frontend and backend paths (a second, asynchronous remover).
let udevVbd: i32 = -1;
export function udevStep(t: i32): void {
  if (threadAction(t) == UD_RUN) {
    const v = udevVbd;
    if (xsExists(udevDisableNode())) {
      trace(t, N_cleanup_gated, v);
    } else {
      xsRm(t, unchecked(vbdFeDir[v]));
      vbdRmBackend(t, v);
    }
    threadNext(t, UD_LOOP, WATCH_NS);
    return;
  }
  if (!fifoPop(uevents)) {
    threadSleep(t, TASK_INTERRUPTIBLE, N_udev_wchan, UD_LOOP, WATCH_NS);
    return;
  }
  udevVbd = popA;
  trace(t, N_udev_run, udevVbd);
  threadNext(t, UD_RUN, UDEV_SCRIPT_NS);
}
