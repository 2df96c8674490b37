// O_DIRECT writes through the NFS client (fs/nfs/direct.c, 2.6.2x): the user pages are
// pinned (get_user_pages), one WRITE per wsize is scheduled with the pages as the
// xdr_buf's page list (nfs_direct_write_schedule), and the request completes when every
// WRITE returned (nfs_direct_write_result -> nfs_direct_write_release ->
// nfs_direct_write_complete): the pages are released and write() returns.
//
// Ian Campbell's proposal (not merged; knob `nfs-complete-after-skb-release`): the
// network stack's page fragments carry a destructor, and completion waits until every
// fragment that referenced the request's pages has been released.
import { fn, name } from "../kernel/names";
import { trace } from "../kernel/trace";
import { wakeUpProcess } from "../kernel/sched";
import { getPage, putPage } from "../mm/page";
import { setSkbFragDestructor } from "../net/skbuff";
import { tap } from "../mm/tap";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { RPC_TASK_ASYNC, NFS3PROC_WRITE } from "../sunrpc/defs";
import { rpcNewTask, rpcExecuteAsync, rpcTaskEnt, rpcTaskAddr, setRpcTaskTap, tkCalldata, tkRqst, tkUsed } from "../sunrpc/sched";
import { rpcCallStart, setCallDone } from "../sunrpc/clnt";
import { rqXid } from "../sunrpc/xprt";
import { xsSetSndBuf } from "../sunrpc/xprtsock";

// WRITE call record: marker 4 + RPC header 68 (AUTH_UNIX "client") + WRITE3args 56 + data;
// reply: marker 4 + accepted reply 24 + WRITE3res 28 (no attributes)
export const RPC_WRITE_CALL_HDR: i32 = 128;
export const RPC_WRITE_REPLY_LEN: i32 = 56;

const N_nfsv3_WRITE = name("nfsv3 WRITE");
const N_rpc_init_task = name("rpc_init_task");

export const N_nfs_direct_write_schedule = fn("nfs_direct_write_schedule", "dreq=%x count=%x");
export const N_nfs_direct_write_result = fn("nfs_direct_write_result", "dreq=%x count=%x");
export const N_nfs_direct_write_release = fn("nfs_direct_write_release (completing)", "dreq=%x");
export const N_nfs_direct_write_complete = fn("nfs_direct_write_complete,DEFAULT w/ iocb", "dreq=%x");
export const N_nfs_direct_free_writedata = fn("nfs_direct_free_writedata", "dreq=%x");
export const N_nfs_direct_wait_frags = fn("nfs_direct_write_result: waiting for skb fragment destructors", "dreq=%x frags=%d");

const MAX_DREQS: i32 = 1 << 14;
let dqRows: i32 = 0;              // above every dreq id scheduled (the caller's ids)
rowsBegin(MAX_DREQS, (): i32 => dqRows);
const dqWaiter = zeroed<i32>(MAX_DREQS);
const dqFirst = zeroed<i32>(MAX_DREQS);
const dqNpages = zeroed<i32>(MAX_DREQS);
const dqCount = zeroed<i32>(MAX_DREQS);
const dqFragRefs = zeroed<i32>(MAX_DREQS);
const dqResult = zeroed<bool>(MAX_DREQS);
const dqTask = zeroed<i32>(MAX_DREQS);
const dqEnt = zeroed<i32>(MAX_DREQS);        // the WRITE task's entity (the task is recycled)
const dqXid = zeroed<u32>(MAX_DREQS);        // its XID, once the reply is in
export const dqCompleted = zeroed<bool>(MAX_DREQS);
rowsEnd();
let waitForFrags: bool = false;
let pfns: StaticArray<i32> = zeroed<i32>(0);
// Told when a write() is over (the application or tapdisk2 resumes).
let onComplete: (dreq: i32) => void = (dreq: i32): void => {};

export function dreqAddr(d: i32): i32 { return <i32>(0xece10000 + (d << 6) + 0x50); }

export function nfsDirectInit(pfnArray: StaticArray<i32>, completeAfterSkbRelease: bool, complete: (dreq: i32) => void): void {
  pfns = pfnArray;
  waitForFrags = completeAfterSkbRelease;
  onComplete = complete;
  if (waitForFrags) setSkbFragDestructor(fragsTaken, fragReleased);
  setCallDone(nfsDirectWriteResult);
  setRpcTaskTap(taskTap);
}

// Each step of a WRITE task goes into its request's "tap:" log.
function taskTap(task: i32, nameId: i32, b: i32): void {
  tap(unchecked(tkCalldata[task]), nameId, rpcTaskAddr(task), b);
}

// The fragment references do_tcp_sendpages() took on the request's pages.
function fragsTaken(dreq: i32, n: i32): void { unchecked(dqFragRefs[dreq] += n); }

