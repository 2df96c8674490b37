// One import per scenario: each registers itself (name and build function) at module
// start. The catalog order is the host's (engine/scenarios), not this file's.
import "./sunrpc_udp_slot_hang";
import "./sunrpc_tcp_close_wait";
import "./socklnd-scheduler/build";
import "./nfs-odirect-retransmit/build";
import "./blktap2-teardown/build";
