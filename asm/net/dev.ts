// The NIC and the link between the NFS client and the server, and the wire capture.
//
// dev_queue_xmit() puts an skb clone (or a pure ACK) on the NIC's TX ring; the driver's
// start_xmit maps the fragments for DMA and the NIC reads the page bytes then: that is
// the moment a zero-copy payload is fixed, and where reading an unmapped (Xen grant-
// unmapped) page faults. On TX completion the clone is freed.
//
// The link (asm/net/link.ts) carries a packet after its serialization time plus a one-way
// delay, in order per direction, and loses it at random; faults as in seed 003: every
// `stallPeriod` packets all traffic with the server stalls for `stallLen`. A hold stall
// (seed 003's libnetfilter_queue program, the default) queues the packets and releases
// them, in order, when it ends; a drop stall loses them.
import { now, NSEC_PER_SEC } from "../kernel/clock";
import { fn, CAT_NET, CAT_ANOMALY } from "../kernel/names";
import { trace, traceAnomaly } from "../kernel/trace";
import { scheduleIn, scheduleAt } from "../kernel/events";
import { eventKind } from "../kernel/events";
import { deviceIrq } from "../kernel/sched";
import { stream } from "../kernel/prng";
import { LinkOptions, linkNew, linkLost, linkSerializeNs, linkDelayNs } from "./link";
import { pageMapped, pagePattern, pageKind } from "../mm/page";
import {
  MAX_SKB_FRAGS, skbSeq, skbLen, skbRecType, skbXid, skbRecA, skbRecB, skbRecOff, skbRecLen, skbNrFrags, skbFrag,
  skbFragLen, skbFragOff, kfreeSkb, skbAddr, REC_NONE,
} from "./skbuff";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";

export const EV_NIC_TX_DONE: i32 = eventKind("nic.tx_done");
export const EV_LINK_RX: i32 = eventKind("link.rx");

const S_NET = stream("net");

// ---- capture: every packet the client's tcpdump would see, with the bytes read at DMA.
// A packet is one segment: its page fragments (pattern and kind of the page when the NIC
// read it, length, page offset) and where it lies in its record (capRecOff of capRecLen).
export const CAP_MAX: i32 = 1 << 15;
export const FATE_DELIVERED: i32 = 0;
export const FATE_STALL: i32 = 1;
export const FATE_LOSS: i32 = 2;
let capWritten: i32 = 0;
rowsBegin(CAP_MAX, (): i32 => capWritten);   // the instance reset zeroes rows written
export const capTime = zeroed<i64>(CAP_MAX);
export const capDir = zeroed<i32>(CAP_MAX);      // 0 client->server, 1 server->client
export const capSeq = zeroed<u32>(CAP_MAX);
export const capAck = zeroed<u32>(CAP_MAX);
export const capLen = zeroed<i32>(CAP_MAX);
export const capRecType = zeroed<i32>(CAP_MAX);
export const capXid = zeroed<u32>(CAP_MAX);
export const capRecA = zeroed<i32>(CAP_MAX);
export const capRecB = zeroed<i32>(CAP_MAX);
export const capNrFrags = zeroed<i32>(CAP_MAX);
export const capFragPattern = zeroed<u32>(CAP_MAX * MAX_SKB_FRAGS);
export const capFragKind = zeroed<u8>(CAP_MAX * MAX_SKB_FRAGS);
export const capFragLen = zeroed<i32>(CAP_MAX * MAX_SKB_FRAGS);
export const capFragOff = zeroed<i32>(CAP_MAX * MAX_SKB_FRAGS);
// the TCP timestamps option (RFC 1323): when the sender built the header, and the
// timestamp it echoes (0: none yet)
export const capTsval = zeroed<i64>(CAP_MAX);
export const capTsecr = zeroed<i64>(CAP_MAX);
export const capRecOff = zeroed<i32>(CAP_MAX);
export const capRecLen = zeroed<i32>(CAP_MAX);
export const capFate = zeroed<i32>(CAP_MAX);
export const capRetrans = zeroed<bool>(CAP_MAX);
rowsEnd();
export function capCount(): i32 { return capWritten; }
export function capFirst(): i32 { return capWritten > CAP_MAX ? capWritten - CAP_MAX : 0; }
@inline export function capSlot(ci: i32): i32 { return ci & (CAP_MAX - 1); }

