// One persistent pool of sweep worker threads per process (engine/node/sweep-worker.ts),
// shared by every sweep whatever its scenario or patch set: a worker is started once
// (plain JS from the bundle when running from it), keeps its reused simulation instance,
// and is unref'd while idle so it never keeps the process alive.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { RunConfig } from "../config";
import { ConfigError } from "../config";
import { BUNDLED } from "./load";

export type PoolTask =
  | { type: "chunk"; base: RunConfig; from: number; first: number; count: number; checkEvery: number }
  | { type: "verify"; base: RunConfig; seeds: number[] }
  | { type: "describe"; base: RunConfig; seed: number }
  | { type: "trace"; base: RunConfig; seed: number; events: number };

interface Pending { resolve(v: unknown): void; reject(e: Error): void }

export class PoolWorker {
  private readonly w: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  dead = false;

  constructor(readonly index: number, reseedMidRun: boolean) {
    const data = { reseedMidRun };
    this.w = BUNDLED
      ? new Worker(new URL("./sweep-worker.js", import.meta.url), { workerData: data })
      : new Worker(new URL("./ts-worker.js", import.meta.url), { workerData: { ...data, entry: new URL("./sweep-worker.ts", import.meta.url).href } });
    this.w.unref();
    this.w.on("message", (m: { id: number; result?: unknown; error?: string; field?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id);
      if (m.error !== undefined) p.reject(m.field ? new ConfigError(m.field, m.error) : new Error(m.error));
      else p.resolve(m.result);
    });
    const fail = (e: Error) => {
      this.dead = true;
      for (const [id, p] of this.pending) { this.settle(id); p.reject(e); }
    };
    this.w.on("error", fail);
    this.w.on("exit", (code) => fail(new Error(`sweep worker exited with code ${code}`)));
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.w.unref();
  }

  call<T>(task: PoolTask): Promise<T> {
    if (this.dead) return Promise.reject(new Error("sweep worker is gone"));
    const id = this.next++;
    if (this.pending.size === 0) this.w.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.w.postMessage({ id, task });
    });
  }

  terminate(): Promise<number> { return this.w.terminate(); }
}

export class NodePool {
  private readonly workers: PoolWorker[] = [];

  // reseedMidRun: indexes of workers given the test-only source of nondeterminism.
  constructor(private readonly opts: { reseedMidRun?: number[] } = {}) {}

  // n live workers, starting those missing.
  take(n: number): PoolWorker[] {
    for (let i = 0; i < this.workers.length; i++) {
      if (this.workers[i].dead) this.workers[i] = new PoolWorker(i, !!this.opts.reseedMidRun?.includes(i));
    }
    while (this.workers.length < n) {
      const i = this.workers.length;
      this.workers.push(new PoolWorker(i, !!this.opts.reseedMidRun?.includes(i)));
    }
    return this.workers.slice(0, n);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

let shared: NodePool | undefined;

export function sharedPool(): NodePool {
  return (shared ??= new NodePool());
}

export function defaultJobs(): number {
  return availableParallelism();
}
