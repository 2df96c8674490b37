// A scenario's own view (spec.ownViews) appears as a tab after the workspace's views and
// shows its blocks of the state at the cursor; a scenario without one shows no extra tab.
import { test, expect } from "./fixtures";

test("blktap2-teardown's Minors tab shows the orphaned minors at the end of the run", async ({ page }) => {
  await page.goto("/?s=blktap2-teardown");
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  const tabs = page.getByRole("tablist", { name: "views" }).getByRole("tab");
  await expect(tabs.last()).toHaveText("Minors");
  await page.getByTestId("tab-minors").click();
  const panel = page.locator("[data-view=minors]");
  await expect(panel.locator("[data-block=minors]")).toContainText("ORPHANED, no tapdisk2");
  await expect(panel).toContainText("(end of run)");

  await page.goto("/?s=socklnd-scheduler");
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  await expect(page.getByTestId("tab-minors")).toHaveCount(0);
});