// ---- NICs (one per host) and their TX rings
const MAX_NICS: i32 = 2;
const RING: i32 = 4096;
// a row per ring position, the NICs side by side in it: the reset zeroes the positions used
@inline function ringSlot(nic: i32, pos: i32): i32 { return (pos & (RING - 1)) * MAX_NICS + nic; }
let ringRows: i32 = 0;
rowsBegin(RING, (): i32 => ringRows);
const ringSkb = zeroed<i32>(MAX_NICS * RING);     // -1: a pure ACK
const ringSk = zeroed<i32>(MAX_NICS * RING);
const ringSeq = zeroed<u32>(MAX_NICS * RING);
const ringAck = zeroed<u32>(MAX_NICS * RING);
const ringTsval = zeroed<i64>(MAX_NICS * RING);
const ringTsecr = zeroed<i64>(MAX_NICS * RING);
const ringRetrans = zeroed<bool>(MAX_NICS * RING);
rowsEnd();
const ringHead = zeroed<i32>(MAX_NICS);
const ringTail = zeroed<i32>(MAX_NICS);
const nicBusy = zeroed<bool>(MAX_NICS);
const nicDir = zeroed<i32>(MAX_NICS);
const nicEnt = zeroed<i32>(MAX_NICS);
const nicStartXmit = zeroed<i32>(MAX_NICS);
const nicIrqCpu = zeroed<i32>(MAX_NICS);
const rxIrqCpu = zeroed<i32>(2);     // by packet direction: the receiving NIC's IRQ CPU
let nNics: i32 = 0;

// The NICs' interrupts (timing model, kernel/sched.ts deviceIrq) on each host's IRQ CPU:
// bnx2-class 1 GbE, 2012 x86. RX: hardirq + NET_RX softirq (napi poll, tcp_v4_rcv) ~3 us
// per packet plus ~0.5 us per 1448-byte segment of payload; TX completion (bnx2_tx_int,
// freeing the clone) ~1.5 us. No coalescing is modelled: at this workload's packet rate
// (one 8 KiB WRITE per 100 us or so) rx-usecs would not merge interrupts.
const S_IRQ = stream("irq.nic");
const RX_IRQ_NS: i64 = 3000;
const RX_IRQ_PER_SEG_NS: i64 = 500;
const TX_IRQ_NS: i64 = 1500;

// the link to the server and its nfqueue stalls (set by the scenario from its knobs)
let link: i32 = -1;
let stallPeriod: i32 = 1000;
let stallLen: i64 = 65 * NSEC_PER_SEC;
let stallHold: bool = true;
let held: i32 = 0;
let passed: i32 = 0;
let stallUntil: i64 = -1;
let stalls: i32 = 0;
let dropped: i32 = 0;
const lastArrival = zeroed<i64>(2);
export let firstStallAt: i64 = -1;

const N_dev_queue_xmit = fn("dev_queue_xmit", "skb=%x len=%d", CAT_NET);
export const N_bnx2_start_xmit = fn("bnx2_start_xmit", "skb=%x seq=%x len=%d retrans=%d", CAT_NET);
export const N_xenvif_start_xmit = fn("xenvif_start_xmit", "skb=%x seq=%x len=%d retrans=%d", CAT_NET);
const N_tx_done = fn("bnx2_tx_int", "skb=%x", CAT_NET);
const N_stall = fn("nfqueue: stall all traffic with the server", "for=%t after=%d packets", CAT_NET);
const N_stall_end = fn("nfqueue: release", "dropped=%d held=%d", CAT_NET);
const N_drop = fn("link drop", "dir=%d seq=%x len=%d", CAT_NET);
export const N_page_fault = fn("BUG: unable to handle kernel paging request", "pfn=%x skb=%x", CAT_ANOMALY);

// The TCP layer's receive entry (tcp_v4_rcv) and the fault report, set by their owners.
export let netifReceive: (dir: i32, ci: i32) => void = (dir: i32, ci: i32): void => {};
export function setNetifReceive(f: (dir: i32, ci: i32) => void): void { netifReceive = f; }
// A detector that wants each packet as the NIC read it (the capture ring keeps only the last
// CAP_MAX): called once the slot is filled.
let onCapture: (ci: i32) => void = (ci: i32): void => {};
export function setOnCapture(f: (ci: i32) => void): void { onCapture = f; }
export let dmaFault: (nic: i32, skb: i32, pfn: i32) => void = (nic: i32, skb: i32, pfn: i32): void => {};
export function setDmaFault(f: (nic: i32, skb: i32, pfn: i32) => void): void { dmaFault = f; }

// the wire between the hosts: its delays and losses drawn on "net", a one-way delay of
// delayNs plus a ~2 us draw
export function devLinkInit(o: LinkOptions): void {
  o.stream = S_NET;
  o.jitterMeanNs = 2000;
  link = linkNew(o);
}

