// ksocklnd (lnet/klnds/socklnd) around LU-11415: schedulers, connections, the
// ksocknal_scheduler loop and its flag discipline, the socket callbacks, and the
// scratch iov arrays the lib send/recv functions fill.
//
// OLD (parent of 89df5e71): one ksock_sched per scheduler thread, each with its own
// kss_lock, kss_rx_conns/kss_tx_conns, kss_waitq and kss_scratch_iov; a new connection is
// pinned to the thread of its CPT with the fewest connections.
// NEW (patch socklnd-shared-sched): one ksock_sched per CPT shared by all its threads
// (exclusive waiters, wake-one). The scratch arrays stay in the sched unless patch
// socklnd-per-thread-scratch moves them into each ksocknal_scheduler() thread.
//
// A lib send/recv call is two steps: ksocknal_lib_{send,recv}_{iov,kiov} fills the
// scratch array (kvecs naming the caller's buffers) and kernel_{send,recv}msg copies
// through whatever the array names when the copy runs. Two calls overlapping on one
// array therefore move bytes to/from the other call's buffers: nothing scripts it.
import { now } from "../kernel/clock";
import { fn, name, CAT_STEP, CAT_QUEUE, CAT_NET, CAT_ANOMALY, CAT_STATE } from "../kernel/names";
import { trace, traceAnomaly } from "../kernel/trace";
import { scheduleIn } from "../kernel/events";
import { eventKind } from "../kernel/events";
import {
  MAX_ENTS, entCount, threadNew, threadNext, threadSleep, wakeUpProcess, entNew, TASK_INTERRUPTIBLE,
  deviceIrq, cpuCount,
} from "../kernel/sched";
import { stream } from "../kernel/prng";
import { wqNew, wqAdd, wqAddHead, wqPop, wqLen, wqOf, wqPeek, wqRemove } from "../kernel/waitq";
import {
  KSOCK_MSG_HDR, KSM_HDR, MSG_IN, MSG_OUT, bufTag, wireTag, slots, slotOf, slotStart, tagOf,
  tagInBuf, tagOnWire, msgSerial, msgNob, msgImage, msgSlots, msgStream, msgType, msgFree,
  msgConn, firstBadSlot, countBadSlots, msgQueued, PAGE_SIZE, MAX_MSGS, msgRowsUsed,
} from "./lnet";
import { zeroed, rowsBegin, rowsEnd } from "../kernel/mem";
import { chargeWork } from "../kernel/world";
import { jArr, jEndArr, jObj, jEndObj, jKI, jKB, jKey, jKName, jInt } from "../kernel/json";

export const MAX_CPTS: i32 = 4;
export const MAX_THREADS: i32 = 64;
export const MAX_CONNS: i32 = 192;
export const SOCKNAL_NSCHEDS: i32 = 3;
export const SOCKNAL_NSCHEDS_HIGH: i32 = SOCKNAL_NSCHEDS << 1;
export const SOCKNAL_RESCHED: i32 = 100;

// Connection types (uapi socklnd.h).
export const SOCKLND_CONN_CONTROL: i32 = 1;
export const SOCKLND_CONN_BULK_IN: i32 = 2;
export const SOCKLND_CONN_BULK_OUT: i32 = 3;

// rx states (socklnd.h)
const SOCKNAL_RX_KSM_HEADER: i32 = 1;
const SOCKNAL_RX_LNET_HEADER: i32 = 2;
const SOCKNAL_RX_LNET_PAYLOAD: i32 = 5;

// Wait-queue items: above the kernel's entity ids (threads sit on CPU run queues).
const ITEM_BASE: i32 = MAX_ENTS;
@inline function rxItem(c: i32): i32 { return ITEM_BASE + 2 * c; }
@inline function txItem(c: i32): i32 { return ITEM_BASE + 2 * c + 1; }
@inline export function msgItem(m: i32): i32 { return ITEM_BASE + 2 * MAX_CONNS + m; }
@inline function itemMsg(i: i32): i32 { return i - ITEM_BASE - 2 * MAX_CONNS; }
@inline function itemConn(i: i32): i32 { return (i - ITEM_BASE) >> 1; }

// --- names ------------------------------------------------------------------------------
const N_ksock_conn = name("ksock_conn");
export const N_CONN_TYPE = zeroed<i32>(4);
unchecked(N_CONN_TYPE[0] = name("ANY"));
unchecked(N_CONN_TYPE[1] = name("CONTROL"));
unchecked(N_CONN_TYPE[2] = name("BULK_IN"));
unchecked(N_CONN_TYPE[3] = name("BULK_OUT"));
const N_kss_rx_conns = name("kss_rx_conns");
const N_kss_tx_conns = name("kss_tx_conns");
const N_kss_waitq = name("kss_waitq");
const N_ksnc_tx_queue = name("ksnc_tx_queue");
const N_rx_fifo = name("sk_receive_queue");
const N_wire = name("sk_write_queue");
const N_RX_STATE = zeroed<i32>(6);
unchecked(N_RX_STATE[1] = name("SOCKNAL_RX_KSM_HEADER"));
unchecked(N_RX_STATE[2] = name("SOCKNAL_RX_LNET_HEADER"));
unchecked(N_RX_STATE[5] = name("SOCKNAL_RX_LNET_PAYLOAD"));

const N_start = fn("ksocknal_scheduler", "cpt=%d sid=%d sched=%d scratch=%d", CAT_STEP);
const N_choose = fn("ksocknal_choose_scheduler_locked", "cpt=%d sched=%d kss_nconns=%d", CAT_STEP);
const N_create = fn("ksocknal_create_conn", "peer=%d type=%n cpt=%d sched=%d", CAT_STEP);
const N_read_cb = fn("ksocknal_read_callback", "sched=%d rx_scheduled=%d queued=%d", CAT_QUEUE);
const N_write_cb = fn("ksocknal_write_callback", "sched=%d tx_scheduled=%d queued=%d", CAT_QUEUE);
const N_queue_tx = fn("ksocknal_queue_tx_locked", "msg=%d nob=%d tx_ready=%d tx_scheduled=%d", CAT_QUEUE);
const N_wake = fn("wake_up", "kss_waitq sched=%d woke=%d", CAT_QUEUE);
const N_sleep = fn("wait_event_interruptible_exclusive", "kss_waitq sched=%d", CAT_QUEUE);
const N_proc_rx = fn("ksocknal_process_receive", "conn=%d state=%n", CAT_STEP);
const N_proc_tx = fn("ksocknal_process_transmit", "conn=%d msg=%d resid=%d", CAT_STEP);
const N_recv_iov = fn("ksocknal_lib_recv_iov", "conn=%d msg=%d off=%d nob=%d", CAT_STEP);
const N_recv_kiov = fn("ksocknal_lib_recv_kiov", "conn=%d msg=%d off=%d nob=%d", CAT_STEP);
const N_send_iov = fn("ksocknal_lib_send_iov", "conn=%d msg=%d off=%d nob=%d", CAT_STEP);
const N_send_kiov = fn("ksocknal_lib_send_kiov", "conn=%d msg=%d off=%d nob=%d", CAT_STEP);
const N_sendpage = fn("ksocknal_lib_send_kiov: sendpage", "conn=%d msg=%d off=%d nob=%d", CAT_STEP);
const N_recvmsg = fn("kernel_recvmsg", "conn=%d rc=%e scratch=%d filled_by_call=%d", CAT_NET);
const N_sendmsg = fn("kernel_sendmsg", "conn=%d rc=%e scratch=%d filled_by_call=%d", CAT_NET);
const N_parse = fn("lnet_parse", "conn=%d msg=%d nob=%d", CAT_STEP);
const N_finalize = fn("lnet_finalize", "conn=%d msg=%d status=%e", CAT_STEP);
const N_tx_done = fn("ksocknal_tx_done", "conn=%d msg=%d", CAT_STEP);
const N_resched = fn("cond_resched", "nloops=%d", CAT_STEP);
const N_data_ready = fn("ksocknal_data_ready", "conn=%d unread=%d", CAT_NET);
const N_write_space = fn("ksocknal_write_space", "conn=%d wspace=%d", CAT_NET);
const N_rx_requeue = fn("list_add_tail(ksnc_rx_list)", "conn=%d rx_ready=%d", CAT_STATE);
const N_tx_requeue = fn("list_add_tail(ksnc_tx_list)", "conn=%d tx_ready=%d", CAT_STATE);
const N_overlap = fn("scratch overlap", "scratch=%d other_thread=%d other_conn=%d other_call=%d", CAT_ANOMALY);
const N_collision = fn("scratch clobbered", "scratch=%d filled_by_thread=%d their_conn=%d their_msg=%d", CAT_ANOMALY);
const N_corrupt = fn("LNetError: payload mismatch", "msg=%d first_bad_page=%d holds_tag=%x bad_pages=%d", CAT_ANOMALY);
const N_eproto = fn("ksocknal_process_receive: bad header", "msg=%d slot=%d holds_tag=%x rc=%e", CAT_ANOMALY);
const N_lassert = fn("LASSERT failed", "conn=%d what=%d owner=%d", CAT_ANOMALY);
const N_close = fn("ksocknal_close_conn_locked", "conn=%d peer=%d error=%e", CAT_STATE);
const N_terminate = fn("ksocknal_terminate_conn", "conn=%d txs_failed=%d rx_aborted=%d lost_in_socket=%d", CAT_STATE);

