// The lab app: Svelte 5 in ui/, the simulation in Web Workers (engine/worker.ts), the
// WASM module fetched by URL (build/iostack.wasm, emitted as an asset), static files in public/.
// Three entries: the app (index.html), the iframe embed (embed.html), and the
// <iostack-scenario> element (ui/embed/element.ts → dist/embed/iostack-scenario.js), which is
// a second build run after the first: one script with no code splitting, its styles in one
// file (dist/embed/iostack-scenario.css) that each element links inside its shadow root.
// The same files are what the npm package's main entry is: a docs site's bundler (Vite,
// webpack 5) follows the element's `new URL("./…", import.meta.url)` references to its worker,
// wasm and stylesheet, so nobody copies them by hand.
import { build, defineConfig } from "vite";
import type { Plugin } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { headersFor, readHeaders } from "./engine/tools/serve-static.js";

const root = fileURLToPath(new URL(".", import.meta.url));

const common = {
  // One worker file with nothing to import: a bundler re-bundles it as a worker entry, and the
  // app's and the element's builds of it are the same file.
  worker: { format: "es" as const, rolldownOptions: { output: { codeSplitting: false } } },
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
        base: "./",                  // worker, wasm and css found relative to the script, wherever it is served
        publicDir: false,
        logLevel: "warn",
        plugins: [svelte(), bundlerUrls(outDir + "/assets/")],
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

// Vite writes the element's asset references as new URL(`assets/x`, import.meta.url) and its
// worker as new Worker(new URL(new URL(`assets/w.js`, import.meta.url).href, ``+import.meta.url)),
// which run in a browser but which no bundler recognises. Rewritten to the forms bundlers
// document: new URL("./assets/x", import.meta.url) and new Worker(new URL("./w.js", import.meta.url)).
// A file the app's build already has (the wasm and the worker: same content hash) is not
// written twice: the element points at the app's copy in ../assets/.
function bundlerUrls(appAssets: string): Plugin {
  return {
    name: "iostack-bundler-urls",
    apply: "build",
    generateBundle(_, bundle) {
      const shared = Object.keys(bundle).filter((f) => bundle[f].type === "asset" && f.startsWith("assets/") && existsSync(appAssets + basename(f)));
      for (const f of shared) delete bundle[f];
      const url = (f: string) => `new URL("${shared.includes(f) ? "../" : "./"}${f}",import.meta.url)`;
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk" || !chunk.isEntry) continue;
        let workers = 0;
        chunk.code = chunk.code
          .replace(/new URL\(new URL\(`(assets\/[\w.-]+\.js)`,import\.meta\.url\)\.href,``\+import\.meta\.url\)/g, (_m, f: string) => {
            workers++;
            return url(f);
          })
          .replace(/new URL\(`((?:assets\/)?[\w.-]+\.(?:wasm|css))`,import\.meta\.url\)/g, (_m, f: string) => url(f));
        const left = chunk.code.match(/new URL\(`[^`.][^`]*`,import\.meta\.url\)/);
        if (workers !== 1 || left) this.error(`${chunk.fileName}: expected one worker URL and only ./ asset URLs (${workers} workers${left ? `, left: ${left[0]}` : ""}); did Vite change its output?`);
      }
    },
  };
}

// vite preview sends the build's `_headers` (public/_headers: the documented header set, with
// the frame-ancestors that a <meta> policy cannot carry), as the static hosts that read it do.
function hostHeaders(): Plugin {
  return {
    name: "iostack-host-headers",
    configurePreviewServer(server) {
      const rules = readHeaders(server.config.build.outDir);
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? "/").split("?")[0]);
        for (const [name, value] of Object.entries(headersFor(rules, path))) res.setHeader(name, value);
        next();
      });
    },
  };
}

export default defineConfig({
  root: root + "ui",
  publicDir: root + "public",
  base: "./",                       // relative URLs: the build runs under any path (e.g. a docs site's /lab/)
  plugins: [svelte(), elementBuild(), hostHeaders()],
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
