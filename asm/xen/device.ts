// The xenbus devices of the run: one record per virtual block device per guest start
// (a new domid each time), holding its xenstore nodes and blkback's per-device state.
//   backend  /local/domain/0/backend/vbd/<domid>/<devid>/   (libxl__device_backend_path)
//   frontend /local/domain/<domid>/device/vbd/<devid>/
import { name } from "../kernel/names";
import { entNew } from "../kernel/sched";
import { resHold, resRelease, resNew } from "../kernel/waitfor";
import { xsPath, xsRoot, xsParent, xsRm, xsPathCleanup, xsValueFormat, MAX_NODES, xsNodeCount } from "./xenstore";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const MAX_VBDS: i32 = 1100;
export const MAX_GUESTS: i32 = 8;
export const MAX_DISKS: i32 = 4;

// XenbusState
export const XenbusStateUnknown: i32 = 0;
export const XenbusStateInitialising: i32 = 1;
export const XenbusStateInitWait: i32 = 2;
export const XenbusStateInitialised: i32 = 3;
export const XenbusStateConnected: i32 = 4;
export const XenbusStateClosing: i32 = 5;
export const XenbusStateClosed: i32 = 6;

export const S_local = name("local");
export const S_domain = name("domain");
export const S_backend = name("backend");
export const S_vbd = name("vbd");
export const S_device = name("device");
export const S_state = name("state");
export const S_online = name("online");
export const S_params = name("params");
export const S_tapdisk_params = name("tapdisk-params");
export const S_physical_device = name("physical-device");
export const S_frontend_id = name("frontend-id");
export const S_backend_id = name("backend-id");
export const S_ring_ref = name("ring-ref");
export const S_event_channel = name("event-channel");
export const S_virtual_device = name("virtual-device");
export const S_name = name("name");
export const F_domain0 = xsValueFormat("Domain-0");
export const F_tapdev = xsValueFormat("/dev/xen/blktap-2/tapdev%d");
export const F_image = xsValueFormat("vhd:/images/guest%d-disk%d.vhd");
export const F_major_minor = xsValueFormat("%x:%x");

const N_vbd = name("vbd");
const N_be_node = name("backend node (xs_rm be_path)");

export const BLKTAP_MAJOR: i32 = 0xfe;

let nVbds: i32 = 0;   // the row allocator: each VBD is a row
rowsBegin(MAX_VBDS, (): i32 => nVbds);
export const vbdDomid = zeroed<i32>(MAX_VBDS);
export const vbdDevid = zeroed<i32>(MAX_VBDS);
export const vbdMinor = zeroed<i32>(MAX_VBDS);
export const vbdEnt = zeroed<i32>(MAX_VBDS);       // blkback's struct backend_info
export const vbdResBe = zeroed<i32>(MAX_VBDS);
export const vbdBeDir = zeroed<i32>(MAX_VBDS);
export const vbdBeState = zeroed<i32>(MAX_VBDS);
export const vbdBeOnline = zeroed<i32>(MAX_VBDS);
export const vbdBeTapParams = zeroed<i32>(MAX_VBDS);
export const vbdBeParams = zeroed<i32>(MAX_VBDS);
export const vbdBePhys = zeroed<i32>(MAX_VBDS);
export const vbdFeDir = zeroed<i32>(MAX_VBDS);
export const vbdFeState = zeroed<i32>(MAX_VBDS);
// blkback
export const vbdRegistered = zeroed<bool>(MAX_VBDS);
export const vbdRemoving = zeroed<bool>(MAX_VBDS);
export const vbdBdevOpen = zeroed<bool>(MAX_VBDS);
export const vbdConnected = zeroed<bool>(MAX_VBDS);
export const vbdOtherendWatch = zeroed<i32>(MAX_VBDS);
rowsEnd();

rowsBegin(MAX_NODES, xsNodeCount);
const vbdOfNode = zeroed<i32>(MAX_NODES);   // vbd + 1 for a backend directory
rowsEnd();

export function devid(disk: i32): i32 { return 51712 + 16 * disk; }   // xvda, xvdb, ...
export function imageKey(guest: i32, disk: i32): i32 { return guest * 16 + disk; }

// A numeric path segment (domid, devid) has no name.
export function xsNum(parent: i32, num: i32): i32 { return xsPath(parent, 0, num); }

export function domainDir(domid: i32): i32 {
  return xsNum(xsPath(xsPath(xsRoot(), S_local), S_domain), domid);
}

// Names the nodes of a new device; libxl writes them (libxl__device_generic_add).
export function vbdNew(actor: i32, guest: i32, disk: i32, domid: i32, minor: i32): i32 {
  assert(nVbds < MAX_VBDS, "too many vbds");
  const v = nVbds++;
  const dev = devid(disk);
  unchecked(vbdDomid[v] = domid);
  unchecked(vbdDevid[v] = dev);
  unchecked(vbdMinor[v] = minor);
  unchecked(vbdEnt[v] = entNew(N_vbd, N_vbd, dev));
  const r = resNew(N_be_node, dev);
  unchecked(vbdResBe[v] = r);
  resHold(r, actor);   // libxl created the backend directory; only it removes it
  const dom0 = domainDir(0);
  const be = xsNum(xsNum(xsPath(xsPath(dom0, S_backend), S_vbd), domid), dev);
  unchecked(vbdOfNode[be] = v + 1);
  unchecked(vbdBeDir[v] = be);
  unchecked(vbdBeState[v] = xsPath(be, S_state));
  unchecked(vbdBeOnline[v] = xsPath(be, S_online));
  unchecked(vbdBeParams[v] = xsPath(be, S_params));
  unchecked(vbdBeTapParams[v] = xsPath(be, S_tapdisk_params));
  unchecked(vbdBePhys[v] = xsPath(be, S_physical_device));
  const fe = xsNum(xsPath(xsPath(domainDir(domid), S_device), S_vbd), dev);
  unchecked(vbdFeDir[v] = fe);
  unchecked(vbdFeState[v] = xsPath(fe, S_state));
  unchecked(vbdOtherendWatch[v] = -1);
  return v;
}

// xs_rm of the backend directory, by libxl or by xen-hotplug-cleanup: nobody holds it
// any more, and blkback will unregister the device when the watch reaches it. 4.2's
// libxl removes the parents it leaves empty too (libxl__xs_path_cleanup); 4.1 does not.
export function vbdRmBackend(actor: i32, v: i32, cleanupParents: bool = false): i32 {
  resRelease(unchecked(vbdResBe[v]));
  const be = unchecked(vbdBeDir[v]);
  return cleanupParents ? xsPathCleanup(actor, be) : xsRm(actor, be);
}

// The vbd whose backend directory is `node` or holds it, or -1.
export function vbdOfBackendNode(node: i32): i32 {
  for (let n = node; n > 0; n = xsParent(n)) {
    const v = unchecked(vbdOfNode[n]) - 1;
    if (v >= 0) return v;
  }
  return -1;
}

export function vbdCount(): i32 { return nVbds; }
export function backendVbdDir(): i32 { return xsPath(xsPath(domainDir(0), S_backend), S_vbd); }
