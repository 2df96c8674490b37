// The shipped types (types.ts) import nothing from the lab, so nothing but this check keeps
// them equal to the engine's: `npm run check` fails when either side changes alone.
import { describe, expectTypeOf, it } from "vitest";
import type { KnobValue as EngineKnobValue } from "../../engine/scenarios/types";
import type { Verdict as EngineVerdict } from "../../engine/wasm";
import type { KnobValue, Verdict, EmbedView } from "./types";
import type { EMBED_VIEWS } from "./params";

describe("shipped types", () => {
  it("name the engine's verdicts and knob values, and the embed's views", () => {
    expectTypeOf<Verdict>().toEqualTypeOf<EngineVerdict>();
    expectTypeOf<KnobValue>().toEqualTypeOf<EngineKnobValue>();
    expectTypeOf<EmbedView>().toEqualTypeOf<(typeof EMBED_VIEWS)[number]>();
  });
});
