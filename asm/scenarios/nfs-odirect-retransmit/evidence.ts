// nfs-odirect-retransmit: the evidence object the host formats (engine/scenarios/
// nfs-odirect-retransmit/), the client's capture for the pcap, and the snapshot.
import { zeroed } from "../../kernel/mem";
import { jObj, jEndObj, jArr, jEndArr, jKey, jInt, jKI, jKB, jKName, jName } from "../../kernel/json";
import { pageCount, pageMapped, pagePattern, pageKind, pageForeign, PG_COUNTER, PG_FILL, PAGE_SIZE, PAGE_WORDS } from "../../mm/page";
import { tapCount, tapTime, tapNameAt, tapAAt, tapBAt } from "../../mm/tap";
import { MAX_SKB_FRAGS, REC_CALL, skbAddr } from "../../net/skbuff";
import {
  capCount, capFirst, capSlot, capTime, capDir, capSeq, capAck, capLen, capRecType, capXid, capRecB, capNrFrags,
  capFragPattern, capFragKind, capFragLen, capFragOff, capRecOff, capRecLen, capFate, capRetrans, stallCount,
  firstStallAt, FATE_DELIVERED,
} from "../../net/dev";
import { tcpQueuedBytes, tcpRetransSegs, tcpWriteQueueJson, TCP_MSS } from "../../net/tcp";
import { xNDequeuedOnComplete } from "../../sunrpc/xprt";
import { nMajorTimeouts, nMinorTimeouts } from "../../sunrpc/clnt";
import { dreqXid, RPC_WRITE_CALL_HDR, RPC_WRITE_REPLY_LEN } from "../../nfs/direct";
import { blkWriteId, blkXid, blkWrites, blkRuns, blkRunOff, blkRunKind, blkRunPattern, BLK_RUNS } from "../../block/disk";
import { pageUnmappedAt } from "../../xen/blkback_io";
import {
  appEnt, appWrite, clientSk, concurrency, expectedWord, mnt, npages, nWrites, pfns, wBase, wDone, wDupAge,
  wDupGarbage, wDupResult, wDupWhy, wExecuted, wIssued, wOffBlk, wServerSeen, wThread, writeBytes,
} from "./workload";
import { serverPayloadMisses, serverSk } from "./server";
import {
  badWrites, crashAt, crashed, crashFn, crashPfn, crashSkb, crashWrite, crashXid, diffFrom, diffTo, diskBad,
  diskBlk, diskRun, fragDiff, segDataOff, wireBad, wireBadSegs, wireCi, wireFrom, wireKind, wirePage, wirePattern,
  wireRecLen, wireRecOff, wireRetrans, wireSeq, wireTime, wireTo, wireWord, wireWords, wireWordsDiffer, wireWrite,
  wireXid,
} from "./detectors";

function jWords(kind: u8, pattern: u32, first: i32, n: i32): void {
  jArr();
  for (let j = first; j < first + n; j++) jInt(<i64>(kind == PG_COUNTER ? pattern + <u32>j : pattern));
  jEndArr();
}

function jWrite(w: i32): void {
  jObj();
  jKI("write", w);
  jKI("xid", <i64>dreqXid(w));
  jKI("thread", unchecked(wThread[w]));
  jKI("offset", <i64>unchecked(wOffBlk[w]) * PAGE_SIZE);
  jKI("count", writeBytes);
  jKI("issuedNs", unchecked(wIssued[w]));
  jKI("completedNs", unchecked(wDone[w]));
  jKI("serverReceived", unchecked(wServerSeen[w]));
  jKI("serverExecuted", unchecked(wExecuted[w]));
  if (unchecked(wServerSeen[w]) > 1) {
    jKName("duplicate", unchecked(wDupResult[w]));
    if (unchecked(wDupWhy[w]) != 0) jKName("duplicateWhy", unchecked(wDupWhy[w]));
    jKB("duplicateGarbage", unchecked(wDupGarbage[w]));
    jKI("duplicateEntryAgeNs", unchecked(wDupAge[w]));
  }
  jKey("expectedFirstWords"); jWords(PG_COUNTER, unchecked(wBase[w]), 0, 4);
  jKey("tap"); jArr();
  const n = tapCount(w);
  for (let i = 0; i < n; i++) {
    jArr();
    jInt(tapTime(w, i));
    jName(tapNameAt(w, i));
    jInt(<i64><u32>tapAAt(w, i));
    jInt(<i64><u32>tapBAt(w, i));
    jEndArr();
  }
  jEndArr();
  jEndObj();
}

