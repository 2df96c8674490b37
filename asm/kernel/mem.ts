// Static arrays that cost nothing until touched. The StaticArray constructor zero-fills
// its block, which faults in every page of every array at module start (tens of MiB: most
// of a run's set-up time). The stub runtime never reuses memory and a fresh instance's
// memory is already zero, so the fill is redundant: allocate the block and skip it. Pages
// no run touches are then never faulted in. Use zeroed<T>(n) for every static array.
let openGroup: usize = 0;   // the row group being allocated (rowsBegin below)
let nRowTables: i32 = 0;
let rtArea: usize = 0;
export function zeroed<T>(n: i32): StaticArray<T> {
  const bytes = <usize>n << alignof<T>();
  const t = __new(bytes, idof<StaticArray<T>>());
  if (openGroup) rowTable(t, bytes);
  return changetype<StaticArray<T>>(t);
}

// Tables whose rows a run uses from 0 upward, below a high-water mark the model keeps
// anyway (an entity count, a ring's fill): the instance reset (memReset) zeroes exactly
// the rows a run may have written and never scans the rest, which is most of the heap.
// Every table allocated between rowsBegin(rows, used) and rowsEnd() is indexed by the
// same row id (perhaps several elements per row); `used` must bound every row a run
// wrote (a count that only grows during a run). A table left out is scanned page by page
// instead, which is only slower.
class RowGroup {
  constructor(readonly rows: i32, readonly used: () => i32) {}
}
const MAX_ROW_TABLES = 512;
// the registry: (base, bytes, group) per table
@inline function rt(i: i32, field: i32): usize { return rtArea + ((<usize>i * 3 + <usize>field) << alignof<usize>()); }

export function rowsBegin(rows: i32, used: () => i32): void {
  assert(openGroup == 0, "rowsBegin: the previous group has no rowsEnd");
  openGroup = changetype<usize>(new RowGroup(rows, used));
}
export function rowsEnd(): void { openGroup = 0; }

function rowTable(t: usize, bytes: usize): void {
  const rows = <usize>changetype<RowGroup>(openGroup).rows;
  assert(bytes % rows == 0 && nRowTables < MAX_ROW_TABLES, "a row table's size is not a whole number of rows, or MAX_ROW_TABLES is too small");
  if (!rtArea) rtArea = __alloc(<usize>MAX_ROW_TABLES * 3 * sizeof<usize>());
  const i = nRowTables++;
  store<usize>(rt(i, 0), t);
  store<usize>(rt(i, 1), bytes);
  store<usize>(rt(i, 2), openGroup);
}

// Set while the host is inside the module (a build or a slice of events): still set when
// a run trapped midway, when a model may have written a row before counting it.
let inside: bool = false;
export function enterModule(): void { inside = true; }
export function leaveModule(): void { inside = false; }

// ---- Instance reset (engine/wasm.ts Runner) ----
// The host snapshots the instance once after start and restores it before each seed.
// The image is kept in the module's own memory, in an area allocated at start that the
// reset never touches: for every page below the after-start heap top, a mask of its
// non-zero 64-byte lines and those lines packed. A reset then makes each page equal to
// its image: lines the image has are compared and copied back if they differ, the others
// must be zero. Pages never written read as the kernel's shared zero page, so scanning
// them costs no memory traffic, but 40 MiB of them is still most of a reset: the row
// tables above are zeroed from their high-water marks instead and their pages skipped.
const PAGE: usize = 4096;
const LINE: usize = 64;
const ALL_LINES: u64 = u64.MAX_VALUE;   // PAGE / LINE = 64 lines, a bit each
const RESET_AREA: i32 = 3 << 20;
const resetArea = zeroed<u8>(RESET_AREA);
let areaLo: usize = 0;          // the area's whole pages, which the reset skips
let areaHi: usize = 0;
let imgPages: usize = 0;        // pages [0, imgPages) have an image
let imgMask: usize = 0;         // u64 per page: its non-zero lines
let imgCheck: usize = 0;        // u64 per page: the lines a reset looks at (not the row tables' zero lines)
let imgAt: usize = 0;           // u32 per page: where its lines are packed
let imgList: usize = 0;         // u32 per page a reset visits: its index (the others have nothing to look at)
let imgListLen: usize = 0;
let imgGlobals: usize = 0;      // where the host saves the globals