// --- configuration (socklndInit, from SocklndOptions) --------------------------------------
// Module state here is what the kernel keeps once per host: the module parameters
// (ksocknal_tunables), the one lnd LNet calls up through, and ksocknal_data, whose
// tables (scheds, threads, scratch arrays, conns) are rows with handles below.
export let cfgSharedSched: bool = false;     // socklnd-shared-sched
export let cfgPerThreadScratch: bool = false;  // socklnd-per-thread-scratch
export let cfgPsPerByte: f64 = 1000;         // CPU cost of a copy, picoseconds per byte
export let cfgPayloadCheck: bool = true;
export let cfgSndbuf: i32 = 1 << 20;
export let cfgRcvbuf: i32 = 1 << 20;
// Zero-copy send: a tx is tx_zc_capable when its payload is >= zc_min_payload (page
// fragments); a conn is zc-capable when its NIC does scatter-gather and checksum offload
// (ksocknal_lib_zc_capable: NETIF_F_SG and NETIF_F_CSUM_MASK in sk_route_caps).
export let cfgZcMinPayload: i32 = 16384;
export let cfgNicOffload: bool = true;

// CPU costs (mean ns) of the non-copy steps.
const COST_LOOP: i64 = 150;
const COST_FILL: i64 = 120;
const COST_COPY_BASE: i64 = 400;
const COST_PARSE: i64 = 1500;
const COST_WAKE: i64 = 1500;
const COST_RESCHED: i64 = 300;
// tcp_sendpage of one page: get_page + skb_fill_page_desc, no copy (checksum offloaded).
const COST_SENDPAGE: i64 = 250;
// kss_lock: a critical section of list and flag updates, plus the cache-line transfer when
// the previous holder ran elsewhere (another thread, or a softirq callback).
const KSS_LOCK_HOLD: i64 = 60;
const KSS_LOCK_BOUNCE: i64 = 100;

// --- LNet upcalls (socklndInit, from SocklndOptions) -------------------------------------
function noConnMsg(c: i32, m: i32): void {}
function noConn(c: i32): void {}
function noWire(c: i32, m: i32, dir: i32): void {}
export let upRecvDone: (c: i32, m: i32) => void = noConnMsg;
export let upTxDone: (c: i32, m: i32) => void = noConnMsg;
export let upPeerReceived: (c: i32, m: i32) => void = noConnMsg;
export let upRxSpace: (c: i32) => void = noConn;
export let upTxFailed: (c: i32, m: i32) => void = noConnMsg;
export let upRxAborted: (c: i32, m: i32) => void = noConnMsg;
export let upConnDead: (c: i32) => void = noConn;
export let onWire: (c: i32, m: i32, dir: i32) => void = noWire;

// What a world sets up socklnd with (socklndInit checks it). Quantities carry their unit.
export class SocklndOptions {
  cpts: i32 = 1;                  // CPU partitions (cfs_cpt_table)
  cpusPerCpt: i32 = 1;            // CPT weight; thread (cpt, sid) runs on CPU cpt*cpusPerCpt + sid
  nscheds: i32 = 0;               // the nscheds module parameter (0: derived from the weight)
  sharedSched: bool = false;      // socklnd-shared-sched (LU-11415): one ksock_sched per CPT
  perThreadScratch: bool = false; // socklnd-per-thread-scratch: scratch iovs per thread
  copyPsPerByte: f64 = 1000;      // CPU cost of a copy
  payloadCheck: bool = true;      // check every received payload against what was sent
  zcMinPayloadBytes: i32 = 16384; // zc_min_payload
  nicOffload: bool = true;        // NETIF_F_SG and checksum offload
  threadComm: (cpt: i32, sid: i32) => i32 = noComm;   // the socknal_sd name of each thread
  // lnet_finalize of a received message; an outgoing message's ksocknal_tx_done; the peer
  // has the whole of an outgoing message; our reads freed receive-window space.
  recvDone: (c: i32, m: i32) => void = noConnMsg;
  txDone: (c: i32, m: i32) => void = noConnMsg;
  peerReceived: (c: i32, m: i32) => void = noConnMsg;
  rxSpace: (c: i32) => void = noConn;
  // Connection teardown: a queued tx failed back to LNet (ksocknal_txlist_done, -EIO); an
  // incoming message cut short (the peer's LNet gets its own -EIO); the conn's last ref went.
  txFailed: (c: i32, m: i32) => void = noConnMsg;
  rxAborted: (c: i32, m: i32) => void = noConnMsg;
  connDead: (c: i32) => void = noConn;
  wire: (c: i32, m: i32, dir: i32) => void = noWire;  // a whole message crossed the wire (the log)
}
function noComm(cpt: i32, sid: i32): i32 { return 0; }

// Configures socklnd, builds the scheds and starts the threads (ksocknal_base_startup).
export function socklndInit(o: SocklndOptions): void {
  assert(o.cpts >= 1 && o.cpts <= MAX_CPTS, "socklnd: cpts out of range 1..MAX_CPTS");
  assert(o.cpusPerCpt >= 1 && o.nscheds >= 0, "socklnd: cpusPerCpt >= 1 and nscheds >= 0");
  assert(o.cpts * nthreadsStarted(o.cpusPerCpt, o.nscheds) <= MAX_THREADS, "socklnd: more scheduler threads than MAX_THREADS");
  assert(o.copyPsPerByte >= 0 && o.zcMinPayloadBytes >= 0, "socklnd: negative copy cost or zc_min_payload");
  cfgSharedSched = o.sharedSched; cfgPerThreadScratch = o.perThreadScratch;
  cfgPsPerByte = o.copyPsPerByte; cfgPayloadCheck = o.payloadCheck;
  cfgZcMinPayload = o.zcMinPayloadBytes; cfgNicOffload = o.nicOffload;
  upRecvDone = o.recvDone; upTxDone = o.txDone; upPeerReceived = o.peerReceived; upRxSpace = o.rxSpace;
  upTxFailed = o.txFailed; upRxAborted = o.rxAborted; upConnDead = o.connDead;
  onWire = o.wire;
  socklndStartup(o.cpts, o.cpusPerCpt, o.nscheds, o.threadComm);
}

// --- ksock_sched ----------------------------------------------------------------------
export let nCpts: i32 = 0;
export let nScheds: i32 = 0;
export const kssCpt = zeroed<i32>(MAX_THREADS);
export const kssRxConns = zeroed<i32>(MAX_THREADS);
export const kssTxConns = zeroed<i32>(MAX_THREADS);
export const kssWaitq = zeroed<i32>(MAX_THREADS);
export const kssNconns = zeroed<i32>(MAX_THREADS);
export const kssNthreads = zeroed<i32>(MAX_THREADS);
export const kssNthreadsMax = zeroed<i32>(MAX_THREADS);
const kssLockFree = zeroed<i64>(MAX_THREADS);    // when the current holder lets go
const kssLockLast = zeroed<i32>(MAX_THREADS);    // who took it last (thread, or -1 a callback)
export let kssLockSpinNs: i64 = 0;               // scheduler-thread time spent spinning on it
export let kssLockAcquires: i32 = 0;
export let kssLockContended: i32 = 0;
export let sockLockWaitNs: i64 = 0;              // time a thread waited in lock_sock
export let sockLockContended: i32 = 0;
// OLD: ksock_sched_info per CPT: its first sched and thread count.
export const infoFirstSched = zeroed<i32>(MAX_CPTS);
export const infoNthreads = zeroed<i32>(MAX_CPTS);

