// The selected scenario's entry points. A scenario's select() assigns them; the kernel
// calls them through these function-typed globals (an indirect call, no allocation).

function noStep(t: i32): void {}
function noEvent(kind: i32, obj: i32, arg: i32): void {}
function noop(): void {}

// A simulated thread finished the step it was running (see sched.ts).
export let hookStep: (t: i32) => void = noStep;
// A model event (kind >= KIND_MODEL) fired.
export let hookEvent: (kind: i32, obj: i32, arg: i32) => void = noEvent;
// khungtaskd reported thread t.
export let hookHung: (t: i32) => void = noStep;
// The run ended: decide the verdict from the detectors (setVerdict).
export let hookFinish: () => void = noop;
// Write the evidence object (task dumps, reports, chains) into the JSON writer.
export let hookEvidence: () => void = noop;
// Write the model's state, at the current time, into the JSON writer.
export let hookSnapshot: () => void = noop;

export function setHooks(
  step: (t: i32) => void,
  event: (kind: i32, obj: i32, arg: i32) => void,
  hung: (t: i32) => void,
  finish: () => void,
  evidence: () => void,
  snapshot: () => void,
): void {
  hookStep = step;
  hookEvent = event;
  hookHung = hung;
  hookFinish = finish;
  hookEvidence = evidence;
  hookSnapshot = snapshot;
}

// Event kinds below this are the kernel's own.
export const KIND_MODEL: i32 = 16;
export const EV_STEP: i32 = 1;
export const EV_TIMEOUT: i32 = 2;
export const EV_KHUNGTASKD: i32 = 3;
export const EV_UNSTARVE: i32 = 4;   // stress mode: a starved thread is runnable again
if (EV_UNSTARVE >= KIND_MODEL) ERROR("the kernel's own event kinds must lie below KIND_MODEL");
