// Static arrays that cost nothing until touched. The StaticArray constructor zero-fills
// its block, which faults in every page of every array at module start (tens of MiB: most
// of a run's set-up time). The stub runtime never reuses memory and a fresh instance's
// memory is already zero, so the fill is redundant: allocate the block and skip it. Pages
// no run touches are then never faulted in. Use zeroed<T>(n) for every static array.
export function zeroed<T>(n: i32): StaticArray<T> {
  return changetype<StaticArray<T>>(__new(<usize>n << alignof<T>(), idof<StaticArray<T>>()));
}
