// Starting simulation workers from the page: the module worker (engine/worker.ts) and the
// WASM file, both emitted by Vite and fetched by URL (the wasm is compiled in the worker).
import * as Comlink from "comlink";
import wasmUrl from "../../build/iostack.wasm?url";
import type { WorkerApi } from "../worker";

export type Remote = Comlink.Remote<WorkerApi>;

export interface SimWorker {
  api: Remote;
  ready: Promise<void>;
  terminate(): void;
}

export function startWorker(): SimWorker {
  const w = new Worker(new URL("../worker.ts", import.meta.url), { type: "module", name: "iostack-sim" });
  const api = Comlink.wrap<WorkerApi>(w);
  const ready = api.load(new URL(wasmUrl, location.href).href);
  return { api, ready, terminate: () => { api[Comlink.releaseProxy](); w.terminate(); } };
}
