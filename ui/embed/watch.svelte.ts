// Calls back once per finished run of a Lab (not per re-render): the verdict events of the
// element and the postMessage reports of embed.html both hang off this.
import type { RunView } from "../../engine/browser/session";
import type { Lab } from "../lib/lab.svelte";

export function watchRuns(lab: Lab, cb: (v: RunView) => void): () => void {
  return $effect.root(() => {
    let last: RunView | null = null;
    $effect(() => {
      const v = lab.view;
      if (v && v !== last) {
        last = v;
        cb(v);
      }
    });
  });
}
