// The public contract of an embed, for pages that use one: the <iostack-scenario> element's
// attributes and its `iostack-verdict` event, and the postMessage protocol of embed.html.
// Shipped as iostack-lab's types (dist/pkg/types.d.ts), so it imports nothing: the lab's own
// code (params.ts) builds its messages against these, which keeps the two in step.

/** A run's verdict, from the model's detectors (engine/wasm.ts VERDICTS). */
export type Verdict = "ok" | "hang" | "corruption" | "crash" | "leak" | "degraded";

/** What an embed shows; "tasks" is accepted as an alias of "state". */
export type EmbedView = "timeline" | "evidence" | "trace" | "metrics" | "state" | "stack";

/** A knob's value as the lab reports it. */
export type KnobValue = number | string | boolean;

/**
 * The attributes of `<iostack-scenario>` (all strings, as in HTML). A bad value is named inside
 * the element and its default used; a change re-runs the element.
 */
export interface IostackScenarioAttributes {
  /** A scenario id, e.g. "blktap2-teardown" (`npx iostack list`). */
  scenario: string;
  /** The patches that are on, comma-separated. Absent: the scenario's defaults; empty: none. */
  patches?: string;
  /** The seed (a non-negative integer); default 1. */
  seed?: string;
  /** `name=value` pairs, comma-separated, e.g. "cycles=2,disks=1". */
  knobs?: string;
  /** A preset of the scenario (e.g. "documented"), under the attributes given explicitly. */
  preset?: string;
  /** One view; default: the scenario's first key view. */
  view?: EmbedView | "tasks";
}

/** Posted by embed.html to its parent after each run, and the element's event detail. */
export interface VerdictMessage {
  type: "iostack:verdict";
  scenario: string;
  verdict: Verdict;
  reason: string;
  /** Same configuration → same hash, in the browser and in `npx iostack run`. */
  traceHash: string;
  patches: Record<string, boolean>;
  knobs: Record<string, KnobValue>;
  seed: number;
}

/** Posted by embed.html when values of an `iostack:set` were refused. */
export interface ErrorMessage {
  type: "iostack:error";
  problems: string[];
}

/**
 * Parent → embed.html: change the run. `patches` as a list is the full set that is on; as an
 * object it changes only the patches it names.
 */
export interface SetMessage {
  type: "iostack:set";
  patches?: string[] | Record<string, boolean>;
  knobs?: Record<string, KnobValue>;
  seed?: number;
}

/** Parent → embed.html: re-post the last `iostack:verdict`. */
export interface GetMessage {
  type: "iostack:get";
}

/** What an embed.html iframe posts to its parent. */
export type EmbedMessage = VerdictMessage | ErrorMessage;
/** What a parent may post to an embed.html iframe. */
export type HostMessage = SetMessage | GetMessage;

/** Fired by `<iostack-scenario>` after each run; bubbles and crosses shadow roots (composed). */
export type IostackVerdictEvent = CustomEvent<VerdictMessage>;

/** The `<iostack-scenario>` element, configured by its attributes (IostackScenarioAttributes);
 *  its `iostack-verdict` event is typed on every element and on the document (below). */
export type IostackScenarioElement = HTMLElement;

declare global {
  interface HTMLElementTagNameMap {
    "iostack-scenario": IostackScenarioElement;
  }
  // The event bubbles out of the element, so a page may listen on any ancestor.
  interface HTMLElementEventMap {
    "iostack-verdict": IostackVerdictEvent;
  }
  interface DocumentEventMap {
    "iostack-verdict": IostackVerdictEvent;
  }
}
