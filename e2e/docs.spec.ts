// The documentation pages: reachable from the catalog, each scenario page's embeds show the
// verdict the page says they show (data-expect), under the pages' CSP, with no request
// leaving the origin (the shared guard). Pages of scenarios not in this build say so.
import { test, expect, SCENARIOS, seriousA11y } from "./fixtures";

test("the catalog links the docs, and the docs index links every page", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("docs-link").click();
  await expect(page).toHaveURL(/\/docs\/index\.html$/);
  const hrefs = await page.locator("ul.toc a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  for (const s of SCENARIOS) expect(hrefs).toContain(`${s.id}.html`);
  await expect(page.getByRole("link", { name: /How to embed/ })).toHaveAttribute("href", "embedding.html");
});

test("each scenario page's embeds show the verdicts the page states", async ({ page }) => {
  const csp: string[] = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await page.goto("/docs/index.html");
  const pages = await page.locator("ul.toc a").evaluateAll((as) => as.map((a) => a.getAttribute("href")!));
  const known = new Set(SCENARIOS.map((s) => s.id));
  let checked = 0;
  for (const href of pages) {
    await page.goto(`/docs/${href}`);
    const els = page.locator("iostack-scenario[data-expect]");
    const n = await els.count();
    expect(n, `${href}: embeds at its key states`).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < n; i++) {
      const el = els.nth(i);
      const [id, want] = await el.evaluate((e) => [e.getAttribute("scenario")!, e.getAttribute("data-expect")!]);
      if (!known.has(id)) {
        await expect(el.getByTestId("problems"), `${href}: ${id} is not in this build`).toContainText(`unknown scenario '${id}'`);
        continue;
      }
      const v = el.getByTestId("verdict");
      await expect(v, `${href} embed ${i}`).toHaveAttribute("data-running", "0");
      await expect(v, `${href} embed ${i}`).toHaveAttribute("data-verdict", want);
      await expect(el.getByTestId("problems")).toHaveCount(0);
      checked++;
    }
  }
  expect(checked).toBeGreaterThanOrEqual(2 * SCENARIOS.length);
  expect(csp).toEqual([]);
});

test("the main app and the embed run under their Content-Security-Policy", async ({ page }) => {
  const csp: string[] = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  for (const url of ["/?s=socklnd-scheduler", "/embed.html?s=socklnd-scheduler&view=timeline"]) {
    await page.goto(url);
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content")).toContain("script-src 'self' 'wasm-unsafe-eval'");
    await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", "degraded");   // the old scheduler's imbalance
  }
  await page.goto("/?s=socklnd-scheduler");
  await page.getByTestId("tab-sweep").click();
  await expect(page.locator("[data-view=sweep]")).toBeVisible();
  expect(csp).toEqual([]);
});

test("the embedding page, with its elements and iframe, has no serious accessibility problem", async ({ page }) => {
  await page.goto("/docs/embedding.html");
  for (const id of ["#el-a", "#el-b"]) await expect(page.locator(id).getByTestId("verdict")).toHaveAttribute("data-running", "0");
  await expect(page.frameLocator("#frame").getByTestId("verdict")).toHaveAttribute("data-running", "0");
  expect(await seriousA11y(page)).toEqual([]);
});
