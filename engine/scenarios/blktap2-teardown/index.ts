// blktap2-teardown: Xen 4.1.x/4.2 libxl tears a blktap2 disk down before blkback has let
// go of it (seed 004, "Blktap fixes and kernel patch", xen-devel, Jul/Aug 2012).
// The model is asm/xen/ + asm/scenarios/blktap2-teardown/; this folder is the catalog
// entry and the knobs (here), the evidence (evidence.ts) and the Stack view's layers (stack.ts).
import type { ScenarioSpec } from "../types";
import { blktapStack } from "./stack";
import { TOOLSTACKS, describe, minorsView, snapshotBlocks } from "./evidence";
import { STRESS_KNOB } from "../sunrpc/knobs";
import { timingAssumption } from "../timing";

export { tapCtlListLine } from "./evidence";

export const blktap2Teardown: ScenarioSpec = {
  id: "blktap2-teardown",
  title: "Xen blktap2 teardown order: orphaned minors and a 5 s stall per disk",
  subsystem: "Xen dom0: libxl, tap-ctl, tapdisk2, blktap2, xen-blkback",
  year: 2012,
  symptom: "Each guest stop takes ~5 s longer per blktap2 disk and leaves one more blktap minor behind: `tap-ctl list` shows `minor=N` with no tapdisk.",
  seed: "xen-devel, \"Re: Blktap fixes and kernel patch\" (Greg Wettstein, Ian Campbell, Aug 2012)",
  kernel: "Xen 4.1.2/4.1.4/4.2.0-rc1/4.2.0 libxl + tools/blktap2 tap-ctl (5 s select), Stodden blktap2 driver (blktap_device_destroy_sync), Linux 3.x xen-blkback",
  story: [
    "A guest shuts down cleanly: its blkfront closes, blkback's backend sits at Closed with online=1 and still holds tapdevN open.",
    "xl (4.1.4) calls libxl__device_destroy_tapdisk first: tap_ctl_destroy sends CLOSE, then DETACH. tapdisk2 unmaps its ring; the ring release waits in blktap_device_destroy_sync until tapdevN has no opener — but blkback only lets go when the backend directory is removed, which xl does after tap_ctl_destroy returns.",
    "xl → tapdisk2 → blkback → xl: a wait-for cycle. Only tap-ctl's 5 s select() timeout breaks it: xl logs the tap-err lines, skips tap_ctl_free, removes the backend; blkback closes tapdevN, tapdisk2 finishes and exits, and the minor stays allocated.",
    "Turn on libxl-teardown-order: the backend goes first, blkback closes tapdevN, the DETACH completes at once and FREE_TAP frees the minor.",
    "Try tapdisk-respond-before-teardown alone: the stall disappears, the orphans do not (FREE_TAP meets -EBUSY). Try tap-ctl detach timeout 0 (blktap 2.5): the cycle never breaks and khungtaskd reports tapdisk2.",
    "With both patches the order is right but the early reply still races: FREE_TAP (tap-ctl's wake-up on the reply, then the ioctl) against blkback's release of tapdevN and tapdisk2's unmap and del_gendisk. Every one of these latencies is drawn per call, so the race goes either way: one disk, one cycle leaks in 30-34% of seeds (200 seeds each from 1 and 5001; 55-60% on the round-robin scheduler before the timing model); at the default 2 disks x 4 cycles about 69% of disk teardowns orphan a minor (71-72% before), so every seed leaks somewhere.",
    "Why 4.2.0-rc1 never leaks at default knobs: it calls tap_ctl_destroy right after removing the frontend, so tapdisk2's ring release waits for blkback's release (2 ms by default) and only then answers DETACH, long before tap-ctl's 5 s select() gives up: FREE_TAP finds the ring gone. The leak needs blkback to lose that race, i.e. to take longer than 5 s — the preset \"4.2.0-rc1 with a slow blkback\" (200 of 200 seeds ok at defaults, 100 of 100 leak with blkback_release_ms=8000).",
  ],
  assumptions: [
    timingAssumption("Interrupts: xenstored's events for a kernel client (dom0's xenwatch, a guest's xenbus) raise the xenbus event channel on that domain's VCPU 0 (~3 us); libxl talks over the socket."),
    "tapdisk-respond-before-teardown: commit 79e3dbe could not be found. The lab assumes it makes tapdisk2 write the DETACH reply before unmapping the ring (as its title says); the ring release still blocks, and the FREE_TAP that follows returns -EBUSY while tapdisk2 holds the ring.",
    "Blocking step: DETACH's ring unmap (blktap_ring_release → blktap_device_destroy_sync), per the Stodden blktap2 driver; Greg's exact kernel/driver version is unknown.",
    "Hotplug: the lab assumes 4.2 libxl runs the hotplug scripts itself and writes libxl/disable_udev, so udev's xen-hotplug-cleanup exits early; in 4.1.x it runs and removes the frontend and backend directories again after blkback's remove uevent.",
    "tap_ctl_list fails as a whole when any tapdisk2 fails its LIST (tap-ctl-list.c); with several guests stopping together a tapdisk2 that exits between another xl's PID and LIST makes that xl's tap_ctl_find fail, and its tapdisk2 is never destroyed — a rare leak that remains with the fix (never with one guest).",
    "`tap-ctl list` in the evidence is run by the operator (pid 6000) when the workload is over, or when khungtaskd first reports: PID then LIST to every tapdisk2 control socket, 2 s per read, exactly as xl's tap_ctl_find does. A tapdisk2 frozen in the kernel never answers: it costs the 2 s and is left out, so its minor prints alone. The live snapshot view shows the model's state in the same format instead.",
    "Only the clean-poweroff path (backend Closed, online=1) is modelled; `xl destroy` of a running guest (backend Connected, 4.1's wait_for_dev_destroy) is not.",
"Guests do no I/O, so tapdisk2 never answers CLOSE with -EAGAIN and tap-ctl's 20 close retries never run.",
    "The steps that race after an early DETACH reply are mostly waiting (a wake-up on a shared dom0 vCPU, munmap's TLB shootdown, del_gendisk's RCU grace period), so each is drawn per call from an exponential with its mean (tap-ctl reply 30 us, FREE_TAP ioctl 20 us, ring unmap 150 us, del_gendisk 400 us) rather than kept near the mean; the means are estimates, not measurements.",
    "The possible lost wake-up in blktap_device_destroy (bd_mutex trylock, research §5.3) is not modelled.",
    "xl stands for both the operator's `xl shutdown` (after the guest's uptime) and the daemonised `xl create` that destroys the domain on its death; one xl per guest.",
  ],
  patches: [
    {
      id: "libxl-teardown-order",
      commit: "303b534f0e (4.1-testing, reverted by cf5385ec66); 4f6dda6a14 (4.2)",
      title: "libxl: avoid blktap2 deadlock on cleanup (Greg Wettstein) / libxl: fix cleanup of tap devices in libxl__device_destroy (Ian Campbell)",
      summary: "Release the backend device before destroying the userspace side of the blktap device: read tapdisk-params, remove the backend directory from xenstore (so blkback unregisters and calls blkdev_put on tapdevN), and only then tap_ctl_destroy. On 4.1.4 this is Greg's patch (which also drops the xs_rm from libxl__device_destroy — the xenstore leak it was reverted for); on 4.2.0-rc1 it is Ian's fix, already in 4.2.0. 4.1.2 has no tap teardown to reorder.",
      diff: [
        "     err = tap_ctl_find(type, disk, &tap);",
        "     if (err < 0) return;",
        "+    /* Remove the instance of the backend device to avoid a deadlock with the removal of the tap device. */",
        "+    xs_rm(ctx->xsh, XBT_NULL, be_path);",
        "     tap_ctl_destroy(tap.id, tap.minor);",
      ].join("\n"),
      default: false,
    },
    {
      id: "tapdisk-respond-before-teardown",
      commit: "79e3dbe4b659e78408a9eea76c51a601bd4a383a (not found)",
      title: "tapdisk: respond to destroy request before tearing down the communication channel",
      summary: "tapdisk2 answers DETACH before it unmaps the ring, so tap-ctl no longer waits out its 5 s select(). Greg: it masks the delay rather than fixing the order — the ring release still waits for blkback, and FREE_TAP meets -EBUSY.",
      diff: [
        "  tapdisk_control_detach_vbd():",
        "+   response.type = TAPDISK_MESSAGE_DETACH_RSP;",
        "+   tapdisk_control_write_message(connection->socket, &response, 2);",
        "    tapdisk_vbd_detach(vbd);          /* close(ring.fd); munmap(ring) */",
        "    ...",
        "-   tapdisk_control_write_message(connection->socket, &response, 2);",
      ].join("\n"),
      default: false,
      inferred: "The commit is in no stored repository. The lab assumes it moves the DETACH reply before tapdisk_vbd_detach (the ring unmap), and changes nothing in the kernel: tapdisk2 still blocks in blktap_device_destroy_sync until blkback closes tapdevN, and tap_ctl_free's FREE_TAP, arriving while tapdisk2 holds the ring, fails with -EBUSY.",
    },
  ],
  knobs: [
    { name: "toolstack", label: "Toolstack version", group: "workload", type: "enum", values: TOOLSTACKS, default: "4.1.4", description: "libxl teardown order: 4.1.2 (no tap teardown), 4.1.4 (23883 backport: tap first, backend second), 4.2.0-rc1 (tap right after rm fe; later a no-op), 4.2.0 (backend first)." },
    { name: "guests", label: "Guests", group: "workload", type: "int", default: 1, min: 1, max: 8, description: "Guests, each with its own xl process, started and stopped concurrently." },
    { name: "disks", label: "blktap2 disks per guest", group: "workload", type: "int", default: 2, min: 1, max: 4, description: "tap:vhd disks per guest: one tapdisk2 and one blktap minor each." },
    { name: "cycles", label: "Start/stop cycles", group: "workload", type: "int", default: 4, min: 1, max: 32, description: "Times each guest is started and cleanly shut down." },
    { name: "guest_uptime_s", label: "Guest uptime", group: "workload", type: "float", default: 20, min: 1, max: 600, unit: "s", description: "Mean time a guest runs before `xl shutdown`." },
    { name: "tapctl_detach_timeout_s", label: "tap-ctl detach timeout", group: "kernel", type: "int", default: 5, min: 0, max: 60, unit: "s", description: "tap_ctl_detach's select() timeout: 5 s in Xen's tree; 0 = none, as in blktap 2.5." },
    { name: "blkback_release_ms", label: "blkback release latency", group: "faults", type: "float", default: 2, min: 0.01, max: 20000, unit: "ms", description: "Mean time of xen_blkbk_remove (blkif disconnect, blkdev_put) once blkback unregisters a vbd." },
    { name: "dom0_vcpus", label: "dom0 vCPUs", group: "kernel", type: "int", default: 2, min: 1, max: 8, description: "CPUs that xl, xenstored, xenwatch, udevd and the tapdisk2 processes share." },
    STRESS_KNOB,
  ],
  presets: [
    {
      id: "documented", label: "Greg's report (4.1.4, clean poweroff)",
      description: "The documented interleaving: one guest with one tap disk on Xen 4.1.4, started and stopped three times: a 5 s stall and one more orphaned minor per stop.",
      seed: 4, knobs: { toolstack: "4.1.4", guests: 1, disks: 1, cycles: 3 },
    },
    {
      id: "blktap-2.5", label: "No detach timeout (blktap 2.5 tap-ctl)",
      description: "tap_ctl_detach without a timeout: the wait-for cycle never breaks; khungtaskd reports tapdisk2.",
      seed: 4, knobs: { toolstack: "4.1.4", guests: 1, disks: 1, cycles: 1, tapctl_detach_timeout_s: 0 },
    },
    {
      id: "rc1-slow-blkback", label: "4.2.0-rc1 with a slow blkback",
      description: "4.2.0-rc1 tears the tapdisk down right after removing the frontend, racing blkback's release; with blkback slower than tap-ctl's 5 s the DETACH times out, and the later destroy_tapdisk is a no-op (tapdisk-params already gone).",
      seed: 4, knobs: { toolstack: "4.2.0-rc1", blkback_release_ms: 8000 },
    },
    {
      id: "fixed", label: "Backend first (libxl-teardown-order)",
      description: "Greg's reordering on 4.1.4: no stall, no orphan.",
      seed: 4, knobs: { toolstack: "4.1.4" }, patches: { "libxl-teardown-order": true },
    },
  ],
  expected: [
    { patches: { "libxl-teardown-order": false, "tapdisk-respond-before-teardown": false }, verdict: "leak", note: "4.1.4: one orphaned minor per disk per cycle, ≈5 s extra per disk" },
    { patches: { "libxl-teardown-order": true, "tapdisk-respond-before-teardown": false }, verdict: "ok", note: "backend removed first: no stall, no orphan" },
    { patches: { "libxl-teardown-order": false, "tapdisk-respond-before-teardown": true }, verdict: "leak", note: "no stall, but FREE_TAP meets -EBUSY: orphans remain" },
    { patches: { "libxl-teardown-order": true, "tapdisk-respond-before-teardown": true }, verdict: "leak", note: "the right order, but the early reply races FREE_TAP against the ring release: ~69% of disk teardowns orphan a minor (one disk, one cycle: 30-34% of seeds leak)" },
  ],
  views: ["evidence", "trace", "tasks", "state", "metrics"],
  describe,
  snapshotBlocks,
  stack: blktapStack,
  ownViews: [{ id: "minors", label: "Minors", read: minorsView }],
};
