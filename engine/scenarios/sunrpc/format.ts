// Shared host-side helpers of the sunrpc-* scenarios: the rpc_debug task dump in
// rpc_show_task()'s format, the khungtaskd report with an ARM 3.x stack, the transport's
// state, the wait-for chain (words and graph), the kernel log, and the series.
import type { DescribeContext, EvidenceBlock, Series } from "../types";

// Synthetic but stable kernel pointers (32-bit, as on the reporter's ARM board).
export const CLNT_PTR = "cf2910e0";
const OPS_PTR: Record<number, string> = { 1: "c0243f40", 2: "c0244050", 3: "c03a4e78" };
export const rqstPtr = (slot: number): string => (0xd7c04000 + slot * 0x280).toString(16).padStart(8, "0");

export interface RawTask {
  pid: number; ent: number; flags: number; status: number; rqstp: number; timeout: number; ops: number;
  proc: string; action: string; queue: string; prio: number; sleptIn: string; next: string; owner: number;
  queuedNs: number; ageNs: number; credit: boolean; sndTask: boolean; xid: number; ntrans: number;
}

export const RPC_DUMP_HEADER = "-pid- flgs status -client- --rqstp- -timeout ---ops--";

// rpc_show_task(): "%5u %04x %6d %8p %8p %8ld %8p %sv%u %s a:%ps q:%s"
export function dumpRow(t: RawTask): string {
  const rq = t.rqstp >= 0 ? rqstPtr(t.rqstp) : "(null)";
  return [
    String(t.pid).padStart(5),
    (t.flags >>> 0).toString(16).padStart(4, "0"),
    String(t.status).padStart(6),
    CLNT_PTR,
    rq.padStart(8),
    String(t.timeout).padStart(8),
    OPS_PTR[t.ops] ?? "c03a4e78",
    `nfsv3 ${t.proc}`,
    `a:${t.action}`,
    `q:${t.queue}`,
  ].join(" ");
}

export function dumpLines(tasks: RawTask[], max = 60): string[] {
  if (!tasks.length) return ["(no rpc_task on cl_tasks)"];
  const rows = tasks.slice(0, max).map(dumpRow);
  if (tasks.length > max) rows.push(`... ${tasks.length - max} more`);
  return [RPC_DUMP_HEADER, ...rows];
}

// The frames of the two places the workloads block in D state (ARM, 3.x; the exit path is
// the seed's own trace, the close path the same wait reached from close(2)).
const FRAMES_COMMON: Array<[string, string, string]> = [
  ["c0237070", "__schedule", "0x608/0x6d8"],
  ["c02372d4", "io_schedule", "0x84/0xc0"],
  ["c006f2f0", "sleep_on_page", "0x8/0x10"],
  ["c02357dc", "__wait_on_bit", "0x54/0x9c"],
  ["c006f6a8", "wait_on_page_bit", "0xbc/0xd4"],
  ["c00700c4", "filemap_fdatawait_range", "0x88/0x13c"],
  ["c007029c", "filemap_write_and_wait_range", "0x50/0x64"],
  ["c00ff280", "nfs_file_fsync", "0x5c/0x154"],
  ["c00c200c", "vfs_fsync_range", "0x30/0x40"],
  ["c00c203c", "vfs_fsync", "0x20/0x28"],
];
const FRAMES_EXIT: Array<[string, string, string]> = [
  ["c009b880", "filp_close", "0x40/0x84"],
  ["c001b9b0", "put_files_struct", "0xa8/0xfc"],
  ["c001d3f4", "do_exit", "0x278/0x78c"],
  ["c001d9b0", "do_group_exit", "0xa8/0xd4"],
  ["c002a538", "get_signal_to_deliver", "0x48c/0x4f8"],
  ["c000b7a0", "do_signal", "0x88/0x584"],
  ["c000bcb4", "do_notify_resume", "0x18/0x50"],
  ["c0009418", "work_pending", "0x24/0x28"],
];
const FRAMES_CLOSE: Array<[string, string, string]> = [
  ["c00fe7a4", "nfs_file_flush", "0x64/0x98"],
  ["c009b880", "filp_close", "0x40/0x84"],
  ["c009b93c", "sys_close", "0x70/0xd0"],
  ["c0008f40", "ret_fast_syscall", "0x0/0x30"],
];

export function hungTaskReport(comm: string, pid: number, ppid: number, timeoutS: number, context: string): string[] {
  const frames = [...FRAMES_COMMON, ...(context === "exit" ? FRAMES_EXIT : FRAMES_CLOSE)];
  const out = [
    `INFO: task ${comm}:${pid} blocked for more than ${timeoutS} seconds.`,
    `"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`,
    `${comm.padEnd(15)} D ${frames[0][0]}     0 ${String(pid).padStart(5)} ${String(ppid).padStart(6)} 0x00000000`,
  ];
  for (let i = 0; i + 1 < frames.length; i++) {
    const [a, f, o] = frames[i], [b, g, p] = frames[i + 1];
    out.push(`[<${a}>] (${f}+${o}) from [<${b}>] (${g}+${p})`);
  }
  return out;
}

export const tS = (ns: number): string => (ns / 1e9).toFixed(6);
export const sS = (ns: number): string => `${(ns / 1e9).toFixed(1)} s`;