// --- scheduler threads ----------------------------------------------------------------
export let nThreads: i32 = 0;
export const thEnt = zeroed<i32>(MAX_THREADS);
export const thCpt = zeroed<i32>(MAX_THREADS);
export const thSid = zeroed<i32>(MAX_THREADS);
export const thSched = zeroed<i32>(MAX_THREADS);
export const thScratch = zeroed<i32>(MAX_THREADS);
rowsBegin(MAX_ENTS, entCount);
const entThread = zeroed<i32>(MAX_ENTS);
rowsEnd();
const thAct = zeroed<i32>(MAX_THREADS);
const thConn = zeroed<i32>(MAX_THREADS);
const thMsg = zeroed<i32>(MAX_THREADS);
const thDid = zeroed<bool>(MAX_THREADS);
const thNloops = zeroed<i32>(MAX_THREADS);
const thZcNob = zeroed<i32>(MAX_THREADS);
const thSpin = zeroed<i64>(MAX_THREADS);   // lock wait to charge to the thread's next step
// The thread's current lib call (one at a time per thread).
export const callId = zeroed<i32>(MAX_THREADS);
export const callConn = zeroed<i32>(MAX_THREADS);
export const callFn = zeroed<i32>(MAX_THREADS);
export const callMsg = zeroed<i32>(MAX_THREADS);    // descriptor
export const callSerial = zeroed<i32>(MAX_THREADS);
export const callOff = zeroed<i32>(MAX_THREADS);
export const callNob = zeroed<i32>(MAX_THREADS);
export const callFillT = zeroed<i64>(MAX_THREADS);
export const callInFlight = zeroed<bool>(MAX_THREADS);
let nextCall: i32 = 0;

const A_START: i32 = 0;
const A_LOOP: i32 = 1;
const A_RX_FILL: i32 = 2;
const A_RX_COPY: i32 = 3;
const A_RX_PARSE: i32 = 4;
const A_TX_FILL: i32 = 5;
const A_TX_COPY: i32 = 6;
const A_TX_PAGE: i32 = 7;

// --- scratch arrays (kss_scratch_iov; kss_rx_scratch_pgs is only used by the zc_recv
// vmap path, off by default) ----------------------------------------------------------
export let nScratch: i32 = 0;
export const scrOwnerIsThread = zeroed<bool>(MAX_THREADS);
export const scrOwner = zeroed<i32>(MAX_THREADS);   // sched or thread index
const scrMsg = zeroed<i32>(MAX_THREADS);
const scrSerial = zeroed<i32>(MAX_THREADS);
const scrOff = zeroed<i32>(MAX_THREADS);
const scrNob = zeroed<i32>(MAX_THREADS);
const scrFiller = zeroed<i32>(MAX_THREADS);         // thread
const scrCall = zeroed<i32>(MAX_THREADS);

// --- ksock_conn + its socket ------------------------------------------------------------
export let nConns: i32 = 0;
export const connPeer = zeroed<i32>(MAX_CONNS);
export const connType = zeroed<i32>(MAX_CONNS);
export const connCpt = zeroed<i32>(MAX_CONNS);
export const connSched = zeroed<i32>(MAX_CONNS);
export const connEnt = zeroed<i32>(MAX_CONNS);
export const connUp = zeroed<bool>(MAX_CONNS);
export const connDead = zeroed<bool>(MAX_CONNS);   // terminated: the last ref went
export const connGen = zeroed<i32>(MAX_CONNS);     // incarnation of the slot
// A socket event's arg: its byte count and the incarnation it belongs to (a segment of a
// closed socket must not land in the reconnected one).
const GEN_SHIFT: i32 = 17;
export function sockArg(c: i32, n: i32): i32 { return n | ((unchecked(connGen[c]) & 1023) << GEN_SHIFT); }
export function sockArgBytes(arg: i32): i32 { return arg & ((1 << GEN_SHIFT) - 1); }
export function sockArgLive(c: i32, arg: i32): bool {
  return unchecked(connUp[c]) && (arg >>> GEN_SHIFT) == (unchecked(connGen[c]) & 1023);
}
const rxReady = zeroed<bool>(MAX_CONNS);
const rxScheduled = zeroed<bool>(MAX_CONNS);
const rxState = zeroed<i32>(MAX_CONNS);
const rxMsg = zeroed<i32>(MAX_CONNS);
const rxPos = zeroed<i32>(MAX_CONNS);
export const rxOwner = zeroed<i32>(MAX_CONNS);
const txReady = zeroed<bool>(MAX_CONNS);
const txScheduled = zeroed<bool>(MAX_CONNS);
export const txQueue = zeroed<i32>(MAX_CONNS);      // ksnc_tx_queue (msg items)
export const txOwner = zeroed<i32>(MAX_CONNS);
// socket, receive side: bytes arrived / consumed, and the incoming messages in order
export const rxArrived = zeroed<f64>(MAX_CONNS);
export const rxRead = zeroed<f64>(MAX_CONNS);
export const rxFifo = zeroed<i32>(MAX_CONNS);
// socket, send side: sk_wmem_queued, SOCK_NOSPACE, bytes written / drained, and the
// complete messages in the send queue awaiting the wire
export const sockQueued = zeroed<i32>(MAX_CONNS);
const sockNospace = zeroed<bool>(MAX_CONNS);
export const sndStream = zeroed<f64>(MAX_CONNS);
export const wireSent = zeroed<f64>(MAX_CONNS);
const wireFifo = zeroed<i32>(MAX_CONNS);
const drainArmed = zeroed<bool>(MAX_CONNS);
export const linkBytesPerNs = zeroed<f64>(MAX_CONNS);
const sockLockFree = zeroed<i64>(MAX_CONNS);   // lock_sock: tcp_sendmsg/tcp_recvmsg of one socket
@inline function releaseSock(c: i32): void { unchecked(sockLockFree[c] = now); }
rowsBegin(MAX_MSGS, msgRowsUsed);
const txPos = zeroed<i32>(MAX_MSGS);   // per lnet_msg: image bytes handed to the socket
// per lnet_msg: ksm_zc_cookies[0] != 0, a zero-copy request; its tx is done when the peer's
// ZC-ACK comes back (ksocknal_handle_zcack), not when the bytes are in the socket
const txZcReq = zeroed<bool>(MAX_MSGS);
rowsEnd();

export const EV_DRAIN: i32 = eventKind("socklnd.drain");   // our socket -> wire (one segment)
const DRAIN_CHUNK: i32 = 65536;

// --- detectors --------------------------------------------------------------------------
export let nOverlaps: i32 = 0;        // a fill while another call was in flight on the array
export let nCollisions: i32 = 0;      // a copy through an array someone else had refilled
export let nSameConnOverlap: i32 = 0; // rx and tx of one conn in service at once (NEW)
export let nViolations: i32 = 0;      // LASSERTs / invariants
export const MAX_COLL: i32 = 8;
// Collision records: [victim, filler] call details, and what the copy did.
export const collT = zeroed<i64>(MAX_COLL);
export const collScratch = zeroed<i32>(MAX_COLL);
export const collThread = zeroed<i32>(MAX_COLL * 2);
export const collCall = zeroed<i32>(MAX_COLL * 2);
export const collConn = zeroed<i32>(MAX_COLL * 2);
export const collFn = zeroed<i32>(MAX_COLL * 2);
export const collSerial = zeroed<i32>(MAX_COLL * 2);
export const collOff = zeroed<i32>(MAX_COLL * 2);
export const collNob = zeroed<i32>(MAX_COLL * 2);
export const collFillT = zeroed<i64>(MAX_COLL * 2);
export const collCopied = zeroed<i32>(MAX_COLL);   // bytes the victim's copy moved
export const collFillerDone = zeroed<bool>(MAX_COLL);
export const MAX_VIOL: i32 = 4;
export const violT = zeroed<i64>(MAX_VIOL);
export const violConn = zeroed<i32>(MAX_VIOL);
export const violWhat = zeroed<i32>(MAX_VIOL);
// 1 rx service by two threads, 2 tx service by two threads, 3 conn twice on kss_rx_conns,
// 4 twice on kss_tx_conns, 5 dequeued rx without rx_scheduled/rx_ready, 6 same for tx.

// Corruption found at a receiver (us for incoming, the peer for outgoing).
export let nCorrupt: i32 = 0;
export let nCorruptAtPeer: i32 = 0;   // payloads our sends damaged (what a scratch tx does)
export let nProtoErrors: i32 = 0;
export const MAX_INC: i32 = 8;
export const incT = zeroed<i64>(MAX_INC);
export const incConn = zeroed<i32>(MAX_INC);
export const incSerial = zeroed<i32>(MAX_INC);
export const incDir = zeroed<i32>(MAX_INC);
export const incType = zeroed<i32>(MAX_INC);
export const incNob = zeroed<i32>(MAX_INC);
export const incFirstSlot = zeroed<i32>(MAX_INC);
export const incHolds = zeroed<i32>(MAX_INC);
export const incBad = zeroed<i32>(MAX_INC);
export const incProto = zeroed<bool>(MAX_INC);
export let nIncidents: i32 = 0;
export let nCloses: i32 = 0;         // conns closed by ksocknal_close_conn_and_siblings
export let nTxFailed: i32 = 0;       // txs failed back to LNet at terminate
export let nLostInSocket: i32 = 0;   // complete txs still in a closed socket's send queue
export let firstCloseNs: i64 = -1;


