import type { StepContext } from "../../runtime/step-context";
/**
 * Stage 3 steps: unseal keys reach Vault only as the stdin body of `juju ssh … curl … @-`, and
 * appear nowhere else (argv, env, reporter lines, outcome, record, process stdout/stderr).
 * Missing keys stop the run before Vault is touched: escalate, never improvise.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stepCommand } from "../../cli/step-command";
import { describeOutcome } from "../../steps/outcome";
import { ENV_KEYS_WARNING, vaultUnseal, vaultUnsealed } from "../../steps/vault";
import { readFixture } from "../fixtures";
import { stillPollTimes } from "../support/poll-times";
import { keyLeaks } from "../support/secret-leaks";
import { sealedVaultAppStatus } from "../support/vault-app-status";
import {
  fakeExec,
  jujuExecReply,
  testContext,
  type FakeExec,
  type RecordedCall,
  type Reply,
  type TestContext,
} from "../support/fake-exec";

const MODEL = "c:openstack";
const FLAGS = { model: MODEL, app: "vault" };
const GATE_FLAGS = { ...FLAGS, timeout: 600_000, interval: 10_000 };

/**
 * Planted keys in the shapes `vault operator init` prints (random, made for this test): two
 * unseal_keys_b64 (44 characters) and one unseal_keys_hex (66); Vault takes either form. A leak is
 * any 8-character piece of one, or its length (test/support/secret-leaks.ts).
 */
const PLANTED = [
  "l8mGrOtocPBRVIlAFuRIrq1LDog8JsWtyi8WqjlZbbDl",
  "Lj4sJvp6w9QLy56dTHpR4qMd/cSsJ/UpPQG1lbFNrMpH",
  "4e3cbafa1508a4a868c770864fe82e2abc3ce8c3bf96b0b4e70e976870a67309bf",
];
const keyEnv = (keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.map((k, i) => [`COLDSTART_UNSEAL_KEY_${i + 1}`, k]));

const STATUS_LIST = new RegExp(`^juju status -m ${MODEL} vault --format=json$`);
const STATUS_EXEC = new RegExp(
  `^juju exec -m ${MODEL} --unit vault/0 --format=json -- VAULT_ADDR=http://127.0.0.1:8220 vault status -format=json$`,
);
const UNSEAL = new RegExp(
  `^juju ssh -m ${MODEL} vault/0 -- curl -sS --max-time 30 -X PUT --data-binary @- http://127.0.0.1:8220/v1/sys/unseal$`,
);
const ANY_SSH = /^juju ssh /;

const VAULT_APP_STATUS = sealedVaultAppStatus({ "public-address": "192.168.100.60" });

interface SealJson {
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  [key: string]: unknown;
}
const fixtureJson = (rel: string): SealJson => JSON.parse(readFixture(rel)) as SealJson;
const render = (doc: SealJson): string => JSON.stringify(doc, null, 2) + "\n";

/**
 * A Vault on vault/0 that counts the keys it is given. `vault status` answers with the recorded
 * sealed (exit 2) / unsealed (exit 0) outputs; PUT /v1/sys/unseal with the recorded responses.
 */
function vaultSim(opts: { t?: number; n?: number; progress?: number; statusFixture?: string } = {}) {
  const t = opts.t ?? 3;
  const n = opts.n ?? 5;
  const state = { sealed: true, progress: opts.progress ?? 0 };
  const sealedStatus = (): Reply =>
    jujuExecReply(render({ ...fixtureJson(opts.statusFixture ?? "vault/status-sealed.json"), t, n, ...state }), 2);
  const unsealedStatus = (): Reply => jujuExecReply(render({ ...fixtureJson("vault/status-unsealed.json"), t, n }), 0);
  const unseal = (call: RecordedCall): string => {
    const body = JSON.parse(call.input ?? "null") as { key?: unknown; reset?: unknown } | null;
    if (body?.reset === true) {
      state.progress = 0;
      return render({ ...fixtureJson("vault/status-sealed.json"), t, n, progress: 0 });
    }
    if (typeof body?.key !== "string") return JSON.stringify({ errors: ["missing required 'key' parameter"] }) + "\n";
    state.progress += 1;
    if (state.progress >= t) {
      state.sealed = false;
      state.progress = 0;
      return render({ ...fixtureJson("vault/api-sys-unseal-response-unsealed.json"), t, n });
    }
    return render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), t, n, progress: state.progress });
  };
  const fake = fakeExec()
    .on(STATUS_LIST, VAULT_APP_STATUS)
    .on(STATUS_EXEC, () => (state.sealed ? sealedStatus() : unsealedStatus()))
    .on(UNSEAL, unseal);
  return { fake, state };
}

