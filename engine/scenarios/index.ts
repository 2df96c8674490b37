// Registers every scenario's host-side spec in the catalog, in catalog order.
import { SCENARIOS } from "../catalog";
import type { ScenarioSpec } from "./types";
import { sunrpcUdpSlotHang } from "./sunrpc-udp-slot-hang";
import { sunrpcTcpCloseWait } from "./sunrpc-tcp-close-wait";
import { nfsOdirectRetransmit } from "./nfs-odirect-retransmit";
import { socklndScheduler } from "./socklnd-scheduler";
import { blktap2Teardown } from "./blktap2-teardown";

const specs: ScenarioSpec[] = [sunrpcUdpSlotHang, sunrpcTcpCloseWait, nfsOdirectRetransmit, socklndScheduler, blktap2Teardown];

for (const s of specs) if (!SCENARIOS.includes(s)) SCENARIOS.push(s);
