// The knob panel shows every enum value whole: a select as wide as its longest option's
// text, at 1440x900 and on a 390 px phone, in every scenario that has one.
import { test, expect, SCENARIOS } from "./fixtures";

for (const [width, height] of [[1440, 900], [390, 844]]) {
  for (const spec of SCENARIOS.filter((s) => s.knobs.some((k) => k.type === "enum"))) {
    test(`${spec.id}: enum knobs show their values whole at ${width} px`, async ({ page }) => {
      await page.setViewportSize({ width, height });
      await page.goto(`/?s=${spec.id}`);
      const selects = page.locator("[data-testid=knob] select");
      await expect(selects.first()).toBeVisible();
      const cut = await selects.evaluateAll((els) => els.flatMap((el) => {
        const s = el as HTMLSelectElement, cs = getComputedStyle(s);
        const ctx = document.createElement("canvas").getContext("2d")!;
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        // the text box: the select's width less its padding, border and the arrow (about 20 px)
        const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
        return [...s.options].filter((o) => ctx.measureText(o.text).width > room).map((o) => `${s.id}: ${o.text}`);
      }));
      expect(cut).toEqual([]);
    });
  }
}
