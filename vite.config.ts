// The lab app: Svelte 5 in ui/, the simulation in Web Workers (engine/worker.ts), the
// WASM module fetched by URL (build/iostack.wasm, emitted as an asset), static files in public/.
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: root + "ui",
  publicDir: root + "public",
  base: "/",
  plugins: [svelte()],
  worker: { format: "es" },
  build: {
    outDir: root + "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,           // the wasm stays a separate, cacheable file
    chunkSizeWarningLimit: 600,
  },
  server: { fs: { allow: [root] } },
  preview: { port: 4173, strictPort: true },
});
