// socklnd-scheduler: the wire log, the pcap's source: the first WIRE_CAP messages, plus
// corrupted ones, each as runs of the message images its bytes came from.
import { now } from "../../kernel/clock";
import { zeroed } from "../../kernel/mem";
import {
  MSG_OUT, msgBySerial, msgConn, msgDir, msgImage, msgNob, msgSerial, msgSlots, msgStream, msgType,
  slotStart, slots, tagSerial, tagSlot, wireTag,
} from "../../lnet/lnet";

// --- wire log (the pcap's source): the first WIRE_CAP messages, plus corrupted ones ----------
export const WIRE_CAP: i32 = 48;
export const WIRE_EXTRA: i32 = 16;
export const WIRE_RUNS: i32 = 12;
const WIRE_MAX: i32 = WIRE_CAP + WIRE_EXTRA;
export let nWire: i32 = 0;
let nWireExtra: i32 = 0;
export let wireSkipped: i32 = 0;
export const wT = zeroed<i64>(WIRE_MAX);
export const wConn = zeroed<i32>(WIRE_MAX);
export const wDir = zeroed<i32>(WIRE_MAX);
export const wSerial = zeroed<i32>(WIRE_MAX);
export const wType = zeroed<i32>(WIRE_MAX);
export const wNob = zeroed<i32>(WIRE_MAX);
export const wStream = zeroed<f64>(WIRE_MAX);
export const wNruns = zeroed<i32>(WIRE_MAX);
export const wRunOff = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunLen = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSerial = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSrcOff = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSrcConn = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSrcType = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSrcNob = zeroed<i32>(WIRE_MAX * WIRE_RUNS);
export const wRunSrcDir = zeroed<i32>(WIRE_MAX * WIRE_RUNS);

export function logWire(c: i32, m: i32, dir: i32): void {
  const n = msgSlots(m), base = m * slots, serial = unchecked(msgSerial[m]);
  let clean = true;
  if (dir == MSG_OUT) for (let s = 0; s < n; s++) if (unchecked(wireTag[base + s]) != ((serial << 9) | s)) { clean = false; break; }
  if (nWire >= WIRE_CAP && (clean || nWireExtra >= WIRE_EXTRA)) { wireSkipped++; return; }
  if (nWire >= WIRE_CAP) nWireExtra++;
  const w = nWire++;
  unchecked(wT[w] = now);
  unchecked(wConn[w] = c);
  unchecked(wDir[w] = dir);
  unchecked(wSerial[w] = serial);
  unchecked(wType[w] = unchecked(msgType[m]));
  unchecked(wNob[w] = unchecked(msgNob[m]));
  unchecked(wStream[w] = unchecked(msgStream[m]));
  const image = msgImage(m);
  let r = 0;
  let prev: i32 = -1;
  for (let s = 0; s < n; s++) {
    const tag = dir == MSG_OUT ? unchecked(wireTag[base + s]) : ((serial << 9) | s);
    const start = slotStart(s);
    const end = s + 1 < n ? slotStart(s + 1) : image;
    if (r > 0 && (tag == 0 ? prev == 0 : tag == prev + 1)) {
      unchecked(wRunLen[w * WIRE_RUNS + r - 1] += end - start);
    } else if (r < WIRE_RUNS) {
      const k = w * WIRE_RUNS + r++;
      const ts = tag == 0 ? 0 : tagSerial(tag);
      unchecked(wRunOff[k] = start);
      unchecked(wRunLen[k] = end - start);
      unchecked(wRunSerial[k] = ts);
      unchecked(wRunSrcOff[k] = tag == 0 ? 0 : slotStart(tagSlot(tag)));
      const sm = ts == serial ? m : (ts == 0 ? -1 : msgBySerial(ts));
      unchecked(wRunSrcConn[k] = sm >= 0 ? unchecked(msgConn[sm]) : -1);
      unchecked(wRunSrcType[k] = sm >= 0 ? unchecked(msgType[sm]) : -1);
      unchecked(wRunSrcNob[k] = sm >= 0 ? unchecked(msgNob[sm]) : -1);
      unchecked(wRunSrcDir[k] = sm >= 0 ? unchecked(msgDir[sm]) : -1);
    } else {
      unchecked(wRunLen[w * WIRE_RUNS + r - 1] += end - start);   // beyond the run cap: merged
    }
    prev = tag;
  }
  unchecked(wNruns[w] = r);
}