// nfs_file_direct_write() -> nfs_direct_write_schedule(): `dreq` is the caller's id for
// this write(); the WRITE covers pfns[first..first+npages), `count` bytes at block offBlk.
// The async WRITE task is started on `cpu` (rpc_execute -> queue_work on the caller's CPU).
export function nfsDirectWriteSchedule(dreq: i32, waiter: i32, ent: i32, pid: i32, cpu: i32, first: i32, npages: i32, count: i32, offBlk: i32): void {
  assert(dreq >= 0 && dreq < MAX_DREQS, "nfs_direct: dreq id out of range");
  if (dreq >= dqRows) dqRows = dreq + 1;
  unchecked(dqWaiter[dreq] = waiter);
  unchecked(dqFirst[dreq] = first);
  unchecked(dqNpages[dreq] = npages);
  unchecked(dqCount[dreq] = count);
  unchecked(dqResult[dreq] = false);
  unchecked(dqCompleted[dreq] = false);
  for (let i = 0; i < npages; i++) getPage(unchecked(pfns[first + i]));   // get_user_pages()
  trace(ent, N_nfs_direct_write_schedule, dreqAddr(dreq), count);
  tap(dreq, N_nfs_direct_write_schedule, dreqAddr(dreq), count);
  const t = rpcNewTask(N_nfsv3_WRITE, NFS3PROC_WRITE, RPC_TASK_ASYNC, pid, -1, 0, dreq);
  unchecked(dqTask[dreq] = t);
  unchecked(dqEnt[dreq] = rpcTaskEnt(t));
  unchecked(dqXid[dreq] = 0);
  tap(dreq, N_rpc_init_task, rpcTaskAddr(t), 0);
  xsSetSndBuf(t, RPC_WRITE_CALL_HDR, first, npages, count, offBlk);
  rpcCallStart(t);
  rpcExecuteAsync(t, cpu);
}

// rpc_call_done of the WRITE task.
function nfsDirectWriteResult(task: i32): void {
  const dreq = unchecked(tkCalldata[task]);
  const e = rpcTaskEnt(task);
  unchecked(dqXid[dreq] = unchecked(rqXid[unchecked(tkRqst[task])]));
  trace(e, N_nfs_direct_write_result, dreqAddr(dreq), unchecked(dqCount[dreq]));
  tap(dreq, N_nfs_direct_write_result, dreqAddr(dreq), unchecked(dqCount[dreq]));
  unchecked(dqResult[dreq] = true);
  if (waitForFrags && unchecked(dqFragRefs[dreq]) > 0) {
    trace(e, N_nfs_direct_wait_frags, dreqAddr(dreq), unchecked(dqFragRefs[dreq]));
    tap(dreq, N_nfs_direct_wait_frags, dreqAddr(dreq), unchecked(dqFragRefs[dreq]));
    return;
  }
  complete(e, dreq);
}

function fragReleased(dreq: i32, n: i32): void {
  const left = unchecked(dqFragRefs[dreq]) - n;
  unchecked(dqFragRefs[dreq] = left);
  if (left == 0 && unchecked(dqResult[dreq]) && !unchecked(dqCompleted[dreq])) complete(unchecked(dqEnt[dreq]), dreq);
}

function complete(e: i32, dreq: i32): void {
  trace(e, N_nfs_direct_write_release, dreqAddr(dreq));
  trace(e, N_nfs_direct_write_complete, dreqAddr(dreq));
  trace(e, N_nfs_direct_free_writedata, dreqAddr(dreq));
  tap(dreq, N_nfs_direct_write_release, dreqAddr(dreq), 0);
  tap(dreq, N_nfs_direct_write_complete, dreqAddr(dreq), 0);
  tap(dreq, N_nfs_direct_free_writedata, dreqAddr(dreq), 0);
  const first = unchecked(dqFirst[dreq]);
  for (let i = 0; i < unchecked(dqNpages[dreq]); i++) putPage(unchecked(pfns[first + i]));  // nfs_direct_release_pages()
  unchecked(dqCompleted[dreq] = true);
  onComplete(dreq);
  wakeUpProcess(unchecked(dqWaiter[dreq]));
}

// The XID of the write's WRITE: once its reply is in, or while its task still holds a slot.
export function dreqXid(dreq: i32): u32 {
  if (unchecked(dqXid[dreq]) != 0) return unchecked(dqXid[dreq]);
  const t = unchecked(dqTask[dreq]);
  if (unchecked(tkUsed[t]) && unchecked(tkCalldata[t]) == dreq && unchecked(tkRqst[t]) >= 0) return unchecked(rqXid[unchecked(tkRqst[t])]);
  return 0;
}