@inline function lineNonZero(p: usize): bool {
  return v128.any_true(v128.or(v128.or(v128.load(p), v128.load(p, 16)), v128.or(v128.load(p, 32), v128.load(p, 48))));
}

@inline function lineDiffers(p: usize, q: usize): bool {
  return v128.any_true(v128.or(
    v128.or(v128.xor(v128.load(p), v128.load(q)), v128.xor(v128.load(p, 16), v128.load(q, 16))),
    v128.or(v128.xor(v128.load(p, 32), v128.load(q, 32)), v128.xor(v128.load(p, 48), v128.load(q, 48)))));
}

// Records the image of [0, top) (the heap top after start); returns where the host
// saves the globals (8-byte slots, `globalsBytes` of them).
export function memSnapshot(top: usize, globalsBytes: i32): usize {
  const base = changetype<usize>(resetArea);
  areaLo = (base + PAGE - 1) & ~(PAGE - 1);
  areaHi = (base + <usize>RESET_AREA) & ~(PAGE - 1);
  imgPages = (top + PAGE - 1) / PAGE;
  imgMask = areaLo;
  imgCheck = imgMask + imgPages * 8;
  imgAt = imgCheck + imgPages * 8;
  imgList = imgAt + imgPages * 4;
  imgGlobals = (imgList + imgPages * 4 + 7) & ~7;
  let out = imgGlobals + <usize>globalsBytes;
  for (let pg: usize = 0; pg < imgPages; pg++) {
    const p = pg * PAGE;
    let mask: u64 = 0;
    if (p < areaLo || p >= areaHi) {
      for (let l: usize = 0; l < PAGE / LINE; l++) {
        if (!lineNonZero(p + l * LINE)) continue;
        mask |= (<u64>1) << l;
        assert(out + LINE <= areaHi, "the instance image does not fit its reset area: raise RESET_AREA");
        memory.copy(out, p + l * LINE, LINE);
        out += LINE;
      }
    }
    store<u64>(imgMask + pg * 8, mask);
    store<u64>(imgCheck + pg * 8, p < areaLo || p >= areaHi ? ALL_LINES : 0);
    store<u32>(imgAt + pg * 4, <u32>(out - popcnt(mask) * LINE));
  }
  // the lines wholly inside a row table that are zero in the image need no look
  for (let i = 0; i < nRowTables; i++) {
    const lo = load<usize>(rt(i, 0)), hi = lo + load<usize>(rt(i, 1));
    for (let q = (lo + LINE - 1) & ~(LINE - 1); q + LINE <= hi && q < imgPages * PAGE; q += LINE) {
      const pg = q / PAGE, bit = (<u64>1) << ((q & (PAGE - 1)) / LINE);
      if (!(load<u64>(imgMask + pg * 8) & bit)) store<u64>(imgCheck + pg * 8, load<u64>(imgCheck + pg * 8) & ~bit);
    }
  }
  // most pages (the row tables', the area's) have no line to look at: list the others
  imgListLen = 0;
  for (let pg: usize = 0; pg < imgPages; pg++) {
    if (load<u64>(imgCheck + pg * 8) | load<u64>(imgMask + pg * 8)) store<u32>(imgList + imgListLen++ * 4, <u32>pg);
  }
  return imgGlobals;
}

// Zeroes [lo, hi) page by page where it is not zero already: a row group's count is
// shared by tables a scenario never writes (a thread's tap-ctl state in a SUNRPC run),
// whose pages still read as the shared zero page; a write would fault them in.
function zeroWritten(lo: usize, hi: usize): void {
  for (let a = lo; a < hi; ) {
    const b = min((a & ~(PAGE - 1)) + PAGE, hi);
    // 16-byte loads may read a few bytes past hi: then at worst zero [a, b) needlessly
    let acc = i64x2.splat(0);
    for (let q = a; q < b; q += 16) acc = v128.or(acc, v128.load(q));
    if (v128.any_true(acc)) memory.fill(a, 0, b - a);
    a = b;
  }
}

