// The Stack view's layers for the sunrpc-* scenarios (UDP and TCP share them): the
// processes, page cache and writeback, rpc_tasks by tk_action, struct rpc_xprt, the
// socket, NIC and link, knfsd and its storage.
import type { StackInput, StackItem, StackLayerSpec, StackTone, StackLayerState } from "../types";
import { entityItem } from "../../stack";
import type { RawTask } from "./format";

const RPC_PRIO = ["LOW", "NORMAL", "HIGH", "PRIVILEGED"];
// RPC_CONGESTION_SCALE: cong and cwnd count requests in units of 256
const SCALE = 256;

const threads = (s: StackInput) => s.entities.filter((e) => e.kind === "thread");

function taskTone(t: RawTask): StackTone {
  if (t.sndTask) return "held";
  // a credit held by a task asleep on a queue: the hang's signature
  if (t.credit && t.queue !== "none") return "bad";
  return t.queue !== "none" ? "wait" : "run";
}

function taskItem(t: RawTask): StackItem {
  return {
    key: `t${t.pid}`,
    label: `${t.pid} ${t.proc}`,
    ent: t.ent >= 0 ? t.ent : undefined,
    group: `a:${t.action}`,
    tone: taskTone(t),
    fields: {
      "tk_pid": t.pid, "tk_action": t.action, "tk_status": t.status, "q": t.queue,
      "tk_priority": t.prio >= 0 ? RPC_PRIO[t.prio] ?? t.prio : "-", "slept in": t.sleptIn,
      "tk_rqstp (slot)": t.rqstp >= 0 ? t.rqstp : "NULL", xid: t.xid ? "0x" + (t.xid >>> 0).toString(16) : "-",
      "rq_ntrans": t.ntrans, "holds a cong credit (rq_cong)": t.credit, "xprt->snd_task": t.sndTask,
    },
  };
}

const byAction = (a: RawTask, b: RawTask) => (a.action < b.action ? -1 : a.action > b.action ? 1 : a.pid - b.pid);

