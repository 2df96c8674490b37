// The Xen dom0 path of seed 003's first report: a guest's blkfront write goes to blkback,
// which hands it to blktap2; the tapdisk2 process writes the data with O_DIRECT (here to
// a file on NFS) from the guest's pages, grant-mapped into dom0's blktap mmap area (one
// set of pages per ring slot). When the aio completes, tapdisk2's ioctl makes blktap run
// fast_flush_area(): the grants are unmapped (pte cleared, pfn -> INVALID_MFN) and the
// request is answered to the guest. The next request on that slot maps other guest
// frames into the same pfns.
import { now } from "../kernel/clock";
import { fn } from "../kernel/names";
import { trace } from "../kernel/trace";
import { pageMapForeign, pageUnmap, pageFill, PG_COUNTER, MAX_PAGES, pageFrames } from "../mm/page";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const N_blkif_queue_request = fn("blkif_queue_request (domU blkfront)", "id=%d");
export const N_dispatch_rw_block_io = fn("dispatch_rw_block_io (blkback)", "id=%d");
export const N_gnttab_map_grant_ref = fn("gnttab_map_grant_ref (blktap_map)", "pfn=%x pages=%d");
export const N_tapdisk_io_submit = fn("tapdisk2: io_submit (O_DIRECT)", "id=%d");
export const N_tapdisk_io_getevents = fn("tapdisk2: io_getevents", "id=%d");
export const N_blktap_ioctl_kick = fn("blktap_ioctl(BLKTAP2_IOCTL_KICK_FE)", "id=%d");
export const N_fast_flush_area = fn("fast_flush_area", "pfn=%x pages=%d");
export const N_blkif_response = fn("make_response (blkback -> domU)", "id=%d");

rowsBegin(MAX_PAGES, pageFrames);   // a row per page frame (mm/page's)
const unmappedAt = zeroed<i64>(MAX_PAGES);
rowsEnd();

// blktap_map(): the guest frames of a new request appear at the slot's pfns, holding
// what the guest wrote into them (its counter).
export function blktapMap(ent: i32, pfns: StaticArray<i32>, first: i32, n: i32, pattern: u32): void {
  trace(ent, N_gnttab_map_grant_ref, unchecked(pfns[first]), n);
  for (let i = 0; i < n; i++) {
    const p = unchecked(pfns[first + i]);
    pageMapForeign(p);
    pageFill(p, PG_COUNTER, pattern + <u32>(i * 1024));
  }
}

// fast_flush_area(): unmap the request's grant pages from dom0.
export function fastFlushArea(ent: i32, pfns: StaticArray<i32>, first: i32, n: i32): void {
  trace(ent, N_fast_flush_area, unchecked(pfns[first]), n);
  for (let i = 0; i < n; i++) {
    const p = unchecked(pfns[first + i]);
    pageUnmap(p);
    unchecked(unmappedAt[p] = now);
  }
}

export function pageUnmappedAt(pfn: i32): i64 { return unchecked(unmappedAt[pfn]); }
