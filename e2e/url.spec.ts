// URL state: a configuration survives the round trip through the URL and a reload; bad
// values are named in the page and replaced by their defaults, and the page keeps working.
import { test, expect, SCENARIOS, nodeRun, patchesFor, verdictFor } from "./fixtures";
import { defaultKnobs } from "../engine/config";

const spec = SCENARIOS[0];
const numeric = spec.knobs.find((k) => k.type === "int" && k.max !== undefined && k.min !== undefined && k.max > k.min)!;

test("URL round trip: patches, seed and a knob set in the page come back after a reload", async ({ page }) => {
  await page.goto(`/?s=${spec.id}`);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-running", "0");
  const patch = spec.patches[0];
  await page.getByTestId(`patch-${patch.id}`).click();
  await page.getByTestId("seed").fill("7");
  await page.getByTestId("seed").press("Enter");
  const value = numeric.default === numeric.max ? numeric.min! : (numeric.default as number) + 1;
  const input = page.locator(`[data-knob="${numeric.name}"] input`);
  await input.fill(String(value));
  await input.press("Enter");
  const patches = patchesFor(spec, { [patch.id]: !patch.default });
  const want = nodeRun(spec.id, patches, 7, { [numeric.name]: value });
  await verdictFor(page, want);
  const url = new URL(page.url());
  expect(url.searchParams.get("seed")).toBe("7");
  expect(url.searchParams.get(`k.${numeric.name}`)).toBe(String(value));
  await page.reload();
  await verdictFor(page, want);
  await expect(page.getByTestId(`patch-${patch.id}`)).toBeChecked({ checked: !patch.default });
  await expect(input).toHaveValue(String(value));
});

test("a bad URL parameter is named in the page and its default is used", async ({ page }) => {
  await page.goto(`/?s=${spec.id}&seed=banana&k.${numeric.name}=${numeric.max! + 1000}&p=no-such-patch`);
  const problems = page.getByTestId("problems");
  await expect(problems).toContainText("seed");
  await expect(problems).toContainText(numeric.name);
  await expect(problems).toContainText("no-such-patch");
  // an unknown p says nothing about the patches: the defaults stay (43cedbf0 on)
  await verdictFor(page, nodeRun(spec.id, patchesFor(spec, {}), 1));
  await expect(page.getByTestId("seed")).toHaveValue("1");
  await expect(page.locator(`[data-knob="${numeric.name}"] input`)).toHaveValue(String(defaultKnobs(spec)[numeric.name]));
});

test("an unknown scenario shows the catalog with a message; bad saved settings are reported", async ({ page }) => {
  await page.goto("/?s=sunrpc-udp-slot-hnag");
  await expect(page.getByTestId("problems")).toContainText("unknown scenario");
  await expect(page.getByTestId("scenario-card")).toHaveCount(SCENARIOS.length);
  await page.evaluate((id) => localStorage.setItem("iostack-lab:last", JSON.stringify({ [id]: `s=${id}&seed=-4` })), spec.id);
  await page.goto(`/?s=${spec.id}`);
  await expect(page.getByTestId("problems")).toContainText("saved settings");
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-verdict", /./);
});

test("a refused knob value gets an inline message and is not applied", async ({ page }) => {
  await page.goto(`/?s=${spec.id}`);
  const before = nodeRun(spec.id, patchesFor(spec, {}), 1);
  await verdictFor(page, before);
  const input = page.locator(`[data-knob="${numeric.name}"] input`);
  await input.fill(String(numeric.max! + 1));
  await input.press("Enter");
  await expect(page.locator(`[data-knob="${numeric.name}"] [data-testid=knob-error]`)).toContainText("out of range");
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-trace-hash", before.traceHash);
  expect(new URL(page.url()).searchParams.get(`k.${numeric.name}`)).toBeNull();
});

test("embed mode: the compact workspace keeps the URL contract and the patch switches", async ({ page }) => {
  const p = spec.patches[0];
  await page.goto(`/?s=${spec.id}&seed=2&embed=1`);
  await verdictFor(page, nodeRun(spec.id, patchesFor(spec, {}), 2));
  await expect(page.locator("aside")).toHaveCount(0);
  await page.getByTestId(`patch-${p.id}`).click();
  await verdictFor(page, nodeRun(spec.id, patchesFor(spec, { [p.id]: !p.default }), 2));
  expect(new URL(page.url()).searchParams.get("embed")).toBe("1");
});