// Makes [0, top) equal to the image (top: the heap top the last run reached); returns
// the pages found changed. The globals are restored by the host afterwards.
export function memReset(top: usize): i32 {
  const exact = !inside;
  if (exact) {
    for (let i = 0; i < nRowTables; i++) {
      const g = changetype<RowGroup>(load<usize>(rt(i, 2)));
      const used = min(max(g.used(), 0), g.rows);
      const lo = load<usize>(rt(i, 0));
      zeroWritten(lo, lo + load<usize>(rt(i, 1)) / <usize>g.rows * <usize>used);
    }
  }
  let changed = 0;
  const end = (top + PAGE - 1) & ~(PAGE - 1);
  // after an exact count, only the listed pages of the image; after a trap, every one
  const imaged = min(end, imgPages * PAGE);
  if (exact) {
    for (let i: usize = 0; i < imgListLen; i++) {
      const pg = <usize>load<u32>(imgList + i * 4);
      if (pg * PAGE >= imaged) break;
      const mask = load<u64>(imgMask + pg * 8);
      if (resetPage(pg * PAGE, mask, load<u64>(imgCheck + pg * 8) & ~mask, load<u32>(imgAt + pg * 4))) changed++;
    }
  } else {
    for (let p: usize = 0; p < imaged; p += PAGE) {
      if (p >= areaLo && p < areaHi) continue;
      const mask = load<u64>(imgMask + p / PAGE * 8);
      if (resetPage(p, mask, ~mask, load<u32>(imgAt + p / PAGE * 4))) changed++;
    }
  }
  // pages the heap grew into during the run: all zero in the image
  for (let p = imaged; p < end; p += PAGE) {
    if (p >= areaLo && p < areaHi) continue;
    if (resetPage(p, 0, ALL_LINES, 0)) changed++;
  }
  return changed;
}

// Makes page p equal to its image: `mask` its lines in the image (packed at `src`), `zero`
// the lines that must be zero; true if it differed.
@inline function resetPage(p: usize, mask: u64, zero: u64, at: u32): bool {
  let dirty = false;
  // the image's lines: compared, copied back if changed
  let src = <usize>at;
  for (let left = mask; left != 0; left &= left - 1) {
    const q = p + <usize>ctz(left) * LINE;
    if (lineDiffers(q, src)) { memory.copy(q, src, LINE); dirty = true; }
    src += LINE;
  }
  // the lines that must be zero: one pass without branches (16-byte loads, four at a
  // time: the scan of never-written pages is most of a reset), line by line only if
  // one is not; a few (beside a row table) line by line at once
  let suspect = zero;
  if (zero == ALL_LINES) {
    let acc = i64x2.splat(0);
    for (let q = p; q < p + PAGE; q += LINE) {
      acc = v128.or(acc, v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48))));
    }
    if (v128.any_true(acc)) { memory.fill(p, 0, PAGE); dirty = true; }
    suspect = 0;
  } else if (popcnt(zero) > 8) {
    let acc = i64x2.splat(0);
    for (let l: usize = 0; l < PAGE / LINE; l++) {
      const q = p + l * LINE;
      const sel = i64x2.splat(-<i64>((zero >> l) & 1));
      acc = v128.or(acc, v128.and(sel, v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)))));
    }
    if (!v128.any_true(acc)) suspect = 0;
  }
  for (let left = suspect; left != 0; left &= left - 1) {
    const q = p + <usize>ctz(left) * LINE;
    if (lineNonZero(q)) { memory.fill(q, 0, LINE); dirty = true; }
  }
  return dirty;
}

// Test-only (engine/test/sweep.test.ts): a model that traps between writing a row and
// counting it (the first row table's row just past its count).
export function testUncountedRow(): void {
  enterModule();
  const g = changetype<RowGroup>(load<usize>(rt(0, 2)));
  const rowBytes = load<usize>(rt(0, 1)) / <usize>g.rows;
  store<u8>(load<usize>(rt(0, 0)) + <usize>min(max(g.used(), 0), g.rows - 1) * rowBytes, 0xff);
  unreachable();
}
