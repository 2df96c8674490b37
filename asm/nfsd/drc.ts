// knfsd's duplicate request cache (fs/nfsd/nfscache.c), the two generations that matter
// for a retransmitted WRITE with a garbage payload:
//  DRC_LRU1024 (<= 3.8): a global LRU of CACHESIZE 1024 entries recycled from the head,
//    match on xid/proc/prot/vers/client addr+port within 120 s. Hit: drop if RC_INPROG or
//    younger than RC_DELAY (200 ms), else replay the cached reply (RC_REPLBUFF).
//  DRC_CSUM (>= 3.9, Jeff Layton): sized from RAM, entries expire RC_EXPIRE (120 s) after
//    last use, and the key also has a checksum of the first RC_CSUMLEN (256) bytes of the
//    arguments and their length: a garbage duplicate misses (payload_misses++) and runs.
// Other clients' requests recycle entries too: they arrive at `otherOpsPerSec` and are
// applied lazily (each takes one entry), so a busy server forgets a 60 s-old XID.
import { now, NSEC_PER_SEC, NSEC_PER_MSEC } from "../kernel/clock";
import { fn, name } from "../kernel/names";
import { stream, randExp } from "../kernel/prng";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { chargeWork, costExhausted } from "../kernel/world";

export const DRC_LRU1024: i32 = 0;
export const DRC_CSUM: i32 = 1;

export const RC_DROPIT: i32 = 0;
export const RC_REPLY: i32 = 1;
export const RC_DOIT: i32 = 2;

const RC_UNUSED: i32 = 0;
const RC_INPROG: i32 = 1;
const RC_DONE: i32 = 2;

const RC_DELAY: i64 = 200 * NSEC_PER_MSEC;
const RC_EXPIRE: i64 = 120 * NSEC_PER_SEC;
const CACHESIZE_OLD: i64 = 1024;
const CACHESIZE_NEW: i64 = 32768;     // nfsd_cache_size_limit() for a 1 GB server

export const N_nfsd_cache_lookup = fn("nfsd_cache_lookup", "xid=%x result=%n csum=%x");
export const N_nfsd_cache_update = fn("nfsd_cache_update", "xid=%x");
export const N_RC_DROPIT = name("RC_DROPIT");
export const N_RC_REPLY = name("RC_REPLY");
export const N_RC_DOIT = name("RC_DOIT");
export const N_miss = name("miss");
export const N_miss_recycled = name("miss (entry recycled)");
export const N_miss_csum = name("miss (checksum: payload_misses++)");
export const N_miss_expired = name("miss (expired)");

const S_SERVER_LOAD = stream("server-load");
const MAX_ENTRIES: i32 = 1 << 14;
let nEntries: i32 = 0;
rowsBegin(MAX_ENTRIES, (): i32 => nEntries);   // the instance reset zeroes the entries' rows
const eXid = zeroed<u32>(MAX_ENTRIES);
const eCsum = zeroed<u32>(MAX_ENTRIES);
const eLen = zeroed<i32>(MAX_ENTRIES);
const eState = zeroed<i32>(MAX_ENTRIES);
const eTimestamp = zeroed<i64>(MAX_ENTRIES);
const eTick = zeroed<i64>(MAX_ENTRIES);   // LRU position: ticks of later uses
rowsEnd();
let tick: i64 = 0;
let variant: i32 = DRC_LRU1024;
let otherRate: f64 = 0;
let otherNext: i64 = 0;
let payloadMisses: i32 = 0;
// why the last lookup missed (for the evidence): N_miss* name id
export let lastMissWhy: i32 = 0;
export let lastEntryAge: i64 = -1;

export function drcInit(v: i32, otherOpsPerSec: f64): void {
  variant = v;
  otherRate = otherOpsPerSec;
  otherNext = otherRate > 0 ? <i64>randExp(S_SERVER_LOAD, 1e9 / otherRate) : i64.MAX_VALUE;
}

// Other clients' requests up to now: each one takes (recycles) an LRU entry.
function otherClients(): void {
  while (otherNext <= now && !costExhausted()) {
    tick++;
    if ((tick & 3) == 0) chargeWork(1);   // four requests cost about one event
    otherNext += <i64>randExp(S_SERVER_LOAD, 1e9 / otherRate) + 1;
  }
}

function cacheSize(): i64 { return variant == DRC_LRU1024 ? CACHESIZE_OLD : CACHESIZE_NEW; }

function alive(e: i32): bool {
  if (tick - unchecked(eTick[e]) >= cacheSize()) return false;
  if (variant == DRC_CSUM && now - unchecked(eTimestamp[e]) >= RC_EXPIRE) return false;
  return unchecked(eState[e]) != RC_UNUSED;
}

// nfsd_cache_lookup(): returns RC_DOIT / RC_DROPIT / RC_REPLY; *entry for the update.
// `len` is rq_arg.len; `csum` the checksum of the first 256 bytes of the arguments.
export let lookupEntry: i32 = -1;
export function nfsdCacheLookup(xid: u32, csum: u32, len: i32): i32 {
  otherClients();
  lastMissWhy = N_miss;
  lastEntryAge = -1;
  for (let e = nEntries - 1; e >= 0; e--) {
    if (unchecked(eXid[e]) != xid) continue;
    lastEntryAge = now - unchecked(eTimestamp[e]);
    if (!alive(e)) {
      lastMissWhy = tick - unchecked(eTick[e]) >= cacheSize() ? N_miss_recycled : N_miss_expired;
      break;
    }
    // the old cache matched xid/proc/prot/vers/addr/port within 120 s
    if (variant == DRC_LRU1024 && lastEntryAge >= 120 * NSEC_PER_SEC) { lastMissWhy = N_miss_expired; break; }
    if (variant == DRC_CSUM && (unchecked(eCsum[e]) != csum || unchecked(eLen[e]) != len)) {
      payloadMisses++;
      lastMissWhy = N_miss_csum;
      break;
    }
    const age = lastEntryAge;
    unchecked(eTimestamp[e] = now);
    unchecked(eTick[e] = ++tick);        // lru_put_end()
    lookupEntry = e;
    if (unchecked(eState[e]) == RC_INPROG) return RC_DROPIT;
    if (variant == DRC_LRU1024 && age < RC_DELAY) return RC_DROPIT;
    return RC_REPLY;
  }
  // miss: take a fresh entry (the old LRU head), RC_INPROG
  assert(nEntries < MAX_ENTRIES, "DRC: too many entries");
  const e = nEntries++;
  unchecked(eXid[e] = xid);
  unchecked(eCsum[e] = csum);
  unchecked(eLen[e] = len);
  unchecked(eState[e] = RC_INPROG);
  unchecked(eTimestamp[e] = now);
  unchecked(eTick[e] = ++tick);
  lookupEntry = e;
  return RC_DOIT;
}

// nfsd_cache_update(): the reply (a WRITE3res fits the 256-byte limit) is cached.
export function nfsdCacheUpdate(e: i32): void {
  unchecked(eState[e] = RC_DONE);
  unchecked(eTimestamp[e] = now);
}

export function drcPayloadMisses(): i32 { return payloadMisses; }
export function drcVariant(): i32 { return variant; }

// The checksum nfsd_cache_csum() computes: csum_partial over the first 256 bytes of the
// arguments (here as 32-bit words: the WRITE3args header words, then the data words).
export function drcCsumWords(acc: u32, w: u32): u32 {
  const s = <u64>acc + <u64>w;
  return <u32>(s & 0xffffffff) + <u32>(s >> 32);
}
