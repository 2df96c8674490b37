// blktap2-teardown: the evidence from the model's raw evidence (asm/scenarios/
// blktap2-teardown/evidence.ts): `tap-ctl list`, the tap-err syslog lines, teardown
// latencies, the wait-for cycle and the xenstore tree.
import type { Verdict } from "../../wasm";
import type { DescribeContext, Described, EvidenceBlock, Series } from "../types";

export const TOOLSTACKS = ["4.1.2", "4.1.4", "4.2.0-rc1", "4.2.0"];
const DEVID0 = 51712;

const tS = (ns: number): string => (ns / 1e9).toFixed(6);
const sS = (ns: number): string => `${(ns / 1e9).toFixed(3)} s`;

export interface TapCtlEntry { pid?: number; minor?: number; state?: number; guest?: number; disk?: number }

// the operator's `tap-ctl list` at the end of a run (asm/scenarios/blktap2_teardown.ts)
export const TAPCTL_PID = 6000;

export const imagePath = (guest: number, disk: number): string => `/images/guest${guest}-disk${disk}.vhd`;

// tap-ctl list, non-tty printer (tap-ctl.c): `pid=%d minor=%d state=%d args=%s:%s`, every
// field that is -1/NULL left out: an orphaned minor prints as `minor=N` alone.
export function tapCtlListLine(e: TapCtlEntry): string {
  const f: string[] = [];
  if (e.pid !== undefined) f.push(`pid=${e.pid}`);
  if (e.minor !== undefined) f.push(`minor=${e.minor}`);
  if (e.state !== undefined) f.push(`state=${e.state}`);
  if (e.guest !== undefined && e.disk !== undefined) f.push(`args=vhd:${imagePath(e.guest, e.disk)}`);
  return f.join(" ");
}

// tap-ctl's EPRINTF: syslog(LOG_ERR, "tap-err:%s: " fmt, __func__, ...), from xl.
export function syslogLine(l: { t: number; pid: number; kind: number; msg?: string; arg?: number }): string {
  const text = [
    "tap-err:tap_ctl_read_message: failure reading message",
    `tap-err:tap_ctl_send_and_receive: failed to receive '${l.msg}' message`,
    `tap-err:tap_ctl_connect: couldn't connect to /var/run/blktap-control/ctl${l.arg}`,
    `tap-err:tap_ctl_close: close failed: ${-(l.arg ?? 0)}`,
  ][l.kind];
  return `[${tS(l.t).padStart(12)}] ${l.pid === TAPCTL_PID ? "tap-ctl" : "xl"}[${l.pid}]: ${text}`;
}

// A wait-for edge in kernel words.
function waitLabel(res: string, obj: number): string {
  if (res === "tapdev bd_openers") return `wait_event until tapdev${obj} bd_openers == 0`;
  if (res === "backend node (xs_rm be_path)") return `xs_rm of its backend dir (devid ${obj})`;
  if (res === "tapdisk control reply") return `select() for tapdisk2[${obj}]'s reply`;
  return `${res} ${obj}`;
}

function label(l: { comm: string; pid: number; kind: string }): string {
  if (l.kind === "vbd") return `blkback vbd ${l.pid}`;
  return `${l.comm}:${l.pid}`;
}

function waitCycleBlock(raw: any): EvidenceBlock | undefined {
  const c = raw.waitCycle;
  if (!c?.found) return undefined;
  const nodes = c.links.map((l: any) => ({ id: String(l.ent), label: label(l) }));
  const edges = c.links.map((l: any) => ({ from: String(l.ent), to: String(l.heldBy), label: waitLabel(l.waitsOn, l.obj) }));
  return { id: "wait-cycle", title: `Wait-for cycle (first found at ${tS(c.t)} s by the wait-for graph)`, graph: { nodes, edges } };
}

