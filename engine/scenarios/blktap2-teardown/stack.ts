// The Stack view's layers for blktap2-teardown: the guest's blkfront, blkback and its hold
// on tapdevN, the blktap minors, tapdisk2 and its ring, xl / tap-ctl, and the xenstore
// backend nodes. The wait-for cycle is drawn over them from the kernel's wait-for graph.
import type { StackInput, StackLayerSpec, StackLayerState } from "../types";
import { entityItem } from "../../stack";

const m = (s: StackInput) => s.model ?? {};
const byComm = (s: StackInput, re: RegExp) => s.entities.filter((e) => e.kind === "thread" && re.test(e.comm));

export const blktapStack: StackLayerSpec[] = [
  {
    id: "blkfront", title: "guest (xen-blkfront)",
    read: (s): StackLayerState => ({ items: byComm(s, /^domU/).map((e) => entityItem(e)) }),
  },
  {
    id: "blkback", title: "xen-blkback (vbd) · hold on tapdevN",
    read: (s): StackLayerState => {
      const vbds: any[] = m(s).vbds ?? [];
      return {
        facts: { vbds: vbds.length, "holding tapdev open": vbds.filter((v) => v.bdevOpen).length },
        items: vbds.map((v) => {
          const e = s.entities.find((x) => x.kind === "vbd" && x.pid === v.devid);
          const base = e ? entityItem(e) : { key: `vbd${v.devid}` };
          return { ...base, label: `vbd-${v.domid}-${v.devid} → tapdev${v.minor}`, tone: v.bdevOpen ? "held" as const : "idle" as const, fields: { domid: v.domid, devid: v.devid, "blkdev_get(tapdev)": v.bdevOpen ? `tapdev${v.minor} open` : "released" } };
        }),
      };
    },
  },
  {
    id: "minors", title: "blktap minors (/sys/class/blktap2)",
    read: (s): StackLayerState => {
      const ms: any[] = m(s).minors ?? [];
      return {
        facts: { minors: ms.length, orphaned: m(s).orphanedMinors ?? 0 },
        items: ms.map((x) => ({
          key: `minor${x.minor}`, label: `blktap${x.minor} openers=${x.openers}`, tone: x.ringTask < 0 ? "bad" : x.openers > 0 ? "held" : "idle",
          fields: { minor: x.minor, "ring.task": x.ringTask >= 0 ? x.ringTask : "NULL", BLKTAP_DEVICE: x.device, "tapdev bd_openers": x.openers },
        })),
      };
    },
  },
  {
    id: "tapdisk", title: "tapdisk2 · ring",
    read: (s): StackLayerState => {
      const list: any[] = m(s).tapCtlList ?? [];
      return {
        facts: { "tap-ctl list": list.map((t) => `pid=${t.pid} minor=${t.minor} state=${t.state}`).join("; ") || "(empty)" },
        items: (m(s).tapdisks ?? []).map((t: any) => {
          const e = s.entities[t.thread];
          const l = list.find((x) => x.pid === t.pid);
          const base = entityItem(e);
          return { ...base, label: `${base.label} ring → blktap${t.minor}`, fields: { ...base.fields, minor: t.minor, "tap-ctl list state": l ? l.state : "-" } };
        }),
      };
    },
  },
  {
    id: "toolstack", title: "xl / tap-ctl (select())",
    read: (s): StackLayerState => ({ items: byComm(s, /^(xl|tap-ctl|udevd)/).map((e) => entityItem(e)) }),
  },
  {
    id: "xenstore", title: "xenstore backend nodes",
    read: (s): StackLayerState => {
      const nodes: any[] = (m(s).xenstore ?? []).filter((n: any) => /\/backend\/vbd\/\d+\/\d+/.test(n.path));
      const devs = nodes.filter((n) => /\/backend\/vbd\/\d+\/\d+$/.test(n.path));
      return {
        facts: { "backend vbd nodes": devs.length, keys: nodes.length - devs.length },
        items: [
          ...byComm(s, /^(xenstored|xenwatch)/).map((e) => entityItem(e)),
          ...devs.map((n) => {
            const state = nodes.find((k) => k.path === n.path + "/state");
            return { key: `xs${n.path}`, label: n.path.replace("/local/domain/0/backend/", ""), tone: "held" as const, fields: { path: n.path, state: state?.value ?? "-" } };
          }),
        ],
      };
    },
  },
];