// ============================================================================================
// startup: ksocknal_base_startup + ksocknal_start_schedulers
// ============================================================================================
// Per CPT of weight w: max = nscheds>0 ? min(w, nscheds) : min(max(3, w/2), w);
// started = nscheds>0 ? max : min(min(max(3, w/2), w), SOCKNAL_NSCHEDS_HIGH).
export function nthreadsMax(w: i32, nscheds: i32): i32 {
  if (nscheds > 0) return min(w, nscheds);
  return min(max(SOCKNAL_NSCHEDS, w >> 1), w);
}
export function nthreadsStarted(w: i32, nscheds: i32): i32 {
  const mx = nthreadsMax(w, nscheds);
  if (nscheds > 0) return mx;
  return min(min(min(max(SOCKNAL_NSCHEDS, w >> 1), w), SOCKNAL_NSCHEDS_HIGH), mx);
}

function schedNew(cpt: i32, nmax: i32): i32 {
  const s = nScheds++;
  unchecked(kssCpt[s] = cpt);
  unchecked(kssRxConns[s] = wqNew(N_kss_rx_conns));
  unchecked(kssTxConns[s] = wqNew(N_kss_tx_conns));
  unchecked(kssWaitq[s] = wqNew(N_kss_waitq));
  unchecked(kssNthreadsMax[s] = nmax);
  return s;
}

function scratchNew(ownerIsThread: bool, owner: i32): i32 {
  const a = nScratch++;
  unchecked(scrOwnerIsThread[a] = ownerIsThread);
  unchecked(scrOwner[a] = owner);
  unchecked(scrFiller[a] = -1);
  unchecked(scrCall[a] = -1);
  return a;
}

// Builds the scheds and starts the threads; thread (cpt, sid) runs on CPU cpt*w + sid.
function socklndStartup(ncpt: i32, w: i32, nscheds: i32, threadComm: (cpt: i32, sid: i32) => i32): void {
  nCpts = ncpt;
  const nmax = nthreadsMax(w, nscheds), nstart = nthreadsStarted(w, nscheds);
  for (let cpt = 0; cpt < ncpt; cpt++) {
    unchecked(infoFirstSched[cpt] = nScheds);
    unchecked(infoNthreads[cpt] = nstart);
    if (cfgSharedSched) {
      const s = schedNew(cpt, nmax);
      unchecked(kssNthreads[s] = nstart);
    } else {
      // ksi_scheds[]: one ksock_sched per thread slot
      for (let i = 0; i < nmax; i++) {
        const s = schedNew(cpt, nmax);
        if (i < nstart) unchecked(kssNthreads[s] = 1);
      }
    }
  }
  // Scratch: OLD and NEW keep kss_scratch_iov in struct ksock_sched; the per-thread patch
  // allocates it in ksocknal_scheduler() instead.
  if (!cfgPerThreadScratch) for (let s = 0; s < nScheds; s++) scratchNew(false, s);
  for (let cpt = 0; cpt < ncpt; cpt++) {
    for (let sid = 0; sid < nstart; sid++) {
      const t = nThreads++;
      const sched = cfgSharedSched ? unchecked(infoFirstSched[cpt]) : unchecked(infoFirstSched[cpt]) + sid;
      unchecked(thCpt[t] = cpt);
      unchecked(thSid[t] = sid);
      unchecked(thSched[t] = sched);
      unchecked(thScratch[t] = cfgPerThreadScratch ? scratchNew(true, t) : sched);
      unchecked(thAct[t] = A_START);
      unchecked(thConn[t] = -1);
      const e = threadNew(threadComm(cpt, sid), 1000 + t, cpt * w + sid, A_START, 2000);
      unchecked(thEnt[t] = e);
      unchecked(entThread[e] = t);
    }
  }
}

// ksocknal_create_conn: the CPT from the peer NID, then the scheduler.
// A reconnect of the same peer and type reuses the dead conn's slot (`reuse`), so a slot
// always names one (peer, type) route; connGen tells its incarnations' events apart.
export function ksocknalCreateConn(peer: i32, type: i32, cpt: i32, comm: i32, linkBpns: f64, reuse: i32 = -1): i32 {
  let c = reuse;
  if (c < 0) {
    c = nConns++;
    unchecked(connEnt[c] = entNew(N_ksock_conn, comm, c));
    unchecked(txQueue[c] = wqNew(N_ksnc_tx_queue));
    unchecked(rxFifo[c] = wqNew(N_rx_fifo));
    unchecked(wireFifo[c] = wqNew(N_wire));
  }
  unchecked(connGen[c] += 1);
  unchecked(connPeer[c] = peer);
  unchecked(connType[c] = type);
  unchecked(connCpt[c] = cpt);
  unchecked(connDead[c] = false);
  unchecked(rxReady[c] = false); unchecked(rxScheduled[c] = false);
  unchecked(txReady[c] = false); unchecked(txScheduled[c] = false);
  unchecked(rxArrived[c] = 0); unchecked(rxRead[c] = 0);
  unchecked(sockQueued[c] = 0); unchecked(sockNospace[c] = false);
  unchecked(sndStream[c] = 0); unchecked(wireSent[c] = 0); unchecked(drainArmed[c] = false);
  unchecked(sockLockFree[c] = 0);
  const e = unchecked(connEnt[c]);
  const s = ksocknalChooseSchedulerLocked(c, cpt);
  unchecked(connSched[c] = s);
  unchecked(kssNconns[s] += 1);
  unchecked(rxState[c] = SOCKNAL_RX_KSM_HEADER);
  unchecked(rxMsg[c] = -1);
  unchecked(rxOwner[c] = -1);
  unchecked(txOwner[c] = -1);
  unchecked(linkBytesPerNs[c] = linkBpns);
  unchecked(connUp[c] = true);
  trace(e, N_create, peer, unchecked(N_CONN_TYPE[type]), cpt, s);
  // "Allow I/O to proceed"
  ksocknalReadCallback(c);
  ksocknalWriteCallback(c);
  return c;
}

// OLD: the thread (sched) of the CPT with the fewest connections, by count not load.
// NEW: the CPT's one sched.
function ksocknalChooseSchedulerLocked(c: i32, cpt: i32): i32 {
  const first = unchecked(infoFirstSched[cpt]);
  let s = first;
  if (!cfgSharedSched) {
    const n = unchecked(infoNthreads[cpt]);
    for (let i = 1; i < n; i++) {
      if (unchecked(kssNconns[s]) > unchecked(kssNconns[first + i])) s = first + i;
    }
  }
  trace(unchecked(connEnt[c]), N_choose, cpt, s, unchecked(kssNconns[s]));
  return s;
}

// ============================================================================================
// closing: ksocknal_close_conn_and_siblings -> ksocknal_close_conn_locked; the conn is
// terminated (ksocknal_terminate_conn, txs failed back to LNet) once no scheduler thread
// holds it, and the peer's connd then reconnects (the scenario's upConnDead).
// ============================================================================================
export function ksocknalCloseConnAndSiblings(c: i32, why: i32): void {
  const p = unchecked(connPeer[c]);
  for (let o = 0; o < nConns; o++) {
    if (unchecked(connPeer[o]) == p && unchecked(connUp[o])) ksocknalCloseConnLocked(o, why);
  }
}

function ksocknalCloseConnLocked(c: i32, why: i32): void {
  unchecked(connUp[c] = false);
  nCloses++;
  if (firstCloseNs < 0) firstCloseNs = now;
  trace(unchecked(connEnt[c]), N_close, c, unchecked(connPeer[c]), why);
  // off the sched's ready lists: the scheduler's ref is dropped with them
  if (wqRemove(rxItem(c))) unchecked(rxScheduled[c] = false);
  if (wqRemove(txItem(c))) unchecked(txScheduled[c] = false);
  connMaybeTerminate(c);
}