const ctxWith = (fake: FakeExec, env: Record<string, string>): TestContext =>
  testContext(fake, { env: { HOME: "/home/operator", ...env } });

const unsealBodies = (fake: FakeExec): unknown[] => fake.callsTo(UNSEAL).map((c) => JSON.parse(c.input ?? "null"));

/** Every place a key could leak to, as text, except the stdin of the unseal calls. */
function leakSurface(fake: FakeExec, ctx: TestContext): string[] {
  return [
    ...fake.calls.map((c) => c.line),
    ...fake.calls.map((c) => JSON.stringify(c.env ?? {})),
    ...fake.calls.filter((c) => !UNSEAL.test(c.line)).map((c) => c.input ?? ""),
    ctx.out.all(),
  ];
}

/** Everything the step writes to the process's stdout and stderr (restored by jest.restoreAllMocks). */
function captureProcessOutput(): string[] {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  };
  jest.spyOn(process.stdout, "write").mockImplementation(capture as typeof process.stdout.write);
  jest.spyOn(process.stderr, "write").mockImplementation(capture as typeof process.stderr.write);
  return written;
}

/** `coldstart act vault-unseal` as the engine runs it, in this test's context. */
function runUnsealStep(ctx: {
  exec: StepContext["exec"];
  clock: StepContext["clock"];
  env: StepContext["env"];
  out: StepContext["out"];
}) {
  return stepCommand("act", ["vault-unseal", "--model", MODEL, "--app", "vault"], {
    exec: ctx.exec,
    clock: ctx.clock,
    env: ctx.env,
    out: ctx.out,
  });
}

describe("vaultUnseal with the planted keys", () => {
  let recordDir: string;
  beforeEach(() => {
    recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-vault-"));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(recordDir, { recursive: true, force: true });
  });

  it("sends each key once, only on the stdin of its own unseal call, in order, and unseals", async () => {
    const { fake, state } = vaultSim();
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(state.sealed).toBe(false);
    expect(unsealBodies(fake)).toEqual(PLANTED.map((key) => ({ key })));
    for (const key of PLANTED) {
      const carrying = fake.calls.filter((c) => (c.input ?? "").includes(key));
      expect(carrying).toHaveLength(1);
      expect(carrying[0].line).toMatch(UNSEAL);
      expect(fake.calls.filter((c) => c.args.some((a) => a.includes(key)))).toEqual([]);
    }
    // the progress lines, every argv/env/other stdin, the outcome and the report it gives
    const text = [...leakSurface(fake, ctx), JSON.stringify(outcome), ...describeOutcome("vault-unseal", outcome)];
    expect(ctx.out.lines.filter((l) => /^RAN: vault\/\d: unseal key \d of 3: accepted /.test(l))).toHaveLength(3);
    expect(keyLeaks(text.join("\n"), PLANTED)).toEqual([]);
  });

  it("never writes a key to the record, the reporter, or the process's stdout/stderr when run as a step", async () => {
    const written = captureProcessOutput();

    const { fake, state } = vaultSim();
    const ctx = ctxWith(fake, {
      ...keyEnv(PLANTED),
      COLDSTART_WINDOW: "2026-12-05-roosevelt",
      COLDSTART_RECORD_DIR: recordDir,
    });
    const code = await runUnsealStep(ctx);

    expect(code).toBe(0);
    expect(state.sealed).toBe(false);
    const files = fs.readdirSync(recordDir);
    // the record, and the step's progress note (which key index it was sending: never a key)
    expect(files.sort()).toEqual(["2026-12-05-roosevelt.jsonl", "2026-12-05-roosevelt.vault-unseal.json"]);
    const record = files.map((f) => fs.readFileSync(path.join(recordDir, f), "utf8")).join("\n");
    expect(record).toContain('"outcome":"pass"');
    expect(keyLeaks([record, written.join(""), ...leakSurface(fake, ctx)].join("\n"), PLANTED)).toEqual([]);
    for (const key of PLANTED) expect(fake.calls.filter((c) => (c.input ?? "").includes(key))).toHaveLength(1);
  });

  it("uses the threshold the status reports: t=2 means exactly 2 unseal calls and key 3 is never sent", async () => {
    const { fake, state } = vaultSim({ t: 2, n: 3 });
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome.exitCode).toBe(0);
    expect(state.sealed).toBe(false);
    expect(unsealBodies(fake)).toEqual([{ key: PLANTED[0] }, { key: PLANTED[1] }]);
    expect(fake.calls.some((c) => (c.input ?? "").includes(PLANTED[2]))).toBe(false);
  });

  it("resets a partial unseal someone else started (progress > 0) before sending its own keys", async () => {
    const { fake, state } = vaultSim({ progress: 2, statusFixture: "vault/api-sys-seal-status-sealed.json" });
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome.exitCode).toBe(0);
    expect(state.sealed).toBe(false);
    expect(unsealBodies(fake)).toEqual([{ reset: true }, ...PLANTED.map((key) => ({ key }))]);
    expect(ctx.out.lines.join("\n")).toContain("reset");
  });

  it("leaves an already unsealed Vault alone (no juju ssh at all)", async () => {
    const { fake, state } = vaultSim();
    state.sealed = false;
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));
    expect(outcome.exitCode).toBe(0);
    expect(fake.count(ANY_SSH)).toBe(0);
  });
});

