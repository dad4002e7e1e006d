import {
  CHARM_SEALED_MESSAGE,
  interpretStatusExit,
  isCharmSealedMessage,
  parseVaultStatus,
  readVaultStatus,
  unsealPlan,
  vaultVerdict,
  type VaultStatus,
} from "../../gates/vault";
import { mustParse, readFixture } from "../fixtures";

const fixture = readFixture;

const status = (rel: string): VaultStatus => mustParse(parseVaultStatus(fixture(rel)));

const sealed = (over: Partial<VaultStatus> = {}): VaultStatus => ({
  type: "shamir",
  initialized: true,
  sealed: true,
  t: 3,
  n: 5,
  progress: 0,
  ...over,
});

describe("parseVaultStatus on the recorded outputs", () => {
  it.each([
    ["vault/status-sealed.json", { sealed: true, t: 3, n: 5, progress: 0 }],
    ["vault/status-unsealed.json", { sealed: false, t: 3, n: 5, progress: 0 }],
    ["vault/api-sys-seal-status-sealed.json", { sealed: true, t: 3, n: 5, progress: 2 }],
    ["vault/api-sys-seal-status-unsealed.json", { sealed: false, t: 3, n: 5, progress: 0 }],
    ["vault/api-sys-unseal-response-progress1.json", { sealed: true, t: 3, n: 5, progress: 1 }],
    ["vault/api-sys-unseal-response-unsealed.json", { sealed: false, t: 3, n: 5, progress: 0 }],
  ])("reads %s as an initialized shamir vault with the recorded seal state", (rel, expected) => {
    expect(status(rel)).toEqual({ type: "shamir", initialized: true, ...expected });
  });

  it("keeps nothing beyond the fields the gate decides on (no nonce, no cluster id)", () => {
    expect(Object.keys(status("vault/api-sys-unseal-response-progress1.json")).sort()).toEqual(
      ["initialized", "n", "progress", "sealed", "t", "type"].sort(),
    );
  });

  it("accepts a pre-1.10 status that has no build_date and no HA fields", () => {
    const old = JSON.parse(fixture("vault/status-sealed.json")) as Record<string, unknown>;
    for (const k of ["build_date", "ha_enabled", "active_time", "migration", "recovery_seal", "storage_type"])
      delete old[k];
    old.version = "1.8.12";
    const r = parseVaultStatus(JSON.stringify(old));
    expect(r).toEqual({ ok: true, value: sealed() });
  });

  it("refuses the unseal request body, naming the missing field", () => {
    const r = parseVaultStatus(fixture("vault/api-sys-unseal-request.json"));
    expect(r).toEqual({ ok: false, error: "vault status: expected initialized to be boolean, found nothing" });
  });

  it.each(["vault/status-sealed.table.txt", "vault/status-unsealed.table.txt"])(
    "refuses the table output %s as not JSON without echoing it",
    (rel) => {
      const r = parseVaultStatus(fixture(rel));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/^vault status: expected JSON output, found \d+ characters of non-JSON text/);
        expect(r.error).not.toContain("Seal Type");
      }
    },
  );

  it("says it found nothing when vault printed nothing", () => {
    expect(parseVaultStatus("  \n")).toEqual({ ok: false, error: "vault status: expected JSON output, found nothing" });
  });
});

describe("interpretStatusExit", () => {
  it("reads exit 0 as unsealed, exit 2 as sealed (data, not a failure) and anything else as an error", () => {
    expect(interpretStatusExit(0)).toBe("unsealed");
    expect(interpretStatusExit(2)).toBe("sealed");
    expect(interpretStatusExit(1)).toBe("error");
    expect(interpretStatusExit(127)).toBe("error");
    expect(interpretStatusExit(null)).toBe("error");
  });
});