function connMaybeTerminate(c: i32): void {
  if (unchecked(connUp[c]) || unchecked(connDead[c]) || unchecked(rxOwner[c]) >= 0 || unchecked(txOwner[c]) >= 0) return;
  unchecked(connDead[c] = true);
  let failed = 0, aborted = 0, lost = 0;
  for (let it = wqPop(unchecked(txQueue[c])); it >= 0; it = wqPop(unchecked(txQueue[c]))) {
    upTxFailed(c, itemMsg(it)); msgFree(itemMsg(it)); failed++;
  }
  for (let it = wqPop(unchecked(wireFifo[c])); it >= 0; it = wqPop(unchecked(wireFifo[c]))) {
    const m = itemMsg(it);
    // ksocknal_finalize_zcreq: a zc request never ACKed fails back to LNet; a copied tx
    // was finalized when it entered the socket, so it is simply lost
    if (unchecked(txZcReq[m])) { upTxFailed(c, m); failed++; } else lost++;
    msgFree(m);
  }
  const rm = unchecked(rxMsg[c]);
  if (rm >= 0) { upRxAborted(c, rm); msgFree(rm); aborted++; unchecked(rxMsg[c] = -1); }
  for (let it = wqPop(unchecked(rxFifo[c])); it >= 0; it = wqPop(unchecked(rxFifo[c]))) {
    upRxAborted(c, itemMsg(it)); msgFree(itemMsg(it)); aborted++;
  }
  nTxFailed += failed;
  nLostInSocket += lost;
  unchecked(kssNconns[connSched[c]] -= 1);
  trace(unchecked(connEnt[c]), N_terminate, c, failed, aborted, lost);
  upConnDead(c);
}

// ============================================================================================
// callbacks and queueing (all under kss_lock: model events are atomic)
// ============================================================================================
// spin_lock_bh(&sched->kss_lock) by thread t (or a callback, t = -1): returns the time
// spent spinning, and holds the lock for its critical section.
function kssLock(s: i32, t: i32): i64 {
  const wait = max<i64>(0, unchecked(kssLockFree[s]) - now);
  const hold = KSS_LOCK_HOLD + (unchecked(kssLockLast[s]) != t ? KSS_LOCK_BOUNCE : 0);
  unchecked(kssLockFree[s] = now + wait + hold);
  unchecked(kssLockLast[s] = t);
  kssLockAcquires++;
  if (wait > 0) kssLockContended++;
  if (t >= 0) { kssLockSpinNs += wait; unchecked(thSpin[t] += wait + hold); }
  return wait;
}

// lock_sock around a copy of `cost` ns into or out of conn c's socket: the other direction's
// copy on another thread (NEW scheduler only) makes this one wait until the holder's copy
// is expected to end. release_sock at the copy's real end.
function lockSock(c: i32, cost: i64): i64 {
  const wait = max<i64>(0, unchecked(sockLockFree[c]) - now);
  unchecked(sockLockFree[c] = now + wait + cost);
  if (wait > 0) { sockLockContended++; sockLockWaitNs += wait; }
  return wait + cost;
}

function wakeUp(s: i32, ent: i32): void {
  const w = wqPop(unchecked(kssWaitq[s]));
  trace(ent, N_wake, s, w >= 0 ? 1000 + unchecked(entThread[w]) : -1);
  if (w >= 0) wakeUpProcess(w);
}

function violation(c: i32, what: i32, owner: i32): void {
  if (nViolations < MAX_VIOL) {
    unchecked(violT[nViolations] = now);
    unchecked(violConn[nViolations] = c);
    unchecked(violWhat[nViolations] = what);
  }
  nViolations++;
  traceAnomaly(unchecked(connEnt[c]), N_lassert, c, what, owner);
}

function addRx(c: i32): void {
  if (wqOf(rxItem(c)) >= 0) { violation(c, 3, -1); return; }
  wqAdd(unchecked(kssRxConns[connSched[c]]), rxItem(c));
}
function addTx(c: i32): void {
  if (wqOf(txItem(c)) >= 0) { violation(c, 4, -1); return; }
  wqAdd(unchecked(kssTxConns[connSched[c]]), txItem(c));
}

export function ksocknalReadCallback(c: i32): void {
  const s = unchecked(connSched[c]);
  kssLock(s, -1);
  unchecked(rxReady[c] = true);
  const was = unchecked(rxScheduled[c]);
  if (!was) {
    addRx(c);
    unchecked(rxScheduled[c] = true);
  }
  trace(unchecked(connEnt[c]), N_read_cb, s, was ? 1 : 0, wqLen(unchecked(kssRxConns[s])));
  if (!was) wakeUp(s, unchecked(connEnt[c]));
}

export function ksocknalWriteCallback(c: i32): void {
  const s = unchecked(connSched[c]);
  kssLock(s, -1);
  unchecked(txReady[c] = true);
  const go = !unchecked(txScheduled[c]) && wqLen(unchecked(txQueue[c])) > 0;
  if (go) {
    addTx(c);
    unchecked(txScheduled[c] = true);
  }
  trace(unchecked(connEnt[c]), N_write_cb, s, unchecked(txScheduled[c]) ? 1 : 0, wqLen(unchecked(kssTxConns[s])));
  if (go) wakeUp(s, unchecked(connEnt[c]));
}

// ksocknal_queue_tx_locked: a message from LNet onto the conn's tx queue.
export function ksocknalQueueTxLocked(c: i32, m: i32): void {
  kssLock(unchecked(connSched[c]), -1);
  unchecked(txPos[m] = 0);
  wqAdd(unchecked(txQueue[c]), msgItem(m));
  trace(unchecked(connEnt[c]), N_queue_tx, unchecked(msgSerial[m]), unchecked(msgNob[m]),
    unchecked(txReady[c]) ? 1 : 0, unchecked(txScheduled[c]) ? 1 : 0);
  if (unchecked(txReady[c]) && !unchecked(txScheduled[c])) {
    addTx(c);
    unchecked(txScheduled[c] = true);
    wakeUp(unchecked(connSched[c]), unchecked(connEnt[c]));
  }
}

// ============================================================================================
// socket: bytes from the peer arrive (sk_data_ready), our send queue drains to the wire
// ============================================================================================
// The peer starts message m on conn c's stream (its bytes follow as they arrive).
export function sockIncoming(c: i32, m: i32): void {
  unchecked(msgStream[m] = unchecked(rxArrived[c]));
  wqAdd(unchecked(rxFifo[c]), msgItem(m));
}

// The NIC's interrupts (timing model, kernel/sched.ts deviceIrq): one RX queue per CPU,
// a conn's flow hashed to queue c mod ncpus (RSS), each queue's IRQ on its own CPU.
// 25 GbE class NIC with adaptive interrupt moderation and GRO: one interrupt per 64 KiB
// that arrives, ~2 us of hardirq + NET_RX softirq plus ~0.2 us per 1448-byte segment
// merged; TX completion (TSO, one per drained chunk) ~2 us.
const S_IRQ = stream("irq.nic");
@inline function nicIrqCpu(c: i32): i32 { return c % cpuCount(); }

export function sockArrive(c: i32, bytes: i32): void {
  deviceIrq(nicIrqCpu(c), S_IRQ, 2000 + <i64>(bytes / 1448) * 200);
  unchecked(rxArrived[c] += <f64>bytes);
  trace(unchecked(connEnt[c]), N_data_ready, c, <i32>(unchecked(rxArrived[c]) - unchecked(rxRead[c])));
  ksocknalReadCallback(c);
}

export function sockUnread(c: i32): f64 { return unchecked(rxArrived[c]) - unchecked(rxRead[c]); }

function armDrain(c: i32): void {
  if (unchecked(drainArmed[c]) || unchecked(sockQueued[c]) == 0) return;
  unchecked(drainArmed[c] = true);
  const n = min(unchecked(sockQueued[c]), DRAIN_CHUNK);
  scheduleIn(<i64>(<f64>n / unchecked(linkBytesPerNs[c])) + 1, EV_DRAIN, c, sockArg(c, n));
}

// EV_DRAIN: one segment left the socket; messages now wholly on the wire reach the peer.
export function sockDrained(c: i32, arg: i32): void {
  if (!sockArgLive(c, arg)) return;   // that socket is shut down: its queue died with it
  const n = sockArgBytes(arg);
  deviceIrq(nicIrqCpu(c), S_IRQ, 2000);
  unchecked(drainArmed[c] = false);
  unchecked(sockQueued[c] -= n);
  unchecked(wireSent[c] += <f64>n);
  const q = unchecked(wireFifo[c]);
  for (let it = wqPeek(q); it >= 0 && unchecked(connUp[c]); it = wqPeek(q)) {
    const m = itemMsg(it);
    if (unchecked(msgStream[m]) + <f64>msgImage(m) > unchecked(wireSent[c])) break;
    wqPop(q);
    peerReceives(c, m);
  }
  // sk_write_space when sk_stream_wspace >= sk_stream_min_wspace
  const queued = unchecked(sockQueued[c]);
  const wspace = cfgSndbuf - queued;
  if (unchecked(sockNospace[c]) && wspace >= (queued >> 1)) {
    unchecked(sockNospace[c] = false);
    trace(unchecked(connEnt[c]), N_write_space, c, wspace);
    ksocknalWriteCallback(c);
  }
  if (unchecked(connUp[c])) armDrain(c);
}

