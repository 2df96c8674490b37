#!/usr/bin/env node
// A plain static file server for the lab's build, as any host would be: files as they are,
// the right MIME types (application/wasm for the simulation module), and the response headers
// of the build's own `_headers` file (public/_headers) — nothing else. The e2e static-server
// spec runs the build under it, and vite preview takes its headers from the same parser.
//   node engine/tools/serve-static.js [DIR=dist] [--port N=8080] [--host H=127.0.0.1]
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

// `_headers`: a line with no indentation is a path pattern (`*` matches any run of
// characters); the indented `Name: value` lines under it are its headers; `#` starts a comment.
export function parseHeaders(text) {
  const rules = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trimEnd();
    if (!line.trim() || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      rules.push({ path: line, headers: [] });
      continue;
    }
    const m = /^\s+([\w-]+):\s*(.+)$/.exec(line);
    if (!m || !rules.length) throw new Error(`_headers line ${i + 1}: expected 'Name: value' under a path, got '${line.trim()}'`);
    rules.at(-1).headers.push([m[1], m[2]]);
  }
  return rules;
}

// The headers of every rule whose pattern matches the URL path, in file order; one name set by
// two matching rules is joined with ", " as the hosts do.
export function headersFor(rules, path) {
  const out = {};
  for (const r of rules) {
    const re = new RegExp("^" + r.path.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
    if (!re.test(path)) continue;
    for (const [name, value] of r.headers) {
      const k = name.toLowerCase();
      out[k] = out[k] === undefined ? value : `${out[k]}, ${value}`;
    }
  }
  return out;
}

export function readHeaders(dir) {
  const f = join(dir, "_headers");
  if (!existsSync(f)) throw new Error(`${f} is missing: run 'npm run build' first`);
  return parseHeaders(readFileSync(f, "utf8"));
}

// The file a URL path names: a directory's index.html, or `/embed` for `/embed.html` (the
// extensionless URLs that Netlify and Cloudflare Pages also serve). null: nothing to serve.
function fileFor(root, path) {
  if (path === "/_headers") return null;
  const f = resolve(root, "." + normalize(path));
  if (f !== root && !f.startsWith(root + sep)) return null;
  for (const c of [f, join(f, "index.html"), f + ".html"]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/** Serves `dir`; resolves to {origin, close()} once listening (port 0: any free port). */
export function serve(dir, { port = 0, host = "127.0.0.1" } = {}) {
  const root = resolve(dir);
  const rules = readHeaders(root);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const file = fileFor(root, path);
    if (!file) {
      res.writeHead(404, { "content-type": MIME[".txt"] }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      ...headersFor(rules, path),
      "content-type": MIME[extname(file)] ?? "application/octet-stream",
      "content-length": statSync(file).size,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      ok({ origin: `http://${host.includes(":") ? `[${host}]` : host}:${p}`, close: () => { server.closeAllConnections(); server.close(); } });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    if (i < 0) return dflt;
    const v = args.splice(i, 2)[1];
    if (v === undefined) fail(`${name} needs a value`);
    return v;
  };
  function fail(msg) {
    process.stderr.write(`serve-static: ${msg}\n`);
    process.exit(2);
  }
  const rawPort = opt("--port", "8080");
  const port = Number(rawPort);
  const host = opt("--host", "127.0.0.1");
  if (!/^\d+$/.test(rawPort) || port > 65535) fail(`--port: '${rawPort}' is not a port number`);
  if (args.length > 1) fail(`one directory expected, got: ${args.join(" ")}`);
  try {
    const { origin } = await serve(args[0] ?? "dist", { port, host });
    process.stdout.write(`serving ${resolve(args[0] ?? "dist")} on ${origin}/\n`);
  } catch (e) {
    fail(e.message);
  }
}
