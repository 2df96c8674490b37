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
//
// A cache is an instance (each knfsd has one, asm/nfsd/svc.ts): drcNew() returns a handle d
// and every field is drcXxx[d] or, per entry, eXxx[d * ENTRIES + e]. Entries are a ring in
// creation order, found by xid through hash chains: a lookup sees the newest entry with
// that xid, as a scan from the LRU tail would.
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
const MAX_DRC: i32 = 2;
// the ring holds at least the larger cache: an entry it overwrote was recycled already
const ENTRIES: i32 = 1 << 15;
const HASH: i32 = 1 << 12;
assert(<i64>ENTRIES >= CACHESIZE_NEW && <i64>ENTRIES >= CACHESIZE_OLD, "drc: the entry ring is smaller than a cache");
let nDrc: i32 = 0;
const drcCreated = zeroed<i32>(MAX_DRC);        // entries created (creation numbers 0..created-1)
// The instance reset zeroes the entries' rows below the last cache's ring position (each
// cache's ring is ENTRIES rows, the earlier caches' lie below).
rowsBegin(MAX_DRC * ENTRIES, (): i32 => nDrc == 0 ? 0 : (nDrc - 1) * ENTRIES + min(unchecked(drcCreated[nDrc - 1]), ENTRIES));
const eXid = zeroed<u32>(MAX_DRC * ENTRIES);
const eClient = zeroed<i32>(MAX_DRC * ENTRIES);  // the client's address and port
const eCsum = zeroed<u32>(MAX_DRC * ENTRIES);
const eLen = zeroed<i32>(MAX_DRC * ENTRIES);
const eState = zeroed<i32>(MAX_DRC * ENTRIES);
const eTimestamp = zeroed<i64>(MAX_DRC * ENTRIES);
const eTick = zeroed<i64>(MAX_DRC * ENTRIES);   // LRU position: ticks of later uses
const eChain = zeroed<i32>(MAX_DRC * ENTRIES);  // the bucket's next older entry (creation number + 1, 0 = none)
rowsEnd();
const drcBucket = zeroed<i32>(MAX_DRC * HASH);  // the bucket's newest entry (creation number + 1)
const drcTick = zeroed<i64>(MAX_DRC);
const drcVariant = zeroed<i32>(MAX_DRC);
const drcOtherRate = zeroed<f64>(MAX_DRC);
const drcOtherNext = zeroed<i64>(MAX_DRC);
const drcPayloadMisses = zeroed<i32>(MAX_DRC);
// the last lookup: its entry (for nfsd_cache_update), why it missed (N_miss* name id) and
// the age of the entry it matched (-1: none)
export const drcLookupEntry = zeroed<i32>(MAX_DRC);
export const drcLastMissWhy = zeroed<i32>(MAX_DRC);
export const drcLastEntryAge = zeroed<i64>(MAX_DRC);

export function drcNew(variant: i32, otherOpsPerSec: f64): i32 {
  assert(nDrc < MAX_DRC, "too many DRC instances");
  assert(variant == DRC_LRU1024 || variant == DRC_CSUM, "drcNew: unknown variant");
  assert(otherOpsPerSec >= 0, "drcNew: negative otherOpsPerSec");
  const d = nDrc++;
  unchecked(drcVariant[d] = variant);
  unchecked(drcOtherRate[d] = otherOpsPerSec);
  unchecked(drcOtherNext[d] = otherOpsPerSec > 0 ? <i64>randExp(S_SERVER_LOAD, 1e9 / otherOpsPerSec) : i64.MAX_VALUE);
  unchecked(drcLookupEntry[d] = -1);
  unchecked(drcLastEntryAge[d] = -1);
  return d;
}

// nfsd_reply_cache_shutdown() + init: nfsd stopped and started again, an empty cache
export function drcReset(d: i32): void {
  const created = unchecked(drcCreated[d]);
  if (created == 0) return;
  for (let b = d * HASH; b < (d + 1) * HASH; b++) unchecked(drcBucket[b] = 0);
  // creation numbers go on: the chains' bounds stay valid
  for (let c = created - (created < ENTRIES ? created : ENTRIES); c < created; c++) unchecked(eState[d * ENTRIES + (c & (ENTRIES - 1))] = RC_UNUSED);
}

// Other clients' requests up to now: each one takes (recycles) an LRU entry.
function otherClients(d: i32): void {
  const rate = unchecked(drcOtherRate[d]);
  while (unchecked(drcOtherNext[d]) <= now && !costExhausted()) {
    const tick = unchecked(drcTick[d]) + 1;
    unchecked(drcTick[d] = tick);
    if ((tick & 3) == 0) chargeWork(1);   // four requests cost about one event
    unchecked(drcOtherNext[d] += <i64>randExp(S_SERVER_LOAD, 1e9 / rate) + 1);
  }
}

function cacheSize(d: i32): i64 { return unchecked(drcVariant[d]) == DRC_LRU1024 ? CACHESIZE_OLD : CACHESIZE_NEW; }

