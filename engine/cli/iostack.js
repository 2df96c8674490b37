#!/usr/bin/env node
// The `iostack` command: registers the TypeScript loader, then runs engine/cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
