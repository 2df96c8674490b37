// One sweep slice in a worker thread (engine/node/sweep.ts).
import { parentPort, workerData } from "node:worker_threads";
import { loadModule } from "./load";
import { sweepRange } from "../sweep";
import { ConfigError } from "../config";

const { base, first, count } = workerData;
try {
  const result = sweepRange(loadModule(), base, first, count, (done, counts) =>
    parentPort!.postMessage({ type: "progress", done, counts }));
  parentPort!.postMessage({ type: "done", result });
} catch (e) {
  parentPort!.postMessage({ type: "error", message: (e as Error).message, field: e instanceof ConfigError ? e.field : undefined });
}
