// A JSON writer into one byte buffer in linear memory. Snapshots, evidence and the
// entity table are written with it and parsed by the host: structured data crosses the
// boundary once per request, never per event.
import { nameStr } from "./names";
import { zeroed } from "./mem";

let buf: usize = 0;
let cap: usize = 0;
let len: usize = 0;
const MAX_DEPTH: i32 = 64;
const first = zeroed<bool>(MAX_DEPTH);
let depth: i32 = 0;
let afterKey: bool = false;

function ensure(n: usize): void {
  if (len + n <= cap) return;
  let ncap = cap == 0 ? <usize>(1 << 16) : cap * 2;
  while (ncap < len + n) ncap *= 2;
  const nbuf = heap.alloc(ncap);
  if (len > 0) memory.copy(nbuf, buf, len);
  buf = nbuf;
  cap = ncap;
}

@inline function byte(b: i32): void {
  ensure(1);
  store<u8>(buf + len, <u8>b);
  len++;
}

// One UTF-16 unit as UTF-8 at buf+len; the caller has ensured 3 bytes.
@inline function put(c: i32): void {
  if (c < 0x80) { store<u8>(buf + len, <u8>c); len++; }
  else if (c < 0x800) {
    store<u8>(buf + len, <u8>(0xc0 | (c >> 6)));
    store<u8>(buf + len + 1, <u8>(0x80 | (c & 0x3f)));
    len += 2;
  } else {
    store<u8>(buf + len, <u8>(0xe0 | (c >> 12)));
    store<u8>(buf + len + 1, <u8>(0x80 | ((c >> 6) & 0x3f)));
    store<u8>(buf + len + 2, <u8>(0x80 | (c & 0x3f)));
    len += 3;
  }
}

function raw(s: string): void {
  ensure(<usize>s.length * 3);
  for (let i = 0; i < s.length; i++) put(s.charCodeAt(i));
}

// Room for the worst case (\u00XX per unit) is made once; ASCII is stored byte by byte
// with no string allocated per character (the stub runtime never frees one).
function quoted(s: string): void {
  ensure(<usize>s.length * 6 + 2);
  store<u8>(buf + len, 0x22);
  len++;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) { put(c); continue; }
    store<u8>(buf + len, 0x5c);
    if (c == 0x22 || c == 0x5c) { store<u8>(buf + len + 1, <u8>c); len += 2; }
    else if (c == 0x0a) { store<u8>(buf + len + 1, 0x6e); len += 2; }
    else {
      store<u8>(buf + len + 1, 0x75);
      store<u8>(buf + len + 2, 0x30);
      store<u8>(buf + len + 3, 0x30);
      store<u8>(buf + len + 4, <u8>hex(c >> 4));
      store<u8>(buf + len + 5, <u8>hex(c & 15));
      len += 6;
    }
  }
  store<u8>(buf + len, 0x22);
  len++;
}

@inline function hex(d: i32): i32 { return d < 10 ? 0x30 + d : 0x57 + d; }

function beforeValue(): void {
  if (afterKey) { afterKey = false; return; }
  if (depth > 0) {
    if (!unchecked(first[depth])) byte(0x2c);
    unchecked(first[depth] = false);
  }
}

function open(c: i32): void {
  beforeValue();
  byte(c);
  depth++;
  assert(depth < MAX_DEPTH, "JSON nested too deep");
  unchecked(first[depth] = true);
}

function close(c: i32): void {
  byte(c);
  depth--;
}

export function jReset(): void { len = 0; depth = 0; afterKey = false; }
export function jPtr(): usize { return buf; }
export function jLen(): usize { return len; }

export function jObj(): void { open(0x7b); }
export function jEndObj(): void { close(0x7d); }
export function jArr(): void { open(0x5b); }
export function jEndArr(): void { close(0x5d); }

export function jKey(k: string): void {
  beforeValue();
  quoted(k);
  byte(0x3a);
  afterKey = true;
}

export function jInt(v: i64): void { beforeValue(); digits(v); }

// A decimal integer written in place, without the string toString() would allocate.
function digits(v: i64): void {
  ensure(20);
  if (v < 0) {
    store<u8>(buf + len, 0x2d);
    len++;
    if (v == i64.MIN_VALUE) { raw("9223372036854775808"); return; }
    v = -v;
  }
  let n: usize = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  for (let i = n; i > 0; i--) {
    store<u8>(buf + len + i - 1, <u8>(0x30 + <i32>(v % 10)));
    v /= 10;
  }
  len += n;
}
export function jBool(v: bool): void { beforeValue(); raw(v ? "true" : "false"); }
export function jNull(): void { beforeValue(); raw("null"); }
export function jStr(s: string): void { beforeValue(); quoted(s); }
export function jName(id: i32): void { beforeValue(); quoted(nameStr(id)); }

// A number; integral values print without a fraction.
export function jNum(v: f64): void {
  beforeValue();
  if (!isFinite(v)) { raw("null"); return; }
  if (v == Math.floor(v) && Math.abs(v) < 9e15) digits(<i64>v);
  else raw(v.toString());
}

// Shorthands for "key": value.
export function jKI(k: string, v: i64): void { jKey(k); jInt(v); }
export function jKN(k: string, v: f64): void { jKey(k); jNum(v); }
export function jKB(k: string, v: bool): void { jKey(k); jBool(v); }
export function jKS(k: string, v: string): void { jKey(k); jStr(v); }
export function jKName(k: string, id: i32): void { jKey(k); jName(id); }
