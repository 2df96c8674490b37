// The Stack view: at each scenario's first anomaly it shows what the model's snapshot there
// says (computed beside it in Node with the same WASM and host code), a click on an item
// selects its entity in the timeline, and axe finds nothing serious.
import { test, expect, seriousA11y } from "./fixtures";
import type { Page } from "@playwright/test";
import { loadModule } from "../engine/node/load";
import { Session } from "../engine/browser/session";
import type { StackPicture } from "../engine/stack";
import { SCENARIOS } from "../engine/catalog";
import "../engine/scenarios/index";

// socklnd as shipped has no anomaly (its pathology is throughput); the shared scheduler
// without per-thread scratch is the configuration that corrupts.
const CASES: Array<{ id: string; patches: Record<string, boolean> }> = [
  { id: "sunrpc-udp-slot-hang", patches: {} },
  { id: "sunrpc-tcp-close-wait", patches: {} },
  { id: "nfs-odirect-retransmit", patches: {} },
  { id: "socklnd-scheduler", patches: { "socklnd-shared-sched": true } },
  { id: "blktap2-teardown", patches: {} },
];

// The sunrpc scenarios' defaults are realistic timing, where their hangs are rare: they open
// at the documented preset's seed and knobs.
function documented(id: string): { seed?: number; knobs?: Record<string, string | number | boolean> } {
  const d = SCENARIOS.find((x) => x.id === id)!.presets.find((p) => p.id === "documented");
  return id.startsWith("sunrpc-") && d ? { seed: d.seed, knobs: d.knobs } : {};
}

function nodePicture(id: string, patches: Record<string, boolean>): { pic: StackPicture; hash: string } {
  const s = new Session(loadModule());
  const v = s.run({ scenario: id, patches, ...documented(id) });
  expect(v.firstAnomalyT, `${id} has an anomaly`).toBeGreaterThanOrEqual(0);
  const snap = s.snapshotAt(v.firstAnomalyT);
  return { pic: snap.stack!, hash: v.details.traceHash };
}

const fmt = (v: string | number | boolean) => (v === true ? "yes" : v === false ? "no" : String(v));

async function openAtFirstAnomaly(page: Page, id: string, patches: Record<string, boolean>, hash: string, time: number): Promise<void> {
  const p = Object.keys(patches).length ? `&p=${Object.keys(patches).join(",")}` : "";
  const d = documented(id);
  const k = (d.seed !== undefined ? `&seed=${d.seed}` : "") + Object.entries(d.knobs ?? {}).map(([n, v]) => `&k.${n}=${v}`).join("");
  await page.goto(`/?s=${id}${p}${k}`);
  await expect(page.getByTestId("verdict")).toHaveAttribute("data-trace-hash", hash);
  await expect(page.getByTestId("tab-stack")).toHaveAttribute("aria-selected", "true");
  await page.getByTestId("first-anomaly").click();
  await expect(page.getByTestId("stack")).toHaveAttribute("data-time", String(time));
}