export function xprtKv(x: any, sock: any): Record<string, string | number | boolean> {
  const kv: Record<string, string | number | boolean> = {
    state: x.state.length ? x.state.join("|") : "0",
    snd_task: x.snd_task ? `${x.snd_task}${x.sndTaskExited ? " (exited)" : ""}` : "NULL",
    cong: x.cong,
    cwnd: x.cwnd,
    "cong >= cwnd (RPCXPRT_CONGESTED)": x.congested,
    "credit holders in flight": x.creditHoldersInFlight,
    "sending (LOW/NORMAL/HIGH/PRIV)": `${x.sending.len} (${x.sending.levels.join("/")})`,
    pending: x.pending.len,
    backlog: x.backlog.len,
    "slots num/min/max/free": `${x.num_reqs}/${x.min_reqs}/${x.max_reqs}/${x.free}`,
    recv: x.recv,
    "task_cleanup (autoclose) queued": x.autoclosePending,
    "idle timer armed": x.idleTimerArmed,
    ops: `${x.ops}: .reserve_xprt = ${x.reserve_xprt}, .release_xprt = ${x.release_xprt}, .alloc_slot = ${x.alloc_slot}`,
  };
  if (sock.state !== undefined) {
    kv["socket"] = `${sock.state}${sock.sendShutdown ? " (SHUT_WR)" : ""}`;
    kv["sk_wmem_queued"] = sock.queued;
  } else {
    kv["sk_wmem_alloc"] = sock.wmem;
  }
  return kv;
}

export interface ChainLink { ent: number; waitsOn: string; obj: number; heldBy: number }

// exitedTask: the dump id of the exited snd_task, when XPRT_LOCKED leaked (its entity is
// the caller's: a sync task runs in its process)
function entLabel(ctx: DescribeContext, tasksByEnt: Map<number, RawTask>, id: number, exitedTask?: number): string {
  const t = tasksByEnt.get(id);
  if (t) return `rpc_task ${t.pid} (${t.proc}, a:${t.action}${t.credit ? ", holds a credit" : ""})`;
  const e = ctx.entities[id];
  if (!e) return `#${id}`;
  if (e.kind === "rpc_task") return exitedTask ? `rpc_task ${exitedTask} (${e.comm} of pid ${e.pid}, exited)` : `an exited rpc_task (${e.comm}, pid ${e.pid})`;
  if (e.kind === "rpc_xprt") return "xprt_autoclose (task_cleanup)";
  return `${e.comm}:${e.pid}`;
}

export function chainWords(links: ChainLink[], ctx: DescribeContext, tasks: RawTask[], exitedTask?: number): string[] {
  const byEnt = new Map(tasks.map((t) => [t.ent, t]));
  return links.map((l) => {
    const who = entLabel(ctx, byEnt, l.ent);
    const what = l.waitsOn === "PG_writeback" ? `PG_writeback (a page of its file)` : l.waitsOn;
    const holder = l.heldBy >= 0 ? entLabel(ctx, byEnt, l.heldBy, exitedTask) : "nobody: no wake-up will ever come";
    return `${who} waits for ${what}, held by ${holder}`;
  });
}

export function chainGraph(links: ChainLink[], ctx: DescribeContext, tasks: RawTask[], exitedTask?: number): EvidenceBlock["graph"] {
  const byEnt = new Map(tasks.map((t) => [t.ent, t]));
  const nodes = new Map<string, { id: string; label: string }>();
  const edges: Array<{ from: string; to: string; label: string }> = [];
  for (const l of links) {
    nodes.set(String(l.ent), { id: String(l.ent), label: entLabel(ctx, byEnt, l.ent) });
    const to = l.heldBy >= 0 ? String(l.heldBy) : `free-${l.waitsOn}`;
    if (l.heldBy >= 0) nodes.set(to, { id: to, label: entLabel(ctx, byEnt, l.heldBy, exitedTask) });
    else nodes.set(to, { id: to, label: `(nobody: lost wake-up)` });
    edges.push({ from: String(l.ent), to, label: l.waitsOn });
  }
  return { nodes: [...nodes.values()], edges };
}

// The model's printk ring: NFS's "not responding"/"OK", Simon Kirby's debugging printk in
// xprt_force_disconnect, the RPC socket's TCP state changes, the leak, remounts.
export function klogLines(klog: any): string[] {
  const lines: string[] = (klog?.lines ?? []).map((l: any) => {
    const msg: string = l.msg;
    let text = msg;
    if (msg.startsWith("TCP_")) text = `RPC: xs_tcp_state_change: socket #${l.a} ${msg}`;
    else if (msg.startsWith("nfs: server")) text = `${msg} (rpc_task ${l.a})`;
    else if (msg.startsWith("xprt_force_disconnect")) text = `${msg}${l.a ? "" : " (XPRT_LOCKED already set: autoclose deferred)"}`;
    else if (msg.startsWith("XPRT_LOCKED leaked")) text = `${msg} (pid ${l.a})`;
    else if (msg.startsWith("mount:")) text = `${msg} (cwnd ${l.a})`;
    return `[${tS(l.t).padStart(13)}] ${text}`;
  });
  if (klog?.dropped) lines.splice(klog.head, 0, `... ${klog.dropped} lines dropped ...`);
  return lines;
}

export function cwndSeries(raw: any[]): Series[] {
  const pts = raw ?? [];
  return [
    { id: "cwnd", title: "xprt->cwnd (RPC_CWNDSCALE = 256 = one request)", unit: "cwnd", points: pts.map((p: number[]) => [p[0], p[1]]) },
    { id: "cong", title: "xprt->cong (credits held)", unit: "cong", points: pts.map((p: number[]) => [p[0], p[2]]) },
    { id: "sending", title: "tasks asleep on xprt_sending", unit: "tasks", points: pts.map((p: number[]) => [p[0], p[3]]) },
  ];
}

// Which dump rows a reader looks for: tasks asleep on xprt_sending, by tk_action.
export function sendingRows(tasks: RawTask[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) {
    if (t.queue !== "xprt_sending") continue;
    const k = `a:${t.action} q:xprt_sending`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
