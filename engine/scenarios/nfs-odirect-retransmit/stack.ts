// The Stack view's layers for nfs-odirect-retransmit: the application and its buffer
// pages with the pattern in them now, the rpc_tasks, the socket's write queue with the
// pages each skb pins (a retransmission queued behind unsent data), the wire, knfsd with
// its DRC, and in the Xen variant the grant-mapped pages fast_flush_area unmaps.
import type { StackInput, StackItem, StackLayerSpec, StackLayerState } from "../types";
import { entityItem, hex } from "../../stack";

const DEADBEEF = 0xdeadbeef;
const pageKey = (pfn: number) => `pfn${pfn}`;
const buffers = (s: StackInput): any[] => s.model?.buffers ?? [];
const patternText = (b: any) => (b.fill ? hex(b.pattern) : `counter ${hex(b.pattern)}+j`);

function pageItem(b: any, xen: boolean): StackItem {
  // pinned by an skb (count > 1) while the application has already refilled it: the
  // bytes a retransmission will carry are not the ones written
  const pinned = b.count > 1;
  const tone = !b.mapped && pinned ? "bad" : pinned && b.pattern === DEADBEEF ? "bad" : pinned ? "held" : "idle";
  return {
    key: pageKey(b.pfn), label: `pfn ${b.pfn.toString(16)}`, group: `${xen ? "tapdisk2" : "blktest2"} thread ${b.thread}`, tone,
    fields: { pfn: b.pfn.toString(16), "contents (word j)": patternText(b), _count: b.count, mapped: b.mapped, "grant-mapped (foreign)": b.foreign },
  };
}

export const nfsOdirectStack: StackLayerSpec[] = [
  {
    id: "app", title: "application (O_DIRECT writers)",
    read: (s): StackLayerState => {
      const apps: any[] = s.model?.apps ?? [];
      return {
        facts: { "write() calls": s.model?.writes ?? 0, "waiting in nfs_direct_wait": apps.filter((a) => !a.done).length },
        items: apps.map((a) => {
          const e = s.entities[a.ent];
          const base = e ? entityItem(e) : { key: `app${a.thread}`, label: `thread ${a.thread}` };
          return { ...base, fields: { ...base.fields, "current write": a.write, "write() returned": a.done } };
        }),
      };
    },
  },
  {
    id: "pages", title: "buffer pages (struct page)",
    read: (s): StackLayerState => {
      const b = buffers(s), xen = s.knobs.app === "xen-unmap";
      return {
        facts: { pages: b.length, "0xdeadbeef now": b.filter((p) => p.fill).length, "pinned by an skb (_count > 1)": b.filter((p) => p.count > 1).length },
        items: b.map((p) => pageItem(p, xen)),
      };
    },
  },
  {
    id: "rpc", title: "rpc_task · struct rpc_xprt (TCP)",
    read: (s): StackLayerState => ({
      facts: { "WRITEs in flight": (s.model?.apps ?? []).filter((a: any) => !a.done).length, "retransmissions (call_timeout)": s.model?.rpcRetransmits ?? 0 },
      items: s.entities.filter((e) => e.kind === "thread" && e.comm.startsWith("rpciod")).map((e) => entityItem(e)),
    }),
  },
  {
    id: "skbs", title: "socket write queue (sk_buff → page frags)",
    read: (s): StackLayerState => {
      const q: any[] = s.model?.skbs ?? [];
      const byPfn = new Map(buffers(s).map((b) => [b.pfn, b]));
      const items: StackItem[] = q.map((k) => {
        const stale = k.frags.some((f: number) => byPfn.get(f)?.fill || byPfn.get(f)?.mapped === false);
        return {
          key: `skb${k.skb >>> 0}`, label: `${hex(k.skb).slice(2)} xid ${(k.xid >>> 0).toString(16)}`,
          group: k.unsent ? "unsent (behind the send head)" : "in flight, unacked",
          tone: stale ? "bad" : k.retrans ? "wait" : k.out ? "run" : "held",
          fields: {
            skb: hex(k.skb), seq: (k.seq >>> 0).toString(16), len: k.len, xid: hex(k.xid), write: k.write, "sent, unacked": k.out,
            "TCP retransmission": k.retrans, "frags (pfn)": k.frags.map((f: number) => f.toString(16)).join(" "),
            "frag contents now": k.frags.map((f: number) => (byPfn.has(f) ? patternText(byPfn.get(f)) : "not a buffer page")).join(", "),
          },
        };
      });
      return {
        facts: { "skbs queued": q.length, "in flight": q.filter((k) => k.out).length, unsent: q.filter((k) => k.unsent).length, "sk_wmem_queued": s.model?.clientQueuedBytes ?? 0 },
        items,
        links: q.flatMap((k) => k.frags.map((f: number) => ({ from: `skb${k.skb >>> 0}`, to: pageKey(f), label: "frag pins page" }))),
      };
    },
  },
  {
    id: "wire", title: "NIC · link",
    read: (s): StackLayerState => ({ facts: { "link stalls so far": s.model?.stalls ?? 0, "server → client bytes queued": s.model?.serverQueuedBytes ?? 0 } }),
  },
  {
    id: "knfsd", title: "knfsd · duplicate reply cache",
    read: (s): StackLayerState => ({
      facts: { "duplicate reply cache": s.knobs.drc === "csum" ? "≥ 3.9: checksum of the first 256 bytes" : "≤ 3.8: 1024-entry LRU, xid match" },
      items: s.entities.filter((e) => e.kind === "thread" && e.comm === "nfsd").map((e) => entityItem(e)),
    }),
  },
  {
    id: "xen", title: "Xen grant-mapped pages (blktap fast_flush_area)",
    read: (s): StackLayerState => {
      if (s.knobs.app !== "xen-unmap") return { facts: { variant: "not the Xen variant (knob app=xen-unmap)" } };
      const b = buffers(s);
      return {
        facts: { "grant-mapped": b.filter((p) => p.mapped).length, "unmapped by fast_flush_area": b.filter((p) => !p.mapped).length, "unmapped and pinned by an skb": b.filter((p) => !p.mapped && p.count > 1).length },
      };
    },
  },
];
