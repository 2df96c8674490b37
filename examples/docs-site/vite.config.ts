// The docs site's build. The element is bundled from the package like any dependency. The lab's
// static build (embed.html and the app, the package's dist/) is published beside the site under
// /lab/ by the build itself (so `vite` dev shows the element but not the iframe; `vite preview`
// both), and nothing is copied by hand; a site that frames a lab hosted elsewhere needs none of this.
import { cpSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { defineConfig } from "vite";
import type { Plugin } from "vite";

const labDist = join(dirname(createRequire(import.meta.url).resolve("iostack-lab/package.json")), "dist");

function publishLab(): Plugin {
  let outDir = "";
  return {
    name: "publish-iostack-lab",
    apply: "build",
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      // the static site only: not the CLI bundle (node/) nor the types and test helper (pkg/)
      const skip = [join(labDist, "node"), join(labDist, "pkg")];
      cpSync(labDist, join(outDir, "lab"), { recursive: true, filter: (f) => !skip.some((s) => f === s || f.startsWith(s + sep)) });
    },
  };
}

export default defineConfig({
  plugins: [publishLab()],
  // `vite` (dev) pre-bundles dependencies into one file, which would lose the files the
  // element loads beside itself: serve the package as shipped.
  optimizeDeps: { exclude: ["iostack-lab"] },
  build: { target: "es2022" },
});
