// One import per scenario: each registers itself (name and build function) at module
// start. The catalog order is the host's (engine/scenarios), not this file's.
import "./socklnd_scheduler";
import "./nfs_odirect_retransmit";
import "./blktap2_teardown";
