// The server's disk (the exported file's blocks): what reached stable storage, block by
// block — the page pattern written, and which WRITE (write id, xid) wrote it last.
import { PG_FILL } from "../mm/page";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const MAX_BLOCKS: i32 = 1 << 16;
let maxBlock: i32 = -1;
// blocks up to maxBlock: the instance reset zeroes those rows
rowsBegin(MAX_BLOCKS, (): i32 => maxBlock + 1);
export const blkPattern = zeroed<u32>(MAX_BLOCKS);
export const blkKind = zeroed<u8>(MAX_BLOCKS);
export const blkWriteId = zeroed<i32>(MAX_BLOCKS);
export const blkXid = zeroed<u32>(MAX_BLOCKS);
export const blkWrites = zeroed<i32>(MAX_BLOCKS);

// A block's contents as runs: bytes from blkRunOff on hold page words of (blkRunKind,
// blkRunPattern), word j of the block being pattern + j for a counter. One run unless the
// page arrived in TCP segments the client's NIC read at different times. Run 0 is
// blkKind/blkPattern, from byte 0.
export const BLK_RUNS: i32 = 4;
export const blkRuns = zeroed<i32>(MAX_BLOCKS);
export const blkRunOff = zeroed<i32>(MAX_BLOCKS * BLK_RUNS);
export const blkRunKind = zeroed<u8>(MAX_BLOCKS * BLK_RUNS);
export const blkRunPattern = zeroed<u32>(MAX_BLOCKS * BLK_RUNS);
rowsEnd();

// submit_bio(WRITE) of one 4 KB block, contents as received: the run from byte `off` on
// (off 0 starts the block's write).
export function diskWriteBlock(blk: i32, off: i32, kind: u8, pattern: u32, writeId: i32, xid: u32): void {
  const b = blk & (MAX_BLOCKS - 1);
  let r = 0;
  if (off == 0) {
    unchecked(blkKind[b] = kind);
    unchecked(blkPattern[b] = pattern);
    unchecked(blkWriteId[b] = writeId);
    unchecked(blkXid[b] = xid);
    unchecked(blkWrites[b] += 1);
  } else {
    r = unchecked(blkRuns[b]);
    const last = b * BLK_RUNS + r - 1;
    if (unchecked(blkRunKind[last]) == kind && unchecked(blkRunPattern[last]) == pattern) return;
    assert(r < BLK_RUNS, "block written in too many runs");
  }
  unchecked(blkRunOff[b * BLK_RUNS + r] = off);
  unchecked(blkRunKind[b * BLK_RUNS + r] = kind);
  unchecked(blkRunPattern[b * BLK_RUNS + r] = pattern);
  unchecked(blkRuns[b] = r + 1);
  if (b > maxBlock) maxBlock = b;
}

export function diskMaxBlock(): i32 { return maxBlock; }
export const DISK_UNWRITTEN: u8 = PG_FILL;
