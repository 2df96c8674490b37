// Compiles the AssemblyScript core to build/iostack.wasm (and the test modules to
// build/kernel-test.wasm, build/sunrpc-test.wasm, build/knfsd-test.wasm, build/xen-test.wasm and build/socklnd-test.wasm). -O3 with the stub runtime: the core allocates only at start.
// The initial memory covers what start and a sweep run allocate, so no seed grows it.
// Then adds globals_save(ptr)/globals_restore(ptr): every mutable global stored to or
// loaded from 8-byte slots at ptr, for the host's instance reuse (engine/wasm.ts Runner).
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const targets = [
  ["asm/index.ts", "build/iostack.wasm"],
  ["asm/tests/kernel.ts", "build/kernel-test.wasm"],
  ["asm/tests/sunrpc.ts", "build/sunrpc-test.wasm"],
  ["asm/tests/knfsd.ts", "build/knfsd-test.wasm"],
  ["asm/tests/xen.ts", "build/xen-test.wasm"],
  ["asm/tests/socklnd.ts", "build/socklnd-test.wasm"],
];

function addGlobalsSnapshot(file) {
  const m = binaryen.readBinary(readFileSync(file));
  m.setFeatures(binaryen.Features.All);
  const ptr = () => m.local.get(0, binaryen.i32);
  const ops = { [binaryen.i32]: [m.i32, 4], [binaryen.i64]: [m.i64, 8], [binaryen.f32]: [m.f32, 4], [binaryen.f64]: [m.f64, 8] };
  const save = [], restore = [];
  for (let i = 0, slot = 0; i < m.getNumGlobals(); i++) {
    const g = binaryen.getGlobalInfo(m.getGlobalByIndex(i));
    if (!g.mutable) continue;
    const [op, align] = ops[g.type] ?? [];
    if (!op) throw new Error(`${file}: global ${g.name} has a type the snapshot cannot store`);
    save.push(op.store(slot * 8, align, ptr(), m.global.get(g.name, g.type)));
    restore.push(m.global.set(g.name, op.load(slot * 8, align, ptr())));
    slot++;
  }
  const body = (list) => m.block(null, list.length ? list : [m.nop()]);
  m.addFunction("globals_save", binaryen.i32, binaryen.none, [], body(save));
  m.addFunction("globals_restore", binaryen.i32, binaryen.none, [], body(restore));
  m.addFunctionExport("globals_save", "globals_save");
  m.addFunctionExport("globals_restore", "globals_restore");
  m.addFunction("globals_bytes", binaryen.none, binaryen.i32, [], m.i32.const(save.length * 8));
  m.addFunctionExport("globals_bytes", "globals_bytes");
  if (!m.validate()) throw new Error(`${file}: the module with the globals snapshot does not validate`);
  writeFileSync(file, m.emitBinary());
  m.dispose();
}

mkdirSync("build", { recursive: true });
let failed = false;
for (const [entry, out] of targets) {
  const { error, stderr } = await asc.main([
    entry, "-o", out, "-O3", "--runtime", "stub", "--enable", "simd",
    "--initialMemory", "1024", "--maximumMemory", "16384",
  ]);
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`asbuild: ${entry}: ${error.message}\n`);
    failed = true;
    continue;
  }
  addGlobalsSnapshot(out);
}
process.exit(failed ? 1 : 0);
