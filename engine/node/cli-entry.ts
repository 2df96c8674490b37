// The `iostack` command's entry, as engine/cli/iostack.js runs it from TypeScript and as
// engine/tools/build-node.js bundles it to plain JS (dist/node/iostack.js).
import { main } from "../cli/main";

// `iostack run ... | head`: a closed pipe ends the command quietly, as with any Unix tool.
process.stdout.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(0); throw e; });
process.exitCode = await main(process.argv.slice(2));
