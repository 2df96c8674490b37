// iostack-lab/playwright: wait for, and assert, an embed's verdict from a Playwright test.
// One contract serves every way the lab is shown: the verdict banner (DESIGN.md:
// data-testid="verdict" with data-verdict, data-trace-hash, data-running). The target is
//   - a Page (or Frame) showing the lab app or embed.html,
//   - a Locator of an <iostack-scenario> element (CSS locators search its open shadow root),
//   - a Locator of an <iframe> holding embed.html, or a FrameLocator of it.
// Shipped as dist/pkg/playwright.js; @playwright/test is the test suite's own (a peer).
import { expect } from "@playwright/test";
import type { Frame, FrameLocator, Locator, Page } from "@playwright/test";
import type { Verdict } from "./types.js";

export type VerdictTarget = Page | Frame | Locator | FrameLocator;

export interface VerdictOptions {
  /** Milliseconds; default: the test's expect timeout (expectVerdict) or action timeout. */
  timeout?: number;
}

export interface SettledVerdict {
  verdict: Verdict;
  /** Equal to `npx iostack run <same configuration> --json`'s traceHash. */
  traceHash: string;
}

const BANNER = '[data-testid="verdict"]';
// A finished run: not running, and a verdict (a run that failed to start has none).
const SETTLED = `${BANNER}[data-running="0"]:not([data-verdict=""])`;
const PROBLEMS = '[data-testid="problems"]';

type Scope = Page | Frame | Locator | FrameLocator;

// Where the banner is searched: inside the iframe's document for an iframe, else the target.
async function scope(target: VerdictTarget, timeout?: number): Promise<Scope> {
  if (!("elementHandle" in target)) return target;      // Page, Frame, FrameLocator
  const tag = await target.evaluate((e) => e.localName, undefined, { timeout });
  return tag === "iframe" ? target.contentFrame() : target;
}

async function read(s: Scope, timeout?: number): Promise<SettledVerdict> {
  return s.locator(SETTLED).evaluate((e) => ({
    verdict: e.getAttribute("data-verdict") as Verdict,
    traceHash: e.getAttribute("data-trace-hash") ?? "",
  }), undefined, { timeout });
}

// A wait that failed says what the embed shows: its problems (e.g. an unknown scenario, which
// leaves no verdict) and the banner's text (e.g. a worker that could not start).
async function explained<T>(s: Scope, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    const texts = (sel: string) => s.locator(sel).allInnerTexts().catch(() => []);    // the page may be gone
    const shown = [...await texts(PROBLEMS), ...await texts(BANNER)].map((t) => t.trim()).filter(Boolean);
    if (e instanceof Error && shown.length) e.message += `\n\nThe embed shows:\n${shown.join("\n")}`;
    throw e;
  }
}

/** Waits for the target's current run to finish and returns its verdict and trace hash. */
export async function waitForVerdict(target: VerdictTarget, options: VerdictOptions = {}): Promise<SettledVerdict> {
  const s = await scope(target, options.timeout);
  return explained(s, () => read(s, options.timeout));
}

/**
 * Asserts that the target settles on `verdict` (retrying while runs go on, as Playwright's
 * web-first assertions do) and returns the verdict and trace hash.
 */
export async function expectVerdict(target: VerdictTarget, verdict: Verdict, options: VerdictOptions = {}): Promise<SettledVerdict> {
  const s = await scope(target, options.timeout);
  return explained(s, async () => {
    await expect(s.locator(SETTLED), "iostack verdict").toHaveAttribute("data-verdict", verdict, { timeout: options.timeout });
    return read(s, options.timeout);
  });
}
