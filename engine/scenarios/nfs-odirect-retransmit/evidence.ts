// nfs-odirect-retransmit: the evidence a kernel engineer reads, from the model's raw
// evidence (asm/scenarios/nfs-odirect-retransmit/evidence.ts): the per-request "tap:" trace
// in the style of the seed, the wire words that differ, the disk block, the DRC's decision,
// or the oops.
import type { Described, EvidenceBlock } from "../types";
import type { Verdict } from "../../wasm";

const hex = (v: number, w = 8) => (v >>> 0).toString(16).padStart(w, "0");
const secs = (ns: number) => (ns / 1e9).toFixed(6);

// "tap: i/n at <t> <function> <a> <b>" as in Ian Campbell's trace (t in seconds here).
function tapLines(victim: any): string[] {
  const tap: Array<[number, string, number, number]> = victim?.tap ?? [];
  return tap.map(([t, fn, a, b], i) => `tap: ${i}/${tap.length} at ${secs(t).padStart(12)} "${fn}" ${hex(a, 1)} ${hex(b, 1)}`);
}

function words(ws: number[]): string {
  return ws.map((w) => hex(w)).join(" ");
}

function bytesLine(ws: number[]): string {
  return ws.slice(0, 4).map((w) => hex(w).match(/../g)!.join(" ")).join("  ");
}

// "0-5663 as issued, 5664-8191 rewritten"
function runsLine(runs: Array<[number, number, number]>): string {
  return runs.map(([from, to, bad]) => `${from}-${to - 1} ${bad ? "rewritten" : "as issued"}`).join(", ");
}

