// The 2012 SUNRPC patches both scenarios toggle, as switches on the model's code paths
// (asm/sunrpc). Diffs: f39c1bfb from the seed's mail; the others from the research notes'
// stored sources (shared/research/sunrpc.md), marked where reconstructed.
import type { PatchSpec } from "../types";

export const LOCK_BEFORE_ALLOC: PatchSpec = {
  id: "xprt-lock-before-alloc",
  commit: "43cedbf0e8dfb9c5610eb7985d5f21263e313802",
  title: "SUNRPC: Ensure that we grab the XPRT_LOCK before calling xprt_alloc_slot",
  summary:
    "xprt_reserve() takes the transport write lock (xprt_lock_write -> ops->reserve_xprt) before it allocates a request slot, so that a congested transport (reconnecting, or out of socket buffer space) throttles new slot allocations too. On TCP this is what the dynamic slot table needs. On UDP, xprt_reserve_xprt_cong hands the lock to a slot allocator without a congestion credit, and __xprt_lock_write_next_cong wakes nobody while cong >= cwnd, slot allocators included: a credit-less lock holder now exists, and a task that kept its credit after losing the lock can be left asleep on xprt_sending with nothing in flight to wake it. This is the regression: on by default.",
  diff: [
    " void xprt_reserve(struct rpc_task *task)",
    " {",
    " \t...",
    " \ttask->tk_timeout = 0;",
    " \ttask->tk_status = -EAGAIN;",
    "+\tif (!xprt_lock_write(xprt, task))",
    "+\t\treturn;",
    "+",
    " \tspin_lock(&xprt->reserve_lock);",
    " \txprt_alloc_slot(task);",
    " \tspin_unlock(&xprt->reserve_lock);",
    "+\txprt_release_write(xprt, task);",
    " }",
    " ... and in xprt_reserve_xprt_cong():",
    "+\tif (req == NULL) {",
    "+\t\txprt->snd_task = task;",
    "+\t\treturn 1;",
    "+\t}",
  ].join("\n"),
  default: true,
  inferred:
    "The commit itself could not be retrieved; the diff is reconstructed from a 3.6-rc xprt.c carrying it (research notes [PRE]) and the 3.6.0 reserve functions.",
};

export const ALLOC_SLOT_OP: PatchSpec = {
  id: "xprt-alloc-slot-op",
  commit: "f39c1bfb5a03e2d255451bff05be0d7255298fa4",
  title: "SUNRPC: Fix a UDP transport regression",
  summary:
    "Adds an alloc_slot entry to struct rpc_xprt_ops and makes xprt_reserve() call it. UDP, RDMA and local transports use plain xprt_alloc_slot (no write lock: their slot tables are fixed), TCP uses xprt_lock_and_alloc_slot, which keeps 43cedbf0's lock-then-allocate order. On UDP a slot allocator never holds XPRT_LOCKED again, so the lock is only ever held by a task that also holds a congestion credit (or by the idle autoclose).",
  diff: [
    "@@ struct rpc_xprt_ops {",
    " \tint\t\t(*reserve_xprt)(struct rpc_xprt *xprt, struct rpc_task *task);",
    " \tvoid\t\t(*release_xprt)(struct rpc_xprt *xprt, struct rpc_task *task);",
    "+\tvoid\t\t(*alloc_slot)(struct rpc_xprt *xprt, struct rpc_task *task);",
    "@@ void xprt_reserve(struct rpc_task *task)",
    " \ttask->tk_timeout = 0;",
    " \ttask->tk_status = -EAGAIN;",
    "-\tif (!xprt_lock_write(xprt, task))",
    "-\t\treturn;",
    "-",
    "-\tspin_lock(&xprt->reserve_lock);",
    "-\txprt_alloc_slot(task);",
    "-\tspin_unlock(&xprt->reserve_lock);",
    "-\txprt_release_write(xprt, task);",
    "+\txprt->ops->alloc_slot(xprt, task);",
    "@@ static struct rpc_xprt_ops xs_udp_ops = {",
    " \t.release_xprt\t\t= xprt_release_xprt_cong,",
    "+\t.alloc_slot\t\t= xprt_alloc_slot,",
    "@@ static struct rpc_xprt_ops xs_tcp_ops = {",
    " \t.release_xprt\t\t= xs_tcp_release_xprt,",
    "+\t.alloc_slot\t\t= xprt_lock_and_alloc_slot,",
  ].join("\n"),
  default: false,
};