describe("vaultUnseal and COLDSTART_UNSEAL_KEYS_FILE (issue #21)", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-vault-keysfile-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keysFile = (mode: number): string => {
    const file = path.join(dir, "keys");
    fs.writeFileSync(file, PLANTED.join("\n") + "\n", { mode });
    fs.chmodSync(file, mode); // whatever the umask
    return file;
  };

  it.each(["0644", "0640", "0604", "0620", "0602", "0610", "0601"])(
    "a regular keys file with mode %s is a blocker before Vault is touched, one line naming the file, its mode and chmod 600",
    async (octal) => {
      const file = keysFile(parseInt(octal, 8));
      const { fake, state } = vaultSim();
      const ctx = ctxWith(fake, { COLDSTART_UNSEAL_KEYS_FILE: file });
      const outcome = await vaultUnseal(FLAGS, ctx);
      expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker" });
      expect(fake.count(ANY_SSH)).toBe(0);
      expect(state).toEqual({ sealed: true, progress: 0 });
      expect(outcome.verdict.summary).toBe(
        `COLDSTART_UNSEAL_KEYS_FILE: the unseal keys file ${file} has mode ${octal}: group or others may access it; refused (run: chmod 600 ${file})`,
      );
      for (const key of PLANTED) expect(JSON.stringify(outcome) + ctx.out.all()).not.toContain(key);
    },
  );

  it("a 0600 (or 0400) keys file unseals, with no warning", async () => {
    for (const mode of [0o600, 0o400]) {
      fs.rmSync(path.join(dir, "keys"), { force: true });
      const { fake, state } = vaultSim();
      const ctx = ctxWith(fake, { COLDSTART_UNSEAL_KEYS_FILE: keysFile(mode) });
      expect((await vaultUnseal(FLAGS, ctx)).exitCode).toBe(0);
      expect(state.sealed).toBe(false);
      expect(ctx.out.warnings).toEqual([]);
    }
  });

  it("a FIFO keys file (its writer another process) unseals: the step is the reader it is meant for", async () => {
    const fifo = path.join(dir, "fifo");
    execFileSync("/usr/bin/mkfifo", ["-m", "644", fifo]); // a FIFO holds nothing at rest: its mode is not refused
    const source = keysFile(0o600);
    const writer = spawn("/bin/sh", ["-c", 'cat "$1" > "$2"', "sh", source, fifo], { stdio: "ignore" });
    const { fake, state } = vaultSim();
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, { COLDSTART_UNSEAL_KEYS_FILE: fifo }));
    expect(outcome.exitCode).toBe(0);
    expect(state.sealed).toBe(false);
    expect(unsealBodies(fake)).toEqual(PLANTED.map((key) => ({ key })));
    await new Promise((resolve) => (writer.exitCode !== null ? resolve(null) : writer.on("exit", resolve)));
  });

  it("keys from COLDSTART_UNSEAL_KEY_n still unseal, with one warning that names the variables and the way out, never a key", async () => {
    const { fake, state } = vaultSim();
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    expect((await vaultUnseal(FLAGS, ctx)).exitCode).toBe(0);
    expect(state.sealed).toBe(false);
    expect(ctx.out.warnings).toEqual([ENV_KEYS_WARNING]);
    expect(ENV_KEYS_WARNING).toMatch(/COLDSTART_UNSEAL_KEY_1\.\.n.*every step process.*COLDSTART_UNSEAL_KEYS_FILE/);
    for (const key of PLANTED) expect(ctx.out.all()).not.toContain(key);
  });
});

