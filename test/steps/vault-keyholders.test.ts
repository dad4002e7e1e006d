/**
 * Keyholder mode (issue #24 item 4, coldstart:vaultUnsealBy keyholders): with no keys the unseal
 * step hands every sealed unit to the keyholders -- it prints the manual procedure and passes, and
 * coldstart sends no unseal request; keys it holds (fewer than the threshold) are sent and the
 * keyholders give the rest; the gate waits for the hand unseal and records when it happened and how
 * many keys Vault reports it took (never which). Environment mode keeps its BLOCKER.
 */
import { vaultUnseal, vaultUnsealed, HANDED_TO_KEYHOLDERS } from "../../steps/vault";
import { readFixture } from "../fixtures";
import { fakeExec, jujuExecReply, testContext, type RecordedCall, type Reply } from "../support/fake-exec";
import { keyLeaks } from "../support/secret-leaks";
import { sealedVaultAppStatus } from "../support/vault-app-status";

const MODEL = "c:openstack";
const KEYHOLDERS = { model: MODEL, app: "vault", "unseal-by": "keyholders" as const };
const PLANTED = ["l8mGrOtocPBRVIlAFuRIrq1LDog8JsWtyi8WqjlZbbDl", "Lj4sJvp6w9QLy56dTHpR4qMd/cSsJ/UpPQG1lbFNrMpH"];
const keyEnv = (keys: readonly string[]) =>
  Object.fromEntries(keys.map((k, i) => [`COLDSTART_UNSEAL_KEY_${i + 1}`, k]));

const STATUS_LIST = new RegExp(`^juju status -m ${MODEL} vault --format=json$`);
const STATUS_EXEC = new RegExp(`^juju exec -m ${MODEL} --unit vault/0 --format=json -- VAULT_ADDR=`);
const UNSEAL = new RegExp(`^juju ssh -m ${MODEL} vault/0 -- curl .*/v1/sys/unseal$`);

const APP_STATUS = sealedVaultAppStatus();

const doc = (rel: string) => JSON.parse(readFixture(rel)) as Record<string, unknown>;

/** Vault on vault/0, threshold 3 of 5; `handAt`: clock time at which the keyholders have unsealed it. */
function vault(opts: { progress?: number; initialized?: boolean; handAt?: number; now?: () => number } = {}) {
  const state = { sealed: true, progress: opts.progress ?? 0 };
  const sealed = () => {
    if (opts.handAt !== undefined && opts.now!() >= opts.handAt) state.sealed = false;
    return state.sealed;
  };
  const status = (): Reply =>
    sealed()
      ? jujuExecReply(
          JSON.stringify({
            ...doc("vault/status-sealed.json"),
            t: 3,
            n: 5,
            progress: state.progress,
            initialized: opts.initialized ?? true,
          }),
          2,
        )
      : jujuExecReply(JSON.stringify({ ...doc("vault/status-unsealed.json"), t: 3, n: 5 }), 0);
  const unseal = (call: RecordedCall): string => {
    const body = JSON.parse(call.input ?? "null") as { key?: string; reset?: boolean };
    if (body.reset) state.progress = 0;
    else state.progress += 1;
    if (state.progress >= 3) state.sealed = false;
    return JSON.stringify({
      ...doc("vault/status-sealed.json"),
      sealed: state.sealed,
      t: 3,
      n: 5,
      progress: state.progress,
    });
  };
  const fake = fakeExec().on(STATUS_LIST, APP_STATUS).on(STATUS_EXEC, status).on(UNSEAL, unseal);
  return { fake, state };
}

