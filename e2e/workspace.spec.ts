// The workspace's views and controls on one scenario: timeline scrubbing moves the state
// view, the trace view filters, the sweep completes with counts, keyboard works.
import { test, expect, SCENARIOS, seriousA11y } from "./fixtures";

const spec = SCENARIOS.find((s) => s.id === "sunrpc-udp-slot-hang") ?? SCENARIOS[0];

test("timeline, state at the cursor, trace, metrics and compare views", async ({ page }) => {
  await page.goto(`/?s=${spec.id}`);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  const cursor = page.getByTestId("cursor");
  const end = await cursor.textContent();
  const tl = page.getByTestId("timeline");
  const box = (await tl.boundingBox())!;
  await tl.click({ position: { x: 150 + (box.width - 150) * 0.3, y: 20 } });
  await expect(cursor).not.toHaveText(end!);
  await page.getByTestId("tab-state").click();
  await expect(page.getByTestId("tasks")).toBeVisible();
  const at = (await cursor.textContent())!.replace("cursor ", "");
  await expect(page.locator("[data-view=state]")).toContainText(`state at ${at}`);

  await page.keyboard.press("ArrowRight");
  await expect(cursor).not.toHaveText(`cursor ${at}`);

  await page.getByTestId("tab-trace").click();
  const count = page.getByTestId("trace-count");
  await expect(count).toContainText(/[1-9][\d,]* records/);
  const total = (await count.textContent())!;
  await page.getByTestId("trace-filter").fill("zzzz-no-such-thing");
  await expect(count).toContainText(/^0 records/);
  await page.getByTestId("trace-filter").fill("");
  await expect(count).toHaveText(total);

  await page.getByTestId("tab-metrics").click();
  await page.getByTestId("tab-compare").click();
  await expect(page.getByTestId("verdict-b")).toHaveAttribute("data-verdict", /./);
  expect(await seriousA11y(page)).toEqual([]);
});

test("a sweep over 40 seeds completes and shows counts", async ({ page }) => {
  await page.goto(`/?s=${spec.id}`);
  await page.getByTestId("tab-sweep").click();
  await page.getByTestId("sweep-count").fill("40");
  await page.getByTestId("sweep-start").click();
  await expect(page.getByTestId("sweep-status")).toContainText("runs in", { timeout: 60_000 });
  const rows = page.getByTestId("sweep-row");
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row.locator("td").nth(1)).toHaveText("40");
    const counts = await row.locator("td[data-verdict]").allTextContents();
    expect(counts.reduce((a, b) => a + Number(b), 0)).toBe(40);
  }
});
