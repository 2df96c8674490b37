// Seeded PRNG streams: one per source of randomness (workload, network, server,
// scheduling, ...), so that toggling a patch does not reshuffle unrelated draws and
// two runs of one seed can be compared side by side. Never Math.random.
//
// Each stream is a PCG-XSH-RR 32 generator seeded by splitmix64(seed ^ hash(name)).
//
// Every call of a rand* function below is one decision, addressed (stream, index): index
// counts that stream's calls. Decisions with a benign value (randChance: false; randExp and
// randDuration: the mean) can be forced to it by address: a forced call still draws, so
// the stream's later values stay where they were; only the caller's control flow can
// differ from there on. The uniform draws (ids, choices, jitter) are decisions without a
// benign value. The host can also record the non-benign decisions of a run (a chance
// that came true, a delay in its 1% tail), and fork a run: from event k on every
// stream is reseeded from a derived seed (the point-of-no-return search).
import { zeroed, rowsBegin, rowsEnd } from "./mem";
import { now } from "./clock";
import { traceWritten } from "./trace";

const MAX_STREAMS = 32;
const state = zeroed<u64>(MAX_STREAMS);
const streamNames = new Array<string>();
let worldSeed: u64 = 0;

function splitmix64(x: u64): u64 {
  let z = x + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

function fnv1a(s: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < s.length; i++) {
    h = (h ^ <u64>s.charCodeAt(i)) * 0x100000001b3;
  }
  return h;
}

function seedStream(id: i32): void {
  unchecked(state[id] = splitmix64(worldSeed ^ fnv1a(streamNames[id])));
}

// Registers a named stream; call at module start (top level of a model file).
export function stream(nameOfStream: string): i32 {
  const id = streamNames.length;
  assert(id < MAX_STREAMS, "too many PRNG streams");
  streamNames.push(nameOfStream);
  seedStream(id);
  return id;
}

export function prngSeed(seed: u64): void {
  worldSeed = seed;
  for (let i = 0; i < streamNames.length; i++) seedStream(i);
}

export function streamCount(): i32 { return streamNames.length; }
export function streamName(id: i32): string { return streamNames[id]; }

// ---- decisions: addressing, forcing, recording, forking
export const DEC_CHOICE: i32 = 0;   // uniform draw: no benign value
export const DEC_CHANCE: i32 = 1;   // randChance: benign = false
export const DEC_DELAY: i32 = 2;    // randExp / randDuration: benign = the mean
// A delay is non-benign in its distribution's 1% tail: both are inverse CDFs of one
// uniform draw u, so that is u >= 0.99 whatever the mean.
const TAIL_U32: u32 = 4252017623;

const decIndex = zeroed<i64>(MAX_STREAMS);      // next decision index of each stream
// forced addresses, sorted by (stream, index); each stream walks its own slice
const MAX_FORCED = 1 << 16;
let nForced: i32 = 0;
rowsBegin(MAX_FORCED, (): i32 => nForced);   // the instance reset zeroes rows written
const forcedIdx = zeroed<i64>(MAX_FORCED);
rowsEnd();
const forcedPos = zeroed<i32>(MAX_STREAMS);     // next forced entry of the stream
const forcedEnd = zeroed<i32>(MAX_STREAMS);
const forcedNext = zeroed<i64>(MAX_STREAMS);    // its index, or i64.MAX_VALUE
let forcedHits: i32 = 0;

// Forces decision (s, index) benign. Call before world_init, in (stream, index) order.
export function forceDecision(s: i32, index: i64): void {
  assert(s >= 0 && s < streamNames.length, "force: no such stream");
  assert(nForced < MAX_FORCED, "force: too many forced decisions");
  if (forcedEnd[s] == 0) forcedPos[s] = nForced;
  else assert(forcedEnd[s] == nForced && forcedIdx[nForced - 1] < index, "force: addresses must be sorted by (stream, index)");
  forcedIdx[nForced++] = index;
  forcedEnd[s] = nForced;
}
export function forcedHitCount(): i32 { return forcedHits; }

// The recorded non-benign decisions (host reads the arrays; one row per decision).
const MAX_REC = 1 << 16;
let nRec: i32 = 0;
rowsBegin(MAX_REC, (): i32 => nRec);
export const recStream = zeroed<i32>(MAX_REC);
export const recKind = zeroed<i32>(MAX_REC);
export const recIndex = zeroed<i64>(MAX_REC);
export const recEvent = zeroed<i64>(MAX_REC);
export const recTime = zeroed<i64>(MAX_REC);
export const recRecord = zeroed<i64>(MAX_REC);
export const recValue = zeroed<i64>(MAX_REC);   // the drawn delay in ns, or the chance in ppb
export const recMean = zeroed<i64>(MAX_REC);
rowsEnd();
let recording: bool = false;
let nNonBenign: i64 = 0;
let nDecisions: i64 = 0;
export function recordDecisions(on: bool): void { recording = on; }
export function recordedCount(): i32 { return nRec; }
export function nonBenignCount(): i64 { return nNonBenign; }
export function decisionCount(): i64 { return nDecisions; }