// The peer's receive path: it checks the header (protocol) and, with the lab's end-to-end
// check, the payload against what LNet queued.
function peerReceives(c: i32, m: i32): void {
  const hdrBad = firstBadSlot(wireTag, m, 0, 2);
  if (hdrBad >= 0) {
    incident(c, m, MSG_OUT, hdrBad, unchecked(wireTag[m * slots + hdrBad]), 1, true);
    // the peer's ksocknal_process_receive fails with -EPROTO and closes; we read EOF
    onWire(c, m, MSG_OUT);
    if (unchecked(txZcReq[m])) { upTxFailed(c, m); nTxFailed++; }   // never ZC-ACKed
    msgFree(m);
    ksocknalCloseConnAndSiblings(c, -71);
    return;
  } else if (cfgPayloadCheck) {
    const n = msgSlots(m);
    const bad = firstBadSlot(wireTag, m, 2, n);
    if (bad >= 0) incident(c, m, MSG_OUT, bad, unchecked(wireTag[m * slots + bad]), countBadSlots(wireTag, m, 2, n), false);
  }
  onWire(c, m, MSG_OUT);
  if (unchecked(txZcReq[m])) txDoneLnet(c, m);   // the peer's ZC-ACK
  upPeerReceived(c, m);
  msgFree(m);
}

function txDoneLnet(c: i32, m: i32): void {
  trace(unchecked(connEnt[c]), N_tx_done, c, unchecked(msgSerial[m]));
  upTxDone(c, m);
}

function incident(c: i32, m: i32, dir: i32, slot: i32, holds: i32, bad: i32, proto: bool): void {
  if (nIncidents < MAX_INC) {
    const i = nIncidents;
    unchecked(incT[i] = now);
    unchecked(incConn[i] = c);
    unchecked(incSerial[i] = unchecked(msgSerial[m]));
    unchecked(incDir[i] = dir);
    unchecked(incType[i] = unchecked(msgType[m]));
    unchecked(incNob[i] = unchecked(msgNob[m]));
    unchecked(incFirstSlot[i] = slot);
    unchecked(incHolds[i] = holds);
    unchecked(incBad[i] = bad);
    unchecked(incProto[i] = proto);
  }
  nIncidents++;
  if (proto) {
    nProtoErrors++;
    traceAnomaly(unchecked(connEnt[c]), N_eproto, unchecked(msgSerial[m]), slot, holds, -71);
  } else {
    nCorrupt++;
    if (dir == MSG_OUT) nCorruptAtPeer++;
    traceAnomaly(unchecked(connEnt[c]), N_corrupt, unchecked(msgSerial[m]), slot - 2, holds, bad);
  }
}

// ============================================================================================
// the scratch array and the copy through it
// ============================================================================================
function scratchFill(t: i32, c: i32, m: i32, off: i32, nob: i32, fnName: i32): void {
  const a = unchecked(thScratch[t]);
  const id = ++nextCall;
  // Another call still copying through this array: its kvecs are about to be replaced.
  chargeWork(<i64>nThreads >> 4);   // the scan over every scheduler thread
  for (let o = 0; o < nThreads; o++) {
    if (o != t && unchecked(callInFlight[o]) && unchecked(thScratch[o]) == a) {
      nOverlaps++;
      traceAnomaly(unchecked(thEnt[t]), N_overlap, a, 1000 + o, unchecked(callConn[o]), unchecked(callId[o]));
    }
  }
  unchecked(callId[t] = id);
  unchecked(callConn[t] = c);
  unchecked(callFn[t] = fnName);
  unchecked(callMsg[t] = m);
  unchecked(callSerial[t] = unchecked(msgSerial[m]));
  unchecked(callOff[t] = off);
  unchecked(callNob[t] = nob);
  unchecked(callFillT[t] = now);
  unchecked(callInFlight[t] = true);
  unchecked(scrMsg[a] = m);
  unchecked(scrSerial[a] = unchecked(msgSerial[m]));
  unchecked(scrOff[a] = off);
  unchecked(scrNob[a] = nob);
  unchecked(scrFiller[a] = t);
  unchecked(scrCall[a] = id);
  trace(unchecked(thEnt[t]), fnName, c, unchecked(msgSerial[m]), off, nob);
}

// Copies tags of `n` image bytes into `dst` tags of message dm at dOff. The source is
// either an incoming message on the wire (srcSerial > 0) or message sm's buffers.
function copyTags(dst: StaticArray<i32>, dm: i32, dOff: i32, n: i32, srcSerial: i32, sm: i32, sOff: i32): void {
  if (n <= 0) return;
  const last = min(slotOf(dOff + n - 1), slots - 1);
  chargeWork(<i64>(last - slotOf(dOff)) >> 4);   // a copy of many slots costs as several events
  for (let j = slotOf(dOff); j <= last; j++) {
    const p = max(slotStart(j), dOff);
    const q = sOff + (p - dOff);
    const tag = srcSerial > 0 ? tagOnWire(srcSerial, q) : tagInBuf(sm, q);
    unchecked(dst[dm * slots + j] = tag);
  }
}

function recordCollision(t: i32, a: i32, copied: i32): void {
  nCollisions++;
  const f = unchecked(scrFiller[a]);
  traceAnomaly(unchecked(thEnt[t]), N_collision, a, 1000 + f, unchecked(callConn[f]), unchecked(callSerial[f]));
  if (nCollisions > MAX_COLL) return;
  const k = nCollisions - 1;
  unchecked(collT[k] = now);
  unchecked(collScratch[k] = a);
  unchecked(collCopied[k] = copied);
  unchecked(collFillerDone[k] = !unchecked(callInFlight[f]));
  for (let i = 0; i < 2; i++) {
    const x = i == 0 ? t : f;
    unchecked(collThread[2 * k + i] = x);
    unchecked(collCall[2 * k + i] = unchecked(callId[x]));
    unchecked(collConn[2 * k + i] = unchecked(callConn[x]));
    unchecked(collFn[2 * k + i] = unchecked(callFn[x]));
    unchecked(collSerial[2 * k + i] = unchecked(callSerial[x]));
    unchecked(collOff[2 * k + i] = unchecked(callOff[x]));
    unchecked(collNob[2 * k + i] = unchecked(callNob[x]));
    unchecked(collFillT[2 * k + i] = unchecked(callFillT[x]));
  }
}

// kernel_recvmsg through the scratch array: the conn's socket bytes go wherever the
// array's kvecs point now. Returns the bytes consumed from the socket.
function copyRecv(t: i32, c: i32): i32 {
  const a = unchecked(thScratch[t]);
  const m = unchecked(rxMsg[c]);
  const pos = unchecked(rxPos[c]);
  let n = unchecked(callNob[t]);
  if (unchecked(scrCall[a]) == unchecked(callId[t])) {
    copyTags(bufTag, m, pos, n, unchecked(msgSerial[m]), -1, pos);
  } else {
    n = min(n, unchecked(scrNob[a]));
    recordCollision(t, a, n);
    const dm = unchecked(scrMsg[a]);
    // The buffer the kvecs name may already be recycled: the bytes land there regardless.
    if (unchecked(msgSerial[dm]) != 0) copyTags(bufTag, dm, unchecked(scrOff[a]), n, unchecked(msgSerial[m]), -1, pos);
  }
  unchecked(callInFlight[t] = false);
  trace(unchecked(thEnt[t]), N_recvmsg, c, n, a, unchecked(scrCall[a]));
  return n;
}

// kernel_sendmsg through the scratch array: the conn's socket is fed from wherever the
// array's kvecs point now. Returns the bytes queued on the socket.
function copySend(t: i32, c: i32, m: i32): i32 {
  const a = unchecked(thScratch[t]);
  const pos = unchecked(txPos[m]);
  let n = unchecked(callNob[t]);
  if (unchecked(scrCall[a]) == unchecked(callId[t])) {
    copyTags(wireTag, m, pos, n, 0, m, pos);
  } else {
    n = min(n, unchecked(scrNob[a]));
    recordCollision(t, a, n);
    const sm = unchecked(scrMsg[a]);
    if (unchecked(msgSerial[sm]) != 0) copyTags(wireTag, m, pos, n, 0, sm, unchecked(scrOff[a]));
    else for (let j = slotOf(pos); j <= min(slotOf(pos + n - 1), slots - 1); j++) unchecked(wireTag[m * slots + j] = 0);
  }
  unchecked(callInFlight[t] = false);
  trace(unchecked(thEnt[t]), N_sendmsg, c, n, a, unchecked(scrCall[a]));
  return n;
}