export const PUT_CONG_ON_SLEEP: PatchSpec = {
  id: "xprt-put-cong-on-sleep",
  commit: "not identified (present in later kernels' xprt_reserve_xprt_cong)",
  title: "xprt_reserve_xprt_cong: give the congestion credit back before sleeping on xprt_sending",
  summary:
    "In 3.6 a task that already holds a congestion credit (it lost the lock in xprt_connect's 'already connected' path, or on a write-space timeout) keeps that credit when xprt_reserve_xprt_cong puts it to sleep on xprt_sending. f39c1bfb removes the slot allocators that made this common on UDP, but the credit can still be stranded behind a transmitter when the other requests then time out and cwnd falls to one request. Later kernels return the credit at out_sleep. The lab offers it to show the remaining hazard closing; it is not part of the 2012 thread.",
  diff: [
    " \txprt_clear_locked(xprt);",
    " out_sleep:",
    "+\tif (req)",
    "+\t\t__xprt_put_cong(xprt, req);",
    " \ttask->tk_timeout = 0;",
    " \ttask->tk_status = -EAGAIN;",
  ].join("\n"),
  default: false,
  inferred: "Seen in a stored copy of a later (4.x) net/sunrpc/xprt.c; the commit that introduced it was not identified.",
};

export const RELEASE_ON_EARLY_EXIT: PatchSpec = {
  id: "xprt-release-lock-on-early-exit",
  commit: "87ed5003",
  title: "SUNRPC: Ensure we release the socket write lock if the rpc_task exits early",
  summary:
    "A task that slept on xprt_sending without a slot (xprt_lock_and_alloc_slot could not take XPRT_LOCKED) can be handed the lock by __xprt_lock_write_next and exit before it retries, e.g. when its process is killed: rpc_exit -> rpc_release_task -> xprt_release(), which returned at once because tk_rqstp == NULL, so XPRT_LOCKED stayed set with snd_task pointing at a dead task. With the fix, xprt_release() releases the write lock when the exiting task is snd_task.",
  diff: [
    " void xprt_release(struct rpc_task *task)",
    " {",
    " \tstruct rpc_xprt\t*xprt;",
    "-\tstruct rpc_rqst\t*req;",
    "+\tstruct rpc_rqst\t*req = task->tk_rqstp;",
    " ",
    "-\tif (!(req = task->tk_rqstp))",
    "+\tif (req == NULL) {",
    "+\t\tif (task->tk_client) {",
    "+\t\t\trcu_read_lock();",
    "+\t\t\txprt = rcu_dereference(task->tk_client->cl_xprt);",
    "+\t\t\tif (xprt->snd_task == task)",
    "+\t\t\t\txprt_release_write(xprt, task);",
    "+\t\t\trcu_read_unlock();",
    "+\t\t}",
    " \t\treturn;",
    "+\t}",
  ].join("\n"),
  default: false,
  inferred: "Only the short commit id is known (research notes; the 3.4-stable backport [L34S] carries the code). The lab also has rpc_release_resources_task() call xprt_release() unconditionally, which the fix needs to reach this code.",
};

export const CLOSE_ON_CLOSE_WAIT: PatchSpec = {
  id: "xs-tcp-close-on-close-wait",
  commit: "a519fc7a + d0bea455",
  title: "SUNRPC: Ensure that the TCP socket is closed when in CLOSE_WAIT; SUNRPC: Clear the connect flag when socket state is TCP_CLOSE_WAIT",
  summary:
    "When the server closes its end, xs_tcp_state_change(TCP_CLOSE_WAIT) now clears XPRT_CONNECTED and calls xs_tcp_force_close() (XPRT_CONNECTION_CLOSE + xprt_force_disconnect), so autoclose does a full xs_close() (sock_release, then a fresh connect) instead of shutdown(SHUT_WR), and a task that retries sending sees -ENOTCONN and goes to xprt_connect(). Neither helps when XPRT_LOCKED has leaked: autoclose still needs the lock.",
  diff: [
    "+static void xs_tcp_force_close(struct rpc_xprt *xprt)",
    "+{",
    "+\tset_bit(XPRT_CONNECTION_CLOSE, &xprt->state);",
    "+\txprt_force_disconnect(xprt);",
    "+}",
    " \tcase TCP_CLOSE_WAIT:",
    " \t\t/* The server initiated a shutdown of the socket */",
    "-\t\txprt_force_disconnect(xprt);",
    " \t\txprt->connect_cookie++;",
    "+\t\tclear_bit(XPRT_CONNECTED, &xprt->state);",
    "+\t\txs_tcp_force_close(xprt);",
  ].join("\n"),
  default: false,
  inferred: "Both commit ids are from memory (research notes); the code is from a later xprtsock.c ([POSTTCP]) that carries both changes.",
};
