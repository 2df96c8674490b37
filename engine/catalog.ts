// The scenario catalog, in the order the lab shows it, and the words the lab uses for a
// configuration: "as shipped" is exactly the default patch set with the default knobs; any
// other set names what it changes ("with f39c1bfb, without 43cedbf0, app=xen-unmap").
import type { ExpectedOutcome, KnobValue, ScenarioSpec } from "./scenarios/types";

export const SCENARIOS: ScenarioSpec[] = [];

export function scenarioById(id: string): ScenarioSpec | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

const HEX_COMMIT = /^[0-9a-f]{7,40}$/;

// A patch's short name: its commit id when that is a plain hash no other patch of the
// scenario shares (both socklnd patches are 89df5e71), otherwise its id.
export function patchName(spec: ScenarioSpec, id: string): string {
  const p = spec.patches.find((x) => x.id === id);
  if (!p || !HEX_COMMIT.test(p.commit)) return id;
  const short = p.commit.slice(0, 8);
  return spec.patches.some((x) => x !== p && x.commit.startsWith(short)) ? id : short;
}

// What a configuration changes from the shipped one, in words; "as shipped" when nothing.
export function changeLabel(spec: ScenarioSpec, patches: Record<string, boolean>, knobs: Record<string, KnobValue> = {}): string {
  const on: string[] = [], off: string[] = [];
  for (const p of spec.patches) {
    const v = patches[p.id] ?? p.default;
    if (v !== p.default) (v ? on : off).push(patchName(spec, p.id));
  }
  const ks = spec.knobs.filter((k) => k.name in knobs && knobs[k.name] !== k.default).map((k) => `${k.name}=${String(knobs[k.name])}`);
  const parts = [...(on.length ? [`with ${on.join(" + ")}`] : []), ...(off.length ? [`without ${off.join(", ")}`] : []), ...ks];
  return parts.join(", ") || "as shipped";
}

export function outcomeLabel(spec: ScenarioSpec, e: ExpectedOutcome): string {
  return changeLabel(spec, e.patches, e.knobs);
}

// The knobs some expected outcome depends on (O_DIRECT's `app`): a configuration matches an
// outcome only when these equal the outcome's values (its own, else the defaults).
function outcomeKnobs(spec: ScenarioSpec): string[] {
  return [...new Set(spec.expected.flatMap((e) => Object.keys(e.knobs ?? {})))];
}

// The expected outcomes of exactly this patch set (each patch the outcome does not name at
// its default) and these outcome knobs: never two outcomes of different sets.
export function expectedFor(spec: ScenarioSpec, patches: Record<string, boolean>, knobs: Record<string, KnobValue>): ExpectedOutcome[] {
  const kdef = (name: string) => spec.knobs.find((k) => k.name === name)?.default;
  return spec.expected.filter((e) =>
    spec.patches.every((p) => (e.patches[p.id] ?? p.default) === (patches[p.id] ?? p.default)) &&
    outcomeKnobs(spec).every((k) => (e.knobs?.[k] ?? kdef(k)) === (knobs[k] ?? kdef(k))));
}

// Public pages for a commit and for the thread a scenario reproduces; null when the text
// names no public object (an unmerged or unidentified patch).
const COMMIT_PAGES: Array<[RegExp, string]> = [
  [/^socklnd-/, "https://git.whamcloud.com/?p=fs/lustre-release.git;a=commit;h="],
  [/^blktap2-/, "https://xenbits.xen.org/gitweb/?p=xen.git;a=commit;h="],
  [/./, "https://git.kernel.org/linus/"],
];

export function commitUrl(spec: ScenarioSpec, commit: string): string | null {
  const hash = commit.split(/\s/)[0];
  if (!HEX_COMMIT.test(hash)) return null;
  const base = COMMIT_PAGES.find(([re]) => re.test(spec.id))![1];
  return base + hash;
}

export function threadUrl(spec: ScenarioSpec): string | null {
  const jira = /\b(LU-\d+)\b/.exec(spec.seed);
  if (jira) return `https://jira.whamcloud.com/browse/${jira[1]}`;
  const list = /\b(linux-nfs|xen-devel)\b/.exec(spec.seed);
  const subject = /['"]([^'"]{6,})['"]/.exec(spec.seed) ?? /:\s*([^,(]{6,})/.exec(spec.seed);
  if (!list || !subject) return null;
  return `https://lore.kernel.org/${list[1]}/?q=${encodeURIComponent(`"${subject[1].trim()}"`)}`;
}
