// The blktap2 kernel driver (Stodden's rewrite, drivers/xen/blktap/): minors, the ring a
// tapdisk2 process maps, and the tapdevN block device blkback opens.
//
// The two rules the bug turns on:
//  - a minor is allocated lowest-free by BLKTAP2_IOCTL_ALLOC_TAP and freed only by
//    BLKTAP2_IOCTL_FREE_TAP, which fails with -EBUSY while a tapdisk still holds the ring;
//  - the release of the ring (tapdisk's munmap/close) runs blktap_device_destroy_sync(),
//    an uninterruptible wait_event on ring.poll_wait until tapdevN has no opener left.
import { fn, name, CAT_STATE, CAT_STEP } from "../kernel/names";
import { trace } from "../kernel/trace";
import { wakeUpProcess } from "../kernel/sched";
import { resHold, resRelease, resNew } from "../kernel/waitfor";
import { zeroed } from "../kernel/mem";

export const MAX_BLKTAP_DEVICE: i32 = 1024;
const EBUSY: i32 = -16;
const ENOMEM: i32 = -12;
const ENODEV: i32 = -19;
const ENXIO: i32 = -6;

const allocated = zeroed<bool>(MAX_BLKTAP_DEVICE);
const ringTask = zeroed<i32>(MAX_BLKTAP_DEVICE);   // tapdisk thread + 1
const ringVma = zeroed<bool>(MAX_BLKTAP_DEVICE);
const gendisk = zeroed<bool>(MAX_BLKTAP_DEVICE);   // BLKTAP_DEVICE
const bdOpeners = zeroed<i32>(MAX_BLKTAP_DEVICE);
const pollWaiter = zeroed<i32>(MAX_BLKTAP_DEVICE); // thread in destroy_sync + 1
const resBdev = zeroed<i32>(MAX_BLKTAP_DEVICE);
// The blktap2 driver's minor table: one per dom0 kernel.
let minorsHigh: i32 = 0;   // the table size: minors ever handed out

const N_alloc = fn("blktap_control_allocate_tap", "minor=%d err=%e");
const N_destroy_tap = fn("blktap_control_destroy_tap", "minor=%d err=%e");
const N_ring_destroy = fn("blktap_ring_destroy", "minor=%d err=%e task=%d vma=%d");
const N_put_minor = fn("blktap_control_put_minor", "minor=%d", CAT_STATE);
const N_ring_open = fn("blktap_ring_open", "minor=%d");
const N_ring_mmap = fn("blktap_ring_mmap", "minor=%d");
const N_dev_create = fn("blktap_device_create", "minor=%d");
const N_blkdev_get = fn("blkdev_get_by_dev", "tapdev%d openers=%d err=%e");
const N_blkdev_put = fn("blkdev_put", "tapdev%d openers=%d");
const N_dev_release = fn("blktap_device_release", "tapdev%d openers=%d");
const N_kick_user = fn("blktap_ring_kick_user", "minor=%d waiter=%d", CAT_STEP);
const N_vm_close = fn("blktap_ring_vm_close", "minor=%d");
const N_dev_destroy = fn("blktap_device_destroy", "minor=%d err=%e openers=%d");
const N_del_gendisk = fn("del_gendisk", "tapdev%d", CAT_STATE);
const N_ring_release = fn("blktap_ring_release", "minor=%d", CAT_STATE);
const N_bd_openers = name("tapdev bd_openers");

export function blktapInit(): void {
  for (let m = 0; m < MAX_BLKTAP_DEVICE; m++) unchecked(resBdev[m] = resNew(N_bd_openers, m));
}

// BLKTAP2_IOCTL_ALLOC_TAP → blktap_control_create_tap → blktap_control_get_minor.
export function blktapAllocTap(actor: i32): i32 {
  for (let m = 0; m < MAX_BLKTAP_DEVICE; m++) {
    if (unchecked(allocated[m])) continue;
    unchecked(allocated[m] = true);
    if (m >= minorsHigh) minorsHigh = m + 1;
    trace(actor, N_alloc, m, 0);
    return m;
  }
  trace(actor, N_alloc, -1, ENOMEM);
  return ENOMEM;
}

