// socklnd-scheduler: the evidence a kernel engineer reads, from the model's raw evidence
// (asm/scenarios/socklnd-scheduler/evidence.ts): the reason line, the blocks, the series.
import type { Verdict } from "../../wasm";
import type { DescribeContext, Described, EvidenceBlock, Series } from "../types";

const CONN_TYPES = ["ANY", "CONTROL", "BULK_IN", "BULK_OUT"];
const LNET_TYPES = ["ACK", "PUT", "GET", "REPLY", "HELLO"];

export const peerNid = (p: number): string => `192.168.1.${11 + p}@tcp`;
export const MY_NID = "192.168.1.1@tcp";

const pctS = (x: number): string => `${(x * 100).toFixed(1)}%`;
const usS = (ns: number): string => `${(ns / 1000).toFixed(1)} us`;
const tS = (ns: number): string => (ns / 1e9).toFixed(6);
const msS = (ns: number): string => `${(ns / 1e6).toFixed(1)} ms`;
const pm = (x: number): string => `${(x / 10).toFixed(1)}%`;

interface Raw {
  config: any; threads: any[]; scheds: any[]; scratch: any[]; conns: any[]; metrics: any;
  samples: any; degraded: any; contention: any; invariants: any; collisions: any[]; incidents: any[]; corrupted: number; corruptedAtPeer: number;
  protoErrors: number; wire: any;
}

function connLabel(raw: Raw, c: number): string {
  const k = raw.conns[c];
  return k ? `conn ${c} ${peerNid(k.peer)} ${k.type}` : `conn ${c}`;
}

function threadLines(raw: Raw): string[] {
  const byThreadConns = new Map<number, string[]>();
  for (const k of raw.conns) {
    // OLD: conns are pinned to a thread's sched; NEW: every thread of the CPT serves them
    const owners = raw.threads.filter((t) => t.sched === k.sched);
    for (const t of owners) {
      const l = byThreadConns.get(t.t) ?? [];
      if (k.hot && k.type !== "CONTROL") l.push(`${peerNid(k.peer)} ${k.type}*`);
      byThreadConns.set(t.t, l);
    }
  }
  const lines = ["thread            pid   cpt sched  util   conns(hot)"];
  for (const t of raw.threads) {
    const s = raw.scheds[t.sched];
    const hot = byThreadConns.get(t.t) ?? [];
    lines.push(`${t.comm.padEnd(17)} ${String(t.pid).padEnd(5)} ${String(t.cpt).padEnd(3)} ${String(t.sched).padEnd(6)} ${pctS(t.util).padStart(6)}  ${s.nconns}${hot.length ? ` (${hot.join(", ")})` : ""}`);
  }
  return lines;
}

function callLine(raw: Raw, c: any): string {
  const dir = c.fn.includes("recv") ? "rx" : "tx";
  return `${c.comm} (pid ${c.pid}) ${c.fn}() ${dir} ${connLabel(raw, c.conn)} msg #${c.msg} image [${c.off}, ${c.off + c.nob}) filled kss_scratch_iov at ${tS(c.fillNs)}`;
}

function scratchName(raw: Raw, a: number): string {
  const s = raw.scratch[a];
  return s.owner === "sched" ? `ksock_sched[${s.id}].kss_scratch_iov (cpt ${raw.scheds[s.id].cpt})` : `scratch_iov of thread ${raw.threads[s.id].comm}`;
}

function collisionLines(raw: Raw): string[] {
  const out: string[] = [];
  for (const k of raw.collisions) {
    const v = k.victim, f = k.filler;
    const recv = v.fn.includes("recv");
    out.push(`[${tS(k.t)}] ${scratchName(raw, k.scratch)} shared by two overlapping service calls:`);
    out.push(`  A: ${callLine(raw, v)}`);
    out.push(`  B: ${callLine(raw, f)}${k.fillerDone ? " (B's copy already done)" : " (B still copying)"}`);
    out.push(recv
      ? `  A's kernel_recvmsg at ${tS(k.t)} copied ${k.copied} bytes of ${connLabel(raw, v.conn)}'s socket into msg #${f.msg}'s buffers [${f.off}, ${f.off + k.copied}); msg #${v.msg} [${v.off}, ${v.off + k.copied}) was never written`
      : `  A's kernel_sendmsg at ${tS(k.t)} put ${k.copied} bytes of msg #${f.msg} [${f.off}, ${f.off + k.copied}) on ${connLabel(raw, v.conn)}'s wire in place of msg #${v.msg} [${v.off}, ${v.off + k.copied})`);
  }
  return out;
}