export function describeNfs(verdict: Verdict, raw: any): Described {
  const m = raw.model ?? {};
  const blocks: EvidenceBlock[] = [];
  const dupes: any[] = m.duplicates ?? [];
  blocks.push({
    id: "summary", title: "Run",
    kv: {
      writes: m.writes, "link stalls": m.stalls, "RPC retransmissions (minor timeouts)": m.rpcRetransmits,
      "client TCP RTO expiries": m.tcpRetransmitTimeouts, "server TCP RTO expiries": m.serverTcpRetransmitTimeouts,
      "WRITEs seen twice by knfsd": dupes.length, "calls with a corrupted payload on the wire": m.wireCorruptCalls,
      "segments with corrupted bytes": m.wireCorruptSegments,
      "corrupted blocks on disk": m.diskCorruptBlocks, "retransmissions cancelled before the socket": m.cancelledRetransmits,
      "DRC payload_misses": m.drcPayloadMisses,
    },
  });
  let reason = "every WRITE on the wire and every block on disk holds what the application had in its buffer when it issued the write";
  const evidence: Record<string, unknown> = {
    writes: m.writes, stalls: m.stalls, rpcRetransmits: m.rpcRetransmits, duplicates: dupes,
    wireCorruptCalls: m.wireCorruptCalls, diskCorruptBlocks: m.diskCorruptBlocks, crashed: m.crashed,
  };
  if (m.crash) {
    const c = m.crash;
    const v = c.victim;
    evidence.crash = { xid: c.xid, write: c.write, pfn: c.pfn, fn: c.fn, timeNs: c.timeNs, unmappedAtNs: c.unmappedAtNs };
    reason = `${c.fn} touched unmapped page pfn 0x${hex(c.pfn, 5)} (grant unmapped by fast_flush_area ${((c.timeNs - c.unmappedAtNs) / 1e3).toFixed(1)} us earlier) while transmitting the queued duplicate of WRITE xid 0x${hex(c.xid)} (write ${c.write})`;
    blocks.push({
      id: "oops", title: "Oops (dom0)",
      lines: [
        `BUG: unable to handle kernel paging request at pfn ${hex(c.pfn, 5)} (grant unmapped, INVALID_MFN)`,
        `IP: [<c02a1f3c>] ${c.fn}+0x1cc/0x4b0`,
        `Process swapper (pid: 0), skb ${hex(c.skb)} (xid 0x${hex(c.xid)}, retransmitted WRITE)`,
        `Call Trace:`,
        ` [<c0259d1e>] dev_hard_start_xmit+0x1e/0x70`,
        ` [<c0265a4f>] __qdisc_run+0x9f/0x1b0`,
        ` [<c025b0f0>] dev_queue_xmit+0x120/0x2b0`,
        ` [<c027a2b5>] ip_queue_xmit+0x1d5/0x3e0`,
        ` [<c028b7a6>] tcp_transmit_skb+0x3f6/0x7a0`,
        ` [<c028d2c2>] tcp_write_xmit+0x142/0x290`,
        ` [<c028a1a4>] tcp_ack+0x...`,
        `Kernel panic - not syncing: Fatal exception in interrupt`,
        `(write ${c.write} completed at ${secs(v.completedNs)} s; fast_flush_area at ${secs(c.unmappedAtNs)} s; fault at ${secs(c.timeNs)} s)`,
      ],
    });
    blocks.push({ id: "tap", title: `Per-request trace (xid 0x${hex(c.xid)})`, lines: tapLines(v) });
  }
  if (m.wire) {
    const w = m.wire;
    const v = w.victim;
    const tx: any[] = w.transmission ?? [];
    evidence.wire = {
      xid: w.xid, write: w.write, page: w.page, expected: w.expected, found: w.found, wordsDiffer: w.wordsDiffer, timeNs: w.timeNs,
      completedNs: v.completedNs, seq: w.seq, segment: w.segment, segments: w.segments, dataFrom: w.dataFrom, dataTo: w.dataTo, mixed: w.mixed,
      duplicateRuns: w.duplicateRuns,
      transmission: tx.map((x) => ({ segment: x.segment, seq: x.seq, timeNs: x.timeNs, dataFrom: x.dataFrom, dataTo: x.dataTo, differFrom: x.differFrom, differTo: x.differTo, tcpRetransmission: x.tcpRetransmission, duplicate: x.duplicate })),
    };
    evidence.drc = v.duplicate ?? null;
    const fate = v.duplicate === undefined ? "the duplicate never reached the server"
      : v.duplicate === "RC_DOIT" ? `the server EXECUTED it (${v.duplicateWhy ?? "miss"})`
      : v.duplicate === "RC_REPLY" ? "the server replayed the cached reply (nothing written)"
      : "the server dropped it (RC_DROPIT)";
    // a crash's reason stays the oops: the run ended there
    const range = `bytes ${w.dataFrom}-${w.dataTo - 1} of the data, segment ${w.segment + 1} of ${w.segments}`;
    const part = w.mixed ? `; the duplicate is part as issued, part rewritten: data bytes ${runsLine(w.duplicateRuns)}` : "";
    if (!m.crash) reason = `WRITE xid 0x${hex(w.xid)} (write ${w.write}) went on the wire again at ${secs(w.timeNs)} s, after the write had completed at ${secs(v.completedNs)} s, carrying ${words(w.found.slice(0, 2))}… instead of ${words(w.expected.slice(0, 2))}… (${range}${part}); ${fate}`;
    blocks.push({
      id: "wire", title: `Corrupted on the wire: xid 0x${hex(w.xid)}`,
      lines: [
        `time ${secs(w.timeNs)} s, write ${w.write}, segment ${w.segment + 1} of ${w.segments} (seq ${hex(w.seq)}, MSS ${w.mss}), TCP retransmission: ${w.tcpRetransmission}`,
        `data bytes ${w.dataFrom}-${w.dataTo - 1} differ (page ${w.page} from word ${w.wordInPage}: ${w.wordsDiffer} of its ${w.wordsInSegment} words in this segment)`,
        `expected (buffer at issue), page ${w.page} words ${w.wordsFrom}..: ${words(w.expected)}`,
        `on the wire:  ${words(w.found)}`,
        `payload bytes: ${bytesLine(w.found)}`,
        `this transmission's segments (NIC read time; data bytes; differing bytes):`,
        ...tx.map((x) => `  ${x.segment + 1}/${w.segments} at ${secs(x.timeNs)} s${x.tcpRetransmission ? " (TCP retransmission)" : ""}${x.duplicate ? " duplicate" : ""}: ${x.dataFrom}-${x.dataTo - 1}: ${x.differFrom < 0 ? "as issued" : `${x.differFrom}-${x.differTo - 1} differ`}`),
        `write issued ${secs(v.issuedNs)} s, completed ${secs(v.completedNs)} s; knfsd received it ${v.serverReceived}x, executed ${v.serverExecuted}x; duplicate: ${v.duplicate ?? "none"}${v.duplicateWhy ? " (" + v.duplicateWhy + ")" : ""}`,
      ],
    });
    blocks.push({ id: "tap", title: `Per-request trace (xid 0x${hex(w.xid)})`, lines: tapLines(v) });
  }
  if (m.disk) {
    const d = m.disk;
    evidence.disk = { block: d.block, offset: d.offset, write: d.write, xid: d.victim.xid, expected: d.expected, found: d.found, bytesFrom: d.bytesFrom, bytesTo: d.bytesTo, runs: d.runs };
    blocks.push({
      id: "disk", title: `Corrupted on disk: offset ${d.offset}`,
      lines: [
        `block ${d.block} (write ${d.write}, xid 0x${hex(d.victim.xid)}) written ${d.timesWritten}x, last by xid 0x${hex(d.writtenByXid)}`,
        `bytes ${d.bytesFrom}-${d.bytesTo - 1} of the block differ${d.runs > 1 ? ` (the block holds ${d.runs} runs: its page reached the server in segments read at different times)` : ""}; words ${d.wordsFrom}..:`,
        `expected: ${words(d.expected)}`,
        `on disk:  ${words(d.found)}`,
      ],
    });
  }
  if (verdict === "corruption" && m.disk) {
    const d = m.disk;
    const part = d.bytesFrom > 0 || d.bytesTo < 4096 ? `bytes ${d.bytesFrom}-${d.bytesTo - 1} of ` : "";
    reason = (m.wire ? reason + "; " : "") + `on disk: ${part}block at offset ${d.offset} hold${part ? "" : "s"} ${words(d.found.slice(0, 2))}… (${m.diskCorruptBlocks} blocks)`;
  }
  evidence.blocks = blocks;
  return { reason, evidence: evidence as Described["evidence"] };
}