describe("vaultUnseal with missing keys: escalate, never improvise", () => {
  const cases: [string, Record<string, string>][] = [
    ["no key is set", {}],
    ["only 2 of the threshold 3 keys are set", keyEnv(PLANTED.slice(0, 2))],
    [
      "key 2 of 3 is missing (numbering stops at the gap)",
      { COLDSTART_UNSEAL_KEY_1: PLANTED[0], COLDSTART_UNSEAL_KEY_3: PLANTED[2] },
    ],
    ["the keys file cannot be read", { COLDSTART_UNSEAL_KEYS_FILE: "/nonexistent/coldstart/keys" }],
  ];

  it.each(cases)("is a blocker with zero juju ssh calls when %s", async (_name, env) => {
    const { fake, state } = vaultSim();
    const ctx = ctxWith(fake, env);
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(outcome.verdict.route).toBe("vault-keys-missing");
    expect(fake.count(ANY_SSH)).toBe(0);
    expect(state).toEqual({ sealed: true, progress: 0 });
    expect(describeOutcome("vault-unseal", outcome).join("\n")).toContain("escalate, never improvise");
    expect(keyLeaks(JSON.stringify(outcome) + ctx.out.all(), PLANTED)).toEqual([]);
  });

  it("says so in the verdict itself when keys are short of the threshold", async () => {
    const { fake } = vaultSim();
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED.slice(0, 2))));
    expect([outcome.verdict.summary, ...outcome.verdict.details].join("\n")).toContain("escalate, never improvise");
    expect(outcome.verdict.summary).toContain("NOT touched");
  });

  it("is a blocker with zero juju ssh calls when progress is 2 of 3 and only 1 key is set (the reset would need 3)", async () => {
    const { fake, state } = vaultSim({ progress: 2, statusFixture: "vault/api-sys-seal-status-sealed.json" });
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED.slice(0, 1))));

    expect(fake.count(ANY_SSH)).toBe(0);
    expect(state.progress).toBe(2);
    expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker" });
  });
});

describe("vaultUnseal when a call fails", () => {
  it("ends with a named failure (exit 1), not a thrown error, when juju ssh fails mid-unseal", async () => {
    const { fake } = vaultSim();
    fake.on(UNSEAL, (_call, n) =>
      n === 1
        ? render(fixtureJson("vault/api-sys-unseal-response-progress1.json"))
        : { exitCode: 1, stderr: "ERROR cannot connect to vault/0" },
    );
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.verdict.summary).toContain("juju ssh");
  });

  it("fails without touching Vault when vault status cannot be read", async () => {
    const { fake } = vaultSim();
    fake.on(STATUS_EXEC, jujuExecReply("Error checking seal status: connection refused\n", 1));
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));
    expect(outcome.exitCode).toBe(1);
    expect(fake.count(ANY_SSH)).toBe(0);
  });
});

describe("the vault-unsealed gate", () => {
  it("passes once vault, sealed at first (exit 2, as data), reports unsealed for 3 polls in a row", async () => {
    const fake = fakeExec()
      .on(STATUS_LIST, VAULT_APP_STATUS)
      .on(STATUS_EXEC, (_call, n) =>
        n === 1
          ? jujuExecReply(readFixture("vault/status-sealed.json"), 2)
          : jujuExecReply(readFixture("vault/status-unsealed.json"), 0),
      );
    const ctx = testContext(fake);
    const outcome = await vaultUnsealed(GATE_FLAGS, ctx);

    // one sealed poll, then the gate's 3 unsealed polls in a row (GATE_SUCCESSES)
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 4 });
    expect(fake.count(STATUS_EXEC)).toBe(4);
    expect(fake.count(ANY_SSH)).toBe(0);
    expect(ctx.out.lines[0]).toContain("sealed: vault/0");
  });

  it("fails at the timeout with route vault-sealed when vault stays sealed", async () => {
    const fake = fakeExec()
      .on(STATUS_LIST, VAULT_APP_STATUS)
      .on(STATUS_EXEC, jujuExecReply(readFixture("vault/status-sealed.json"), 2));
    const outcome = await vaultUnsealed(GATE_FLAGS, testContext(fake));
    expect(outcome).toMatchObject({
      exitCode: 1,
      outcome: "fail",
      polls: stillPollTimes(GATE_FLAGS.timeout, GATE_FLAGS.interval).length, // runtime/poll-schedule.ts
    });
    expect(outcome.verdict.route).toBe("vault-sealed");
  });
});

/**
 * Issue #10 part 5: when a step fails, the command provider puts its whole stdout+stderr into the
 * error, whatever `logging` and `additionalSecretOutputs` say (pulumi-command
 * provider/pkg/provider/local/commandOutputs.go: `fmt.Errorf("%w: running %q:\n%s", err, command,
 * stdouterrbuf)`), and that text reaches the CLI output and the backend's event log. So the
 * unseal step's whole output must be free of the keys at every point it can fail.
 */
