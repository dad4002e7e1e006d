/**
 * Run `coldstart maintenance --engine drill` as CI would (its own process: the drill uses the
 * SDK's process-global mocks and leaves unhandled rejections by design) and read back what it
 * left: the sim's call log, the window's record, the report, every file it wrote.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ScenarioInput } from "../../sim/scenario";
import type { RecordEntry } from "../../runtime/record";

export const ROOT = path.resolve(__dirname, "../..");
export const COLDSTART = path.join(ROOT, "bin", "coldstart");

export interface Call {
  tool: string;
  argv: string[];
  stdinBytes: number;
  step?: string;
}

export interface ReportJson {
  summary: {
    stack: string;
    window: string;
    engine: string;
    result: string;
    exitCode: number;
    failedStep?: string;
    unchanged: string[];
  };
  record: RecordEntry[];
}

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `coldstart-maint-${name}-`));
}

/** A maintenance drill of a committed scenario in a fresh temporary folder: its drill dir and report dir inside. */
export function scenarioRun(name: string, scenario: string): MaintenanceRun {
  const root = tempDir(name);
  return { window: `maint-${name}`, scenario, dir: path.join(root, "drill"), reportDir: path.join(root, "reports") };
}

/** Five distinct base64 unseal shares (the sim's KEY_FORMAT), fresh for every test run. */
export function plantedKeys(): string[] {
  return Array.from({ length: 5 }, () => randomBytes(33).toString("base64"));
}

/** A scenario file = a committed scenario + the Vault shares the test plants (+ optional overrides). */
export function writeScenario(base: string, keys: string[], into: string, extra: Partial<ScenarioInput> = {}): string {
  const scenario = JSON.parse(
    fs.readFileSync(path.join(ROOT, "sim", "scenarios", `${base}.json`), "utf8"),
  ) as ScenarioInput;
  const file = path.join(into, `${base}-planted.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ ...scenario, ...extra, vault: { ...scenario.vault, ...extra.vault, keys } }, null, 2),
  );
  return file;
}

/**
 * process.env without any COLDSTART_* variable. A maintenance drill takes its unseal keys from its
 * scenario only (issue #21: writeScenario plants them, `vault.exportKeys` says how many its
 * operator holds); keys in the environment would be ignored, and said so on stderr.
 */
export function rehearsalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
  return env;
}

export interface MaintenanceRun {
  window: string;
  scenario: string;
  dir: string;
  reportDir: string;
  yes?: boolean;
}

export function maintenanceArgs(run: MaintenanceRun): string[] {
  return [
    "maintenance",
    "--engine",
    "drill",
    "--stack",
    "prior-build",
    "--window",
    run.window,
    "--scenario",
    run.scenario,
    "--dir",
    run.dir,
    "--report-dir",
    run.reportDir,
    ...(run.yes === false ? [] : ["--yes"]),
  ];
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn and wait (stdin is not a terminal: the non-interactive CI case). */
export function runMaintenanceProcess(run: MaintenanceRun, env: NodeJS.ProcessEnv): Finished {
  const r = spawnSync(COLDSTART, maintenanceArgs(run), { encoding: "utf8", env, timeout: 50_000, stdio: "pipe" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Spawn without waiting; `detached` makes the child a process-group leader (a terminal's job). */
export function startMaintenanceProcess(
  run: MaintenanceRun,
  env: NodeJS.ProcessEnv,
  detached = false,
): ChildProcessWithoutNullStreams {
  const child = spawn(COLDSTART, maintenanceArgs(run), { env, detached, stdio: "pipe" });
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  return child;
}

export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

export const callLog = (dir: string): Call[] => readJsonLines<Call>(path.join(dir, "cloud", "calls.jsonl"));
export const windowRecord = (dir: string, window: string): RecordEntry[] =>
  readJsonLines<RecordEntry>(path.join(dir, "records", `${window}.jsonl`));

export function readReport(reportDir: string, window: string): { json: ReportJson; markdown: string } {
  const base = path.join(reportDir, `maintenance-${window}`);
  return {
    json: JSON.parse(fs.readFileSync(`${base}.json`, "utf8")) as ReportJson,
    markdown: fs.readFileSync(`${base}.md`, "utf8"),
  };
}

/** Every file under `dir` as {file, text}, minus the relative paths in `except`. */
export function filesUnder(dir: string, except: string[] = []): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (!except.includes(path.relative(dir, p))) out.push({ file: p, text: fs.readFileSync(p, "utf8") });
    }
  };
  walk(dir);
  return out;
}

/** Progress lines `[+1.2s] start  <step>` / `done   <step>` / `FAILED <step>` of the driver's stdout. */
export interface ProgressLine {
  kind: "start" | "done" | "FAILED";
  step: string;
  /** Offset of the line in stdout. */
  at: number;
}

export function progressLines(stdout: string): ProgressLine[] {
  const out: ProgressLine[] = [];
  const re = /^\[\+[\d.]+s\] (start |done {2}|FAILED) (\S+)$/gm;
  for (let m = re.exec(stdout); m; m = re.exec(stdout)) {
    out.push({ kind: m[1].trim() as ProgressLine["kind"], step: m[2], at: m.index });
  }
  return out;
}

/** The step names of the preview (`  3. stage / step  [marks]`), in order. */
export function previewSteps(stdout: string): string[] {
  return [...stdout.matchAll(/^\s*\d+\. \S+ \/ (\S+)/gm)].map((m) => m[1]);
}
