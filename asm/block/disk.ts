// The server's disk (the exported file's blocks): what reached stable storage, block by
// block — the page pattern written, and which WRITE (write id, xid) wrote it last.
import { PG_FILL } from "../mm/page";
import { zeroed } from "../kernel/mem";

export const MAX_BLOCKS: i32 = 1 << 16;
export const blkPattern = zeroed<u32>(MAX_BLOCKS);
export const blkKind = zeroed<u8>(MAX_BLOCKS);
export const blkWriteId = zeroed<i32>(MAX_BLOCKS);
export const blkXid = zeroed<u32>(MAX_BLOCKS);
export const blkWrites = zeroed<i32>(MAX_BLOCKS);
let maxBlock: i32 = -1;

// submit_bio(WRITE) of one 4 KB block, contents as received.
export function diskWriteBlock(blk: i32, kind: u8, pattern: u32, writeId: i32, xid: u32): void {
  const b = blk & (MAX_BLOCKS - 1);
  unchecked(blkKind[b] = kind);
  unchecked(blkPattern[b] = pattern);
  unchecked(blkWriteId[b] = writeId);
  unchecked(blkXid[b] = xid);
  unchecked(blkWrites[b] += 1);
  if (b > maxBlock) maxBlock = b;
}

export function diskMaxBlock(): i32 { return maxBlock; }
export const DISK_UNWRITTEN: u8 = PG_FILL;