describe("vault-unseal failing at each point never prints a key (the provider's error carries all output)", () => {
  let recordDir: string;
  beforeEach(() => (recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-vault-leak-"))));
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(recordDir, { recursive: true, force: true });
  });

  /** Every form a key could take in text: as is, JSON-escaped, base64, URL-encoded. */
  const forms = (key: string) => [
    key,
    JSON.stringify(key),
    Buffer.from(key).toString("base64"),
    encodeURIComponent(key),
  ];

  const SSH_FAILS: Reply = { exitCode: 1, stderr: "ERROR cannot connect to vault/0: connection refused" };
  const VAULT_REFUSES = JSON.stringify({ errors: ["Unseal failed, invalid key"] }) + "\n";

  it.each<[string, (fake: FakeExec) => void, number]>([
    ["juju status fails", (f) => f.on(STATUS_LIST, { exitCode: 1, stderr: "ERROR model not found" }), 1],
    [
      "vault status on the unit fails",
      (f) => f.on(STATUS_EXEC, { exitCode: 1, stderr: "ERROR unit vault/0 not reachable" }),
      1,
    ],
    ["juju ssh fails at the first key", (f) => f.on(UNSEAL, SSH_FAILS), 1],
    [
      "juju ssh fails at the second key",
      (f) =>
        f.on(UNSEAL, (_c, n) =>
          n === 2 ? SSH_FAILS : render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), progress: n }),
        ),
      1,
    ],
    [
      "Vault refuses the second key",
      (f) =>
        f.on(UNSEAL, (_c, n) =>
          n === 2
            ? VAULT_REFUSES
            : render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), progress: n }),
        ),
      3, // a refused key is a BLOCKER: never try other keys
    ],
    ["the unseal call hangs", (f) => f.on(UNSEAL, { timedOut: true }), 1],
    [
      "still sealed after the threshold",
      (f) =>
        f.on(UNSEAL, (_c, n) =>
          render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), progress: n % 3 }),
        ),
      1,
    ],
  ])("%s", async (_name, breakIt, exitCode) => {
    const written = captureProcessOutput();
    const { fake } = vaultSim();
    breakIt(fake);
    const ctx = ctxWith(fake, {
      ...keyEnv(PLANTED),
      COLDSTART_WINDOW: "w",
      COLDSTART_RECORD_DIR: recordDir,
      COLDSTART_STEP: "vault-unseal",
    });
    const code = await runUnsealStep(ctx);
    expect(code).toBe(exitCode);
    const everything = [written.join(""), ctx.out.all(), fs.readFileSync(path.join(recordDir, "w.jsonl"), "utf8")].join(
      "\n",
    );
    expect(everything).toMatch(/FAILED vault-unseal|BLOCKER vault-unseal/);
    for (const key of PLANTED) for (const form of forms(key)) expect(everything).not.toContain(form);
    expect(keyLeaks(everything, PLANTED)).toEqual([]);
  });

  it("a refused key is a BLOCKER whose fix fits it: key custody, never other keys, no fixed 3-of-5", async () => {
    const written = captureProcessOutput();
    const { fake } = vaultSim();
    fake.on(UNSEAL, () => VAULT_REFUSES);
    const ctx = ctxWith(fake, { ...keyEnv(PLANTED), COLDSTART_WINDOW: "w", COLDSTART_RECORD_DIR: recordDir });
    const code = await runUnsealStep(ctx);
    expect(code).toBe(3);
    expect(fake.count(UNSEAL)).toBe(1); // no second key after a refusal
    const text = written.join("") + ctx.out.all();
    expect(text).toMatch(/fix: recovery BLOCKER: do not try other keys or re-init/);
    expect(text).not.toMatch(/3-of-5/);
  });

  it("keys that cannot be read (a file named but missing) are a blocker whose output names no key either", async () => {
    const written = captureProcessOutput();
    const { fake } = vaultSim();
    const ctx = ctxWith(fake, {
      COLDSTART_UNSEAL_KEY_1: PLANTED[0],
      COLDSTART_UNSEAL_KEYS_FILE: path.join(recordDir, "missing"),
    });
    const code = await runUnsealStep(ctx);
    expect(code).toBe(3);
    expect(fake.count(ANY_SSH)).toBe(0);
    for (const form of forms(PLANTED[0])) expect(written.join("") + ctx.out.all()).not.toContain(form);
    expect(keyLeaks(written.join("") + ctx.out.all(), PLANTED)).toEqual([]);
  });
});

/**
 * Issue #22: what the unseal step tells the operator and the record, path by path: each detail
 * line, the evidence (counts, never a key), the RAN: lines and the route of each failure.
 */
