// Page frames: struct page reduced to what the O_DIRECT retransmit bug needs — the
// contents (a 32-bit pattern per page), whether the frame is mapped, and _count.
//
// Contents: word j (of PAGE_WORDS) of a page is `pattern + j` for PG_COUNTER pages (the
// counter blktest2 fills its buffer with) or `pattern` for PG_FILL pages (0xdeadbeef).
// Readers (the NIC's DMA, copy_page, the disk) read the words at the moment they run:
// nothing snapshots a page unless the modelled kernel code copies it.
import { fn, CAT_STEP } from "../kernel/names";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const PAGE_SIZE: i32 = 4096;
export const PAGE_WORDS: i32 = PAGE_SIZE >> 2;
export const PG_COUNTER: u8 = 0;
export const PG_FILL: u8 = 1;
export const MAX_PAGES: i32 = 1 << 14;

// rows: the frames made (the free list holds fewer than that)
let nPages: i32 = 0;
rowsBegin(MAX_PAGES, (): i32 => nPages);
const pgPattern = zeroed<u32>(MAX_PAGES);
const pgKind = zeroed<u8>(MAX_PAGES);
const pgMapped = zeroed<bool>(MAX_PAGES);
const pgCount = zeroed<i32>(MAX_PAGES);
const pgForeign = zeroed<bool>(MAX_PAGES);
const freeList = zeroed<i32>(MAX_PAGES);
rowsEnd();
let nFree: i32 = 0;

export const N_get_page = fn("get_page", "pfn=%x count=%d");
export const N_put_page = fn("put_page", "pfn=%x count=%d");

// alloc_page(): a mapped frame with _count 1.
export function allocPage(): i32 {
  let p: i32;
  if (nFree > 0) p = unchecked(freeList[--nFree]);
  else {
    assert(nPages < MAX_PAGES, "out of page frames");
    p = nPages++;
  }
  unchecked(pgCount[p] = 1);
  unchecked(pgMapped[p] = true);
  unchecked(pgForeign[p] = false);
  unchecked(pgPattern[p] = 0);
  unchecked(pgKind[p] = PG_FILL);
  return p;
}

export function pageFrames(): i32 { return nPages; }
export function getPage(p: i32): void { unchecked(pgCount[p] += 1); }

// put_page(): the last reference frees the frame.
export function putPage(p: i32): void {
  const c = unchecked(pgCount[p]) - 1;
  unchecked(pgCount[p] = c);
  assert(c >= 0, "put_page on a free page");
  if (c == 0) unchecked(freeList[nFree++] = p);
}

export function pageCount(p: i32): i32 { return unchecked(pgCount[p]); }
export function pageMapped(p: i32): bool { return unchecked(pgMapped[p]); }
export function pagePattern(p: i32): u32 { return unchecked(pgPattern[p]); }
export function pageKind(p: i32): u8 { return unchecked(pgKind[p]); }
export function pageForeign(p: i32): bool { return unchecked(pgForeign[p]); }

// A CPU store into the page (memset / the application's fill loop).
export function pageFill(p: i32, kind: u8, pattern: u32): void {
  unchecked(pgKind[p] = kind);
  unchecked(pgPattern[p] = pattern);
}

// Word j as any reader sees it now. The caller checks pageMapped() first: reading an
// unmapped frame is the fault the model reports as a crash.
export function pageWord(p: i32, j: i32): u32 {
  return unchecked(pgKind[p]) == PG_COUNTER ? unchecked(pgPattern[p]) + <u32>j : unchecked(pgPattern[p]);
}

// copy_page(): the only way contents move between frames.
export function copyPage(dst: i32, src: i32): void {
  unchecked(pgKind[dst] = pgKind[src]);
  unchecked(pgPattern[dst] = pgPattern[src]);
}

// Xen grant mapping: a foreign (guest) frame mapped into dom0 (gnttab_map_grant_ref),
// and its unmap (gnttab_unmap_grant_ref from blktap's fast_flush_area): the pte is
// cleared and the pfn points at an invalid mfn; the struct page lives on.
export function pageMapForeign(p: i32): void {
  unchecked(pgForeign[p] = true);
  unchecked(pgMapped[p] = true);
}
export function pageUnmap(p: i32): void { unchecked(pgMapped[p] = false); }
