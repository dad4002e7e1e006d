/**
 * Keyholder mode end to end (issue #24 item 4): a drill, and a `maintenance --engine drill` as CI
 * runs it by default (COLDSTART_VAULT_UNSEAL_BY=keyholders), with NO unseal key anywhere: Stage 3
 * hands the unseal to the keyholders (the manual procedure printed and in the CI report), the
 * scenario's keyholders unseal by hand on a schedule, the gate waits for them, the window passes,
 * and coldstart never sent an unseal request.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir, runDrillProcess } from "../support/drill-run";
import {
  callLog,
  readReport,
  rehearsalEnv,
  runMaintenanceProcess,
  scenarioRun,
  windowRecord,
  type Finished,
  type MaintenanceRun,
} from "../support/maintenance-run";

const UNSEAL_CALL = /\/v1\/sys\/unseal|vault operator unseal/;
const RUN_LINE = `read -r -s -p "Unseal key $i of $T for $UNIT: " K`;

/** The environment of a run that holds no key at all. */
function keylessEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = rehearsalEnv();
  for (const k of Object.keys(env)) if (/UNSEAL/.test(k)) delete env[k];
  return { ...env, ...extra };
}

describe("coldstart drill, keyholder mode, no keys", () => {
  const d = runDrillProcess(
    ["--stack", "prior-build", "--scenario", "vault-keyholders", "--set", "vaultUnsealBy=keyholders"],
    drillDir("vault-keyholders"),
    keylessEnv(),
  );

  it("passes every step; vault-unseal hands over (no unseal call, no juju ssh), the gate waits for the hand unseal", () => {
    expect({ status: d.status, failed: d.report.failed }).toEqual({ status: 0, failed: undefined });
    expect(d.callsMatching(UNSEAL_CALL)).toEqual([]);
    expect(d.callsMatching(/^juju ssh/)).toEqual([]);
    const unseal = d.record.find((e) => e.step === "vault-unseal")!;
    expect(unseal).toMatchObject({ outcome: "pass", state: "handed-to-keyholders" });
    expect(unseal.details).toContain("UNIT=vault/0   # sealed: threshold 3 of 5, progress 0: 3 key(s) still to give");
    expect(unseal.details.some((l) => l.includes(RUN_LINE))).toBe(true);
    const gate = d.record.find((e) => e.step === "vault-unsealed")!;
    expect(gate.outcome).toBe("pass");
    // the scenario's keyholders unseal 120 s after Stage 3 first saw the unit sealed: the gate waited that long
    expect(Date.parse(gate.end) - Date.parse(unseal.end)).toBeGreaterThanOrEqual(120_000);
    expect(gate.details[0]).toMatch(
      /^vault\/0: unsealed by the keyholders between \S+ \(last seen sealed, progress 0\/3\) and \S+ \(first seen unsealed\); Vault reports threshold 3 of 5: it took 3 key\(s\)/,
    );
  });
});

describe("the same scenario in environment mode (the default) is the BLOCKER it always was", () => {
  it("stops at vault-unseal, exit 3, Vault untouched", () => {
    const d = runDrillProcess(
      ["--stack", "prior-build", "--scenario", "vault-keyholders"],
      drillDir("vault-keyholders-env"),
      keylessEnv(),
    );
    expect(d.status).toBe(3);
    expect(d.report.failed?.step).toBe("vault-unseal");
    expect(d.callsMatching(/^juju ssh/)).toEqual([]);
  });
});

describe("maintenance --engine drill as the CI workflow runs it by default (COLDSTART_VAULT_UNSEAL_BY=keyholders)", () => {
  const run: MaintenanceRun = scenarioRun("keyholders", "vault-keyholders");
  let r: Finished;
  beforeAll(() => {
    r = runMaintenanceProcess(run, keylessEnv({ COLDSTART_VAULT_UNSEAL_BY: "keyholders" }));
  }, 60_000);

  it("passes: the preflight warns (keyholders on call) instead of refusing, and the window runs to the end", () => {
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toMatch(/WARN\s+vault-keys .*keyholder mode: 0 unseal key\(s\) available, Vault needs 3/);
    expect(r.stdout).toContain("maintenance PASSED (exit 0)");
    expect(callLog(run.dir).filter((c) => UNSEAL_CALL.test(c.argv.join(" ")))).toEqual([]);
  });

  it("shows the procedure live and puts it in the CI report (Markdown and JSON), with the hand unseal on record", () => {
    expect(r.stdout).toContain("vault-unseal: WARNING: KEYHOLDERS: UNIT=vault/0");
    const report = readReport(run.reportDir, run.window);
    expect(report.markdown).toContain("## Stage 3: Vault unseal handed to the keyholders");
    expect(report.markdown).toContain(RUN_LINE);
    const record = windowRecord(run.dir, run.window);
    expect(record.find((e) => e.step === "vault-unsealed")?.details[0]).toMatch(/unsealed by the keyholders/);
    expect(JSON.stringify(report.json.record)).toContain("handed-to-keyholders");
  });

  it("no unseal key in the run's folder: the sim's own Vault aside, nothing holds one", () => {
    const state = JSON.parse(fs.readFileSync(path.join(run.dir, "cloud", "state.json"), "utf8")) as {
      vault: { keys: string[] };
    };
    const written = fs
      .readdirSync(run.reportDir)
      .map((f) => fs.readFileSync(path.join(run.reportDir, f), "utf8"))
      .join("\n");
    for (const key of state.vault.keys) expect(written + r.stdout + r.stderr).not.toContain(key.slice(0, 16));
  });
});
