// The Sweep view's determinism switch (issue 13): every seed run twice on different
// workers with their rolling trace hashes compared, and a failing seed's reproduction.
import { test, expect } from "@playwright/test";

test("a checked sweep reports every seed run twice, none diverging, and the repro line", async ({ page }) => {
  await page.goto("/?s=blktap2-teardown");
  await page.getByTestId("tab-sweep").click();
  await page.getByTestId("sweep-count").fill("12");
  await page.getByTestId("sweep-check").check();
  await page.getByTestId("sweep-start").click();
  const status = page.getByTestId("sweep-status");
  await expect(status).toContainText("runs in", { timeout: 60_000 });
  const rows = await page.getByTestId("sweep-row").count();
  await expect(status).toContainText(`determinism: ${12 * rows} seeds run twice, 0 diverged`);
  await expect(page.getByTestId("sweep-diverged")).toHaveCount(0);
  // a row's first failing seed comes with its command line and permalink
  const repro = page.getByTestId("sweep-repro").first();
  const seed = (await page.getByTestId("sweep-row").filter({ has: repro }).locator("td.seeds button").first().textContent())!.trim();
  await expect(repro).toContainText(`npx iostack run blktap2-teardown --seed ${seed}`);
  await expect(repro.locator("a")).toHaveAttribute("href", new RegExp(`\\?s=blktap2-teardown(&p=[^&]*)?&seed=${seed}(&|$)`));
});
