/**
 * Issue #23 item 1, the pure decisions a resume makes from the cloud's state and its own note:
 * which unseal key comes next (gates/vault.ts unsealStart), whether a sweep restart already ran
 * (gates/ovn.ts restartTookEffect).
 */
import { unsealStart } from "../../gates/vault";
import { restartTookEffect } from "../../gates/ovn";

describe("unsealStart: Vault's progress against this window's own earlier unseal", () => {
  it("no progress: from the first key, no reset", () => {
    expect(unsealStart({ progress: 0 }, undefined)).toEqual({ from: 0, reset: false, ours: false });
    expect(unsealStart({ progress: 0 }, { sending: 1 })).toEqual({ from: 0, reset: false, ours: false });
  });

  it("progress the earlier run explains (killed after key k was counted, or before): from the next uncounted key", () => {
    expect(unsealStart({ progress: 2 }, { sending: 1 })).toEqual({ from: 2, reset: false, ours: true });
    expect(unsealStart({ progress: 1 }, { sending: 1 })).toEqual({ from: 1, reset: false, ours: true });
  });

  it("progress nobody here made (no note, or one it cannot explain): reset and start over", () => {
    expect(unsealStart({ progress: 1 }, undefined)).toEqual({ from: 0, reset: true, ours: false });
    expect(unsealStart({ progress: 2 }, { sending: 0 })).toEqual({ from: 0, reset: true, ours: false });
    expect(unsealStart({ progress: 1 }, { sending: 2 })).toEqual({ from: 0, reset: true, ours: false });
  });
});

describe("restartTookEffect: systemd InvocationIDs before and after", () => {
  const earlier = { services: "ovs-vswitchd ovn-controller", before: ["a1", "b1"] };
  it("every id new: the earlier restart ran", () => {
    expect(restartTookEffect(earlier, earlier.services, ["a2", "b2"])).toBe(true);
  });
  it("same ids, one id the same, none read, no note, other services: it did not (send it)", () => {
    expect(restartTookEffect(earlier, earlier.services, ["a1", "b1"])).toBe(false);
    expect(restartTookEffect(earlier, earlier.services, ["a2", "b1"])).toBe(false);
    expect(restartTookEffect(earlier, earlier.services, undefined)).toBe(false);
    expect(restartTookEffect(earlier, earlier.services, ["", ""])).toBe(false);
    expect(restartTookEffect(undefined, earlier.services, ["a2", "b2"])).toBe(false);
    expect(restartTookEffect(earlier, "neutron-server", ["a2", "b2"])).toBe(false);
  });
});