export function stackSunrpc(kind: "udp" | "tcp"): StackLayerSpec[] {
  return [
    {
      id: "processes", title: "processes",
      read: (s): StackLayerState => {
        const all = threads(s).filter((e) => !/^(rpciod|flush-)/.test(e.comm));
        const live = all.filter((e) => e.state !== 3);
        return {
          facts: { running: live.filter((e) => e.state === 0).length, "D state": live.filter((e) => e.state === 2).length, exited: all.length - live.length },
          items: live.map((e) => entityItem(e)),
        };
      },
    },
    {
      id: "pagecache", title: "page cache · NFS writeback",
      read: (s): StackLayerState => {
        const c = s.model?.counters ?? {};
        return {
          facts: { "dirty chunks": c.dirtyChunks ?? 0, "under writeback": c.writebackChunks ?? 0, "WRITEs done": c.writesDone ?? 0, "COMMITs done": c.commitsDone ?? 0 },
          items: threads(s).filter((e) => e.comm.startsWith("flush-")).map((e) => entityItem(e)),
        };
      },
    },
    {
      id: "tasks", title: "rpc_task (cl_tasks) by tk_action",
      read: (s): StackLayerState => {
        const tasks: RawTask[] = [...(s.model?.tasks ?? [])].sort(byAction);
        return {
          facts: { "rpc_tasks live": tasks.length, "asleep on a queue": tasks.filter((t) => t.queue !== "none").length },
          items: [...threads(s).filter((e) => e.comm.startsWith("rpciod")).map((e) => entityItem(e, { group: "rpciod" })), ...tasks.map(taskItem)],
        };
      },
    },
    {
      id: "xprt", title: `struct rpc_xprt (${kind.toUpperCase()})`,
      read: (s): StackLayerState => {
        const x = s.model?.xprt;
        if (!x) return { facts: { "rpc_xprt": "not yet created" } };
        const holder = x.state.includes("XPRT_LOCKED") ? (x.snd_task ? `task ${x.snd_task}${x.sndTaskExited ? " (exited)" : ""}` : "(locked, no snd_task)") : "none";
        const tasks: RawTask[] = s.model.tasks ?? [];
        const slotOf = new Map(tasks.filter((t) => t.rqstp >= 0).map((t) => [t.rqstp, t]));
        const used = x.num_reqs - x.free;
        const slots: StackItem[] = [];
        for (let i = 0; i < x.num_reqs; i++) {
          const t = slotOf.get(i);
          slots.push({ key: `slot${i}`, label: String(i), group: "slots (rpc_rqst)", tone: t ? "held" : "idle", fields: t ? { slot: i, "rq_task": t.pid, proc: t.proc, xid: "0x" + (t.xid >>> 0).toString(16) } : { slot: i, "rq_task": "free" } });
        }
        return {
          facts: {
            "XPRT_LOCKED holder": holder,
            state: x.state.join("|") || "0",
            cong: x.cong, cwnd: x.cwnd,
            sending: x.sending.len,
            "sending LOW/NORMAL/HIGH/PRIV": x.sending.levels.join("/"),
            pending: x.pending.len,
            backlog: x.backlog.len,
            "slots in use": `${used}/${x.num_reqs}`,
          },
          gauges: [
            { label: "cong / cwnd", value: x.cong, max: Math.max(x.cwnd, 1), text: `${x.cong / SCALE} / ${x.cwnd / SCALE} requests`, alarm: x.congested },
            { label: "slots", value: used, max: Math.max(x.num_reqs, 1), text: `${used} of ${x.num_reqs} in use`, alarm: x.free === 0 && x.num_reqs >= x.max_reqs },
          ],
          items: slots,
        };
      },
    },
    {
      id: "socket", title: kind === "udp" ? "socket (UDP)" : "socket (TCP)",
      read: (s): StackLayerState => {
        const k = s.model?.sock ?? {};
        return kind === "udp"
          ? { facts: { generation: k.gen ?? 0, "sk_wmem_alloc": k.wmem ?? 0, "SOCK_NOSPACE (xs_nospace)": !!k.asyncNospace } }
          : { facts: { state: k.state ?? "-", "SHUT_WR": !!k.sendShutdown, "sk_wmem_queued": k.queued ?? 0, "segments queued": k.sendQueueSegs ?? 0, "window blocked": !!k.windowBlocked, "server side": k.serverState ?? "-" } };
      },
    },
    {
      id: "link", title: "NIC · link",
      read: (s): StackLayerState => {
        const k = s.model?.sock ?? {}, x = s.model?.xprt ?? {};
        const facts: Record<string, string | number | boolean> = { "link up": k.linkUp !== false, "requests awaiting a reply (xprt->recv)": x.recv ?? 0 };
        if (kind === "udp") facts["datagrams lost"] = k.datagramsLost ?? 0;
        else facts["resets"] = k.resets ?? 0;
        return { facts, items: s.entities.filter((e) => e.kind === "link").map((e) => entityItem(e, { tone: k.linkUp === false ? "bad" : "idle" })) };
      },
    },
    {
      id: "knfsd", title: "knfsd",
      read: (s): StackLayerState => {
        const v = s.model?.server ?? {};
        return {
          facts: { up: !!v.up, "threads busy": v.busy ?? 0, "requests queued": v.queued ?? 0, served: v.served ?? 0, restarts: v.restarts ?? 0 },
          gauges: [{ label: "nfsd threads", value: v.busy ?? 0, max: Number(s.knobs.nfsd_threads ?? 8), text: `${v.busy ?? 0} of ${s.knobs.nfsd_threads ?? 8} busy` }],
          items: s.entities.filter((e) => e.kind === "nfsd").map((e) => entityItem(e, { tone: v.up === false ? "bad" : v.busy ? "run" : "idle" })),
        };
      },
    },
    {
      id: "disk", title: "disk (server storage)",
      read: (s): StackLayerState => {
        const v = s.model?.server ?? {};
        return { facts: { "stalled now": !!v.stalled, stalls: v.stalls ?? 0, "last stall": v.lastStallLen ? `${(v.lastStallLen / 1e9).toFixed(1)} s` : "-" } };
      },
    },
  ];
}