function hungLines(raw: any, hung: any[], ctx: DescribeContext): string[] {
  const out: string[] = [];
  for (const h of hung) {
    const e = ctx.entities[h.ent];
    out.push(`INFO: task ${e?.comm}:${e?.pid} blocked for more than ${Math.round(h.timeoutNs / 1e9)} seconds.`);
    out.push(`  wchan: ${h.wchan}, blocked ${sS(h.blockedNs)}`);
    const chain = raw.hungChains.find((c: any) => c.ent === h.ent);
    for (const l of chain?.chain.links ?? []) {
      const a = ctx.entities[l.ent], b = ctx.entities[l.heldBy];
      out.push(`  ${a ? label(a as any) : l.ent}: ${waitLabel(l.waitsOn, l.obj)}, held by ${b ? label(b as any) : "nobody"}`);
    }
    if (chain?.chain.cycle) out.push("  (a cycle: nothing outside it will break it)");
  }
  return out;
}

export function describe(verdict: Verdict, raw: any, ctx: DescribeContext): Described {
  const m = raw.model;
  const toolstack = TOOLSTACKS[m.toolstack];
  const tl = m.tapCtlList;
  const list: string[] = tl.entries.map(tapCtlListLine);
  const orphans = tl.entries.filter((e: TapCtlEntry) => e.pid === undefined).length;
  // how the exchange went: a tapdisk2 that never answered cost tap-ctl its 2 s read
  const listNote = !tl.ran ? ["(tap-ctl list did not finish before the run ended)"]
    : [
      ...(tl.err ? [`tap-ctl list failed: ${tl.err} (-EPROTO: a tapdisk2 answered PID but not LIST)`] : []),
      ...tl.noAnswer.map((pid: number) => `(tapdisk2 pid ${pid} did not answer PID within 2 s: left out, its minor shows as orphaned)`),
      `(tap-ctl list ran ${((tl.endNs - tl.startNs) / 1e9).toFixed(3)} s)`,
    ];
  const syslog: string[] = m.syslog.map(syslogLine);
  const teardowns = m.teardowns.map((t: any) => ({ ...t, ms: t.ns / 1e6 }));
  const perDisk = teardowns.length ? teardowns.reduce((a: number, t: any) => a + t.ns, 0) / teardowns.length / m.disks : 0;
  const maxTeardown = teardowns.reduce((a: number, t: any) => Math.max(a, t.ns), 0);
  const detachTimeouts: number = m.detachFailures;
  const blocks: EvidenceBlock[] = [];
  const hung = raw.hung ?? [];
  if (hung.length) blocks.push({ id: "hung", title: "khungtaskd", lines: hungLines(m, hung, ctx) });
  blocks.push({ id: "tap-ctl-list", title: `# tap-ctl list   (after ${m.cycles} start/stop cycle(s) of ${m.guests} guest(s))`, lines: [...(list.length || tl.err ? list : ["(nothing)"]), ...listNote] });
  if (m.syslogTotal > syslog.length) syslog.push(`... ${m.syslogTotal - syslog.length} more tap-err lines`);
  blocks.push({ id: "syslog", title: "syslog (tap-err)", lines: syslog.length ? syslog : ["(no tap-err lines)"] });
  const wc = waitCycleBlock(m);
  if (wc) blocks.push(wc);
  blocks.push({
    id: "teardown", title: "libxl_domain_destroy → xc_domain_destroy, per guest stop",
    lines: teardowns.map((t: any) => `guest ${t.guest} cycle ${t.cycle} domid ${t.domid}: ${sS(t.ns)} (${m.disks} disk(s))`),
  });
  blocks.push({
    id: "facts", title: "Facts",
    kv: {
      toolstack, orphanedMinors: orphans, tapdisksLeft: m.tapdisksLeft, backendsLeftInXenstore: m.backendsLeft,
      highestMinor: m.minorsHigh - 1, detachTimeouts, waitForCycles: m.cyclesSeen,
      meanTeardownPerDisk: sS(perDisk), maxTeardown: sS(maxTeardown),
    },
  });
  blocks.push({ id: "xenstore", title: "xenstore-ls at the end", lines: xenstoreLines(m.xenstore) });
  const series: Series[] = [
    { id: "orphans", title: "Orphaned blktap minors (at each guest start)", unit: "minors", points: m.orphanSeries },
    { id: "teardown", title: "Guest teardown latency", unit: "ms", points: teardowns.map((t: any) => [t.t, t.ms]) },
  ];
  let reason: string;
  if (verdict === "hang") {
    const e = ctx.entities[hung[0]?.ent];
    reason = `${e?.comm}:${e?.pid} stuck in blktap_device_destroy_sync (tapdev still open by blkback); tap-ctl has no detach timeout, so xl never removes the backend`;
  } else if (verdict === "leak") {
    const parts: string[] = [];
    if (orphans) parts.push(`${orphans} orphaned blktap minor(s)`);
    if (m.tapdisksLeft) parts.push(`${m.tapdisksLeft} tapdisk2 process(es) left running`);
    if (m.backendsLeft) parts.push(`${m.backendsLeft} backend dir(s) left in xenstore`);
    reason = `${parts.join(", ")} after ${m.cycles} cycle(s) on ${toolstack}` + (detachTimeouts ? `; ${detachTimeouts} detach(es) timed out` : "");
  } else {
    reason = `every tapdisk2 detached and every minor freed; mean teardown ${sS(perDisk)} per disk`;
  }
  return {
    reason,
    evidence: {
      blocks, series, toolstack, tapCtlList: list, tapCtlListRun: { ran: tl.ran, err: tl.err, noAnswer: tl.noAnswer, ns: tl.endNs - tl.startNs },
      orphanedMinors: orphans, tapdisksLeft: m.tapdisksLeft,
      backendsLeft: m.backendsLeft, syslog, detachTimeouts, teardowns, meanTeardownPerDiskNs: perDisk,
      maxTeardownNs: maxTeardown, waitCycle: m.waitCycle, waitForCycles: m.cyclesSeen, orphanSeries: m.orphanSeries,
    },
  };
}

