// One import per scenario: each registers itself (name and build function) at module
// start. The catalog order is the host's (engine/scenarios), not this file's.
import "./sunrpc-udp-slot-hang/build";
import "./sunrpc-tcp-close-wait/build";
import "./socklnd-scheduler/build";
import "./nfs-odirect-retransmit/build";
import "./blktap2-teardown/build";
