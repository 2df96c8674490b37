// The workspace's views and controls on one scenario: timeline scrubbing moves the state
// view, the trace view filters, the sweep completes with counts, keyboard works.
import { readFileSync } from "node:fs";
import { test, expect, SCENARIOS, nodeRun, patchesFor, seriousA11y } from "./fixtures";

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
  await page.emulateMedia({ colorScheme: "dark" });
  expect(await seriousA11y(page), "dark theme").toEqual([]);
});

test("exports: the run JSON is the CLI contract object, the Perfetto trace is JSON", async ({ page }) => {
  await page.goto(`/?s=${spec.id}&seed=3`);
  const node = nodeRun(spec.id, patchesFor(spec, {}), 3);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-trace-hash", node.traceHash);
  await page.getByTestId("tab-export").click();
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
  const run = JSON.parse(readFileSync((await dl.path())!, "utf8"));
  expect(run).toMatchObject({ scenario: spec.id, seed: 3, verdict: node.verdict, traceHash: node.traceHash });
  const perfetto = page.getByTestId("export-perfetto");
  if (await perfetto.isEnabled()) {
    const [pf] = await Promise.all([page.waitForEvent("download"), perfetto.click()]);
    expect(JSON.parse(readFileSync((await pf.path())!, "utf8"))).toBeTruthy();
  }
  await expect(page.locator("#permalink")).toHaveValue(new RegExp(`s=${spec.id}&seed=3`));
});

test("keyboard: space plays and pauses, arrows step, the trace log walks line by line", async ({ page }) => {
  await page.goto(`/?s=${spec.id}`);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  const play = page.getByRole("button", { name: /^(play|pause)$/ });
  await page.keyboard.press("Home");
  await expect(page.getByTestId("cursor")).toHaveText("cursor 0.000000000 s");
  await page.keyboard.press(" ");
  await expect(play).toHaveAttribute("aria-pressed", "true");
  await page.keyboard.press(" ");
  await expect(play).toHaveAttribute("aria-pressed", "false");
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("cursor")).not.toHaveText("cursor 0.000000000 s");
  await page.keyboard.press("3");
  await expect(page.locator("[data-view=trace]")).toBeVisible();
  const log = page.getByRole("log");
  await log.focus();
  const before = await page.getByTestId("cursor").textContent();
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowDown");
  await expect(page.getByTestId("cursor")).not.toHaveText(before!);
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
  // A failing seed is one click away: the workspace re-runs on it.
  const failing = page.getByTestId("sweep-row").locator("td.seeds button").first();
  if (await failing.count()) {
    const seed = (await failing.textContent())!.trim();
    const verdict = (await failing.getAttribute("title"))!.split(":")[0];
    await failing.click();
    await expect(page.getByTestId("seed")).toHaveValue(seed);
    await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", verdict);
  }
});