describe("vaultUnseal: its verdict, evidence and console lines on each path", () => {
  let recordDir: string;
  beforeEach(() => (recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-vault-paths-"))));
  afterEach(() => fs.rmSync(recordDir, { recursive: true, force: true }));
  const windowEnv = (window = "w"): Record<string, string> => ({
    ...keyEnv(PLANTED),
    COLDSTART_WINDOW: window,
    COLDSTART_RECORD_DIR: recordDir,
  });
  const progressFile = (window = "w") => path.join(recordDir, `${window}.vault-unseal.json`);
  const VAULT_REFUSES = JSON.stringify({ errors: ["Unseal failed, invalid key"] }) + "\n";

  it("a full unseal: one detail line per unit, the key count line, and evidence of counts only", async () => {
    const { fake } = vaultSim();
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome.verdict.details).toEqual([
      "vault/0: unsealed with 3 key(s) (threshold 3)",
      "3 key(s) per sealed unit, threshold 3, 3 held",
    ]);
    expect(outcome.evidence).toEqual({
      kind: "vault-unseal",
      threshold: 3,
      keysAvailable: 3,
      units: [{ unit: "vault/0", keysUsed: 3, threshold: 3, result: "unsealed", reset: false }],
    });
    expect(ctx.out.lines.filter((l) => l.startsWith("RAN: "))).toEqual([
      "RAN: vault/0: unseal key 1 of 3: accepted (sealed=true, progress 1/3)",
      "RAN: vault/0: unseal key 2 of 3: accepted (sealed=true, progress 2/3)",
      "RAN: vault/0: unseal key 3 of 3: accepted (sealed=false, progress 0/3)",
    ]);
  });

  it("an already unsealed unit: said so, 0 keys used, and its threshold kept in the evidence", async () => {
    const { fake, state } = vaultSim();
    state.sealed = false;
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.details).toEqual([
      "vault/0: already unsealed",
      "0 key(s) per sealed unit, threshold 3, 3 held",
    ]);
    expect(outcome.evidence).toEqual({
      kind: "vault-unseal",
      threshold: 3,
      keysAvailable: 3,
      units: [{ unit: "vault/0", keysUsed: 0, threshold: 3, result: "already-unsealed" }],
    });
  });

  it("someone else's partial unseal: the reset is said with the progress it found, and recorded as a reset", async () => {
    const { fake } = vaultSim({ progress: 2, statusFixture: "vault/api-sys-seal-status-sealed.json" });
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(ctx.out.lines).toContain(
      "RAN: vault/0: unseal reset (progress was 2/3, someone else's partial unseal): done",
    );
    expect(outcome.evidence).toMatchObject({
      units: [{ unit: "vault/0", keysUsed: 3, result: "unsealed", reset: true }],
    });
  });

  it("notes which key it is sending before each one is sent (an index, never a key)", async () => {
    const { fake } = vaultSim();
    const seen: unknown[] = [];
    const original = fake.exec;
    const ctx = ctxWith(fake, windowEnv());
    ctx.exec = async (req) => {
      if (req.args.includes("@-")) seen.push(JSON.parse(fs.readFileSync(progressFile(), "utf8")));
      return original(req);
    };
    expect((await vaultUnseal(FLAGS, ctx)).exitCode).toBe(0);
    expect(seen).toEqual([0, 1, 2].map((sending) => ({ units: { "vault/0": { sending } } })));
  });

  it("a resume after a kill mid-unseal goes on from the key Vault has not counted: no reset, no key sent twice", async () => {
    // the earlier run was sending key index 1 (the 2nd key) and Vault counted it: progress 2
    fs.writeFileSync(progressFile(), JSON.stringify({ units: { "vault/0": { sending: 1 } } }));
    const { fake, state } = vaultSim({ progress: 2, statusFixture: "vault/api-sys-seal-status-sealed.json" });
    const ctx = ctxWith(fake, windowEnv());
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(state.sealed).toBe(false);
    expect(unsealBodies(fake)).toEqual([{ key: PLANTED[2] }]);
    const resumed =
      "unseal already in progress from this window's earlier run (progress 2/3): key(s) 1-2 counted, not sent again";
    expect(ctx.out.lines).toContain(`FOLLOWED: vault/0: ${resumed}`);
    expect(outcome.verdict.details[0]).toBe(`vault/0: unsealed with 3 key(s) (threshold 3); ${resumed}`);
    expect(outcome.evidence).toMatchObject({
      units: [{ unit: "vault/0", keysUsed: 3, result: "unsealed", reset: false }],
    });
  });

  it("still sealed after the threshold: a failure that says so per unit and records still-sealed", async () => {
    const { fake } = vaultSim();
    fake.on(UNSEAL, (_c, n) =>
      render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), progress: n % 3 }),
    );
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.route).toBe("vault-sealed");
    expect(outcome.verdict.details.slice(0, 2)).toEqual([
      "vault/0: STILL SEALED after the threshold",
      "3 key(s) per sealed unit, threshold 3, 3 held",
    ]);
    expect(outcome.verdict.details).toContain("vault/0: sealed (unseal progress 0/3, threshold 3 of 5)");
    expect(outcome.evidence).toMatchObject({ units: [{ unit: "vault/0", keysUsed: 3, result: "still-sealed" }] });
  });

  it("a refused key: a blocker naming Vault's own error, the RAN: line says refused, the units done before it kept", async () => {
    const { fake } = vaultSim();
    // a second sealed unit, after vault/0 (which unseals), refuses its first key
    const twoUnits = JSON.parse(VAULT_APP_STATUS) as { applications: { vault: { units: Record<string, object> } } };
    const units = twoUnits.applications.vault.units;
    units["vault/1"] = { ...units["vault/0"], leader: false };
    fake
      .on(STATUS_LIST, JSON.stringify(twoUnits))
      .on(/--unit vault\/1 .*vault status/, jujuExecReply(render(fixtureJson("vault/status-sealed.json")), 2))
      .on(/^juju ssh -m \S+ vault\/1 /, VAULT_REFUSES);
    const ctx = ctxWith(fake, keyEnv(PLANTED));
    const outcome = await vaultUnseal(FLAGS, ctx);

    expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(outcome.verdict.route).toBe("vault-key-rejected");
    expect(outcome.verdict.summary).toBe(
      "vault/1: Vault refused the unseal request: Unseal failed, invalid key (a wrong or malformed key; check the key custody, D-069)",
    );
    expect(outcome.verdict.details).toEqual(["vault/0: unsealed with 3 key(s) (threshold 3)"]);
    expect(ctx.out.lines).toContain("RAN: vault/1: unseal key 1 of 3: refused (Vault refused the key)");
    expect(fake.count(/^juju ssh -m \S+ vault\/1 /)).toBe(1);
  });

  it.each([
    ["not JSON", "curl: (7) Failed to connect to 127.0.0.1 port 8220\n"],
    ["an error list that is not all text", JSON.stringify({ errors: [500] }) + "\n"],
    ["an errors field that is not a list", JSON.stringify({ errors: "Unseal failed" }) + "\n"],
  ])(
    "an unseal answer that is %s is no refusal: a failure, Vault left sealed, never a blocker",
    async (_name, answer) => {
      const { fake } = vaultSim();
      fake.on(UNSEAL, answer);
      const ctx = ctxWith(fake, keyEnv(PLANTED));
      const outcome = await vaultUnseal(FLAGS, ctx);

      expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
      expect(outcome.verdict.route).toBe("vault-sealed");
      expect(outcome.verdict.summary).toMatch(/^vault\/0: unseal answer: /);
      expect(ctx.out.lines).toContain("RAN: vault/0: unseal key 1 of 3: refused (no unseal answer)");
      expect(fake.count(UNSEAL)).toBe(1);
    },
  );

  it("a reset whose answer raises the threshold beyond the keys held stops before sending undefined", async () => {
    const { fake } = vaultSim({ progress: 2, statusFixture: "vault/api-sys-seal-status-sealed.json" });
    fake.on(UNSEAL, (call) => {
      const body = JSON.parse(call.input ?? "null") as { reset?: boolean };
      return body.reset
        ? render({ ...fixtureJson("vault/status-sealed.json"), t: 4, n: 5 })
        : render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), t: 4, n: 5 });
    });
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.summary).toContain("vault/0: ran out of keys after 3 (threshold 4)");
    expect(unsealBodies(fake)).toEqual([{ reset: true }, ...PLANTED.map((key) => ({ key }))]);
  });

  it("a unit whose status cannot be read after the unseal makes the step fail, naming it, not throw", async () => {
    const { fake } = vaultSim();
    fake.on(STATUS_EXEC, (_c, n) =>
      n === 1
        ? jujuExecReply(render(fixtureJson("vault/status-sealed.json")), 2)
        : { exitCode: 1, stderr: "ERROR unit vault/0 not reachable" },
    );
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.details).toContain("vault/0: status unknown (vault status could not be read)");
  });
});

