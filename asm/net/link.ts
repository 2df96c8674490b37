// The wire between two hosts: one model for every scenario that sends packets
// (asm/net/dev.ts's NICs, asm/sunrpc/xprtsock.ts's datagrams and segments). A link has a
// rate, a one-way delay (a fixed part plus a drawn part), and a loss per Ethernet frame;
// a packet that takes several frames (IP fragments of a UDP datagram) is lost if any
// frame is. Each link draws its delays and losses on the stream its owner names, so a
// decision keeps its (stream, index) address. What sits on the wire's ends (a NIC's TX
// ring, a watchdog hang, carrier flaps, an nfqueue stall) belongs to its owner.
import { zeroed } from "../kernel/mem";
import { randChance, randDuration } from "../kernel/prng";

export class LinkOptions {
  rateBps: f64 = 1e9;
  delayNs: i64 = 0;            // the fixed part of the one-way delay
  jitterMeanNs: i64 = 0;       // the drawn part's mean (kernel/prng randDuration)
  lossPerFrame: f64 = 0;       // probability that one Ethernet frame is lost
  stream: i32 = -1;            // the PRNG stream of this link's delays and losses
}

const MAX_LINKS: i32 = 4;
const lRateBps = zeroed<f64>(MAX_LINKS);
const lDelayNs = zeroed<i64>(MAX_LINKS);
const lJitterNs = zeroed<i64>(MAX_LINKS);
const lLoss = zeroed<f64>(MAX_LINKS);
const lStream = zeroed<i32>(MAX_LINKS);
let nLinks: i32 = 0;

export function linkNew(o: LinkOptions): i32 {
  assert(nLinks < MAX_LINKS, "too many links");
  assert(o.rateBps > 0, "linkNew: rateBps must be > 0");
  assert(o.delayNs >= 0 && o.jitterMeanNs >= 0, "linkNew: delayNs and jitterMeanNs must be >= 0");
  assert(o.lossPerFrame >= 0 && o.lossPerFrame < 1, "linkNew: lossPerFrame must be in [0, 1)");
  assert(o.stream >= 0, "linkNew: no PRNG stream");
  const l = nLinks++;
  unchecked(lRateBps[l] = o.rateBps);
  unchecked(lDelayNs[l] = o.delayNs);
  unchecked(lJitterNs[l] = o.jitterMeanNs);
  unchecked(lLoss[l] = o.lossPerFrame);
  unchecked(lStream[l] = o.stream);
  return l;
}

// the time `bytes` take on the wire at the link's rate (at least 1 ns)
export function linkSerializeNs(l: i32, bytes: i32): i64 {
  return <i64>(<f64>bytes * 8.0 / unchecked(lRateBps[l]) * 1e9) + 1;
}

// one packet's one-way delay: the fixed part plus a draw
export function linkDelayNs(l: i32): i64 {
  return unchecked(lDelayNs[l]) + randDuration(unchecked(lStream[l]), unchecked(lJitterNs[l]));
}

// The loss draw, the only one: a packet of `frames` Ethernet frames is lost if any is.
export function linkLost(l: i32, frames: i32): bool {
  const p = unchecked(lLoss[l]);
  let lost = 0.0;
  if (p > 0) {
    let kept = 1.0;
    for (let f = 0; f < frames; f++) kept *= 1.0 - p;
    lost = 1.0 - kept;
  }
  return randChance(unchecked(lStream[l]), lost);
}