// BLKTAP2_IOCTL_FREE_TAP → blktap_control_destroy_tap: -EBUSY while the ring is held.
export function blktapFreeTap(actor: i32, m: i32): i32 {
  if (m < 0 || m >= MAX_BLKTAP_DEVICE || !unchecked(allocated[m])) {
    trace(actor, N_destroy_tap, m, ENODEV);
    return ENODEV;
  }
  const busy = unchecked(ringTask[m]) != 0 || unchecked(ringVma[m]);
  trace(actor, N_ring_destroy, m, busy ? EBUSY : 0, unchecked(ringTask[m]) != 0 ? 1 : 0, unchecked(ringVma[m]) ? 1 : 0);
  if (busy) {
    trace(actor, N_destroy_tap, m, EBUSY);
    return EBUSY;
  }
  unchecked(allocated[m] = false);
  trace(actor, N_destroy_tap, m, 0);
  trace(actor, N_put_minor, m);
  return 0;
}

// tapdisk opens /dev/xen/blktap-2/blktapN and mmaps the ring (TAPDISK_MESSAGE_ATTACH).
export function blktapRingAttach(td: i32, m: i32): void {
  unchecked(ringTask[m] = td + 1);
  trace(td, N_ring_open, m);
  unchecked(ringVma[m] = true);
  trace(td, N_ring_mmap, m);
}

// BLKTAP2_IOCTL_CREATE_DEVICE on open: the gendisk tapdevN appears.
export function blktapDeviceCreate(td: i32, m: i32): void {
  unchecked(gendisk[m] = true);
  trace(td, N_dev_create, m);
}

// blkback's xen_vbd_create → blkdev_get_by_dev(tapdevN).
export function blkdevGet(opener: i32, m: i32): i32 {
  if (!unchecked(gendisk[m])) {
    trace(opener, N_blkdev_get, m, unchecked(bdOpeners[m]), ENXIO);
    return ENXIO;
  }
  unchecked(bdOpeners[m] += 1);
  resHold(unchecked(resBdev[m]), opener);
  trace(opener, N_blkdev_get, m, unchecked(bdOpeners[m]), 0);
  return 0;
}

// xen_vbd_free → blkdev_put; the last close is blktap_device_release, which kicks the
// ring's poll_wait: the wake-up a tapdisk in blktap_device_destroy_sync waits for.
export function blkdevPut(opener: i32, m: i32): void {
  unchecked(bdOpeners[m] -= 1);
  trace(opener, N_blkdev_put, m, unchecked(bdOpeners[m]));
  if (unchecked(bdOpeners[m]) > 0) return;
  resRelease(unchecked(resBdev[m]));
  trace(opener, N_dev_release, m, 0);
  const w = unchecked(pollWaiter[m]) - 1;
  trace(opener, N_kick_user, m, w);
  if (w >= 0) wakeUpProcess(w);
}

// munmap of the ring: blktap_ring_vm_close fails pending requests and drops the vma.
export function blktapRingVmClose(td: i32, m: i32): void {
  unchecked(ringVma[m] = false);
  trace(td, N_vm_close, m);
}

// blktap_device_try_destroy: 0 when the gendisk is gone (or now deleted), -EBUSY while
// tapdevN is open. The caller sleeps on ring.poll_wait (blktapPollWait) and retries.
export function blktapDeviceTryDestroy(td: i32, m: i32): i32 {
  if (!unchecked(gendisk[m])) return 0;
  const openers = unchecked(bdOpeners[m]);
  if (openers > 0) {
    trace(td, N_dev_destroy, m, EBUSY, openers);
    return EBUSY;
  }
  unchecked(gendisk[m] = false);
  trace(td, N_dev_destroy, m, 0, 0);
  trace(td, N_del_gendisk, m);
  return 0;
}

export function blktapPollWait(td: i32, m: i32): void { unchecked(pollWaiter[m] = td + 1); }

// The end of blktap_ring_release: tap->ring.task = NULL.
export function blktapRingReleased(td: i32, m: i32): void {
  unchecked(pollWaiter[m] = 0);
  unchecked(ringTask[m] = 0);
  trace(td, N_ring_release, m);
}

export function blktapBdevRes(m: i32): i32 { return unchecked(resBdev[m]); }
export function blktapAllocated(m: i32): bool { return unchecked(allocated[m]); }
export function blktapRingTask(m: i32): i32 { return unchecked(ringTask[m]) - 1; }
export function blktapOpeners(m: i32): i32 { return unchecked(bdOpeners[m]); }
export function blktapHasDevice(m: i32): bool { return unchecked(gendisk[m]); }
export function blktapMinorsHigh(): i32 { return minorsHigh; }