function alive(d: i32, e: i32): bool {
  if (unchecked(drcTick[d]) - unchecked(eTick[e]) >= cacheSize(d)) return false;
  if (unchecked(drcVariant[d]) == DRC_CSUM && now - unchecked(eTimestamp[e]) >= RC_EXPIRE) return false;
  return unchecked(eState[e]) != RC_UNUSED;
}

function bucket(d: i32, xid: u32, client: i32): i32 { return d * HASH + <i32>((xid ^ (<u32>client * 0x9e3779b1)) & (HASH - 1)); }

// the newest entry with this xid from this client still in the ring, or -1
function find(d: i32, xid: u32, client: i32): i32 {
  const oldest = unchecked(drcCreated[d]) - ENTRIES;
  let c = unchecked(drcBucket[bucket(d, xid, client)]) - 1;
  while (c >= 0 && c >= oldest) {
    const e = d * ENTRIES + (c & (ENTRIES - 1));
    if (unchecked(eXid[e]) == xid && unchecked(eClient[e]) == client) return e;
    c = unchecked(eChain[e]) - 1;
  }
  return -1;
}

// An entry with the xid: RC_DROPIT / RC_REPLY, or -1 when it does not count (recycled,
// expired, another payload) and the request takes a fresh entry.
function matched(d: i32, e: i32, csum: u32, len: i32): i32 {
  const variant = unchecked(drcVariant[d]);
  const age = now - unchecked(eTimestamp[e]);
  unchecked(drcLastEntryAge[d] = age);
  if (!alive(d, e)) {
    unchecked(drcLastMissWhy[d] = unchecked(drcTick[d]) - unchecked(eTick[e]) >= cacheSize(d) ? N_miss_recycled : N_miss_expired);
    return -1;
  }
  // the old cache matched xid/proc/prot/vers/addr/port within 120 s
  if (variant == DRC_LRU1024 && age >= 120 * NSEC_PER_SEC) { unchecked(drcLastMissWhy[d] = N_miss_expired); return -1; }
  if (variant == DRC_CSUM && (unchecked(eCsum[e]) != csum || unchecked(eLen[e]) != len)) {
    unchecked(drcPayloadMisses[d] += 1);
    unchecked(drcLastMissWhy[d] = N_miss_csum);
    return -1;
  }
  unchecked(eTimestamp[e] = now);
  const tick = unchecked(drcTick[d]) + 1;
  unchecked(drcTick[d] = tick);
  unchecked(eTick[e] = tick);           // lru_put_end()
  unchecked(drcLookupEntry[d] = e);
  if (unchecked(eState[e]) == RC_INPROG) return RC_DROPIT;
  if (variant == DRC_LRU1024 && age < RC_DELAY) return RC_DROPIT;
  return RC_REPLY;
}

// nfsd_cache_lookup(): returns RC_DOIT / RC_DROPIT / RC_REPLY; drcLookupEntry[d] for the
// update. `client` stands for the client's address and port (each mount's socket has its
// own; a reconnect keeps the port), `len` is rq_arg.len, `csum` the checksum of the first
// 256 bytes of the arguments.
export function nfsdCacheLookup(d: i32, xid: u32, client: i32, csum: u32, len: i32): i32 {
  if (unchecked(drcOtherRate[d]) > 0) otherClients(d);
  unchecked(drcLastMissWhy[d] = N_miss);
  unchecked(drcLastEntryAge[d] = -1);
  const e = find(d, xid, client);
  if (e >= 0) {
    const r = matched(d, e, csum, len);
    if (r >= 0) return r;
  }
  // miss: take a fresh entry (the old LRU head), RC_INPROG
  const c = unchecked(drcCreated[d]);
  unchecked(drcCreated[d] = c + 1);
  const f = d * ENTRIES + (c & (ENTRIES - 1));
  const b = bucket(d, xid, client);
  unchecked(eChain[f] = unchecked(drcBucket[b]));
  unchecked(drcBucket[b] = c + 1);
  unchecked(eXid[f] = xid);
  unchecked(eClient[f] = client);
  unchecked(eCsum[f] = csum);
  unchecked(eLen[f] = len);
  unchecked(eState[f] = RC_INPROG);
  unchecked(eTimestamp[f] = now);
  const tick = unchecked(drcTick[d]) + 1;
  unchecked(drcTick[d] = tick);
  unchecked(eTick[f] = tick);
  unchecked(drcLookupEntry[d] = f);
  return RC_DOIT;
}

// nfsd_cache_update(): the reply (a WRITE3res fits the 256-byte limit) is cached.
export function nfsdCacheUpdate(e: i32): void {
  unchecked(eState[e] = RC_DONE);
  unchecked(eTimestamp[e] = now);
}

export function drcPayloadMissesOf(d: i32): i32 { return unchecked(drcPayloadMisses[d]); }

// The checksum nfsd_cache_csum() computes: csum_partial over the first 256 bytes of the
// arguments (here as 32-bit words: the WRITE3args header words, then the data words).
export function drcCsumWords(acc: u32, w: u32): u32 {
  const s = <u64>acc + <u64>w;
  return <u32>(s & 0xffffffff) + <u32>(s >> 32);
}
