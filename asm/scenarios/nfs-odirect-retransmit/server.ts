// nfs-odirect-retransmit: the server is the one knfsd (asm/nfsd/svc.ts, its DRC, and its nfsd
// threads on the server's TCP socket, asm/nfsd/nfsd.ts). What is this scenario's: what its
// WRITE procedure does with the pieces received (nfsd_vfs_write to the disk, then the I/O
// wait) and what the detectors record of each duplicate the DRC sees.
import { NSEC_PER_USEC } from "../../kernel/clock";
import { randDuration } from "../../kernel/prng";
import { trace } from "../../kernel/trace";
import { PG_COUNTER } from "../../mm/page";
import { diskWriteBlock } from "../../block/disk";
import { RPC_WRITE_REPLY_LEN } from "../../nfs/direct";
import { svcNew, srvDrc, rqstXid } from "../../nfsd/svc";
import { drcLastMissWhy, drcLastEntryAge, drcPayloadMissesOf, RC_DOIT, RC_REPLY, N_RC_DOIT, N_RC_REPLY, N_RC_DROPIT } from "../../nfsd/drc";
import {
  NfsdOptions, nfsdStart, MAX_PIECES, nfsdRqRecA, nfsdRqOffBlk, nfsdRqPieces, nfsdRqPiecePage, nfsdRqPieceOff,
  nfsdRqPiecePattern, nfsdRqPieceKind,
} from "../../nfsd/nfsd";
import { N_dup_seen, S_SERVER } from "./defs";
import { expectedWord, wDupAge, wDupGarbage, wDupResult, wDupWhy, wExecuted, wServerSeen } from "./workload";

let srv: i32 = -1;
export let serverSk: i32 = -1;

// nfsd3_proc_write -> nfsd_vfs_write: the pieces as received go to the disk
function procWrite(r: i32): i64 {
  const w = unchecked(nfsdRqRecA[r]);
  const xid = unchecked(rqstXid[r]);
  const off = unchecked(nfsdRqOffBlk[r]);
  for (let i = 0; i < unchecked(nfsdRqPieces[r]); i++) {
    const p = r * MAX_PIECES + i;
    diskWriteBlock(off + unchecked(nfsdRqPiecePage[p]), unchecked(nfsdRqPieceOff[p]), unchecked(nfsdRqPieceKind[p]), unchecked(nfsdRqPiecePattern[p]), w, xid);
  }
  unchecked(wExecuted[w] += 1);
  return randDuration(S_SERVER, 300 * NSEC_PER_USEC);
}

// every call after a write's first that reaches the server: what the DRC made of it, and
// whether its payload is the buffer as issued
function onLookup(r: i32, t: i32, res: i32): void {
  const w = unchecked(nfsdRqRecA[r]);
  const seen = unchecked(wServerSeen[w]);
  unchecked(wServerSeen[w] = seen + 1);
  if (seen == 0) return;
  const d = unchecked(srvDrc[srv]);
  const name = res == RC_DOIT ? N_RC_DOIT : res == RC_REPLY ? N_RC_REPLY : N_RC_DROPIT;
  const garbage = !payloadMatches(r, w);
  unchecked(wDupResult[w] = name);
  unchecked(wDupWhy[w] = res == RC_DOIT ? unchecked(drcLastMissWhy[d]) : 0);
  unchecked(wDupGarbage[w] = garbage);
  unchecked(wDupAge[w] = unchecked(drcLastEntryAge[d]));
  trace(t, N_dup_seen, <i32>unchecked(rqstXid[r]), name, garbage ? 1 : 0);
}

function payloadMatches(r: i32, w: i32): bool {
  for (let i = 0; i < unchecked(nfsdRqPieces[r]); i++) {
    const p = r * MAX_PIECES + i;
    if (unchecked(nfsdRqPieceKind[p]) != PG_COUNTER) return false;
    if (unchecked(nfsdRqPiecePattern[p]) != expectedWord(w, unchecked(nfsdRqPiecePage[p]), 0)) return false;
  }
  return true;
}

// knfsd on the server host's socket: 8 nfsd threads on the server's CPUs (2-3)
export function serverStart(hostEnt: i32, sk: i32, drc: i32, otherOpsPerSec: f64): void {
  srv = svcNew({ threads: 8, ent: hostEnt, drc: drc, otherOpsPerSec: otherOpsPerSec, proc: procWrite, onLookup: onLookup });
  serverSk = sk;
  nfsdStart(srv, { sk: sk, cpu0: 2, pid0: 200, replyBytes: RPC_WRITE_REPLY_LEN });
}

export function serverPayloadMisses(): i32 { return drcPayloadMissesOf(unchecked(srvDrc[srv])); }
