// The bench's heap bound drives the kernel's event queue through the same scheduleAt the
// models use; when scheduleAt learned to refuse the past, the bound aborted and took
// `npm run bench` with it. This keeps the bench's core path running under the suite.
import { describe, expect, it } from "vitest";
import { loadModule } from "../node/load";
import { instantiate } from "../wasm";

describe("bench", () => {
  it("the heap bound pushes and pops past several drains without an abort", () => {
    const x = instantiate(loadModule());
    // 1 << 17 events: the queue (1 << 16) fills and drains twice, moving the clock
    expect(Number.isFinite(x.bench_heap(1 << 17))).toBe(true);
  });
});
