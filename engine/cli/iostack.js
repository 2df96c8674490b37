#!/usr/bin/env node
// The `iostack` command: registers the TypeScript loader, then runs engine/cli/main.ts.
import { register } from "tsx/esm/api";

register();
// `iostack run ... | head`: a closed pipe ends the command quietly, as with any Unix tool.
process.stdout.on("error", (e) => { if (e.code === "EPIPE") process.exit(0); throw e; });
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
