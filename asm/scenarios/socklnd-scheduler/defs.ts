// socklnd-scheduler: what the scenario registers at module start (knobs, patches, PRNG
// streams, event kinds, names), in one place and in the order the trace's name ids follow.
import { CAT_NET, fn, name } from "../../kernel/names";
import { stream } from "../../kernel/prng";
import { knob, patch } from "../../kernel/config";
import { eventKind } from "../../kernel/events";
import { zeroed } from "../../kernel/mem";
import { MAX_CPTS } from "../../lnet/socklnd";

export const K_PEERS = knob("socklnd.peers");
export const K_CPTS = knob("socklnd.cpts");
export const K_CPUS = knob("socklnd.cpus_per_cpt");
export const K_NSCHEDS = knob("socklnd.nscheds");
export const K_HOT = knob("socklnd.hot_peers");
export const K_DIR = knob("socklnd.bulk_dir");          // 0 write, 1 read, 2 both
export const K_MSG = knob("socklnd.msg_size");
export const K_CPB = knob("socklnd.copy_ns_per_kib");
export const K_CHECK = knob("socklnd.payload_check");
export const K_DUR = knob("socklnd.duration_ms");
export const K_LINK = knob("socklnd.link_gbps");
export const K_COLD = knob("socklnd.cold_interval_us");
export const K_ZC = knob("socklnd.zc_min_payload");
export const K_NIC = knob("socklnd.nic_offload");
export const K_STRESS = knob("stress_per_1k");
export const P_SHARED = patch("socklnd-shared-sched");
export const P_SCRATCH = patch("socklnd-per-thread-scratch");

export const S_CONN = stream("socklnd.connd");
export const S_COLD = stream("socklnd.cold");

export const EV_CONNECT = eventKind("lnet.peer_connect");   // obj = peer, arg = step (0..2), + RECONNECT for one type alone
export const EV_ARRIVE = eventKind("lnet.arrive");    // obj = conn, arg = bytes
export const EV_COLD = eventKind("lnet.cold");      // obj = peer
export const EV_SAMPLE = eventKind("lnet.sample");
export const EV_END = eventKind("lnet.end");
export const EV_RETRY = eventKind("lnet.retry");     // obj = conn: the peer retries after a full pool

export const MAX_PEERS: i32 = 64;
export const PEER_CREDITS: i32 = 8;
export const MIN_BULK: i32 = 1024;
export const SMALL_PUT: i32 = 512;
export const CHUNK: i32 = 65536;

// Names registered at module start (the host reads the table before the build).
export const N_peerNid = zeroed<i32>(MAX_PEERS);
for (let i = 0; i < MAX_PEERS; i++) unchecked(N_peerNid[i] = name("192.168.1." + (11 + i).toString() + "@tcp"));
export const N_threadComm = zeroed<i32>(MAX_CPTS * 16);
for (let c = 0; c < MAX_CPTS; c++) {
  for (let s = 0; s < 16; s++) {
    unchecked(N_threadComm[c * 16 + s] = name("socknal_sd0" + c.toString() + "_" + (s < 10 ? "0" : "") + s.toString()));
  }
}
export const N_lnet_send = fn("lnet_send", "peer=%d type=%d nob=%d credits=%d", CAT_NET);
export const N_peer_send = fn("peer tcp_sendmsg", "conn=%d msg=%d type=%d nob=%d", CAT_NET);
export const N_reconnect = fn("peer ksocknal_connd: reconnect", "peer=%d type=%n", CAT_NET);
