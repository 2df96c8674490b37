// The docs page's two embeds, asserted with the package's Playwright helper: the element
// (bundled from the package) and the lab's embed.html in an iframe. Each trace hash is the one
// the package's CLI gives for the same configuration: the same run in Chromium and in Node.
import { test as base, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expectVerdict, waitForVerdict } from "iostack-lab/playwright";

const site = fileURLToPath(new URL("..", import.meta.url));

function cli(...args: string[]): { verdict: string; traceHash: string } {
  return JSON.parse(execFileSync("node_modules/.bin/iostack", ["run", ...args, "--json"], { cwd: site, encoding: "utf8" }));
}

// The page keeps to its origin and its policy: no CSP refusal, error or foreign request.
const test = base.extend<{ clean: void }>({
  clean: [async ({ page, baseURL }, use) => {
    const bad: string[] = [];
    page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) bad.push(m.text()); });
    page.on("pageerror", (e) => bad.push(e.message));
    page.on("request", (r) => { if (new URL(r.url()).origin !== new URL(baseURL!).origin) bad.push(r.url()); });
    await use();
    expect(bad).toEqual([]);
  }, { auto: true }],
});

test("the element and the iframe show their scenarios' verdicts, as the CLI runs them", async ({ page }) => {
  await page.goto("/");
  const el = await expectVerdict(page.locator("#blktap"), "leak");
  expect(el).toEqual(pick(cli("blktap2-teardown", "--seed", "1")));
  const frame = await expectVerdict(page.locator("#socklnd"), "corruption");
  expect(frame).toEqual(pick(cli("socklnd-scheduler", "--patch", "socklnd-shared-sched", "--seed", "1")));
  // the page's typed listeners heard both
  await expect(page.locator("#log")).toContainText(`element blktap2-teardown: leak (trace ${el.traceHash})`);
  await expect(page.locator("#log")).toContainText(`iframe socklnd-scheduler: corruption (trace ${frame.traceHash})`);
});

test("each fix flips its own embed to ok", async ({ page }) => {
  await page.goto("/");
  await waitForVerdict(page.locator("#blktap"));
  await waitForVerdict(page.frameLocator("#socklnd"));
  await page.getByRole("button", { name: "Apply libxl-teardown-order" }).click();
  await expectVerdict(page.locator("#blktap"), "ok");
  await expectVerdict(page.locator("#socklnd"), "corruption");
  await page.getByRole("button", { name: "Apply socklnd-per-thread-scratch (postMessage)" }).click();
  await expectVerdict(page.frameLocator("#socklnd"), "ok");
  await expect(page.locator("#log")).toContainText("iframe socklnd-scheduler: ok");
});

function pick(r: { verdict: string; traceHash: string }) {
  return { verdict: r.verdict, traceHash: r.traceHash };
}