// per segment of the evidence's transmission: its first duplicate copy's data bytes, and
// whether they differ from the buffer at issue
const dupFrom = zeroed<i32>(64);
const dupTo = zeroed<i32>(64);
const dupBad = zeroed<bool>(64);

export function onEvidence(): void {
  jObj();
  jKI("writes", nWrites);
  jKI("pagesPerWrite", npages);
  jKI("stalls", stallCount());
  jKI("firstStallNs", firstStallAt);
  jKI("rpcRetransmits", rpcRetransmits());
  jKI("cancelledRetransmits", unchecked(xNDequeuedOnComplete[mnt]));
  jKI("tcpRetransmitTimeouts", tcpRetransSegs(clientSk));
  jKI("serverTcpRetransmitTimeouts", tcpRetransSegs(serverSk));
  jKI("drcPayloadMisses", serverPayloadMisses());
  jKB("crashed", crashed);
  jKI("wireCorruptCalls", wireBad);
  jKI("wireCorruptSegments", wireBadSegs);
  jKI("diskCorruptBlocks", diskBad);
  jKI("diskCorruptWrites", badWrites);
  // writes whose WRITE reached the server more than once
  jKey("duplicates"); jArr();
  let shown = 0;
  for (let w = 0; w < nWrites && shown < 32; w++) {
    if (unchecked(wServerSeen[w]) > 1) { jObj(); jKI("write", w); jKI("xid", <i64>dreqXid(w)); jKName("result", unchecked(wDupResult[w])); jKB("garbage", unchecked(wDupGarbage[w])); jEndObj(); shown++; }
  }
  jEndArr();
  if (wireCi >= 0) {
    const w = wireWrite;
    jKey("wire"); jObj();
    jKI("timeNs", wireTime);
    jKI("xid", <i64>wireXid);
    jKI("write", w);
    jKI("seq", <i64>wireSeq);
    jKI("segment", wireRecOff / TCP_MSS);
    jKI("segments", (wireRecLen + TCP_MSS - 1) / TCP_MSS);
    jKI("mss", TCP_MSS);
    jKI("dataFrom", wireFrom);
    jKI("dataTo", wireTo);
    jKI("page", wirePage);
    jKI("wordInPage", wireWord);
    jKB("tcpRetransmission", wireRetrans);
    const from = min(wireWord, PAGE_WORDS - 8);
    jKI("wordsFrom", from);
    jKey("expected"); jWords(PG_COUNTER, expectedWord(w, wirePage, 0), from, 8);
    jKey("found"); jWords(wireKind, wirePattern, from, 8);
    jKI("wordsDiffer", wireWordsDiffer);
    jKI("wordsInSegment", wireWords);
    jKI("wordsPerPage", PAGE_WORDS);
    // every segment of this transmission of the call (TCP retransmissions included): the
    // bytes of the WRITE's data it carries, and those that differ from the buffer at issue.
    // The duplicate: an RPC retransmission's segments; for the first transmission, the
    // segments sent more than once. Each as its first duplicate copy carried it (the copy
    // the server's TCP would keep).
    // (the segments still in the capture ring)
    const xid = wireXid;
    const recSeq = wireSeq - <u32>wireRecOff;
    const end = capCount();
    let firstSeq = recSeq;
    for (let ci = capFirst(); ci < end; ci++) {
      const d = capSlot(ci);
      if (unchecked(capDir[d]) == 0 && unchecked(capRecType[d]) == REC_CALL && unchecked(capXid[d]) == xid) {
        firstSeq = unchecked(capSeq[d]) - <u32>unchecked(capRecOff[d]);
        break;
      }
    }
    let sent: u64 = recSeq == firstSeq ? 0 : <u64>-1;
    let kept: u64 = 0;
    let nseg = 0;
    jKey("transmission"); jArr();
    for (let ci = capFirst(); ci < end; ci++) {
      const d = capSlot(ci);
      if (unchecked(capDir[d]) != 0 || unchecked(capRecType[d]) != REC_CALL || unchecked(capXid[d]) != xid) continue;
      if (unchecked(capSeq[d]) - <u32>unchecked(capRecOff[d]) != recSeq) continue;
      const at = segDataOff(d);
      let len = 0;
      for (let g = 0; g < unchecked(capNrFrags[d]); g++) len += unchecked(capFragLen[d * MAX_SKB_FRAGS + g]);
      let dFrom = -1, dTo = -1;
      let pos = at;
      for (let g = 0; g < unchecked(capNrFrags[d]); g++) {
        fragDiff(d, g, w, pos);
        if (diffFrom >= 0 && dFrom < 0) dFrom = diffFrom;
        if (diffTo > dTo) dTo = diffTo;
        pos += unchecked(capFragLen[d * MAX_SKB_FRAGS + g]);
      }
      const sg = unchecked(capRecOff[d]) / TCP_MSS;
      const bit = <u64>1 << <u64>sg;
      const dup = (sent & bit) != 0;
      sent |= bit;
      if (sg >= nseg) nseg = sg + 1;
      if (dup && (kept & bit) == 0) {
        kept |= bit;
        unchecked(dupFrom[sg] = at);
        unchecked(dupTo[sg] = at + len);
        unchecked(dupBad[sg] = dFrom >= 0);
      }
      jObj();
      jKI("timeNs", unchecked(capTime[d]));
      jKI("seq", <i64>unchecked(capSeq[d]));
      jKI("segment", unchecked(capRecOff[d]) / TCP_MSS);
      jKI("dataFrom", at);
      jKI("dataTo", at + len);
      jKI("differFrom", dFrom);
      jKI("differTo", dTo);
      jKB("tcpRetransmission", unchecked(capRetrans[d]));
      jKB("delivered", unchecked(capFate[d]) == FATE_DELIVERED);
      jKB("duplicate", dup);
      jEndObj();
    }
    jEndArr();
    // the duplicate part as issued, part rewritten: the buffer changed between the NIC's
    // reads of two of its segments
    // as runs of the data: [from, to, rewritten], one per change
    let good = false, bad = false;
    jKey("duplicateRuns"); jArr();
    let runFrom = -1;
    for (let sg = 0; sg <= nseg; sg++) {
      const has = sg < nseg && (kept & (<u64>1 << <u64>sg)) != 0;
      const ends = runFrom >= 0 && (!has || unchecked(dupBad[sg]) != unchecked(dupBad[sg - 1]) || unchecked(dupFrom[sg]) != unchecked(dupTo[sg - 1]));
      if (ends) {
        jArr(); jInt(runFrom); jInt(unchecked(dupTo[sg - 1])); jInt(unchecked(dupBad[sg - 1]) ? 1 : 0); jEndArr();
        runFrom = -1;
      }
      if (!has) continue;
      if (runFrom < 0) runFrom = unchecked(dupFrom[sg]);
      if (unchecked(dupBad[sg])) bad = true; else good = true;
    }
    jEndArr();
    jKB("mixed", good && bad);
    jKey("victim"); jWrite(w);
    jEndObj();
  }
  if (diskBlk >= 0) {
    const w = unchecked(blkWriteId[diskBlk]);
    const p0 = diskBlk - unchecked(wOffBlk[w]);
    jKey("disk"); jObj();
    jKI("block", diskBlk);
    jKI("offset", <i64>diskBlk * PAGE_SIZE);
    jKI("write", w);
    jKI("writtenByXid", <i64>unchecked(blkXid[diskBlk]));
    jKI("timesWritten", unchecked(blkWrites[diskBlk]));
    // the first wrong run of the block: bytes [from, to) of the block
    const r = diskBlk * BLK_RUNS + diskRun;
    const runFrom = unchecked(blkRunOff[r]);
    const runTo = diskRun + 1 < unchecked(blkRuns[diskBlk]) ? unchecked(blkRunOff[r + 1]) : PAGE_SIZE;
    jKI("runs", unchecked(blkRuns[diskBlk]));
    jKI("bytesFrom", runFrom);
    jKI("bytesTo", runTo);
    const from = min(runFrom >> 2, PAGE_WORDS - 8);
    jKI("wordsFrom", from);
    jKey("expected"); jWords(PG_COUNTER, expectedWord(w, p0, 0), from, 8);
    jKey("found"); jWords(unchecked(blkRunKind[r]), unchecked(blkRunPattern[r]), from, 8);
    jKey("victim"); jWrite(w);
    jEndObj();
  }
  if (crashed) {
    jKey("crash"); jObj();
    jKI("timeNs", crashAt);
    jKName("fn", crashFn);
    jKI("pfn", crashPfn);
    jKI("skb", <i64><u32>skbAddr(crashSkb));
    jKI("xid", <i64>crashXid);
    jKI("write", crashWrite);
    jKI("unmappedAtNs", pageUnmappedAt(crashPfn));
    jKey("victim"); jWrite(crashWrite);
    jEndObj();
  }
  // the client's capture (what tcpdump on the client saw), for the pcap exporter
  jKey("capture"); jObj();
  jKI("callHeaderBytes", RPC_WRITE_CALL_HDR);
  jKI("replyBytes", RPC_WRITE_REPLY_LEN);
  jKI("pageWords", PAGE_WORDS);
  jKey("packets"); jArr();
  const end = capCount();
  for (let ci = capFirst(); ci < end; ci++) {
    const c = capSlot(ci);
    const dir = unchecked(capDir[c]);
    if (dir == 1 && unchecked(capFate[c]) != FATE_DELIVERED) continue;
    jArr();
    jInt(unchecked(capTime[c]));
    jInt(dir);
    jInt(<i64>unchecked(capSeq[c]));
    jInt(<i64>unchecked(capAck[c]));
    jInt(unchecked(capLen[c]));
    jInt(unchecked(capRecType[c]));
    jInt(<i64>unchecked(capXid[c]));
    jInt(unchecked(capRecB[c]));
    jInt(unchecked(capFate[c]));
    jArr();
    for (let f = 0; f < unchecked(capNrFrags[c]); f++) {
      jInt(<i64>unchecked(capFragPattern[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragKind[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragLen[c * MAX_SKB_FRAGS + f]));
      jInt(unchecked(capFragOff[c * MAX_SKB_FRAGS + f]));
    }
    jEndArr();
    jInt(unchecked(capRecOff[c]));
    jInt(unchecked(capRecLen[c]));
    jEndArr();
  }
  jEndArr();
  jEndObj();
  jEndObj();
}

export function onSnapshot(): void {
  jObj();
  jKI("writes", nWrites);
  jKI("clientQueuedBytes", tcpQueuedBytes(clientSk));
  jKI("serverQueuedBytes", tcpQueuedBytes(serverSk));
  jKI("stalls", stallCount());
  jKI("rpcRetransmits", rpcRetransmits());
  jKey("buffers"); jArr();
  for (let i = 0; i < concurrency; i++) {
    for (let p = 0; p < npages; p++) {
      const pfn = unchecked(pfns[i * npages + p]);
      jObj(); jKI("thread", i); jKI("pfn", pfn); jKI("count", pageCount(pfn)); jKB("mapped", pageMapped(pfn));
      jKI("pattern", <i64>pagePattern(pfn)); jKB("fill", pageKind(pfn) == PG_FILL); jKB("foreign", pageForeign(pfn));
      jEndObj();
    }
  }
  jEndArr();
  // each application thread's current write (-1 before its first)
  jKey("apps"); jArr();
  for (let i = 0; i < concurrency; i++) {
    const w = unchecked(appWrite[i]);
    jObj(); jKI("thread", i); jKI("ent", unchecked(appEnt[i])); jKI("write", w);
    jKB("done", w >= 0 && unchecked(wDone[w]) >= 0); jEndObj();
  }
  jEndArr();
  jKey("skbs"); tcpWriteQueueJson(clientSk, 48);
  jEndObj();
}

// every call_timeout retransmits: minor and major timeouts alike
function rpcRetransmits(): i32 { return nMinorTimeouts + nMajorTimeouts; }