describe("vaultUnseal's blockers, as the operator reads them (issue #22)", () => {
  it("keys short of the threshold: the verdict says where the keys came from, how many units, and each unit's reason", async () => {
    const { fake } = vaultSim();
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED.slice(0, 2))));
    expect(outcome.verdict).toEqual({
      ok: false,
      state: "blocker",
      summary: "Vault NOT touched: 2 key(s) from COLDSTART_UNSEAL_KEY_1..2; 1 unit(s) cannot be unsealed",
      details: [
        "vault/0: 2 unseal key(s) available, 3 needed (threshold 3 of 5, progress 0): recovery BLOCKER: escalate, never improvise (re-init wipes the TLS plane)",
      ],
      route: "vault-keys-missing",
    });
  });

  it("keys that cannot be read: state keys-unreadable, no details", async () => {
    const { fake } = vaultSim();
    const outcome = await vaultUnseal(
      FLAGS,
      ctxWith(fake, { COLDSTART_UNSEAL_KEYS_FILE: "/nonexistent/coldstart/keys" }),
    );
    expect(outcome.verdict).toMatchObject({
      ok: false,
      state: "keys-unreadable",
      details: [],
      route: "vault-keys-missing",
    });
  });

  it("a key of a form Vault refuses: a blocker before any key is sent, unless no unit needs unsealing", async () => {
    const keys = keyEnv([PLANTED[0], "not a key!", PLANTED[2]]);
    const sealed = vaultSim();
    const outcome = await vaultUnseal(FLAGS, ctxWith(sealed.fake, keys));
    expect(outcome.verdict).toMatchObject({ ok: false, state: "blocker", details: [], route: "vault-keys-missing" });
    expect(outcome.verdict.summary).toMatch(
      /^Vault NOT touched: unseal key 2 of 3 \(3 key\(s\) from COLDSTART_UNSEAL_KEY_1\.\.3\) is not of a form/,
    );
    expect(sealed.fake.count(ANY_SSH)).toBe(0);

    const unsealed = vaultSim();
    unsealed.state.sealed = false;
    const none = await vaultUnseal(FLAGS, ctxWith(unsealed.fake, keys));
    expect(none).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(unsealed.fake.count(ANY_SSH)).toBe(0);
  });
});