const xenstoreLines = (tree: any[]): string[] => tree.map((n: any) => (n.value !== undefined ? `${n.path} = "${n.value}"` : n.path));

export function snapshotBlocks(model: any): EvidenceBlock[] {
  if (!model?.xenstore) return [];
  return [
    { id: "xenstore", title: "xenstore-ls", lines: xenstoreLines(model.xenstore) },
    { id: "tap-ctl-list", title: "tapdisk2 processes and blktap minors (model state, in tap-ctl list's format)", lines: model.tapCtlList.map(tapCtlListLine) },
    {
      id: "blktap", title: "blktap2 minors (/sys/class/blktap2)",
      lines: model.minors.map((x: any) => `blktap${x.minor}: ring.task=${x.ringTask >= 0 ? x.ringTask : "NULL"} BLKTAP_DEVICE=${x.device ? 1 : 0} tapdev${x.minor} bd_openers=${x.openers}`),
    },
    {
      id: "vbds", title: "xen-blkback devices",
      lines: model.vbds.map((v: any) => `vbd-${v.domid}-${v.devid}: tapdev${v.minor} ${v.bdevOpen ? "open" : "released"}`),
    },
  ];
}

// The scenario's own view (spec.ownViews): each allocated blktap2 minor and the live
// tapdisk2 serving it, or none: the orphans a teardown in the wrong order leaves behind.
export function minorsView(model: any): EvidenceBlock[] {
  if (!model?.minors) return [];
  const server = new Map<number, number>(model.tapdisks.map((t: any) => [t.minor, t.pid]));
  const lines = model.minors.map((x: any) => {
    const pid = server.get(x.minor);
    return `tapdev${x.minor}: ${pid !== undefined ? `tapdisk2 pid ${pid}` : "ORPHANED, no tapdisk2"} · bd_openers=${x.openers} ring.task=${x.ringTask >= 0 ? x.ringTask : "NULL"}`;
  });
  return [{
    id: "minors", title: "blktap2 minors and the tapdisk2 serving each",
    kv: { allocated: model.minors.length, orphaned: model.orphanedMinors, "tapdisk2 running": model.tapdisks.length },
    lines,
  }];
}
