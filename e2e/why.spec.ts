// The Why? view: explain runs in a worker (cancellable), its JSON is byte-identical to Node's, the
// minimal decisions move the cursor, and the minimal replay shows next to the original.
import { test, expect } from "./fixtures";
import { loadModule } from "../engine/node/load";
import { validateConfig } from "../engine/config";
import { explain } from "../engine/explain";

const scenario = "nfs-odirect-retransmit", seed = 3, forks = 2;

test("explain in Chromium equals explain in Node; decisions jump the cursor; the minimal replay fails the same way", async ({ page }) => {
  test.setTimeout(600_000);
  const node = explain(loadModule(), validateConfig({ scenario, seed }), { forks });
  await page.goto(`/?s=${scenario}&seed=${seed}`);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", node.verdict, { timeout: 60_000 });
  await page.getByTestId("tab-why").click();
  await page.getByTestId("why-forks").fill(String(forks));
  // cancel terminates the explain worker; the view can start again
  await page.getByTestId("why-start").click();
  await expect(page.getByTestId("why-start"), "one explain at a time").toBeDisabled();
  await page.getByTestId("why-cancel").click();
  await expect(page.getByTestId("why-progress")).toHaveText("cancelled");
  await expect(page.getByTestId("why-json")).not.toBeAttached();
  await page.getByTestId("why-start").click();
  await expect(page.getByTestId("why-progress")).toContainText("runs");
  const json = page.getByTestId("why-json");
  await expect(json).toBeAttached({ timeout: 540_000 });
  expect(await json.textContent()).toBe(JSON.stringify({ ...node, runs: undefined }));

  const decisions = page.getByTestId("why-decision");
  await expect(decisions).toHaveCount(node.decisions.minimal.length);
  if (node.decisions.minimal.length) {
    await decisions.first().click();
    await expect(page.getByTestId("cursor")).not.toHaveText("cursor 0.000000 s");
  }
  await page.getByTestId("why-replay").click();
  await expect(page.getByTestId("why-replay-verdict")).toHaveAttribute("data-verdict", node.replay.verdict, { timeout: 60_000 });
});
