// Loading the compiled simulation module in Node (the CLI, tests, benchmarks, sweeps).
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import "../scenarios/index";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cache = new Map<string, WebAssembly.Module>();

export function wasmPath(file = "iostack.wasm"): string {
  return root + "build/" + file;
}

export function loadModule(file = "iostack.wasm"): WebAssembly.Module {
  let m = cache.get(file);
  if (!m) {
    const path = wasmPath(file);
    if (!existsSync(path)) throw new Error(`${path} is missing: run 'npm run build:asm' first`);
    m = new WebAssembly.Module(readFileSync(path));
    cache.set(file, m);
  }
  return m;
}