for (const c of CASES) {
  test(`${c.id}: the Stack view at the first anomaly shows the snapshot's facts`, async ({ page }) => {
    const { pic, hash } = nodePicture(c.id, c.patches);
    await openAtFirstAnomaly(page, c.id, c.patches, hash, pic.time);
    const stack = page.getByTestId("stack");
    for (const l of pic.layers) {
      const layer = stack.locator(`[data-layer="${l.id}"]`);
      await expect(layer).toContainText(l.title);
      for (const [k, v] of Object.entries(l.facts ?? {})) await expect(layer.locator(`[data-fact="${k}"] dd`), `${l.id}.${k}`).toHaveText(fmt(v));
      await expect(layer.locator("[data-key]")).toHaveCount(l.items.length);
    }
    if (c.id === "sunrpc-udp-slot-hang") {
      // the documented hang's picture: the lock held by the killed GETATTR, `sending` holds its tasks
      const x = stack.locator('[data-layer="xprt"]');
      await expect(x.locator('[data-fact="XPRT_LOCKED holder"] dd')).toHaveText(/^task \d+ \(exited\)$/);
      // the tasks layer draws the first tasks by tk_action: at most all of sending's
      const tasks = (pic.layers.find((l) => l.id === "tasks")!.items).filter((i) => i.fields?.q === "xprt_sending").length;
      const sending = Number(await x.locator('[data-fact="sending"] dd').textContent());
      expect(tasks).toBeGreaterThan(0);
      expect(tasks).toBeLessThanOrEqual(sending);
    }
    if (c.id === "sunrpc-tcp-close-wait") {
      await expect(stack.locator('[data-layer="xprt"] [data-fact="XPRT_LOCKED holder"] dd')).toHaveText(/^task \d+ \(exited\)$/);
    }
    if (c.id === "blktap2-teardown") {
      await expect(page.getByTestId("stack-cycle")).toContainText("wait-for cycle");
      await expect(stack.locator("svg.links path.cycle")).toHaveCount(pic.cycle.length);
      await expect(stack.locator(".item.oncycle")).toHaveCount(pic.cycle.length);
    }
    if (c.id === "socklnd-scheduler") {
      await expect(stack.locator('[data-layer="scratch"] [data-tone="bad"]').first()).toContainText("+");
    }
    if (c.id === "nfs-odirect-retransmit") {
      const pages = pic.layers.find((l) => l.id === "pages")!;
      await expect(stack.locator('[data-layer="pages"] [data-fact="0xdeadbeef now"] dd')).toHaveText(String(pages.facts!["0xdeadbeef now"]));
    }
  });
}

test("a click on a Stack item selects its entity in the timeline; hover shows its fields", async ({ page }) => {
  const { pic, hash } = nodePicture("sunrpc-udp-slot-hang", {});
  await openAtFirstAnomaly(page, "sunrpc-udp-slot-hang", {}, hash, pic.time);
  const proc = pic.layers.find((l) => l.id === "processes")!.items.find((i) => i.tone === "wait")!;
  const item = page.locator(`[data-testid="stack"] [data-key="${proc.key}"]`);
  await item.hover();
  await expect(page.getByTestId("stack-tip")).toContainText("wchan");
  await item.click();
  await expect(item).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("timeline-box")).toHaveAttribute("data-highlight", proc.label);
});

test("the Stack view has no serious axe violation, light and dark, and every scenario's fits 390 px", async ({ page }) => {
  const { pic, hash } = nodePicture("blktap2-teardown", {});
  await openAtFirstAnomaly(page, "blktap2-teardown", {}, hash, pic.time);
  expect(await seriousA11y(page)).toEqual([]);
  await page.emulateMedia({ colorScheme: "dark" });
  expect(await seriousA11y(page)).toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  for (const c of CASES) {
    const n = nodePicture(c.id, c.patches);
    await openAtFirstAnomaly(page, c.id, c.patches, n.hash, n.pic.time);
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth), c.id).toBeLessThanOrEqual(390);
  }
});

test("embed.html and <iostack-scenario> take view=stack and open it at the first anomaly", async ({ page }) => {
  await page.goto("/embed.html?s=blktap2-teardown&seed=1&view=stack");
  await expect(page.getByTestId("stack-cycle")).toContainText("wait-for cycle");
  await page.goto("/docs/blktap2-teardown.html");
  const el = page.locator('iostack-scenario[view="stack"]');
  await expect(el.getByTestId("stack-cycle")).toContainText("xl:");
});

test("Compare shows the two runs' Stack views side by side at the same simulated time", async ({ page }) => {
  const { pic, hash } = nodePicture("blktap2-teardown", {});
  await openAtFirstAnomaly(page, "blktap2-teardown", {}, hash, pic.time);
  await page.getByTestId("tab-compare").click();
  await page.getByTestId("verdict-b").waitFor();
  await page.getByTestId("stack-pair").locator("summary").click();
  const stacks = page.getByTestId("stack-pair").getByTestId("stack");
  await expect(stacks).toHaveCount(2);
  await expect(stacks.nth(0)).toHaveAttribute("data-time", String(pic.time));
  await expect(stacks.nth(1)).toHaveAttribute("data-time", String(pic.time));
  // A has the cycle; B (the patched teardown order) does not
  await expect(stacks.nth(0).getByTestId("stack-cycle")).toHaveCount(1);
  await expect(stacks.nth(1).getByTestId("stack-cycle")).toHaveCount(0);
});
