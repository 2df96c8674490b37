// A persistent sweep worker thread (engine/node/pool.ts): one reused simulation instance
// serving task after task (seed chunks, reasons of failing seeds, determinism re-runs)
// for any scenario and patch set.
import { parentPort, workerData } from "node:worker_threads";
import { loadModule } from "./load";
import { runSeed, describeSeed, traceUpTo, HASH_EVERY } from "../sweep";
import type { SeedOutcome } from "../sweep";
import { ConfigError } from "../config";
import { Runner, runnerOf } from "../wasm";
import type { CoreExports } from "../wasm";
import type { PoolTask } from "./pool";

// Test-only source of nondeterminism (engine/test/sweep.test.ts): once a run has passed
// RESEED_AT events this runner reseeds its PRNG streams from Math.random, so from the next
// draw on no two of its runs agree with each other or with another worker's.
const RESEED_AT = 3 * HASH_EVERY;

class ReseedingRunner extends Runner {
  fresh(): CoreExports {
    const x = super.fresh();
    let reseeded = false;
    const run = (maxEvents: number, until: number) => {
      const status = x.run(maxEvents, until);
      if (!reseeded && x.events() >= RESEED_AT) { reseeded = true; x.test_reseed((Math.random() * 2 ** 32) >>> 0, 0); }
      return status;
    };
    return Object.create(x, { run: { value: run } }) as CoreExports;
  }
}

const runner = workerData?.reseedMidRun ? new ReseedingRunner(loadModule()) : runnerOf(loadModule());

function handle(t: PoolTask): unknown {
  switch (t.type) {
    case "chunk": {
      const rows: SeedOutcome[] = [];
      for (let seed = t.first; seed < t.first + t.count; seed++) {
        rows.push(runSeed(runner, t.base, seed, t.checkEvery > 0 && (seed - t.from) % t.checkEvery === 0));
      }
      return rows;
    }
    case "verify":
      return t.seeds.map((seed) => runSeed(runner, t.base, seed, true));
    case "describe":
      return describeSeed(runner, t.base, t.seed);
    case "trace":
      return traceUpTo(runner, t.base, t.seed, t.events);
  }
}

parentPort!.on("message", (m: { id: number; task: PoolTask }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: handle(m.task) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message, field: e instanceof ConfigError ? e.field : undefined });
  }
});
