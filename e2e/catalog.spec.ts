// Smoke: the catalog lists every scenario, a card opens its workspace, and a verdict comes.
import { test, expect, SCENARIOS, seriousA11y } from "./fixtures";

test("the catalog shows one card per scenario and opens a workspace", async ({ page }) => {
  await page.goto("/");
  const cards = page.getByTestId("scenario-card");
  await expect(cards).toHaveCount(SCENARIOS.length);
  for (const s of SCENARIOS) {
    const card = page.locator(`[data-scenario="${s.id}"]`);
    await expect(card).toContainText(s.title);
    await expect(card).toContainText(String(s.year));
  }
  expect(await seriousA11y(page)).toEqual([]);
  await cards.first().getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`s=${SCENARIOS[0].id}`));
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", /^(ok|hang|corruption|crash|leak|degraded)$/);
  await page.getByRole("link", { name: "← catalog" }).click();
  await expect(page.getByTestId("scenario-card")).toHaveCount(SCENARIOS.length);
});