describe("readVaultStatus", () => {
  it("accepts the sealed status that came with exit 2", () => {
    expect(readVaultStatus(2, fixture("vault/status-sealed.json"))).toEqual({ ok: true, value: sealed() });
  });

  it("accepts the unsealed status that came with exit 0", () => {
    const r = readVaultStatus(0, fixture("vault/status-unsealed.json"));
    expect(r.ok && r.value.sealed).toBe(false);
  });

  it("treats exit 1 as a failed call whatever was printed", () => {
    expect(readVaultStatus(1, fixture("vault/status-sealed.json"))).toEqual({
      ok: false,
      error: "vault status: exited 1 (0 = unsealed, 2 = sealed)",
    });
  });

  it("refuses an exit code that contradicts the JSON", () => {
    const r = readVaultStatus(0, fixture("vault/status-sealed.json"));
    expect(r).toEqual({ ok: false, error: "vault status: exit 0 says unsealed but the JSON says sealed=true" });
  });
});

describe("unsealPlan", () => {
  it("asks for the full threshold on a freshly restarted vault (3 of 5, progress 0)", () => {
    expect(unsealPlan(status("vault/status-sealed.json"), 3)).toEqual({ action: "unseal", keysNeeded: 3 });
  });

  it("asks only for the keys still missing when progress is already 2 of 3", () => {
    expect(unsealPlan(status("vault/api-sys-seal-status-sealed.json"), 5)).toEqual({ action: "unseal", keysNeeded: 1 });
  });

  it("asks for 2 more after the first key was accepted", () => {
    expect(unsealPlan(status("vault/api-sys-unseal-response-progress1.json"), 2)).toEqual({
      action: "unseal",
      keysNeeded: 2,
    });
  });

  it("does nothing on an unsealed vault", () => {
    expect(unsealPlan(status("vault/status-unsealed.json"), 0)).toEqual({ action: "none" });
    expect(unsealPlan(status("vault/api-sys-unseal-response-unsealed.json"), 3)).toEqual({ action: "none" });
  });

  it("reads the threshold from the status instead of assuming 3 (t=2 of n=3, progress 1 needs 1)", () => {
    expect(unsealPlan(sealed({ t: 2, n: 3, progress: 1 }), 1)).toEqual({ action: "unseal", keysNeeded: 1 });
  });

  it("is a blocker when fewer keys are available than needed, and says escalate", () => {
    const plan = unsealPlan(status("vault/status-sealed.json"), 2);
    expect(plan.action).toBe("blocker");
    if (plan.action === "blocker") {
      expect(plan.reason).toContain("2 unseal key(s) available, 3 needed");
      expect(plan.reason).toContain("escalate, never improvise (re-init wipes the TLS plane)");
    }
  });

  it("is a blocker with no keys at all", () => {
    expect(unsealPlan(sealed(), 0).action).toBe("blocker");
  });

  it("is a blocker on an uninitialized vault and never suggests init", () => {
    const plan = unsealPlan(sealed({ initialized: false, t: 0, n: 0 }), 5);
    expect(plan.action).toBe("blocker");
    if (plan.action === "blocker") {
      expect(plan.reason).toContain("never run vault operator init");
      expect(plan.reason).toContain("escalate, never improvise (re-init wipes the TLS plane)");
    }
  });

  it("is a blocker on an auto-unseal vault, where unseal keys do not apply", () => {
    expect(unsealPlan(sealed({ type: "awskms" }), 5).action).toBe("blocker");
  });

  it("is a blocker when the status is inconsistent (progress already at threshold yet sealed)", () => {
    expect(unsealPlan(sealed({ progress: 3 }), 5).action).toBe("blocker");
  });
});

describe("vaultVerdict", () => {
  it("passes only when every unit is unsealed", () => {
    const v = vaultVerdict([
      { unit: "vault/0", status: status("vault/status-unsealed.json") },
      { unit: "vault/1", status: status("vault/api-sys-unseal-response-unsealed.json") },
    ]);
    expect(v).toMatchObject({ ok: true, state: "unsealed" });
    expect(v.route).toBeUndefined();
    expect(v.details).toEqual(["vault/0: unsealed", "vault/1: unsealed"]);
  });

  it("routes to vault-sealed when one unit is still sealed, naming it and its progress", () => {
    const v = vaultVerdict([
      { unit: "vault/0", status: status("vault/status-unsealed.json") },
      { unit: "vault/1", status: status("vault/api-sys-unseal-response-progress1.json") },
    ]);
    expect(v).toMatchObject({ ok: false, state: "sealed", route: "vault-sealed" });
    expect(v.summary).toContain("vault/1");
    expect(v.details).toContain("vault/1: sealed (unseal progress 1/3, threshold 3 of 5)");
  });

  it("routes an uninitialized unit to the keys-missing blocker, not to an unseal", () => {
    const v = vaultVerdict([{ unit: "vault/0", status: sealed({ initialized: false }) }]);
    expect(v).toMatchObject({ ok: false, state: "sealed", route: "vault-keys-missing" });
  });

  it("is unknown when a unit's status could not be read", () => {
    const v = vaultVerdict([
      { unit: "vault/0", status: status("vault/status-unsealed.json") },
      { unit: "vault/1", status: null },
    ]);
    expect(v).toMatchObject({ ok: false, state: "unknown", route: "tool-unavailable" });
  });

  it("is unknown, not ok, when no unit reported at all", () => {
    expect(vaultVerdict([])).toMatchObject({ ok: false, state: "unknown" });
  });
});