function incidentLines(raw: Raw): string[] {
  return raw.incidents.map((i) => {
    const where = i.at === "us" ? `received by ${MY_NID}` : `received by peer on ${connLabel(raw, i.conn)}`;
    const holds = i.holdsMsg === 0 ? "bytes never written" : i.holdsMsg === i.msg ? `its own bytes from another offset` : `bytes of msg #${i.holdsMsg} (${i.holdsSlot < 2 ? "header" : `page ${i.holdsSlot - 2}`})`;
    if (i.proto) return `[${tS(i.t)}] ${connLabel(raw, i.conn)} msg #${i.msg}: ksock header/lnet_hdr damaged (${i.slot === 0 ? "ksm header" : "lnet_hdr"} holds ${holds}) -> -EPROTO, ksocknal_close_conn_and_siblings (${where})`;
    return `[${tS(i.t)}] LNet ${LNET_TYPES[i.type]} msg #${i.msg} (${i.nob} B) ${where}: payload page ${i.slot - 2} holds ${holds}; ${i.badSlots} page(s) differ from what the sender queued`;
  });
}

function series(raw: Raw): Series[] {
  const s = raw.samples, iv = s.intervalNs;
  const out: Series[] = [{
    id: "throughput", title: "LNet bulk throughput", unit: "MB/s",
    points: s.t.map((t: number, k: number) => [t, (s.bytes[k] / iv) * 1000] as [number, number]),
  }];
  raw.threads.forEach((th, i) => out.push({
    id: `util.${th.comm}`, title: `${th.comm} utilisation`, unit: "%",
    points: s.t.map((t: number, k: number) => [t, Math.min(100, (s.busy[i][k] / iv) * 100)] as [number, number]),
  }));
  s.queued.forEach((q: number[], cpt: number) => out.push({
    id: `queue.cpt${cpt}`, title: `cpt ${cpt}: conns on kss_rx_conns + kss_tx_conns`, unit: "conns",
    points: s.t.map((t: number, k: number) => [t, q[k]] as [number, number]),
  }));
  out.push({ id: "txq", title: "txs on ksnc_tx_queue (all conns)", unit: "txs", points: s.t.map((t: number, k: number) => [t, s.txQueued[k]] as [number, number]) });
  return out;
}

// Per CPT: the busiest and idlest thread (the imbalance the patch removes).
export function imbalance(raw: Raw): Array<{ cpt: number; max: number; min: number; maxComm: string; minComm: string }> {
  const out: Array<{ cpt: number; max: number; min: number; maxComm: string; minComm: string }> = [];
  for (let cpt = 0; cpt < raw.config.cpts; cpt++) {
    const ts = raw.threads.filter((t) => t.cpt === cpt);
    if (!ts.length) continue;
    const hi = ts.reduce((a, b) => (b.util > a.util ? b : a)), lo = ts.reduce((a, b) => (b.util < a.util ? b : a));
    out.push({ cpt, max: hi.util, min: lo.util, maxComm: hi.comm, minComm: lo.comm });
  }
  return out;
}