describe("vaultUnseal: the edges of sending keys (issue #22)", () => {
  /** vault/1 next to the simulated vault/0, its status fixed. */
  function withSecondUnit(fake: FakeExec, status: Reply): void {
    const doc = JSON.parse(VAULT_APP_STATUS) as { applications: { vault: { units: Record<string, object> } } };
    const units = doc.applications.vault.units;
    units["vault/1"] = { ...units["vault/0"], leader: false };
    fake.on(STATUS_LIST, JSON.stringify(doc)).on(/--unit vault\/1 .*vault status/, status);
  }

  it("a key of a refused form is a blocker when ANY unit needs unsealing, even if another is unsealed already", async () => {
    const { fake } = vaultSim();
    withSecondUnit(fake, jujuExecReply(render(fixtureJson("vault/status-unsealed.json")), 0));
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv([PLANTED[0], "not a key!", PLANTED[2]])));
    expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(fake.count(ANY_SSH)).toBe(0);
  });

  it("stops sending keys as soon as Vault answers unsealed (someone else's share completed it): no key beyond", async () => {
    const { fake } = vaultSim();
    fake.on(UNSEAL, (_c, n) =>
      n === 2
        ? render(fixtureJson("vault/api-sys-unseal-response-unsealed.json"))
        : render({ ...fixtureJson("vault/api-sys-unseal-response-progress1.json"), progress: n }),
    );
    fake.on(STATUS_EXEC, (_c, n) =>
      n === 1
        ? jujuExecReply(render(fixtureJson("vault/status-sealed.json")), 2)
        : jujuExecReply(render(fixtureJson("vault/status-unsealed.json")), 0),
    );
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));
    expect(unsealBodies(fake)).toEqual([{ key: PLANTED[0] }, { key: PLANTED[1] }]);
    expect(outcome.verdict.details[0]).toBe("vault/0: unsealed with 2 key(s) (threshold 3)");
  });

  it("a vault status that fails before anything is sent: the verdict names the unit and why; the step's expectation is stated", async () => {
    const { fake } = vaultSim();
    fake.on(STATUS_EXEC, jujuExecReply("Error checking seal status: connection refused\n", 1));
    const outcome = await vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)));
    expect(outcome.verdict.summary).toMatch(/^vault status on vault\/0: vault status: exited 1/);
    expect(outcome.expected).toBe(
      "every vault unit unsealed with the threshold its status reports; enough keys present before any is sent",
    );
  });

  it("a bug (not a tool error) while re-reading a unit's status is not swallowed as 'status unknown'", async () => {
    const { fake } = vaultSim();
    fake.on(STATUS_EXEC, (_c, n) => {
      if (n === 1) return jujuExecReply(render(fixtureJson("vault/status-sealed.json")), 2);
      throw new TypeError("a bug in the exec layer");
    });
    await expect(vaultUnseal(FLAGS, ctxWith(fake, keyEnv(PLANTED)))).rejects.toThrow("a bug in the exec layer");
  });
});
