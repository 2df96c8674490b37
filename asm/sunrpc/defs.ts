// Constants of the 3.5/3.6 SUNRPC client, named as in include/linux/sunrpc/{xprt,sched}.h,
// net/sunrpc/xprt.c and the errno values the code paths pass around.
import { NSEC_PER_MSEC } from "../kernel/clock";

// errno, for the code paths that pass them around
export {
  EIO, EAGAIN, ENOMEM, EPIPE, ENOTSOCK, ECONNRESET, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, ERESTARTSYS,
} from "../kernel/errno";

// rpc_task->tk_flags (sched.h)
export const RPC_TASK_ASYNC: i32 = 0x0001;
export const RPC_CALL_MAJORSEEN: i32 = 0x0020;
export const RPC_TASK_KILLED: i32 = 0x0100;
export const RPC_TASK_SOFT: i32 = 0x0200;
export const RPC_TASK_SENT: i32 = 0x0800;

// rpc_xprt->state bits (xprt.h)
export const XPRT_LOCKED: i32 = 0;
export const XPRT_CONNECTED: i32 = 1;
export const XPRT_CONNECTING: i32 = 2;
export const XPRT_CLOSE_WAIT: i32 = 3;
export const XPRT_BOUND: i32 = 4;
export const XPRT_BINDING: i32 = 5;
export const XPRT_CLOSING: i32 = 6;
export const XPRT_CONNECTION_ABORT: i32 = 7;
export const XPRT_CONNECTION_CLOSE: i32 = 8;

// rpc priorities; wait-queue list index = priority - RPC_PRIORITY_LOW
export const RPC_PRIORITY_LOW: i32 = -1;
export const RPC_PRIORITY_NORMAL: i32 = 0;
export const RPC_PRIORITY_HIGH: i32 = 1;
export const RPC_PRIORITY_PRIVILEGED: i32 = 2;
export const RPC_NR_PRIORITY: i32 = 4;
export const RPC_BATCH_COUNT: i32 = 16;

// congestion window (xprt.c)
export const RPC_CWNDSHIFT: i32 = 8;
export const RPC_CWNDSCALE: i32 = 1 << RPC_CWNDSHIFT;
export const RPC_INITCWND: i32 = RPC_CWNDSCALE;

// slot tables
export const RPC_MIN_SLOT_TABLE: i32 = 2;
export const RPC_DEF_SLOT_TABLE: i32 = 16;

// jiffies: the model runs with HZ=1000, so tk_timeout prints in milliseconds.
export const HZ: i64 = 1000;
export const JIFFY: i64 = NSEC_PER_MSEC;

// xprtsock.c
export const XS_IDLE_DISC_TO: i64 = 5 * 60 * 1000 * JIFFY;
export const XS_TCP_INIT_REEST_TO: i64 = 3 * 1000 * JIFFY;
export const XS_TCP_MAX_REEST_TO: i64 = 5 * 60 * 1000 * JIFFY;
export const XS_TCP_LINGER_TO: i64 = 15 * 1000 * JIFFY;
export const XS_BIND_TO: i64 = 60 * 1000 * JIFFY;

// RTT estimator (timer.c)
export const RPC_RTO_MAX: i64 = 60 * HZ;
export const RPC_RTO_INIT: i64 = HZ / 5;
export const RPC_RTO_MIN: i64 = HZ / 10;

// transports
export const XPRT_UDP: i32 = 0;
export const XPRT_TCP: i32 = 1;

// NFSv3 procedures the workloads issue, with the rpc_procinfo p_timer of nfs3proc
export const NFS3PROC_GETATTR: i32 = 1;
export const NFS3PROC_WRITE: i32 = 7;
export const NFS3PROC_COMMIT: i32 = 21;

export function procTimer(proc: i32): i32 {
  if (proc == NFS3PROC_GETATTR) return 1;
  if (proc == NFS3PROC_WRITE) return 4;
  if (proc == NFS3PROC_COMMIT) return 5;
  return 0;
}

// model limits: rpc_task structs (recycled), rpc_rqst slots
export const MAX_TASKS: i32 = 4096;
export const MAX_XPRT: i32 = 4;         // rpc_xprt instances (mounts) per world
export const MAX_RQST: i32 = 1024;
