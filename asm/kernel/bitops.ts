// Bit words with the kernel's atomic bit operations (test_and_set_bit & co). Models keep
// state bits such as XPRT_LOCKED or ksnc_rx_scheduled in them; a bit used as a lock
// also names its holder in the wait-for graph (waitfor.ts), which is the model's job.
import { zeroed } from "./mem";

const MAX_WORDS: i32 = 4096;
const words = zeroed<u32>(MAX_WORDS);
let nWords: i32 = 0;

export function bitsNew(): i32 {
  assert(nWords < MAX_WORDS, "too many bit words");
  return nWords++;
}

export function testBit(w: i32, bit: i32): bool {
  return (unchecked(words[w]) & (1 << bit)) != 0;
}

export function setBit(w: i32, bit: i32): void {
  unchecked(words[w] |= 1 << bit);
}

export function clearBit(w: i32, bit: i32): void {
  unchecked(words[w] &= ~(1 << bit));
}

// Returns the old value of the bit, as the kernel's does: false means "you got it".
export function testAndSetBit(w: i32, bit: i32): bool {
  const old = unchecked(words[w]);
  unchecked(words[w] = old | (1 << bit));
  return (old & (1 << bit)) != 0;
}

export function testAndClearBit(w: i32, bit: i32): bool {
  const old = unchecked(words[w]);
  unchecked(words[w] = old & ~(1 << bit));
  return (old & (1 << bit)) != 0;
}

export function bitsWord(w: i32): u32 { return unchecked(words[w]); }
