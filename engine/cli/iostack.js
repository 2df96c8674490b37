#!/usr/bin/env node
// The `iostack` command. Runs the plain-JS bundle (dist/node/iostack.js, `npm run build:node`)
// when it is at least as new as every engine source; otherwise registers the TypeScript
// loader and runs the sources, so an edit is never hidden behind a stale bundle.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bundle = root + "dist/node/iostack.js";

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && e.name !== "test") t = Math.max(t, newestSource(dir + "/" + e.name));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(dir + "/" + e.name).mtimeMs);
  }
  return t;
}

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(root + "engine")) {
  await import(bundle);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../node/cli-entry.ts");
}
