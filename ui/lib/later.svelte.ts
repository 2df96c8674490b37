// A value that follows its source one task later. Parts of a view that are costly to draw
// (the side panel, the timeline, the story's full text) use it, so that opening a scenario
// or showing a run is several short main-thread tasks rather than one long one (the browser
// bench's "longest main-thread task"). Call it while a component initialises.
export function later<T>(source: () => T, initial: T): { readonly value: T } {
  let value: T = $state.raw(initial);
  $effect(() => {
    const v = source();
    const id = setTimeout(() => (value = v));
    return () => clearTimeout(id);
  });
  return {
    get value() {
      return value;
    },
  };
}
