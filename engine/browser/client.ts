// Starting simulation workers from the page: the module worker (engine/worker.ts) and the
// WASM file, both emitted by Vite and fetched by URL (the wasm is compiled in the worker).
import * as Comlink from "comlink";
import wasmUrl from "../../build/iostack.wasm?url";
import type { WorkerApi } from "../worker";
import type { ConfigInput } from "../config";
import type { RunProgress, RunView } from "./session";

export type Remote = Comlink.Remote<WorkerApi>;

export class RunCancelled extends Error {}

export interface SimWorker {
  api: Remote;
  ready: Promise<void>;
  terminate(): void;
  // A run with progress reports; cancel() rejects it with RunCancelled.
  run(input: ConfigInput, onProgress?: (p: RunProgress) => void): Promise<RunView>;
  // Stops the run in flight: the worker is busy inside it, so it is replaced by a fresh one.
  cancel(): void;
}

export function startWorker(): SimWorker {
  let w!: Worker;
  let cancelRun = (): void => {};
  const sw: SimWorker = {
    api: undefined as unknown as Remote,
    ready: Promise.resolve(),
    terminate: () => { sw.api[Comlink.releaseProxy](); w.terminate(); },
    run(input, onProgress) {
      return new Promise<RunView>((resolve, reject) => {
        cancelRun = () => reject(new RunCancelled("the run was cancelled"));
        sw.api.run(input, onProgress && Comlink.proxy(onProgress)).then(resolve, reject);
      });
    },
    cancel() {
      cancelRun();
      sw.terminate();
      spawn();
    },
  };
  const spawn = () => {
    w = new Worker(new URL("../worker.ts", import.meta.url), { type: "module", name: "iostack-sim" });
    sw.api = Comlink.wrap<WorkerApi>(w);
    sw.ready = sw.api.load(new URL(wasmUrl, location.href).href);
  };
  spawn();
  return sw;
}
