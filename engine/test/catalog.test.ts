// The words the lab puts on a configuration: "as shipped" only for the default set, every
// other set names its changes, and an expects line never mixes outcomes of different sets.
import { describe, expect, it } from "vitest";
import "../scenarios/index";
import { SCENARIOS, changeLabel, commitUrl, expectedFor, outcomeLabel, scenarioById, threadUrl } from "../catalog";
import { defaultKnobs, defaultPatches } from "../config";

const udp = scenarioById("sunrpc-udp-slot-hang")!;
const tcp = scenarioById("sunrpc-tcp-close-wait")!;
const odirect = scenarioById("nfs-odirect-retransmit")!;

describe("outcome labels", () => {
  it("say 'as shipped' for exactly the default set and name a default patch switched off", () => {
    expect(changeLabel(udp, defaultPatches(udp))).toBe("as shipped");
    expect(changeLabel(udp, { ...defaultPatches(udp), "xprt-lock-before-alloc": false })).toBe("without 43cedbf0");
    expect(changeLabel(udp, { "xprt-alloc-slot-op": true })).toBe("with f39c1bfb");
    expect(changeLabel(odirect, defaultPatches(odirect), { app: "xen-unmap" })).toBe("app=xen-unmap");
  });

  it("are distinct within every scenario", () => {
    for (const s of SCENARIOS) {
      const labels = s.expected.map((e) => outcomeLabel(s, e));
      const sets = s.expected.map((e) => JSON.stringify([{ ...defaultPatches(s), ...e.patches }, { ...defaultKnobs(s), ...e.knobs }]));
      expect(new Set(labels).size, s.id).toBe(new Set(sets).size);
    }
  });
});

describe("expectedFor", () => {
  it("gives every expected set only its own outcomes", () => {
    for (const s of SCENARIOS) {
      for (const e of s.expected) {
        const got = expectedFor(s, { ...defaultPatches(s), ...e.patches }, { ...defaultKnobs(s), ...e.knobs });
        expect(got, `${s.id} ${outcomeLabel(s, e)}`).toContain(e);
        for (const g of got) expect(outcomeLabel(s, g)).toBe(outcomeLabel(s, e));
      }
    }
  });

  it("does not match the as-shipped outcome once a fix is on (TCP with 87ed5003)", () => {
    const got = expectedFor(tcp, { ...defaultPatches(tcp), "xprt-release-lock-on-early-exit": true }, defaultKnobs(tcp));
    expect(got.map((x) => x.verdict)).toEqual(["ok"]);
  });

  it("keys on the knobs an outcome names (O_DIRECT app)", () => {
    expect(expectedFor(odirect, defaultPatches(odirect), { ...defaultKnobs(odirect), app: "xen-unmap" }).map((x) => x.verdict)).toEqual(["crash"]);
    expect(expectedFor(odirect, defaultPatches(odirect), defaultKnobs(odirect)).map((x) => x.verdict)).toEqual(["corruption"]);
  });
});

describe("public pages", () => {
  it("link plain commit ids and the reproduced threads, and nothing else", () => {
    expect(commitUrl(udp, "43cedbf0e8dfb9c5610eb7985d5f21263e313802")).toBe("https://git.kernel.org/linus/43cedbf0e8dfb9c5610eb7985d5f21263e313802");
    expect(commitUrl(odirect, "unmerged")).toBeNull();
    expect(threadUrl(scenarioById("socklnd-scheduler")!)).toBe("https://jira.whamcloud.com/browse/LU-11415");
    expect(threadUrl(udp)).toBe(`https://lore.kernel.org/linux-nfs/?q=${encodeURIComponent('"RPC hang on UDP"')}`);
  });
});
