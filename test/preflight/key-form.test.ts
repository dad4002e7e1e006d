/**
 * Issue #23: an unseal key of a form Vault refuses (hashicorp/vault http/sys_seal.go
 * handleSysUnseal: hex, else standard base64; vault/core.go Unseal: 16 to 33 bytes) is found at
 * preflight, before anything is shut down, and by the unseal step before it sends any key -- not
 * by Vault at Stage 3 after every host was restarted. The line names the key by position only.
 */
import { vaultKeysCheck } from "../../preflight/checks";
import { keysOf } from "../../preflight/run";
import { malformedKeys, vaultAcceptsKeyForm } from "../../runtime/unseal-keys";
import { vaultUnseal } from "../../steps/vault";
import { fakeExec, jujuExecReply, testContext } from "../support/fake-exec";
import { readFixture } from "../fixtures";
import { sealedVaultAppStatus } from "../support/vault-app-status";

const B64_33 = Buffer.alloc(33, 7).toString("base64"); // what `vault operator init` prints (44 characters)
const HEX_33 = Buffer.alloc(33, 9).toString("hex"); // unseal_keys_hex (66 characters)
const BAD = "not-a-key!";

describe("vaultAcceptsKeyForm (Vault's decode rules)", () => {
  it.each([
    [B64_33, true],
    [HEX_33, true],
    [Buffer.alloc(16, 1).toString("hex"), true], // the shortest share hex takes
    [Buffer.alloc(16, 1).toString("base64"), true],
    [Buffer.alloc(15, 1).toString("base64"), false], // "key is shorter than minimum 16 bytes"
    [Buffer.alloc(34, 1).toString("hex"), false], // 34 bytes in hex: then base64 of 68 characters = 51 bytes
    [Buffer.alloc(32, 1).toString("base64").replace(/=+$/, ""), false], // Go's StdEncoding wants its padding
    [BAD, false],
    [`${B64_33.slice(0, 20)} ${B64_33.slice(21)}`, false],
    ["", false],
  ])("%s -> %s", (key, ok) => {
    expect(vaultAcceptsKeyForm(key)).toBe(ok);
  });
});

const SEALED_3_OF_5 = {
  ok: true as const,
  value: [
    {
      unit: "vault/0",
      status: {
        ok: true as const,
        value: { type: "shamir", initialized: true, sealed: false, t: 3, n: 5, progress: 0 },
      },
    },
  ],
};

describe("preflight vault-keys", () => {
  it("a key of the wrong form is a BLOCKER naming it by position, never its value or length", () => {
    const env = { COLDSTART_UNSEAL_KEY_1: B64_33, COLDSTART_UNSEAL_KEY_2: BAD, COLDSTART_UNSEAL_KEY_3: HEX_33 };
    const keys = keysOf(env);
    expect(keys).toMatchObject({ ok: true, count: 3, malformed: [2] });
    const check = vaultKeysCheck(SEALED_3_OF_5, keys);
    expect(check.status).toBe("blocker");
    expect(check.summary).toMatch(
      /^unseal key 2 of 3 \(3 key\(s\) from COLDSTART_UNSEAL_KEY_1\.\.3\) is not of a form Vault accepts/,
    );
    expect(check.summary).toContain("copy it again");
    const said = JSON.stringify(check);
    expect(said).not.toContain(BAD);
    expect(said).not.toMatch(new RegExp(`\\b${BAD.length}\\b`));
  });

  it("keys of both forms Vault prints pass", () => {
    const keys = keysOf({
      COLDSTART_UNSEAL_KEY_1: B64_33,
      COLDSTART_UNSEAL_KEY_2: HEX_33,
      COLDSTART_UNSEAL_KEY_3: B64_33.replace("H", "I"),
    });
    expect(keys).toMatchObject({ ok: true, malformed: [] });
    expect(vaultKeysCheck(SEALED_3_OF_5, keys).status).toBe("pass");
  });

  it("malformedKeys lists every bad one, 1-based", () => {
    expect(malformedKeys([BAD, B64_33, "YQ=="])).toEqual([1, 3]);
  });
});

describe("the vault-unseal step", () => {
  const MODEL = "c:openstack";
  const sealed = JSON.stringify({ ...JSON.parse(readFixture("vault/status-sealed.json")), t: 3, n: 5 });
  const app = sealedVaultAppStatus();

  it("with a key of the wrong form among them, it is a BLOCKER and sends no key at all", async () => {
    const fake = fakeExec()
      .on(new RegExp(`^juju status -m ${MODEL} vault --format=json$`), app)
      .on(/vault status -format=json$/, () => jujuExecReply(sealed, 2));
    const ctx = testContext(fake, {
      env: {
        HOME: "/home/operator",
        COLDSTART_UNSEAL_KEY_1: B64_33,
        COLDSTART_UNSEAL_KEY_2: HEX_33,
        COLDSTART_UNSEAL_KEY_3: BAD,
      },
    });
    const outcome = await vaultUnseal({ model: MODEL, app: "vault" }, ctx);
    expect(outcome.outcome).toBe("blocker");
    expect(outcome.verdict.summary).toMatch(/^Vault NOT touched: unseal key 3 of 3 .* is not of a form Vault accepts/);
    expect(fake.calls.filter((c) => /^juju ssh /.test(c.line))).toEqual([]);
  });
});