export function describe(verdict: Verdict, rawAll: any, ctx: DescribeContext): Described {
  const raw = rawAll.model as Raw;
  const m = raw.metrics, inv = raw.invariants;
  const imb = imbalance(raw);
  const worst = imb.reduce((a, b) => (b.max - b.min > a.max - a.min ? b : a), imb[0]);
  const mbs = m.throughputMBs.toFixed(0);
  let reason: string;
  if (verdict === "corruption") {
    const c = raw.collisions[0];
    const after = m.closes > 0 ? `; ${m.closes} conn(s) closed on -EPROTO, ${m.reconnects} reconnect(s), ${m.throughputAfterCloseMBs.toFixed(0)} MB/s after the first close` : "";
    reason = `${raw.corrupted + raw.protoErrors} LNet message(s) corrupted: ${c ? `${c.victim.comm} and ${c.filler.comm} overlapped on one kss_scratch_iov` : "scratch array shared"} (${mbs} MB/s${after})`;
  } else if (verdict === "crash") {
    reason = `LASSERT: ${inv.violations} socklnd invariant violation(s)`;
  } else if (verdict === "degraded") {
    const d = raw.degraded, th = raw.threads[d.thread];
    reason = `degraded: ${th.comm} ${pm(d.busyPermille)} busy over ${msS(d.windowNs)} while its busiest cpt ${th.cpt} sibling was ${pm(d.siblingMaxPermille)} busy, ${(d.backlogSum / d.window).toFixed(1)} conn(s) waiting on its lists; ${mbs} MB/s, p99 latency ${usS(m.latencyNs.p99)}`;
  } else {
    reason = `ok: ${mbs} MB/s, cpt ${worst.cpt} threads ${pctS(worst.min)}..${pctS(worst.max)} busy, p99 latency ${usS(m.latencyNs.p99)}`;
  }
  const blocks: EvidenceBlock[] = [
    { id: "threads", title: "Scheduler threads (utilisation after all conns are up; * = hot bulk conn it may serve)", lines: threadLines(raw) },
    {
      id: "metrics", title: "Throughput and latency",
      kv: {
        "throughput MB/s": Number(m.throughputMBs.toFixed(1)),
        "bulk msgs received": m.msgsRx, "bulk msgs sent": m.msgsTx,
        "latency p50": usS(m.latencyNs.p50), "latency p90": usS(m.latencyNs.p90),
        "latency p99": usS(m.latencyNs.p99), "latency max": usS(m.latencyNs.max),
        "kss_lock acquisitions (contended)": `${raw.contention.kssLockAcquires} (${raw.contention.kssLockContended})`,
        "scheduler time spinning on kss_lock": usS(raw.contention.kssLockSpinNs),
        "lock_sock waits (rx vs tx of one conn)": `${raw.contention.sockLockContended}, ${usS(raw.contention.sockLockWaitNs)} in all`,
        ...(m.closes > 0 ? {
          "conns closed (-EPROTO, with siblings)": m.closes, "peer reconnects": m.reconnects,
          "txs failed back to LNet": m.txsFailed, "txs lost in a closed socket": m.lostInSocket,
          "LNet resends": m.resends, "throughput after the first close MB/s": Number(m.throughputAfterCloseMBs.toFixed(1)),
        } : {}),
        ...Object.fromEntries(imb.map((x) => [`cpt ${x.cpt} utilisation`, `${x.minComm} ${pctS(x.min)} .. ${x.maxComm} ${pctS(x.max)}`])),
      },
    },
    {
      id: "invariants", title: "socklnd invariants (checked on every dequeue/enqueue)",
      kv: {
        "one thread per direction per conn": inv.violations === 0 ? "held" : `${inv.violations} violation(s)`,
        "conn at most once on kss_rx_conns/kss_tx_conns": inv.records.some((r: any) => r.what === 3 || r.what === 4) ? "violated" : "held",
        "rx and tx of one conn served at once (allowed in NEW)": inv.sameConnRxTxOverlap,
        "service calls overlapping on one scratch array": inv.scratchOverlaps,
        "copies through a scratch array another call refilled": inv.scratchCollisions,
      },
    },
  ];
  const d = raw.degraded;
  blocks.push({
    id: "imbalance", title: `Imbalance detector: one thread >= ${pm(d.hotPermille)} busy, its CPT siblings < ${pm(d.idlePermille)}, conns waiting on its lists in half the samples, over ${d.window} samples (${msS(d.windowNs)})`,
    kv: d.thread < 0 ? { "windows found": 0 } : {
      "windows found": d.windows,
      "first window": `${tS(d.fromNs)} .. ${tS(d.toNs)} s`,
      "hot thread": `${raw.threads[d.thread].comm} (cpt ${raw.threads[d.thread].cpt}) ${pm(d.busyPermille)} busy`,
      "busiest sibling": pm(d.siblingMaxPermille),
      "samples with conns waiting": `${d.backlogSamples}/${d.window} (mean ${(d.backlogSum / d.window).toFixed(1)} conns)`,
    },
  });
  if (raw.collisions.length) blocks.push({ id: "scratch", title: "Overlapping service calls on one scratch array", lines: collisionLines(raw) });
  if (raw.incidents.length) blocks.push({ id: "corruption", title: "End-to-end check: what the receiver got vs what the sender queued", lines: incidentLines(raw) });
  blocks.push({
    id: "config", title: "socklnd configuration",
    kv: {
      "ksock_sched": raw.config.sharedSched ? "one per CPT, shared by its threads (LU-11415)" : "one per thread, conn pinned by least kss_nconns",
      "scratch arrays": raw.config.perThreadScratch ? "per ksocknal_scheduler() thread" : "in struct ksock_sched",
      "zero-copy send": raw.config.nicOffload ? `payloads >= ${raw.config.zcMinPayload} B via sendpage` : "off (NIC without SG + checksum offload)",
      "threads per CPT (max/started)": `${raw.config.nthreadsMax}/${raw.config.nthreadsStarted}`,
      "wire log": `${raw.wire.msgs.length} messages kept (first ${raw.wire.cap} + up to ${raw.wire.extraCap} corrupted), ${raw.wire.skipped} not kept`,
    },
  });
  return {
    reason,
    evidence: {
      blocks, series: series(raw),
      throughputMBs: m.throughputMBs, latencyNs: m.latencyNs,
      reconnect: { closes: m.closes, reconnects: m.reconnects, firstCloseNs: m.firstCloseNs, throughputAfterCloseMBs: m.throughputAfterCloseMBs, txsFailed: m.txsFailed, lostInSocket: m.lostInSocket, resends: m.resends },
      threads: raw.threads.map((t) => ({ comm: t.comm, cpt: t.cpt, sched: t.sched, util: t.util })),
      imbalance: imb, degraded: raw.degraded, contention: raw.contention, invariants: inv, collisions: raw.collisions, incidents: raw.incidents,
      corrupted: raw.corrupted, corruptedAtPeer: raw.corruptedAtPeer, protoErrors: raw.protoErrors, wire: raw.wire, conns: raw.conns, scratch: raw.scratch,
    },
  };
}
