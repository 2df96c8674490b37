// The lab app: Svelte 5 in ui/, the simulation in Web Workers (engine/worker.ts), the
// WASM module fetched by URL (build/iostack.wasm, emitted as an asset), static files in public/.
// Three entries: the app (index.html), the iframe embed (embed.html), and the
// <iostack-scenario> element (ui/embed/element.ts → dist/embed/iostack-scenario.js), which is
// a second build run after the first: one script with no code splitting, its styles in one
// file (dist/embed/iostack-scenario.css) that each element links inside its shadow root.
import { build, defineConfig } from "vite";
import type { Plugin } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));

const common = {
  worker: { format: "es" as const },
  target: "es2022",
};

function elementBuild(): Plugin {
  let done = false;
  let outDir = root + "dist";
  return {
    name: "iostack-element",
    apply: "build",
    configResolved(c) {
      outDir = c.build.outDir;    // follows --outDir
    },
    async closeBundle() {
      if (done) return;
      done = true;
      await build({
        configFile: false,
        root: root + "ui",
        base: "./",                  // worker, wasm and css found beside the script, wherever it is served
        publicDir: false,
        logLevel: "warn",
        plugins: [svelte()],
        worker: common.worker,
        build: {
          outDir: outDir + "/embed",
          emptyOutDir: true,
          target: common.target,
          assetsInlineLimit: 0,
          cssCodeSplit: false,
          modulePreload: false,
          rolldownOptions: {
            input: root + "ui/embed/element.ts",
            output: {
              codeSplitting: false,
              entryFileNames: "iostack-scenario.js",
              assetFileNames: (a) => (a.names.some((n) => n.endsWith(".css")) ? "iostack-scenario.css" : "assets/[name]-[hash][extname]"),
            },
          },
        },
      });
    },
  };
}

// frame-ancestors only works as a header (a <meta> policy ignores it): the embed may be framed
// by any page (what it says to whom is governed by its `origins` parameter), the rest by the
// lab's own pages only.
function framingHeaders(): Plugin {
  return {
    name: "iostack-framing",
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "/").split("?")[0];
        res.setHeader("Content-Security-Policy", path === "/embed.html" || path === "/embed" ? "frame-ancestors *" : "frame-ancestors 'self'");
        res.setHeader("X-Content-Type-Options", "nosniff");
        next();
      });
    },
  };
}

export default defineConfig({
  root: root + "ui",
  publicDir: root + "public",
  base: "/",
  plugins: [svelte(), elementBuild(), framingHeaders()],
  worker: common.worker,
  build: {
    outDir: root + "dist",
    emptyOutDir: true,
    target: common.target,
    assetsInlineLimit: 0,           // the wasm stays a separate, cacheable file
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      input: { main: root + "ui/index.html", embed: root + "ui/embed.html" },
    },
  },
  server: { fs: { allow: [root] } },
  preview: { port: 4173, strictPort: true },
});
