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
  envWithKeys,
  plantedKeys,
  runMaintenanceProcess,
  tempDir,
  writeScenario,
  type MaintenanceRun,
} from "../support/maintenance-run";
import { UNSEAL_STEP } from "../../runtime/unseal-keys";
import { VAULT_UNSEAL } from "../../stages/vault-unseal";
import { ENV_KEYS_WARNING } from "../../steps/vault";

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

describe("maintenance --engine drill --yes with the keys in COLDSTART_UNSEAL_KEY_1..3", () => {
  const keys = plantedKeys();
  const run = maintenanceRun("env", keys);
  const xdg = runtimeDir();
  const probe = probed({ ...envWithKeys(keys.slice(0, 3)), XDG_RUNTIME_DIR: xdg });
  const r = runMaintenanceProcess(run, probe.env);
  const seen = stepProcesses(probe.entries());

  it("passes: Vault unsealed with the threshold of keys, 34 step processes seen", () => {
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(unsealCalls(run.dir)).toHaveLength(3);
    expect(new Set(seen.map((p) => p.step)).size).toBe(34);
  });

  it("no step process had a key in its environment; only vault-unseal's had the keys file variable, a FIFO", () => {
    expect(seen.filter((p) => names(p).some((k) => KEY_N.test(k)))).toEqual([]);
    const holders = seen.filter((p) => names(p).length > 0);
    expect([...new Set(holders.map((p) => p.step))]).toEqual([UNSEAL_STEP]);
    for (const p of holders) {
      expect(p.self).toEqual(["COLDSTART_UNSEAL_KEYS_FILE"]);
      expect(p.fifo).toBe(true);
      expect(path.dirname(path.dirname(p.file!))).toBe(xdg);
    }
  });

  it("maintenance's FIFO and its folder are gone after the run; no key was printed, no env-keys warning", () => {
    expect(fs.readdirSync(xdg)).toEqual([]);
    expect(r.stdout).not.toContain(ENV_KEYS_WARNING);
    for (const key of keys) expect(r.stdout + r.stderr).not.toContain(key.slice(0, 16));
  });
});

describe("maintenance --engine drill with COLDSTART_UNSEAL_KEYS_FILE", () => {
  const keys = plantedKeys();
  const base = envWithKeys([]);

  it("a keys file others may read: refused in one line naming the file, its mode and the fix; exit 3; nothing ran; content never printed", () => {
    const run = maintenanceRun("mode", keys);
    const file = path.join(tempDir("keysfile"), "keys");
    fs.writeFileSync(file, keys.slice(0, 3).join("\n") + "\n");
    fs.chmodSync(file, 0o644);
    const probe = probed({ ...base, COLDSTART_UNSEAL_KEYS_FILE: file });
    const r = runMaintenanceProcess(run, probe.env);
    expect(r.status).toBe(3);
    const line = `COLDSTART_UNSEAL_KEYS_FILE: the unseal keys file ${file} has mode 0644: group or others may access it; refused (run: chmod 600 ${file})`;
    expect(r.stderr.split("\n").filter((l) => l.includes(line))).toHaveLength(1);
    expect(probe.entries()).toEqual([]); // no step ran
    for (const key of keys) expect(r.stdout + r.stderr).not.toContain(key.slice(0, 16));
    expect(r.stdout + r.stderr).not.toMatch(/\b\d+ (bytes|characters)\b/);
  });

  it("the operator's own FIFO: read once by maintenance, served on to the unseal step; Vault unsealed", async () => {
    const run = maintenanceRun("fifo", keys);
    const fifo = path.join(tempDir("fifo"), "keys");
    fs.mkdirSync(path.dirname(fifo), { recursive: true });
    const made = spawn("/usr/bin/mkfifo", ["-m", "600", fifo]);
    await new Promise((resolve) => made.on("exit", resolve));
    // one serving, as `cat keys > fifo` from the operator's other terminal (another process: this
    // one is blocked in spawnSync while maintenance runs)
    const source = path.join(path.dirname(fifo), "source");
    fs.writeFileSync(source, keys.slice(0, 3).join("\n") + "\n", { mode: 0o600 });
    const writer = spawn("/bin/sh", ["-c", 'cat "$1" > "$2"', "sh", source, fifo], { stdio: "ignore" });
    const exited = new Promise((resolve) => writer.on("exit", resolve));
    const xdg = runtimeDir();
    const r = runMaintenanceProcess(run, { ...base, COLDSTART_UNSEAL_KEYS_FILE: fifo, XDG_RUNTIME_DIR: xdg });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(unsealCalls(run.dir)).toHaveLength(3);
    expect(await exited).toBe(0);
    expect(fs.readdirSync(xdg)).toEqual([]);
  }, 60_000);
});
