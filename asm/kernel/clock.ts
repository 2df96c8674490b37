// The simulated clock, in nanoseconds since the world was built.
export let now: i64 = 0;

export function setNow(t: i64): void { now = t; }

export const NSEC_PER_USEC: i64 = 1000;
export const NSEC_PER_MSEC: i64 = 1000000;
export const NSEC_PER_SEC: i64 = 1000000000;
