// Worker-thread bootstrap: registers the TypeScript loader in this thread (a worker
// does not inherit the parent's), then runs the TypeScript module named in workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
