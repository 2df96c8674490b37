// Loading the compiled simulation module in Node (the CLI, tests, benchmarks, sweeps).
// From the sources the WASM is build/iostack.wasm; the plain-JS bundle (dist/node/) has
// its copy beside it, so a packaged CLI finds it wherever it is installed.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import "../scenarios/index";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const cache = new Map<string, WebAssembly.Module>();

// True when this code runs from the plain-JS bundle rather than the TypeScript sources.
export const BUNDLED = !import.meta.url.endsWith(".ts");

export function wasmPath(file = "iostack.wasm"): string {
  return BUNDLED && existsSync(here + file) ? here + file : root + "build/" + file;
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