// the nfqueue program: every `everyPackets` packets, all traffic stalls for stallNs, held
// (released in order when it ends) or dropped
export class StallOptions {
  everyPackets: i32 = 0;
  stallNs: i64 = 0;
  hold: bool = true;
}
export function devStalls(o: StallOptions): void {
  assert(o.everyPackets >= 0 && o.stallNs >= 0, "devStalls: everyPackets and stallNs must be >= 0");
  stallPeriod = o.everyPackets;
  stallLen = o.stallNs;
  stallHold = o.hold;
}

// dir: the direction this NIC transmits in (it receives the other); ent: the host entity
// its trace lines name; irqCpu: the CPU its interrupts land on.
export function nicNew(dir: i32, ent: i32, startXmitName: i32, irqCpu: i32): i32 {
  const n = nNics++;
  unchecked(nicDir[n] = dir);
  unchecked(nicIrqCpu[n] = irqCpu);
  unchecked(rxIrqCpu[1 - dir] = irqCpu);
  unchecked(nicEnt[n] = ent);
  unchecked(nicStartXmit[n] = startXmitName);
  return n;
}

// dev_queue_xmit(): skb is a clone's data (the caller did skb_clone), or -1 for an ACK.
export function devQueueXmit(nic: i32, skb: i32, sk: i32, retrans: bool): void {
  const t = unchecked(ringTail[nic]);
  assert(t - unchecked(ringHead[nic]) < RING, "NIC TX ring overflow");
  const k = ringSlot(nic, t);
  if ((t & (RING - 1)) >= ringRows) ringRows = (t & (RING - 1)) + 1;
  unchecked(ringSkb[k] = skb);
  unchecked(ringSk[k] = sk);
  // tcp_transmit_skb() builds the header now: seq, and the ACK of what we have received
  unchecked(ringSeq[k] = skb >= 0 ? skbSeq[skb] : tcpSeqFor(sk));
  unchecked(ringAck[k] = tcpAckFor(sk));
  unchecked(ringTsval[k] = now);
  unchecked(ringTsecr[k] = tcpTsecrFor(sk));
  unchecked(ringRetrans[k] = retrans);
  unchecked(ringTail[nic] = t + 1);
  if (skb >= 0) trace(unchecked(nicEnt[nic]), N_dev_queue_xmit, skbAddr(skb), unchecked(skbLen[skb]));
  if (!unchecked(nicBusy[nic])) startXmit(nic);
}

// The TCP layer fills in the ACK field and the sequence number of a pure ACK.
export let tcpAckFor: (sk: i32) => u32 = (sk: i32): u32 => 0;
export let tcpSeqFor: (sk: i32) => u32 = (sk: i32): u32 => 0;
export let tcpTsecrFor: (sk: i32) => i64 = (sk: i32): i64 => 0;
export function setTcpHeaderFns(ack: (sk: i32) => u32, seq: (sk: i32) => u32, tsecr: (sk: i32) => i64): void {
  tcpAckFor = ack;
  tcpSeqFor = seq;
  tcpTsecrFor = tsecr;
}

// start_xmit: DMA-map the fragments, i.e. read the page bytes now.
function startXmit(nic: i32): void {
  const h = unchecked(ringHead[nic]);
  if (h == unchecked(ringTail[nic])) return;
  const k = ringSlot(nic, h);
  const skb = unchecked(ringSkb[k]);
  // dma_map the fragments first: a fault happens before the packet exists for tcpdump
  if (skb >= 0) {
    trace(unchecked(nicEnt[nic]), unchecked(nicStartXmit[nic]), skbAddr(skb), <i32>ringSeq[k], unchecked(skbLen[skb]), ringRetrans[k] ? 1 : 0);
    for (let i = 0; i < unchecked(skbNrFrags[skb]); i++) {
      const pfn = unchecked(skbFrag[skb * MAX_SKB_FRAGS + i]);
      if (!pageMapped(pfn)) {
        traceAnomaly(unchecked(nicEnt[nic]), N_page_fault, pfn, skbAddr(skb));
        dmaFault(nic, skb, pfn);
        return;
      }
    }
  }
  const ci = capWritten++;
  const c = capSlot(ci);
  unchecked(capTime[c] = now);
  unchecked(capDir[c] = nicDir[nic]);
  unchecked(capAck[c] = ringAck[k]);
  unchecked(capTsval[c] = ringTsval[k]);
  unchecked(capTsecr[c] = ringTsecr[k]);
  unchecked(capRetrans[c] = ringRetrans[k]);
  unchecked(capFate[c] = FATE_DELIVERED);
  let len = 0;
  if (skb >= 0) {
    len = unchecked(skbLen[skb]);
    unchecked(capSeq[c] = ringSeq[k]);
    unchecked(capRecType[c] = skbRecType[skb]);
    unchecked(capXid[c] = skbXid[skb]);
    unchecked(capRecA[c] = skbRecA[skb]);
    unchecked(capRecB[c] = skbRecB[skb]);
    unchecked(capRecOff[c] = skbRecOff[skb]);
    unchecked(capRecLen[c] = skbRecLen[skb]);
    const n = unchecked(skbNrFrags[skb]);
    unchecked(capNrFrags[c] = n);
    for (let i = 0; i < n; i++) {
      const pfn = unchecked(skbFrag[skb * MAX_SKB_FRAGS + i]);
      unchecked(capFragPattern[c * MAX_SKB_FRAGS + i] = pagePattern(pfn));
      unchecked(capFragKind[c * MAX_SKB_FRAGS + i] = pageKind(pfn));
      unchecked(capFragLen[c * MAX_SKB_FRAGS + i] = skbFragLen[skb * MAX_SKB_FRAGS + i]);
      unchecked(capFragOff[c * MAX_SKB_FRAGS + i] = skbFragOff[skb * MAX_SKB_FRAGS + i]);
    }
  } else {
    unchecked(capSeq[c] = ringSeq[k]);
    unchecked(capRecType[c] = REC_NONE);
    unchecked(capRecOff[c] = 0);
    unchecked(capRecLen[c] = 0);
    unchecked(capNrFrags[c] = 0);
  }
  unchecked(capLen[c] = len);
  onCapture(ci);
  unchecked(nicBusy[nic] = true);
  const wireBytes = len + 66;    // Ethernet + IPv4 + TCP (with timestamps) headers
  scheduleIn(linkSerializeNs(link, wireBytes), EV_NIC_TX_DONE, nic, ci);
}

