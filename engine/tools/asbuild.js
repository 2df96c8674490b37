// Compiles the AssemblyScript core to build/iostack.wasm (and the kernel test module to
// build/kernel-test.wasm). -O3 with the stub runtime: the core allocates only at start.
import asc from "assemblyscript/asc";
import { mkdirSync } from "node:fs";

const targets = [
  ["asm/index.ts", "build/iostack.wasm"],
  ["asm/tests/kernel.ts", "build/kernel-test.wasm"],
];

mkdirSync("build", { recursive: true });
let failed = false;
for (const [entry, out] of targets) {
  const { error, stderr } = await asc.main([
    entry, "-o", out, "-O3", "--runtime", "stub",
    "--initialMemory", "64", "--maximumMemory", "16384",
  ]);
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`asbuild: ${entry}: ${error.message}\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
