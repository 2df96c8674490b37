// The documented header set is one set: the nginx snippet sends, on every kind of path the
// build has, exactly the headers of public/_headers (which vite preview and the static-server
// e2e spec send), and maps .wasm to application/wasm.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { headersFor, parseHeaders } from "../tools/serve-static.js";

const rules = parseHeaders(readFileSync("public/_headers", "utf8"));
const nginx = readFileSync("examples/hosting/nginx.conf", "utf8").replace(/#.*$/gm, "");

// nginx's choice of location for a URI: an exact match, else the longest prefix (the snippet
// uses no regex locations); its add_header lines, with `set` variables substituted.
function nginxHeaders(path: string): Record<string, string> {
  const vars = new Map([...nginx.matchAll(/set\s+(\$\w+)\s+"([^"]*)";/g)].map((m) => [m[1], m[2]]));
  const locs = [...nginx.matchAll(/location\s+(=\s+)?(\S+)\s*\{([^}]*)\}/g)].map((m) => ({ exact: !!m[1], prefix: m[2], body: m[3] }));
  const loc = locs.find((l) => l.exact && l.prefix === path)
    ?? locs.filter((l) => !l.exact && path.startsWith(l.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  if (!loc) throw new Error(`no nginx location for ${path}`);
  const out: Record<string, string> = {};
  for (const m of loc.body.matchAll(/add_header\s+([\w-]+)\s+"([^"]*)"/g)) {
    out[m[1].toLowerCase()] = m[2].replace(/\$\w+/g, (v) => vars.get(v) ?? v);
  }
  return out;
}

// Every kind of path in a build: the app, the embed (and its extensionless URL), docs pages,
// the app's and the element's scripts, workers and wasm.
const PATHS = ["/", "/index.html", "/embed.html", "/embed", "/docs/index.html", "/docs/embedding.html",
  "/assets/main-x.js", "/assets/worker-x.js", "/assets/iostack-x.wasm", "/embed/iostack-scenario.js", "/embed/assets/worker-x.js"];

describe("hosting headers", () => {
  it.each(PATHS)("nginx sends _headers' set on %s", (path) => {
    expect(nginxHeaders(path)).toEqual(headersFor(rules, path));
  });

  it("frame-ancestors: embed.html for anyone, pages for the lab's own, as the only CSP of each path", () => {
    for (const p of PATHS) {
      const csp = headersFor(rules, p)["content-security-policy"];
      expect(csp, p).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(csp.split(",").length, `${p}: one policy`).toBe(1);
    }
    expect(headersFor(rules, "/embed.html")["content-security-policy"]).toMatch(/; frame-ancestors \*$/);
    expect(headersFor(rules, "/docs/index.html")["content-security-policy"]).toMatch(/; frame-ancestors 'self'$/);
  });

  it("nginx serves .wasm as application/wasm", () => {
    expect(nginx).toMatch(/types\s*\{\s*application\/wasm\s+wasm;\s*\}/);
  });

  it("a malformed _headers line is named", () => {
    expect(() => parseHeaders("  X-A 1\n")).toThrow(/line 1: expected 'Name: value' under a path/);
  });
});
