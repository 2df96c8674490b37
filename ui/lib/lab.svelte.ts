// The workspace's state: the configuration (mirrored to the URL and localStorage), the
// finished run from the worker, the timeline cursor and the snapshot at the cursor.
// Every change of patch/knob/seed re-runs at once; stale answers are dropped by sequence.
import { startWorker } from "../../engine/browser/client";
import type { SimWorker } from "../../engine/browser/client";
import { RunCancelled } from "../../engine/browser/client";
import type { RunProgress } from "../../engine/browser/session";
import type { RunView, SnapshotView } from "../../engine/browser/session";
import type { RunConfig } from "../../engine/config";
import { parseKnob, parseSeed, requireScenario } from "../../engine/config";
import type { KnobValue, PresetSpec, ScenarioSpec } from "../../engine/scenarios/types";
import { defaultConfig, permalink, saveLast } from "./urlstate";

let shared: SimWorker | undefined;
export function mainWorker(): SimWorker {
  shared ??= startWorker();
  return shared;
}

// Embeds (ui/embed/) bring their own worker and keep the host page's URL and storage alone.
export interface LabOptions {
  worker?: SimWorker;
  persist?: boolean;             // mirror the config to the URL and localStorage (default true)
}

// A result is drawn a task after the one that received it (and decoded its thousands of
// entities): two shorter main-thread tasks instead of one long one.
const nextTask = () => new Promise<void>((r) => setTimeout(r));

export class Lab {
  readonly spec: ScenarioSpec;
  config: RunConfig = $state()!;
  problems: string[] = $state([]);
  view: RunView | null = $state.raw(null);
  error: string | null = $state(null);
  running = $state(false);
  progress: RunProgress | null = $state.raw(null);   // of the run in flight
  cancelled = $state(false);                         // the last run was cancelled
  cursor = $state(0);
  snapshot: SnapshotView | null = $state.raw(null);
  playing = $state(false);
  selected = $state(-1);         // an entity picked in a view (Stack): the timeline and trace follow
  private seq = 0;
  private snapBusy = false;
  private snapWant: number | null = null;

  // embed: the compact workspace for documentation pages (iframe, ?embed=1).
  constructor(config: RunConfig, problems: string[], readonly embed = false, private opts: LabOptions = {}) {
    this.spec = requireScenario(config.scenario);
    this.config = config;
    this.problems = problems;
  }

  get worker(): SimWorker {
    return this.opts.worker ?? mainWorker();
  }

  get endNs(): number {
    return this.view?.details.simTimeNs ?? 0;
  }

  async rerun(): Promise<void> {
    const seq = ++this.seq;
    const cfg = $state.snapshot(this.config) as RunConfig;
    if (this.opts.persist !== false) {
      history.replaceState(history.state, "", permalink(cfg) + (this.embed ? "&embed=1" : ""));
      // localStorage is synchronous (and its first use loads the whole area): off this task
      setTimeout(() => saveLast(cfg));
    }
    this.running = true;
    this.progress = null;
    this.cancelled = false;
    try {
      await this.worker.ready;
      const v = await this.worker.run(cfg, (p) => { if (seq === this.seq) this.progress = p; });
      await nextTask();
      if (seq !== this.seq) return;
      this.view = v;
      this.error = null;
      this.cursor = v.details.simTimeNs;
      this.snapshot = null;
      this.requestSnapshot(this.cursor);
    } catch (e) {
      if (seq === this.seq && e instanceof RunCancelled) this.cancelled = true;
      else if (seq === this.seq) this.error = (e as Error).message;
    } finally {
      if (seq === this.seq) this.running = false;
    }
  }

  // Stops the run in flight (its worker is replaced); the last finished run stays shown,
  // and the fresh worker runs it again so its views (trace, state) keep answering.
  cancel(): void {
    if (!this.running) return;
    this.worker.cancel();
    const shown = this.view?.config;
    if (shown) void this.worker.ready.then(() => this.worker.run(shown)).catch(() => {});
  }

  setPatch(id: string, on: boolean): void {
    this.config.patches[id] = on;
    void this.rerun();
  }

