// The module's host ABI, shared by the lab module (asm/index.ts) and the kernel test
// module (asm/tests/kernel.ts). Everything here is called per run or per page of trace, never
// per event. Numbers that may exceed 2^31 cross as f64 (exact up to 2^53 ns = 104 days).
import { now } from "./kernel/clock";
import { nameCount, nameStr, nameFormat, nameCategory } from "./kernel/names";
import {
  knobCount, knobNameId, patchCount, patchNameId, scenarioCount, scenarioNameId,
  setKnob, setPatch,
} from "./kernel/config";
import { traceBuf, traceCap, traceWritten, traceHash, traceFirstAnomaly } from "./kernel/trace";
import { benchHeap } from "./kernel/events";
import { prngSeed } from "./kernel/prng";
import { memSnapshot, memReset, enterModule, leaveModule, testUncountedRow } from "./kernel/mem";
import {
  worldInit, worldRun, eventCount, getVerdict, runStatus, worldFinished, snapshotJson,
  evidenceJson, timeLimitNs, entitiesOnlyJson, costSpent, setCostBudget, costBudgetUnits,
} from "./kernel/world";
import { jPtr } from "./kernel/json";
import {
  streamCount, streamName, forceDecision, forcedHitCount, recordDecisions, recordedCount, nonBenignCount,
  decisionCount, forkAt, recStream, recKind, recIndex, recEvent, recTime, recRecord, recValue, recMean,
} from "./kernel/prng";

export function names_count(): i32 { return nameCount(); }
export function name_ptr(id: i32): usize { return changetype<usize>(nameStr(id)); }
export function name_len(id: i32): i32 { return nameStr(id).length; }
export function name_fmt_ptr(id: i32): usize { return changetype<usize>(nameFormat(id)); }
export function name_fmt_len(id: i32): i32 { return nameFormat(id).length; }
export function name_category(id: i32): i32 { return nameCategory(id); }

export function scenario_count(): i32 { return scenarioCount(); }
export function scenario_name(s: i32): i32 { return scenarioNameId(s); }
export function knob_count(): i32 { return knobCount(); }
export function knob_name(k: i32): i32 { return knobNameId(k); }
export function patch_count(): i32 { return patchCount(); }
export function patch_name(p: i32): i32 { return patchNameId(p); }

export function set_knob(k: i32, v: f64): void { setKnob(k, v); }
export function set_patch(p: i32, on: i32): void { setPatch(p, on != 0); }

// A build or a slice that traps leaves the module entered: the next reset then trusts no
// row table's high-water mark.
export function world_init(scn: i32, seedLo: u32, seedHi: u32, traceCapacity: i32): void {
  enterModule();
  worldInit(scn, (<u64>seedHi << 32) | <u64>seedLo, traceCapacity);
  leaveModule();
}

export function run(maxEvents: f64, until: f64): i32 {
  enterModule();
  const s = worldRun(<i64>maxEvents, <i64>until);
  leaveModule();
  return s;
}

export function now_ns(): f64 { return <f64>now; }
export function time_limit_ns(): f64 { return <f64>timeLimitNs(); }
export function events(): f64 { return <f64>eventCount(); }
export function cost(): f64 { return <f64>costSpent(); }
export function set_cost_budget(n: f64): void { setCostBudget(<i64>n); }
export function cost_budget(): f64 { return <f64>costBudgetUnits(); }
export function verdict(): i32 { return getVerdict(); }
export function status(): i32 { return runStatus(); }
export function finished(): i32 { return worldFinished() ? 1 : 0; }

export function trace_buf(): usize { return traceBuf(); }
export function trace_cap(): f64 { return <f64>traceCap(); }
export function trace_written(): f64 { return <f64>traceWritten(); }
export function trace_hash_hi(): u32 { return <u32>(traceHash() >> 32); }
export function trace_hash_lo(): u32 { return <u32>traceHash(); }
export function trace_first_anomaly(): f64 { return <f64>traceFirstAnomaly(); }

export function json_ptr(): usize { return jPtr(); }
export function snapshot(withEntities: i32): usize { return snapshotJson(withEntities != 0); }
export function evidence(): usize { return evidenceJson(); }
export function entities(): usize { return entitiesOnlyJson(); }

export function bench_heap(n: i32): f64 { return <f64>benchHeap(n); }

// Test-only (engine/test/sweep.test.ts): reseeds every PRNG stream in the middle of a run,
// a source of nondeterminism the sweeps' determinism check must catch and locate.
export function test_reseed(seedLo: u32, seedHi: u32): void {
  prngSeed((<u64>seedHi << 32) | <u64>seedLo);
}

// Instance reuse (engine/wasm.ts Runner): the host snapshots the instance once after start
// and resets it in place before each seed, instead of instantiating a fresh module (whose
// start grows and faults in tens of MiB). The stub runtime only bumps its heap top, so a
// run writes nothing above heap_top() (asm/kernel/mem.ts memReset).
export function heap_top(): usize {
  const p = __alloc(0);
  __free(p);
  return p;
}
export function mem_snapshot(top: usize, globalsBytes: i32): usize { return memSnapshot(top, globalsBytes); }
export function mem_reset(top: usize): i32 { return memReset(top); }
// Test-only (engine/test/sweep.test.ts): traps as a model would with a row written and not
// yet counted; the next reset must find it.
export function test_uncounted_row(): void { testUncountedRow(); }

// Decisions (asm/kernel/prng.ts): stream names, forcing by address, recording, forking.
export function stream_count(): i32 { return streamCount(); }
export function stream_name_ptr(s: i32): usize { return changetype<usize>(streamName(s)); }
export function stream_name_len(s: i32): i32 { return streamName(s).length; }
export function force_decision(s: i32, index: f64): void { forceDecision(s, <i64>index); }
export function forced_hits(): i32 { return forcedHitCount(); }
export function record_decisions(on: i32): void { recordDecisions(on != 0); }
export function recorded_count(): i32 { return recordedCount(); }
export function non_benign_count(): f64 { return <f64>nonBenignCount(); }
export function decision_count(): f64 { return <f64>decisionCount(); }
export function fork_at(k: f64, salt: u32): void { forkAt(<i64>k, <u64>salt); }
// Addresses of the recorded rows: i32 stream, kind; i64 index, event, time, record, value, mean.
export function rec_columns(col: i32): usize {
  if (col == 0) return changetype<usize>(recStream);
  if (col == 1) return changetype<usize>(recKind);
  if (col == 2) return changetype<usize>(recIndex);
  if (col == 3) return changetype<usize>(recEvent);
  if (col == 4) return changetype<usize>(recTime);
  if (col == 5) return changetype<usize>(recRecord);
  if (col == 6) return changetype<usize>(recValue);
  return changetype<usize>(recMean);
}