@inline function copyCost(n: i32): i64 {
  return COST_COPY_BASE + <i64>(<f64>n * cfgPsPerByte / 1000.0);
}

// ============================================================================================
// ksocknal_scheduler(): one step per modelled stretch of the loop
// ============================================================================================
export function ksocknalSchedulerStep(e: i32): void {
  const t = unchecked(entThread[e]);
  switch (unchecked(thAct[t])) {
    case A_START: {
      trace(e, N_start, unchecked(thCpt[t]), unchecked(thSid[t]), unchecked(thSched[t]), unchecked(thScratch[t]));
      loopTop(t);
      break;
    }
    case A_LOOP: loopBody(t); break;
    case A_RX_FILL: rxFill(t); break;
    case A_RX_COPY: rxCopy(t); break;
    case A_RX_PARSE: rxParse(t); break;
    case A_TX_FILL: txFill(t); break;
    case A_TX_COPY: txCopy(t); break;
    case A_TX_PAGE: txPage(t); break;
  }
}

function next(t: i32, act: i32, cost: i64): void {
  unchecked(thAct[t] = act);
  threadNext(unchecked(thEnt[t]), act, cost + unchecked(thSpin[t]));
  unchecked(thSpin[t] = 0);
}

function loopTop(t: i32): void {
  unchecked(thDid[t] = false);
  next(t, A_LOOP, COST_LOOP);
}

// "Ensure I progress everything semi-fairly": at most one rx conn, then one tx conn.
function loopBody(t: i32): void {
  const s = unchecked(thSched[t]);
  kssLock(s, t);
  const it = wqPop(unchecked(kssRxConns[s]));
  if (it < 0) { txPick(t); return; }
  const c = itemConn(it);
  if (!unchecked(rxScheduled[c]) || !unchecked(rxReady[c])) violation(c, 5, -1);
  // clear rx_ready BEFORE process_receive: data_ready may set it once the lock is dropped
  unchecked(rxReady[c] = false);
  if (unchecked(rxOwner[c]) >= 0) violation(c, 1, unchecked(rxOwner[c]));
  if (unchecked(txOwner[c]) >= 0) nSameConnOverlap++;
  unchecked(rxOwner[c] = t);
  unchecked(thConn[t] = c);
  trace(unchecked(thEnt[t]), N_proc_rx, c, unchecked(N_RX_STATE[rxState[c]]));
  next(t, A_RX_FILL, COST_FILL);
}

function rxWantedEnd(c: i32, m: i32): i32 {
  const st = unchecked(rxState[c]);
  if (st == SOCKNAL_RX_KSM_HEADER) return KSM_HDR;
  if (st == SOCKNAL_RX_LNET_HEADER) return KSOCK_MSG_HDR;
  return msgImage(m);
}

// ksocknal_receive -> ksocknal_recv_iov/kiov -> ksocknal_lib_recv_*: fill the scratch kvecs.
function rxFill(t: i32): void {
  const c = unchecked(thConn[t]);
  if (!unchecked(connUp[c])) { rxDone(t, c, -104); return; }   // shut down under us
  const avail = sockUnread(c);
  if (avail <= 0) { rxDone(t, c, -11); return; }   // -EAGAIN: the socket is dry
  let m = unchecked(rxMsg[c]);
  if (m < 0) {
    m = itemMsg(wqPop(unchecked(rxFifo[c])));
    unchecked(rxMsg[c] = m);
    unchecked(rxPos[c] = 0);
  }
  const pos = unchecked(rxPos[c]);
  const nob = <i32>Math.min(<f64>(rxWantedEnd(c, m) - pos), avail);
  scratchFill(t, c, m, pos, nob, unchecked(rxState[c]) == SOCKNAL_RX_LNET_PAYLOAD ? N_recv_kiov : N_recv_iov);
  next(t, A_RX_COPY, lockSock(c, copyCost(nob)));
}

function rxCopy(t: i32): void {
  const c = unchecked(thConn[t]);
  const m = unchecked(rxMsg[c]);
  const n = copyRecv(t, c);
  releaseSock(c);
  unchecked(rxRead[c] += <f64>n);
  unchecked(rxPos[c] += n);
  upRxSpace(c);
  if (unchecked(rxPos[c]) < rxWantedEnd(c, m)) { next(t, A_RX_FILL, COST_FILL); return; }
  const st = unchecked(rxState[c]);
  if (st == SOCKNAL_RX_KSM_HEADER) {
    unchecked(rxState[c] = SOCKNAL_RX_LNET_HEADER);
    next(t, A_RX_FILL, COST_FILL);
  } else if (st == SOCKNAL_RX_LNET_HEADER) {
    next(t, A_RX_PARSE, COST_PARSE);
  } else {
    rxComplete(t, c, m);
  }
}

// RX_LNET_HEADER done: the header is checked as the kernel would parse it, then lnet_parse()
// matches an MD and calls ksocknal_recv() synchronously, which moves the conn to
// RX_LNET_PAYLOAD ("I'm racing with ksocknal_recv()" - here it always wins).
function rxParse(t: i32): void {
  const c = unchecked(thConn[t]);
  const m = unchecked(rxMsg[c]);
  const bad = firstBadSlot(bufTag, m, 0, 2);
  trace(unchecked(thEnt[t]), N_parse, c, unchecked(msgSerial[m]), unchecked(msgNob[m]));
  if (bad >= 0) {
    // ksm_type/lnet_hdr not what the peer sent: -EPROTO, ksocknal_close_conn_and_siblings.
    incident(c, m, MSG_IN, bad, unchecked(bufTag[m * slots + bad]), 1, true);
    ksocknalCloseConnAndSiblings(c, -71);
    rxDone(t, c, -71);
    return;
  }
  unchecked(rxState[c] = SOCKNAL_RX_LNET_PAYLOAD);
  if (unchecked(msgNob[m]) == 0) { rxComplete(t, c, m); return; }
  next(t, A_RX_FILL, COST_FILL);
}

// Payload all received: lnet_finalize (the lab's end-to-end check), ksocknal_new_packet.
function rxComplete(t: i32, c: i32, m: i32): void {
  let status = 0;
  if (cfgPayloadCheck) {
    const n = msgSlots(m);
    const bad = firstBadSlot(bufTag, m, 2, n);
    if (bad >= 0) {
      incident(c, m, MSG_IN, bad, unchecked(bufTag[m * slots + bad]), countBadSlots(bufTag, m, 2, n), false);
      status = -5;
    }
  }
  trace(unchecked(thEnt[t]), N_finalize, c, unchecked(msgSerial[m]), status);
  unchecked(rxMsg[c] = -1);
  unchecked(rxState[c] = SOCKNAL_RX_KSM_HEADER);
  upRecvDone(c, m);
  msgFree(m);
  rxDone(t, c, 0);
}

// Back in ksocknal_scheduler under kss_lock after process_receive returned rc.
function rxDone(t: i32, c: i32, rc: i32): void {
  kssLock(unchecked(thSched[t]), t);
  if (rc == 0) unchecked(rxReady[c] = true);
  unchecked(rxOwner[c] = -1);
  if (unchecked(rxReady[c]) && unchecked(connUp[c])) {
    addRx(c);   // reschedule for rx: no wake-up
    trace(unchecked(thEnt[t]), N_rx_requeue, c, 1);
  } else {
    unchecked(rxScheduled[c] = false);
    connMaybeTerminate(c);   // drop my ref
  }
  unchecked(thDid[t] = true);
  txPick(t);
}

function txPick(t: i32): void {
  const s = unchecked(thSched[t]);
  const it = wqPop(unchecked(kssTxConns[s]));
  if (it < 0) { loopEnd(t); return; }
  const c = itemConn(it);
  const mi = wqPop(unchecked(txQueue[c]));
  if (!unchecked(txScheduled[c]) || !unchecked(txReady[c]) || mi < 0) violation(c, 6, -1);
  if (mi < 0) { loopEnd(t); return; }
  unchecked(txReady[c] = false);
  if (unchecked(txOwner[c]) >= 0) violation(c, 2, unchecked(txOwner[c]));
  if (unchecked(rxOwner[c]) >= 0) nSameConnOverlap++;
  unchecked(txOwner[c] = t);
  unchecked(thConn[t] = c);
  const m = itemMsg(mi);
  unchecked(thMsg[t] = m);
  if (unchecked(txPos[m]) == 0) {
    unchecked(msgStream[m] = unchecked(sndStream[c]));
    // ksocknal_check_zc_req: tx_zc_capable (payload >= zc_min_payload) on a zc-capable conn
    unchecked(txZcReq[m] = cfgNicOffload && unchecked(msgNob[m]) >= cfgZcMinPayload && unchecked(msgNob[m]) > 0);
  }
  trace(unchecked(thEnt[t]), N_proc_tx, c, unchecked(msgSerial[m]), msgImage(m) - unchecked(txPos[m]));
  unchecked(thDid[t] = true);
  next(t, A_TX_FILL, COST_FILL);
}