  // Returns the message when the value is refused (and not applied).
  setKnob(name: string, raw: unknown): string | null {
    let v: KnobValue;
    try {
      v = parseKnob(this.spec, name, raw);
    } catch (e) {
      return (e as Error).message;
    }
    if (this.config.knobs[name] !== v) {
      this.config.knobs[name] = v;
      void this.rerun();
    }
    return null;
  }

  setSeed(raw: unknown): string | null {
    let n: number;
    try {
      n = parseSeed(typeof raw === "number" ? raw : String(raw));
    } catch (e) {
      return (e as Error).message;
    }
    if (n !== this.config.seed) {
      this.config.seed = n;
      void this.rerun();
    }
    return null;
  }

  setPatches(patches: Record<string, boolean>, seed?: number): void {
    Object.assign(this.config.patches, patches);
    if (seed !== undefined) this.config.seed = seed;
    void this.rerun();
  }

  resetKnobs(): void {
    this.config.knobs = defaultConfig(this.spec).knobs;
    void this.rerun();
  }

  // Exactly the default patch set and knobs ("as shipped"); the seed stays.
  get shipped(): boolean {
    const d = defaultConfig(this.spec);
    return Object.keys(d.patches).every((id) => this.config.patches[id] === d.patches[id]) &&
      Object.keys(d.knobs).every((k) => this.config.knobs[k] === d.knobs[k]);
  }

  resetToShipped(): void {
    const d = defaultConfig(this.spec);
    this.config = { ...d, seed: this.config.seed };
    void this.rerun();
  }

  applyPreset(p: PresetSpec): void {
    const d = defaultConfig(this.spec);
    this.config = { ...d, seed: p.seed, knobs: { ...d.knobs, ...p.knobs }, patches: { ...this.config.patches, ...(p.patches ?? {}) } };
    void this.rerun();
  }

  dismissProblems(): void {
    this.problems = [];
  }

  // Scrubbing: at most one snapshot request in flight, the latest cursor wins.
  setCursor(tNs: number): void {
    this.cursor = Math.round(Math.max(0, Math.min(this.endNs, tNs)));
    this.requestSnapshot(this.cursor);
  }

  private async requestSnapshot(t: number): Promise<void> {
    this.snapWant = t;
    if (this.snapBusy) return;
    this.snapBusy = true;
    try {
      while (this.snapWant !== null) {
        const want = this.snapWant;
        const seq = this.seq;
        this.snapWant = null;
        const s = await this.worker.api.snapshotAt(want);
        await nextTask();   // drawn apart from the task that decoded it, as a run's result is
        if (seq === this.seq) this.snapshot = s;
      }
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.snapBusy = false;
    }
  }

  // Moves the cursor to the previous/next trace record; false when there is none.
  async step(dir: number): Promise<boolean> {
    if (!this.view) return false;
    const from = this.cursor;
    this.setCursor(await this.worker.api.stepFrom(from, dir));
    return this.cursor !== from;
  }

  select(ent: number): void {
    this.selected = ent;
  }

  jumpToFirstAnomaly(): void {
    if (this.view && this.view.firstAnomalyT >= 0) this.setCursor(this.view.firstAnomalyT);
  }

  // Play: the cursor sweeps the visible window [t0, t1] in about ten seconds.
  private raf = 0;
  togglePlay(window: { t0: number; t1: number }): void {
    if (this.playing) return this.pause();
    if (!this.view) return;
    this.playing = true;
    if (this.cursor >= window.t1 || this.cursor < window.t0) this.cursor = window.t0;
    let last = performance.now();
    const tick = (now: number) => {
      if (!this.playing) return;
      const dt = Math.min(100, now - last);
      last = now;
      const next = this.cursor + ((window.t1 - window.t0) * dt) / 10000;
      if (next >= window.t1) {
        this.setCursor(window.t1);
        this.playing = false;
        return;
      }
      this.setCursor(next);
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause(): void {
    this.playing = false;
    cancelAnimationFrame(this.raf);
  }
}
