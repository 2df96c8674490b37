// The Stack view's layers for socklnd-scheduler: CPTs with their ksock_scheds, the
// scheduler threads with their recent CPU share, the connections and who serves them, and
// the kss_scratch_iov arrays with the lib calls using each one now.
import type { StackInput, StackItem, StackLayerSpec, StackLayerState } from "../types";
import { entityItem, entLabel } from "../../stack";

const CONN_TYPE: Record<number, string> = { 1: "CONTROL", 2: "BULK_IN", 3: "BULK_OUT" };
const m = (s: StackInput) => s.model ?? {};
const threadName = (s: StackInput, t: number) => (t >= 0 ? entLabel(s.entities[m(s).threads?.[t]?.ent]) : "-");
const pct = (x: number) => `${Math.round(x * 100)}%`;

export const socklndStack: StackLayerSpec[] = [
  {
    id: "cpts", title: "CPTs · struct ksock_sched",
    read: (s): StackLayerState => {
      const scheds: any[] = m(s).scheds ?? [];
      return {
        facts: { CPTs: (m(s).queued ?? []).length, "ksock_scheds": scheds.length, "lnet_msgs in use": m(s).msgsInUse ?? 0 },
        items: scheds.map((k, i) => ({
          key: `sched${i}`, label: `sched ${i}`, group: `CPT ${k.cpt}`, tone: k.rxConns + k.txConns > 0 ? "wait" : "idle",
          fields: { kss_cpt: k.cpt, kss_nconns: k.nconns, kss_nthreads: k.nthreads, "kss_rx_conns queued": k.rxConns, "kss_tx_conns queued": k.txConns },
        })),
      };
    },
  },
  {
    id: "threads", title: "socknal_sd scheduler threads",
    read: (s): StackLayerState => {
      const th: any[] = m(s).threads ?? [];
      const items: StackItem[] = th.map((t) => {
        const e = s.entities[t.ent], share = s.recentBusy(t.ent);
        const base = entityItem(e, { group: `CPT ${t.cpt}` });
        return {
          ...base, label: `${base.label} ${pct(share)}`, tone: t.inCall ? "run" : share > 0.9 ? "held" : base.tone,
          fields: { ...base.fields, "CPU share (recent)": pct(share), "ksock_sched": t.sched, "scratch array": t.scratch, "in a lib call": t.inCall ? `${t.fn} call ${t.call} conn ${t.callConn}` : "no" },
        };
      });
      const shares = th.map((t) => s.recentBusy(t.ent));
      return {
        facts: { threads: th.length, "busiest (recent)": shares.length ? pct(Math.max(...shares)) : "-", "idlest (recent)": shares.length ? pct(Math.min(...shares)) : "-" },
        gauges: th.map((t, i) => ({ label: threadName(s, i), value: Math.round(shares[i] * 1000), max: 1000, text: pct(shares[i]), alarm: shares[i] > 0.9 })),
        items,
      };
    },
  },
  {
    id: "conns", title: "ksock_conn (who serves them)",
    read: (s): StackLayerState => {
      const cs: any[] = m(s).conns ?? [];
      return {
        facts: { conns: cs.length, up: cs.filter((c) => c.up).length, "txs queued (ksnc_tx_queue)": cs.reduce((a, c) => a + c.txQueue, 0) },
        items: cs.map((c, i) => {
          const e = s.entities[c.ent];
          const serving = [c.rxOwner >= 0 ? `rx by ${threadName(s, c.rxOwner)}` : "", c.txOwner >= 0 ? `tx by ${threadName(s, c.txOwner)}` : ""].filter(Boolean).join(", ");
          return {
            key: `conn${i}`, label: `${e?.comm ?? "peer " + c.peer} ${CONN_TYPE[c.type] ?? c.type}`, ent: c.ent, group: `sched ${c.sched} (CPT ${c.cpt})`,
            tone: serving ? "run" : c.rxFifo + c.txQueue > 0 ? "wait" : "idle",
            fields: { ksnc_type: CONN_TYPE[c.type] ?? c.type, ksnc_scheduler: c.sched, cpt: c.cpt, "in service": serving || "no", "ksnc_tx_queue": c.txQueue, "messages arrived, unread": c.rxFifo, up: c.up },
          };
        }),
      };
    },
  },
  {
    id: "scratch", title: "kss_scratch_iov arrays",
    read: (s): StackLayerState => {
      const sc: any[] = m(s).scratch ?? [];
      const th: any[] = m(s).threads ?? [];
      return {
        facts: { arrays: sc.length, "per thread (socklnd-per-thread-scratch)": sc.some((a) => a.perThread), "overlapping calls so far": m(s).scratchCollisions ?? 0, "messages corrupted so far": m(s).corrupted ?? 0 },
        items: sc.map((a, i) => {
          const users: number[] = a.users;
          return {
            key: `scratch${i}`, label: `iov ${i}: ${users.length ? users.map((t) => th[t]?.fn ?? "?").join(" + ") : "idle"}`,
            group: a.perThread ? "in each thread" : `in sched ${a.owner}`,
            tone: users.length > 1 ? "bad" : users.length ? "held" : "idle",
            fields: {
              owner: a.perThread ? `thread ${threadName(s, a.owner)}` : `ksock_sched ${a.owner}`, "last filled by": threadName(s, a.filler), "last call": a.call,
              "calls using it now": users.map((t) => `${threadName(s, t)}: ${th[t]?.fn} call ${th[t]?.call} conn ${th[t]?.callConn} (${th[t]?.nob} B)`).join("; ") || "none",
            },
          };
        }),
      };
    },
  },
];
