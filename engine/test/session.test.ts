// The lab worker's session: the state at the cursor comes from the finished run or from a
// kept checkpoint run forward, never from a re-run of the whole world when one can answer.
import { describe, expect, it, vi } from "vitest";
import { loadModule } from "../node/load";
import { Session } from "../browser/session";
import { World } from "../world";

describe("state at the cursor", () => {
  it("answers from the finished run or the latest checkpoint before the cursor", () => {
    const s = new Session(loadModule());
    const v = s.run({ scenario: "sunrpc-udp-slot-hang", seed: 3 });
    const end = v.details.simTimeNs;
    const create = vi.spyOn(World, "create");
    expect(s.snapshotAt(end).time).toBe(end);
    expect(create).not.toHaveBeenCalled();
    const a = s.snapshotAt(end * 0.5), b = s.snapshotAt(end * 0.8);
    expect(create).toHaveBeenCalledTimes(1);            // one world, run forward
    s.snapshotAt(end * 0.2);
    expect(create).toHaveBeenCalledTimes(2);            // before every checkpoint: from 0
    const again = s.snapshotAt(end * 0.5);               // forward from the one at 0.2
    expect(create).toHaveBeenCalledTimes(2);
    expect(again).toEqual(a);
    expect(s.snapshotAt(end * 0.8)).toEqual(b);
    create.mockRestore();
  });

  it("builds a capture up to its cap, and past it names the CLI line that streams it", () => {
    const s = new Session(loadModule());
    s.run({ scenario: "nfs-odirect-retransmit", seed: 2, knobs: { write_kb: 64, concurrency: 16 } });
    const whole = s.pcap()!;
    expect(whole.length).toBeGreaterThan(2 << 20);
    expect(() => s.pcap(1 << 20)).toThrow(/^the capture is over 1 MiB.*: npx iostack export pcap nfs-odirect-retransmit --seed 2 --knob write_kb=64 --knob concurrency=16 -o capture\.pcap$/);
  });

  it("reports progress while it runs", () => {
    const s = new Session(loadModule());
    const seen: number[] = [];
    s.run({ scenario: "sunrpc-tcp-close-wait", seed: 1, knobs: { svc_age_period_s: 0.001 } }, (p) => seen.push(p.cost / p.costBudget));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});