// Forking: events after `forkAfter` draw from streams reseeded by `forkSalt`.
let curEvent: i64 = 0;
let forkAfter: i64 = -1;
let forkSalt: u64 = 0;
export function forkAt(k: i64, salt: u64): void { forkAfter = k; forkSalt = salt; }

// The world calls this before dispatching each event.
@inline export function prngTick(): void {
  if (curEvent++ == forkAfter) {
    worldSeed = splitmix64(worldSeed ^ splitmix64(forkSalt + 0x5851F42D4C957F2D));
    for (let i = 0; i < streamNames.length; i++) seedStream(i);
  }
}
export function prngEvent(): i64 { return curEvent; }

function armForced(s: i32): void {
  const p = unchecked(forcedPos[s]);
  unchecked(forcedNext[s] = p < unchecked(forcedEnd[s]) ? unchecked(forcedIdx[p]) : i64.MAX_VALUE);
}

// Takes the next index of stream s; true when that decision is forced benign.
function decide(s: i32): bool {
  const i = unchecked(decIndex[s]);
  unchecked(decIndex[s] = i + 1);
  nDecisions++;
  if (i != unchecked(forcedNext[s])) return false;
  unchecked(forcedPos[s] += 1);
  armForced(s);
  forcedHits++;
  return true;
}

function note(s: i32, kind: i32, value: i64, mean: i64): void {
  nNonBenign++;
  if (!recording || nRec >= MAX_REC) return;
  const r = nRec++;
  unchecked(recStream[r] = s);
  unchecked(recKind[r] = kind);
  unchecked(recIndex[r] = unchecked(decIndex[s]) - 1);
  unchecked(recEvent[r] = curEvent);
  unchecked(recTime[r] = now);
  unchecked(recRecord[r] = traceWritten());
  unchecked(recValue[r] = value);
  unchecked(recMean[r] = mean);
}

// Called once the forced list is complete (world init).
export function prngArm(): void {
  for (let s = 0; s < streamNames.length; s++) armForced(s);
}

function nextU32(s: i32): u32 {
  const old = unchecked(state[s]);
  unchecked(state[s] = old * 6364136223846793005 + 1442695040888963407);
  const xorshifted = <u32>(((old >> 18) ^ old) >> 27);
  const rot = <u32>(old >> 59);
  return rotr<u32>(xorshifted, rot);
}

@inline function unit(u: u32): f64 { return <f64>u * (1.0 / 4294967296.0); }

export function randU32(s: i32): u32 {
  decide(s);
  return nextU32(s);
}

// Uniform in [0, 1) with 32 bits of resolution.
export function randF64(s: i32): f64 {
  decide(s);
  return unit(nextU32(s));
}

// Uniform integer in [lo, hi] (inclusive).
export function randRange(s: i32, lo: i64, hi: i64): i64 {
  decide(s);
  if (hi <= lo) return lo;
  return lo + <i64>(unit(nextU32(s)) * <f64>(hi - lo + 1));
}

function chance(s: i32, hit: bool, ppb: i64): bool {
  if (decide(s)) return false;
  if (hit) note(s, DEC_CHANCE, ppb, 0);
  return hit;
}

export function randChance(s: i32, p: f64): bool {
  if (p <= 0) { decide(s); return false; }
  return chance(s, unit(nextU32(s)) < p, <i64>(p * 1e9));
}

// The same decision as randChance(s, threshold / 2^32), for callers holding a u32 threshold.
export function randChanceU32(s: i32, threshold: u32): bool {
  return chance(s, nextU32(s) < threshold, <i64>(<f64>threshold * (1e9 / 4294967296.0)));
}

function expOf(u: u32, mean: f64): f64 { return -mean * Math.log(1.0 - unit(u)); }

function delayNote(s: i32, u: u32, v: i64, mean: i64): void {
  if (u >= TAIL_U32) note(s, DEC_DELAY, v, mean);
}

// Exponential with the given mean (inverse CDF; Math.log is AssemblyScript's own,
// so results are bit-identical in every engine).
export function randExp(s: i32, mean: f64): f64 {
  const forced = decide(s);
  const u = nextU32(s);
  if (forced) return mean;
  const v = expOf(u, mean);
  delayNote(s, u, <i64>v, <i64>mean);
  return v;
}

// A duration around `mean` ns: half of it fixed, the other half exponential. Never
// zero, with a tail, so interleavings differ from seed to seed.
export function randDuration(s: i32, mean: i64): i64 {
  const forced = decide(s);
  if (mean <= 0) return 0;
  const half = mean >> 1;
  const u = nextU32(s);
  if (forced) return mean;
  const v = half + <i64>expOf(u, <f64>(mean - half)) + 1;
  delayNote(s, u, v, mean);
  return v;
}