// TX completion: free the clone, put the packet on the wire, start the next one.
function txDone(nic: i32, ci: i32): void {
  const h = unchecked(ringHead[nic]);
  const k = ringSlot(nic, h);
  const skb = unchecked(ringSkb[k]);
  unchecked(ringHead[nic] = h + 1);
  unchecked(nicBusy[nic] = false);
  deviceIrq(unchecked(nicIrqCpu[nic]), S_IRQ, TX_IRQ_NS);
  if (skb >= 0) {
    trace(unchecked(nicEnt[nic]), N_tx_done, skbAddr(skb));
    kfreeSkb(skb);
  }
  linkSend(ci);
  startXmit(nic);
}

function linkSend(ci: i32): void {
  const c = capSlot(ci);
  const dir = unchecked(capDir[c]);
  if (stallUntil >= 0 && now >= stallUntil) {
    trace(-1, N_stall_end, dropped, held);
    stallUntil = -1;
  }
  if (stallUntil >= 0 && !stallHold) {
    unchecked(capFate[c] = FATE_STALL);
    dropped++;
    return;
  }
  if (linkLost(link, 1)) {
    unchecked(capFate[c] = FATE_LOSS);
    trace(-1, N_drop, dir, <i32>unchecked(capSeq[c]), unchecked(capLen[c]));
    return;
  }
  // NF_QUEUE: a held packet's verdict (accept) comes when the stall ends
  if (stallUntil >= 0) held++;
  let at = (stallUntil >= 0 ? stallUntil : now) + linkDelayNs(link);
  if (at < unchecked(lastArrival[dir])) at = unchecked(lastArrival[dir]);
  unchecked(lastArrival[dir] = at);
  scheduleAt(at, EV_LINK_RX, dir, ci);
  if (stallUntil >= 0) return;   // held packets do not count towards the next stall
  passed++;
  if (stallPeriod > 0 && passed >= stallPeriod) {
    passed = 0;
    stallUntil = now + stallLen;
    dropped = 0;
    held = 0;
    stalls++;
    if (firstStallAt < 0) firstStallAt = now;
    trace(-1, N_stall, <i32>(stallLen / 1000000), stallPeriod);
  }
}

export function stallCount(): i32 { return stalls; }

// The scenario's event hook hands net events here; returns false if not ours.
export function devEvent(kind: i32, obj: i32, arg: i32): bool {
  if (kind == EV_NIC_TX_DONE) { txDone(obj, arg); return true; }
  if (kind == EV_LINK_RX) {
    // a packet with the wire's copy of the bytes reaches the other host
    deviceIrq(unchecked(rxIrqCpu[obj]), S_IRQ, RX_IRQ_NS + <i64>(unchecked(capLen[capSlot(arg)]) / 1448) * RX_IRQ_PER_SEG_NS);
    netifReceive(obj, arg);
    return true;
  }
  return false;
}

export function nicStartXmitName(nic: i32): i32 { return unchecked(nicStartXmit[nic]); }
export function nicQueued(nic: i32): i32 { return unchecked(ringTail[nic]) - unchecked(ringHead[nic]); }
