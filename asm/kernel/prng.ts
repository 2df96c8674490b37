// Seeded PRNG streams: one per source of randomness (workload, network, server,
// scheduling, ...), so that toggling a patch does not reshuffle unrelated draws and
// two runs of one seed can be compared side by side. Never Math.random.
//
// Each stream is a PCG-XSH-RR 32 generator seeded by splitmix64(seed ^ hash(name)).
import { zeroed } from "./mem";

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

export function randU32(s: i32): u32 {
  const old = unchecked(state[s]);
  unchecked(state[s] = old * 6364136223846793005 + 1442695040888963407);
  const xorshifted = <u32>(((old >> 18) ^ old) >> 27);
  const rot = <u32>(old >> 59);
  return rotr<u32>(xorshifted, rot);
}

// Uniform in [0, 1) with 32 bits of resolution.
export function randF64(s: i32): f64 {
  return <f64>randU32(s) * (1.0 / 4294967296.0);
}

// Uniform integer in [lo, hi] (inclusive).
export function randRange(s: i32, lo: i64, hi: i64): i64 {
  if (hi <= lo) return lo;
  const span = <f64>(hi - lo + 1);
  return lo + <i64>(randF64(s) * span);
}

export function randChance(s: i32, p: f64): bool {
  if (p <= 0) return false;
  return randF64(s) < p;
}

// Exponential with the given mean (inverse CDF; Math.log is AssemblyScript's own,
// so results are bit-identical in every engine).
export function randExp(s: i32, mean: f64): f64 {
  return -mean * Math.log(1.0 - randF64(s));
}

// A duration around `mean` ns: half of it fixed, the other half exponential. Never
// zero, with a tail, so interleavings differ from seed to seed.
export function randDuration(s: i32, mean: i64): i64 {
  if (mean <= 0) return 0;
  const half = mean >> 1;
  return half + <i64>randExp(s, <f64>(mean - half)) + 1;
}