describe("vault-unseal in keyholder mode", () => {
  it("with no keys: passes, hands vault/0 over with the manual procedure, sends no unseal request", async () => {
    const { fake, state } = vault();
    const ctx = testContext(fake);
    const o = await vaultUnseal(KEYHOLDERS, ctx);
    expect(o).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(o.verdict.state).toBe(HANDED_TO_KEYHOLDERS);
    expect(o.verdict.summary).toMatch(/^handed to the keyholders: vault\/0 sealed \(threshold 3, 0 key\(s\) held/);
    expect(fake.callsTo(UNSEAL)).toEqual([]);
    expect(fake.calls.filter((c) => /^juju (ssh|run)/.test(c.line))).toEqual([]);
    expect(state.sealed).toBe(true);
    // printed (WARNING lines: the consoles show them at once) and recorded (details), the same text
    const printed = ctx.out.warnings.map((w) => w.replace(/^KEYHOLDERS: /, ""));
    expect(printed).toContain("UNIT=vault/0   # sealed: threshold 3 of 5, progress 0: 3 key(s) still to give");
    expect(printed.some((l) => l.includes(`read -r -s -p "Unseal key $i of $T for $UNIT: " K`))).toBe(true);
    expect(printed.some((l) => l.includes(`printf '{"key":"%s"}' "$K" | juju ssh -m ${MODEL} "$UNIT" --`))).toBe(true);
    expect(o.verdict.details).toEqual(expect.arrayContaining(printed.slice(1)));
  });

  it("a partial unseal found on the unit is the keyholders': never reset, handed over with its progress", async () => {
    const { fake, state } = vault({ progress: 1 });
    const ctx = testContext(fake, { env: { ...keyEnv(PLANTED) } });
    const o = await vaultUnseal(KEYHOLDERS, ctx);
    expect(o.outcome).toBe("pass");
    expect(fake.callsTo(UNSEAL)).toEqual([]);
    expect(state.progress).toBe(1);
    expect(o.verdict.details).toContain(
      "UNIT=vault/0   # sealed: threshold 3 of 5, progress 1: 2 key(s) still to give",
    );
  });

  it("with 2 keys of a threshold of 3: sends both on stdin, hands over at progress 2/3", async () => {
    const { fake, state } = vault();
    const ctx = testContext(fake, { env: keyEnv(PLANTED) });
    const o = await vaultUnseal(KEYHOLDERS, ctx);
    expect(o.outcome).toBe("pass");
    expect(fake.callsTo(UNSEAL).map((c) => JSON.parse(c.input!))).toEqual(PLANTED.map((key) => ({ key })));
    expect(state).toEqual({ sealed: true, progress: 2 });
    expect(o.verdict.details).toContain(
      "UNIT=vault/0   # sealed: threshold 3 of 5, progress 2: 1 key(s) still to give",
    );
    const text = [JSON.stringify(o), ...ctx.out.lines, ...ctx.out.warnings, ...fake.calls.map((c) => c.line)].join(
      "\n",
    );
    expect(keyLeaks(text, PLANTED)).toEqual([]);
  });

  it("an uninitialized Vault is still a BLOCKER, Vault not touched", async () => {
    const { fake } = vault({ initialized: false });
    const o = await vaultUnseal(KEYHOLDERS, testContext(fake));
    expect(o).toMatchObject({ outcome: "blocker", exitCode: 3 });
    expect(fake.callsTo(UNSEAL)).toEqual([]);
  });

  it("environment mode (the default) with no keys: the BLOCKER as before, no procedure handed over", async () => {
    const { fake } = vault();
    const ctx = testContext(fake);
    const o = await vaultUnseal({ model: MODEL, app: "vault" }, ctx);
    expect(o).toMatchObject({ outcome: "blocker", exitCode: 3 });
    expect(ctx.out.warnings.filter((w) => w.startsWith("KEYHOLDERS:"))).toEqual([]);
  });
});

describe("vault-unsealed after a hand-over", () => {
  it("waits until the keyholders have unsealed, then records it was by hand, when, and the threshold", async () => {
    let now = () => 0;
    const start = Date.UTC(2026, 11, 5, 6, 0, 0);
    const handAt = start + 95_000;
    const { fake } = vault({ handAt, now: () => now() });
    const ctx = testContext(fake, { start });
    now = () => ctx.clock.now();
    const o = await vaultUnsealed({ ...KEYHOLDERS, timeout: 600_000, interval: 10_000 }, ctx);
    expect(o).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(ctx.clock.now()).toBeGreaterThanOrEqual(handAt);
    expect(o.verdict.summary).toMatch(/unsealed by hand: vault\/0$/);
    const line = o.verdict.details[0];
    expect(line).toMatch(
      /^vault\/0: unsealed by the keyholders between 2026-12-05T06:01:\d\d\.\d{3}Z \(last seen sealed, progress 0\/3\) and 2026-12-05T06:01:\d\d\.\d{3}Z \(first seen unsealed\); Vault reports threshold 3 of 5: it took 3 key\(s\) \(which: never known to coldstart\)$/,
    );
    const [sealedAt, unsealedAt] = [...line.matchAll(/(2026-[^ ]+Z)/g)].map((m) => Date.parse(m[1]));
    expect(sealedAt).toBeLessThan(handAt);
    expect(unsealedAt).toBeGreaterThanOrEqual(handAt);
  });

  it("times out under its own timeout when nobody unseals (a failed gate, not a blocker)", async () => {
    const { fake } = vault();
    const o = await vaultUnsealed({ ...KEYHOLDERS, timeout: 60_000, interval: 10_000 }, testContext(fake));
    expect(o).toMatchObject({ outcome: "fail", exitCode: 1 });
    expect(fake.callsTo(UNSEAL)).toEqual([]);
  });

  it("a Vault already unsealed when the gate starts (coldstart unsealed it) says nothing of a hand unseal", async () => {
    const { fake } = vault({ handAt: 0, now: () => 1 });
    const o = await vaultUnsealed({ ...KEYHOLDERS, timeout: 60_000, interval: 10_000 }, testContext(fake));
    expect(o.outcome).toBe("pass");
    expect(o.verdict.summary).not.toMatch(/by hand/);
  });
});
