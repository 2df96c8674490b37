// LTP mmap3 in a loop, the workload both sunrpc scenarios offer: its knobs (the host's
// mmap3Knobs in engine/scenarios/sunrpc/knobs.ts) and its start. The knobs register where
// a scenario constructs them: their place in the registration order fixes name ids.
import { NSEC_PER_SEC } from "../../kernel/clock";
import { knob, kv, kvi } from "../../kernel/config";
import { setTimeLimit } from "../../kernel/world";
import { mmap3Init } from "../../nfs/workload";

export class Mmap3Knobs {
  instances: i32 = knob("instances");
  threads: i32 = knob("mmap3_threads");
  mapMb: i32 = knob("map_mb");
  runS: i32 = knob("mmap3_run_s");
  cycles: i32 = knob("cycles");
  thinkMs: i32 = knob("think_ms");
  actimeoMs: i32 = knob("actimeo_ms");
}

// The mmap3 instances, each mapping map_mb of its file in wsize chunks; the run ends an
// hour after the last cycle could have.
export function mmap3Start(k: Mmap3Knobs, wsizeBytes: i32): void {
  const chunks = <i32>(kv(k.mapMb) * 1048576.0 / <f64>wsizeBytes);
  mmap3Init(<i32>kvi(k.instances), <i32>kvi(k.threads), chunks < 1 ? 1 : chunks, kv(k.runS), <i32>kvi(k.cycles), kv(k.thinkMs), kv(k.actimeoMs));
  setTimeLimit(<i64>((kv(k.runS) + 2.0) * kv(k.cycles) + 3600.0) * NSEC_PER_SEC);
}