describe("isCharmSealedMessage on every message the vault charm can set", () => {
  const rows = fixture("vault/charm-workload-status-messages.txt")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split("\t") as [string, string]);

  it("has the recorded rows", () => {
    expect(rows.length).toBe(17);
  });

  it("recognises exactly one of them as sealed: blocked + 'Unit is sealed'", () => {
    const hits = rows.filter(([w, m]) => isCharmSealedMessage(w, m));
    expect(hits).toEqual([["blocked", CHARM_SEALED_MESSAGE]]);
  });

  it("does not call 'Vault needs to be initialized' sealed (that is the never-init case)", () => {
    expect(isCharmSealedMessage("blocked", "Vault needs to be initialized")).toBe(false);
  });

  it("needs the blocked workload status, not just the words", () => {
    expect(isCharmSealedMessage("active", "Unit is sealed")).toBe(false);
    expect(isCharmSealedMessage("blocked", "Unit is sealed, waiting")).toBe(false);
  });
});

describe("unseal keys never reach any output", () => {
  const KEY = "Zq9+SECRETunsealKEYx7/Kp0aL3mN5bV8cX2zW4yT6uR1eQ=";
  const HEX = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012";

  function everyOutput(text: string, exit: number): unknown[] {
    const parsed = parseVaultStatus(text);
    const read = readVaultStatus(exit, text);
    const out: unknown[] = [parsed, read];
    for (const r of [parsed, read]) {
      if (r.ok) {
        for (const keys of [0, 1, 2, 3, 5]) out.push(unsealPlan(r.value, keys));
        out.push(vaultVerdict([{ unit: "vault/0", status: r.value }]));
      }
    }
    return out;
  }

  const base = JSON.parse(fixture("vault/api-sys-unseal-response-progress1.json")) as Record<string, unknown>;
  const planted: [string, string, number][] = [];
  for (const secret of [KEY, HEX]) {
    planted.push(
      [
        "in the nonce, version, cluster name and an extra key field",
        JSON.stringify({ ...base, nonce: secret, version: secret, cluster_name: secret, key: secret }),
        2,
      ],
      ["as the seal type", JSON.stringify({ ...base, type: secret }), 2],
      ["as a wrongly typed sealed field", JSON.stringify({ ...base, sealed: secret }), 2],
      ["as a wrongly typed threshold", JSON.stringify({ ...base, t: secret }), 2],
      ["as non-JSON error text", `Error unsealing: ${secret} is not a valid key\n`, 2],
      ["as the whole output", secret, 1],
      ["in the unseal request body", JSON.stringify({ key: secret }), 2],
      ["in an unsealed status", JSON.stringify({ ...base, sealed: false, progress: 0, nonce: secret }), 0],
    );
  }

  it.each(planted)("a key planted %s shows up nowhere", (_where, text, exit) => {
    const secrets = [KEY, HEX];
    const dump = JSON.stringify(everyOutput(text, exit));
    for (const s of secrets) {
      expect(dump).not.toContain(s);
      // not even a long fragment of it
      expect(dump).not.toContain(s.slice(4, 20));
    }
  });

  it("a key planted in the charm message does not make it a sealed message", () => {
    expect(isCharmSealedMessage("blocked", `Unit is sealed ${KEY}`)).toBe(false);
  });
});
