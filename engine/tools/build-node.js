// Bundles the Node side to plain JS with esbuild: dist/node/iostack.js (the CLI) and
// dist/node/sweep-worker.js (the sweep worker thread), with the WASM copied beside them.
// Runs after vite build, which empties dist/.
// Plain JS spares every launch and every worker the TypeScript loader's start-up, and the
// CLI can ship in a package without tsx.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";

const out = "dist/node";
const wasm = "build/iostack.wasm";
if (!existsSync(wasm)) {
  process.stderr.write(`build-node: ${wasm} is missing: run 'npm run build:asm' first\n`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { iostack: "engine/node/cli-entry.ts", "sweep-worker": "engine/node/sweep-worker.ts" },
  outdir: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
copyFileSync(wasm, `${out}/iostack.wasm`);
