// The layers of asm/ hold: a file imports only from its own folder and the folders
// below it. kernel/ is the bottom and imports nothing else; the subsystems sit on it in
// the order of the kernel's own stack (mm and block under net and xen, net under
// sunrpc, sunrpc under nfs and nfsd); scenarios/ wires any of them; the module roots
// (index.ts, abi.ts) and tests/ sit on top.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";

const ASM = join(__dirname, "../../asm");

// layer -> the layers it may import (besides itself)
const ALLOWED: Record<string, string[]> = {
  kernel: [],
  mm: ["kernel"],
  block: ["kernel", "mm"],
  lnet: ["kernel"],
  net: ["kernel", "mm"],
  xen: ["kernel", "mm", "block"],
  sunrpc: ["kernel", "mm", "net"],
  nfs: ["kernel", "mm", "net", "sunrpc"],
  nfsd: ["kernel", "mm", "net", "sunrpc"],
  scenarios: ["kernel", "mm", "block", "lnet", "net", "xen", "sunrpc", "nfs", "nfsd"],
  ".": ["kernel", "scenarios"],
  tests: ["kernel", "mm", "block", "lnet", "net", "xen", "sunrpc", "nfs", "nfsd", "scenarios", "."],
};

// The first folder under asm/ ("." for the module roots); a bare folder import names its index.ts.
const layerOf = (path: string) => (path.includes("/") ? path.split("/")[0] : path in ALLOWED ? path : ".");

// Every import and re-export specifier of one file's source.
function specifiers(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)) out.push(m[1] ?? m[2]);
  return out;
}

// "file -> target (layer -> layer)" for each import that runs against the table.
export function violations(files: Record<string, string>): string[] {
  const bad: string[] = [];
  for (const [file, src] of Object.entries(files)) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    if (!allowed) { bad.push(`${file}: folder ${from}/ is not in the layer table`); continue; }
    for (const spec of specifiers(src)) {
      if (!spec.startsWith(".")) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) bad.push(`${file} -> ${target} (${from} -> ${to})`);
    }
  }
  return bad;
}

function asmFiles(dir = ASM): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) Object.assign(files, asmFiles(p));
    else if (e.name.endsWith(".ts")) files[relative(ASM, p).split(/[\\/]/).join("/")] = readFileSync(p, "utf8");
  }
  return files;
}

describe("asm layers", () => {
  it("no file imports a layer above its own", () => {
    const files = asmFiles();
    expect(Object.keys(files).length).toBeGreaterThan(40);
    expect(violations(files)).toEqual([]);
  });

  it("finds an upward import, a re-export and a bare import, and a folder missing from the table", () => {
    expect(violations({
      "net/dev.ts": 'import { x } from "../kernel/clock";\nimport {\n  y,\n} from "../sunrpc/xprt";',
      "kernel/sched.ts": 'export * from "../net/tcp";\nimport "../scenarios";',
      "mm/page.ts": 'import { z } from "./mem";',
      "fs/vfs.ts": "",
    })).toEqual([
      "net/dev.ts -> sunrpc/xprt (net -> sunrpc)",
      "kernel/sched.ts -> net/tcp (kernel -> net)",
      "kernel/sched.ts -> scenarios (kernel -> scenarios)",
      "fs/vfs.ts: folder fs/ is not in the layer table",
    ]);
  });
});
