// The name table: every kernel function, state, queue and comm the models print is
// registered here once, at module start. Trace records and snapshots carry only the
// numeric id; the host reads the table once and decodes (DESIGN: no strings on the
// hot path).
//
// A name may carry a format for its trace records' four integer arguments:
//   %d decimal, %x hex (8 digits), %n a name id, %t milliseconds printed as seconds,
//   %e a negative errno printed by name (-11 -> -EAGAIN), %% a percent.
// e.g. fn("xprt_adjust_cwnd", "cong=%d cwnd=%d")

const names = new Array<string>();
const formats = new Array<string>();
const categories = new Array<i32>();

// Categories tell the UI how to draw a record (lane colour, anomaly search).
export const CAT_STEP: i32 = 0;    // a modelled kernel function ran
export const CAT_STATE: i32 = 1;   // a state change (socket state, xenbus state, bit set)
export const CAT_QUEUE: i32 = 2;   // sleep on / wake from a wait queue
export const CAT_NET: i32 = 3;     // a packet or message on a wire
export const CAT_LOG: i32 = 4;     // a line the real system would print (printk, syslog)
export const CAT_SCHED: i32 = 5;   // the simulated scheduler (thread states)
export const CAT_ANOMALY: i32 = 6; // a detector fired

export function name(s: string): i32 {
  return fn(s, "", CAT_STATE);
}

export function fn(s: string, format: string = "", category: i32 = CAT_STEP): i32 {
  const id = names.length;
  names.push(s);
  formats.push(format);
  categories.push(category);
  return id;
}

export function nameCount(): i32 { return names.length; }
export function nameStr(id: i32): string { return names[id]; }
export function nameFormat(id: i32): string { return formats[id]; }
export function nameCategory(id: i32): i32 { return categories[id]; }

// Id 0 is reserved so that a zeroed field reads as "no name".
export const N_NONE = name("");