// ksocknal_transmit -> ksocknal_send_iov (header) / ksocknal_send_kiov (payload pages).
function txFill(t: i32): void {
  const c = unchecked(thConn[t]);
  const m = unchecked(thMsg[t]);
  if (!unchecked(connUp[c])) { txDone(t, c, m, -104); return; }   // shut down under us
  const space = cfgSndbuf - unchecked(sockQueued[c]);
  if (space <= 0) {
    unchecked(sockNospace[c] = true);   // tcp_sendmsg: SOCK_NOSPACE, -EAGAIN
    txDone(t, c, m, -11);
    return;
  }
  const pos = unchecked(txPos[m]);
  const end = pos < KSOCK_MSG_HDR ? KSOCK_MSG_HDR : msgImage(m);
  if (pos >= KSOCK_MSG_HDR && unchecked(txZcReq[m])) {
    // the zero-copy branch: sk_prot->sendpage of one kiov fragment, the scratch iov untouched
    const nob = min(min(PAGE_SIZE - ((pos - KSOCK_MSG_HDR) & (PAGE_SIZE - 1)), end - pos), space);
    unchecked(thZcNob[t] = nob);
    trace(unchecked(thEnt[t]), N_sendpage, c, unchecked(msgSerial[m]), pos, nob);
    next(t, A_TX_PAGE, lockSock(c, COST_SENDPAGE));
    return;
  }
  const nob = min(end - pos, space);
  scratchFill(t, c, m, pos, nob, pos < KSOCK_MSG_HDR ? N_send_iov : N_send_kiov);
  next(t, A_TX_COPY, lockSock(c, copyCost(nob)));
}

// sendpage queued a reference to the page itself: the wire gets the message's own bytes.
function txPage(t: i32): void {
  const c = unchecked(thConn[t]);
  const m = unchecked(thMsg[t]);
  const pos = unchecked(txPos[m]), n = unchecked(thZcNob[t]);
  copyTags(wireTag, m, pos, n, 0, m, pos);
  releaseSock(c);
  txQueued(t, c, m, n);
}

function txCopy(t: i32): void {
  const c = unchecked(thConn[t]);
  const m = unchecked(thMsg[t]);
  const n = copySend(t, c, m);
  releaseSock(c);
  txQueued(t, c, m, n);
}

// n more bytes of m are in the socket's send queue.
function txQueued(t: i32, c: i32, m: i32, n: i32): void {
  unchecked(txPos[m] += n);
  unchecked(sockQueued[c] += n);
  unchecked(sndStream[c] += <f64>n);
  armDrain(c);
  if (unchecked(txPos[m]) < msgImage(m)) { next(t, A_TX_FILL, COST_FILL); return; }
  wqAdd(unchecked(wireFifo[c]), msgItem(m));
  txDone(t, c, m, 0);
}

function txDone(t: i32, c: i32, m: i32, rc: i32): void {
  if (rc == 0) {
    if (!unchecked(txZcReq[m])) txDoneLnet(c, m);
    unchecked(txReady[c] = true);   // assume space for more
  } else {
    wqAddHead(unchecked(txQueue[c]), msgItem(m));   // incomplete: back on the HEAD
  }
  kssLock(unchecked(thSched[t]), t);
  unchecked(txOwner[c] = -1);
  if (unchecked(txReady[c]) && wqLen(unchecked(txQueue[c])) > 0 && unchecked(connUp[c])) {
    addTx(c);
    trace(unchecked(thEnt[t]), N_tx_requeue, c, 1);
  } else {
    unchecked(txScheduled[c] = false);
    connMaybeTerminate(c);   // drop my ref
  }
  unchecked(thDid[t] = true);
  loopEnd(t);
}

function loopEnd(t: i32): void {
  const e = unchecked(thEnt[t]);
  if (!unchecked(thDid[t])) {
    unchecked(thNloops[t] = 0);
    const s = unchecked(thSched[t]);
    if (wqLen(unchecked(kssRxConns[s])) == 0 && wqLen(unchecked(kssTxConns[s])) == 0) {
      trace(e, N_sleep, s);
      wqAdd(unchecked(kssWaitq[s]), e);
      unchecked(thAct[t] = A_LOOP);
      unchecked(thDid[t] = false);
      threadSleep(e, TASK_INTERRUPTIBLE, N_kss_waitq, A_LOOP, COST_WAKE);
      return;
    }
    loopTop(t);
    return;
  }
  unchecked(thNloops[t] += 1);
  if (unchecked(thNloops[t]) == SOCKNAL_RESCHED) {
    trace(e, N_resched, SOCKNAL_RESCHED);
    unchecked(thNloops[t] = 0);
    unchecked(thDid[t] = false);
    next(t, A_LOOP, COST_RESCHED);
    return;
  }
  loopTop(t);
}

// Queue lengths for the metrics: conns waiting on a sched's lists, and on a CPT's.
export function schedQueued(s: i32): i32 {
  return wqLen(unchecked(kssRxConns[s])) + wqLen(unchecked(kssTxConns[s]));
}

// Scheds, threads, conns and scratch arrays as they are now, for snapshots (the Stack
// view): who serves which connection, and which in-flight lib calls use each array.
export function socklndSnapshotJson(): void {
  jKey("scheds"); jArr();
  for (let s = 0; s < nScheds; s++) {
    jObj(); jKI("cpt", unchecked(kssCpt[s])); jKI("nconns", unchecked(kssNconns[s])); jKI("nthreads", unchecked(kssNthreads[s]));
    jKI("rxConns", wqLen(unchecked(kssRxConns[s]))); jKI("txConns", wqLen(unchecked(kssTxConns[s]))); jEndObj();
  }
  jEndArr();
  jKey("threads"); jArr();
  for (let t = 0; t < nThreads; t++) {
    jObj(); jKI("ent", unchecked(thEnt[t])); jKI("cpt", unchecked(thCpt[t])); jKI("sched", unchecked(thSched[t]));
    jKI("scratch", unchecked(thScratch[t])); jKI("conn", unchecked(thConn[t])); jKB("inCall", unchecked(callInFlight[t]));
    if (unchecked(callInFlight[t])) { jKName("fn", unchecked(callFn[t])); jKI("call", unchecked(callId[t])); jKI("callConn", unchecked(callConn[t])); jKI("nob", unchecked(callNob[t])); }
    jEndObj();
  }
  jEndArr();
  jKey("conns"); jArr();
  for (let c = 0; c < nConns; c++) {
    jObj(); jKI("peer", unchecked(connPeer[c])); jKI("type", unchecked(connType[c])); jKI("cpt", unchecked(connCpt[c]));
    jKI("sched", unchecked(connSched[c])); jKI("ent", unchecked(connEnt[c])); jKB("up", unchecked(connUp[c]));
    jKI("rxOwner", unchecked(rxOwner[c])); jKI("txOwner", unchecked(txOwner[c]));
    jKI("txQueue", connTxQueueLen(c)); jKI("rxFifo", connRxFifoLen(c)); jEndObj();
  }
  jEndArr();
  jKey("scratch"); jArr();
  for (let a = 0; a < nScratch; a++) {
    jObj(); jKB("perThread", unchecked(scrOwnerIsThread[a])); jKI("owner", unchecked(scrOwner[a]));
    jKI("filler", unchecked(scrFiller[a])); jKI("call", unchecked(scrCall[a]));
    jKey("users"); jArr();
    for (let t = 0; t < nThreads; t++) if (unchecked(callInFlight[t]) && unchecked(thScratch[t]) == a) jInt(t);
    jEndArr();
    jEndObj();
  }
  jEndArr();
}

export function cptQueued(cpt: i32): i32 {
  let n = 0;
  for (let s = 0; s < nScheds; s++) if (unchecked(kssCpt[s]) == cpt) n += schedQueued(s);
  return n;
}

export function threadOfEnt(e: i32): i32 { return unchecked(entThread[e]); }
export function connRxFifoLen(c: i32): i32 { return wqLen(unchecked(rxFifo[c])); }
export function connTxQueueLen(c: i32): i32 { return wqLen(unchecked(txQueue[c])); }
export function msgTxPos(m: i32): i32 { return unchecked(txPos[m]); }
export { msgConn, msgQueued };
