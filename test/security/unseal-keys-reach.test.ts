/**
 * Issue #21: the unseal keys reach the vault-unseal step's process and no other. Whole runs of the
 * BUILT CLI (a drill, and `maintenance --engine drill --yes`) with a probe in every node process
 * (NODE_OPTIONS=--require test/security/env-probe.js): each step's process logs the names of the
 * COLDSTART_UNSEAL_* variables in its initial environment (/proc/self/environ) and its shell's.
 * Also: a keys file others may read is refused in one line (exit 3), its content never printed;
 * the operator's own FIFO works; maintenance's FIFO is gone after the run.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir, runDrillProcess } from "../support/drill-run";
import {
  callLog,
  rehearsalEnv,
  plantedKeys,
  runMaintenanceProcess,
  tempDir,
  writeScenario,
  type MaintenanceRun,
} from "../support/maintenance-run";
import { UNSEAL_STEP } from "../../runtime/unseal-keys";
import { ignoredLine } from "../../runtime/real-secrets";
import { VAULT_UNSEAL } from "../../stages/vault-unseal";

const PROBE = path.join(__dirname, "env-probe.js");
const KEY_N = /^COLDSTART_UNSEAL_KEY_\d+$/;

interface Probe {
  step: string;
  argv: string[];
  /** COLDSTART_UNSEAL_* names in the process's initial environment. */
  self: string[] | null;
  /** The same in its parent, when that is the same step's shell; null otherwise. */
  parent: string[] | null;
  file?: string;
  fifo: boolean | null;
}

