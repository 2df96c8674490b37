// Number formatting for a kernel engineer's eye: simulated time as seconds to the ns (a
// step between two records can be shorter than a µs), and short durations in the unit that
// reads best.
export function fmtTime(ns: number): string {
  const s = Math.floor(ns / 1e9);
  return `${s}.${String(Math.round(ns - s * 1e9)).padStart(9, "0")} s`;
}

export function fmtDur(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return (ns / 1e9).toFixed(a >= 1e11 ? 0 : 3) + " s";
  if (a >= 1e6) return (ns / 1e6).toFixed(3) + " ms";
  if (a >= 1e3) return (ns / 1e3).toFixed(1) + " µs";
  return ns.toFixed(0) + " ns";
}

export function fmtCount(n: number): string {
  return n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(n);
}

export const TASK_STATE = ["R (running)", "S (sleeping)", "D (disk sleep)", "X (dead)"];
export const TASK_STATE_SHORT = ["R", "S", "D", "X"];

export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
