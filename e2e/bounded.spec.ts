// How a run ended, beside the verdict; a long run shows progress and can be cancelled.
import { test, expect } from "./fixtures";

test("the status sits beside the verdict; a long run shows progress and cancels", async ({ page }) => {
  await page.goto(`/?s=blktap2-teardown`);
  const verdict = page.getByTestId("verdict");
  await expect(verdict).toHaveAttribute("data-running", "0");
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", /^(complete|hang-detected)$/);

  // Cut by its cost budget after seconds of work: long enough to show progress.
  await page.goto(`/?s=socklnd-scheduler&k.socklnd.duration_ms=1000&k.socklnd.cold_interval_us=5`);
  await expect(page.getByTestId("run-progress")).toBeVisible();
  await page.getByTestId("run-cancel").click();
  await expect(verdict).toHaveAttribute("data-running", "0");
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "cancelled");
});