/** `env` with the probe loaded into every node process and a log for it. */
function probed(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; entries: () => Probe[] } {
  const log = path.join(tempDir("probe"), "probe.jsonl");
  return {
    env: { ...env, KEYS_PROBE_LOG: log, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --require ${PROBE}`.trim() },
    entries: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Probe)
        : [],
  };
}

const names = (p: Probe) => [...(p.self ?? []), ...(p.parent ?? [])];
/** The step processes themselves (`coldstart act power-off ...`), not a tool they run. */
const stepProcesses = (entries: Probe[]) => entries.filter((p) => ["check", "act", "gate", "kept"].includes(p.argv[0]));

it("the unseal step is the step the program names vault-unseal (what the drill's executor keys on)", () => {
  expect(VAULT_UNSEAL.command).toBe(UNSEAL_STEP);
});

describe("a whole drill (keys as COLDSTART_UNSEAL_KEY_n, as under pulumi up by hand)", () => {
  const probe = probed(Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COLDSTART_"))));
  const d = runDrillProcess(
    ["--stack", "prior-build", "--scenario", "healthy-planned"],
    drillDir("keys-reach"),
    probe.env,
  );
  const seen = stepProcesses(probe.entries());

  it("passes, and every one of its 34 step processes was seen", () => {
    expect(d.status).toBe(0);
    expect(new Set(seen.map((p) => p.step))).toEqual(new Set(d.report.steps.map((s) => s.name)));
    expect(d.report.steps).toHaveLength(34);
  });

  it("only the vault-unseal step's process had a key variable; it had the scenario's three", () => {
    const holders = seen.filter((p) => names(p).length > 0).map((p) => p.step);
    expect([...new Set(holders)]).toEqual([UNSEAL_STEP]);
    const unseal = seen.find((p) => p.step === UNSEAL_STEP)!;
    expect(unseal.self!.filter((k) => KEY_N.test(k)).sort()).toEqual([
      "COLDSTART_UNSEAL_KEY_1",
      "COLDSTART_UNSEAL_KEY_2",
      "COLDSTART_UNSEAL_KEY_3",
    ]);
  });
});

function maintenanceRun(name: string, keys: string[]): MaintenanceRun {
  const root = tempDir(name);
  return {
    window: `keys-${name}`,
    scenario: writeScenario("healthy-planned", keys, root),
    dir: path.join(root, "drill"),
    reportDir: path.join(root, "reports"),
  };
}

/** A private runtime folder (what $XDG_RUNTIME_DIR is on a login session) to watch maintenance's FIFO folder in. */
function runtimeDir(): string {
  const dir = tempDir("xdg");
  fs.chmodSync(dir, 0o700);
  return dir;
}

const unsealCalls = (dir: string) =>
  callLog(dir).filter((c) => c.tool === "juju" && c.argv.join(" ").includes("/v1/sys/unseal"));

/** The operator's environment, with her real keys in it (a rehearsal must drop them). */
function operatorEnv(keys: string[]): NodeJS.ProcessEnv {
  const env = rehearsalEnv();
  keys.forEach((key, i) => (env[`COLDSTART_UNSEAL_KEY_${i + 1}`] = key));
  return env;
}

describe("maintenance --engine drill --yes: the scenario's keys served to the unseal step alone", () => {
  const keys = plantedKeys();
  const real = ["REAL-OPERATOR-KEY-one-aaaaaaaa", "REAL-OPERATOR-KEY-two-bbbbbbbb", "REAL-OPERATOR-KEY-three-ccccc"];
  const run = maintenanceRun("env", keys);
  const xdg = runtimeDir();
  const probe = probed({ ...operatorEnv(real), XDG_RUNTIME_DIR: xdg });
  const r = runMaintenanceProcess(run, probe.env);
  const seen = stepProcesses(probe.entries());

  it("passes: Vault unsealed with the threshold of the scenario's keys, 34 step processes seen; the operator's keys ignored, said in one line", () => {
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      ignoredLine("maintenance --engine drill", [
        "COLDSTART_UNSEAL_KEY_1",
        "COLDSTART_UNSEAL_KEY_2",
        "COLDSTART_UNSEAL_KEY_3",
      ]),
    ]);
    expect(unsealCalls(run.dir)).toHaveLength(3);
    expect(new Set(seen.map((p) => p.step)).size).toBe(34);
  });

  // The drill engine unseals with the scenario's keys as the drill does (its executor gives them to
  // the unseal step alone); maintenance's FIFO, what `pulumi up` would get, is tested in-process
  // in test/automation/maintenance-flow.test.ts.
  it("only the vault-unseal step's process had key variables, the scenario's three", () => {
    const holders = seen.filter((p) => names(p).length > 0);
    expect([...new Set(holders.map((p) => p.step))]).toEqual([UNSEAL_STEP]);
    expect(holders[0].self!.filter((k) => KEY_N.test(k)).sort()).toEqual([
      "COLDSTART_UNSEAL_KEY_1",
      "COLDSTART_UNSEAL_KEY_2",
      "COLDSTART_UNSEAL_KEY_3",
    ]);
  });

  it("maintenance's FIFO and its folder are gone after the run; no key, real or the scenario's, was printed or sent", () => {
    expect(fs.readdirSync(xdg)).toEqual([]);
    for (const key of keys) expect(r.stdout + r.stderr).not.toContain(key.slice(0, 16));
    const calls = JSON.stringify(callLog(run.dir));
    for (const key of real) expect(r.stdout + r.stderr + calls).not.toContain(key.slice(0, 12));
  });
});

describe("maintenance --engine drill with the operator's COLDSTART_UNSEAL_KEYS_FILE", () => {
  it("ignores it without opening it (a FIFO nobody writes would hang the run), says so, and unseals with the scenario's keys", async () => {
    const keys = plantedKeys();
    const run = maintenanceRun("fifo", keys);
    const fifo = path.join(tempDir("fifo"), "keys");
    fs.mkdirSync(path.dirname(fifo), { recursive: true });
    const made = spawn("/usr/bin/mkfifo", ["-m", "600", fifo]);
    await new Promise((resolve) => made.on("exit", resolve));
    const r = runMaintenanceProcess(run, { ...rehearsalEnv(), COLDSTART_UNSEAL_KEYS_FILE: fifo });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      ignoredLine("maintenance --engine drill", ["COLDSTART_UNSEAL_KEYS_FILE"]),
    ]);
    expect(unsealCalls(run.dir)).toHaveLength(3);
  }, 60_000);
});
