/**
 * Run `coldstart drill` as an operator would (its own process: the SDK's state is per process
 * and a failed step leaves unhandled rejections by design) and read back what it left: the
 * report, the sim's call log, the record.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DrillReport } from "../../drill/drill";
import { readRecord, type RecordEntry } from "../../runtime/record";

const ROOT = path.resolve(__dirname, "../..");

export interface Call {
  tool: string;
  argv: string[];
  stdinBytes: number;
}

export interface DrillResult {
  status: number | null;
  stdout: string;
  stderr: string;
  report: DrillReport;
  calls: Call[];
  record: RecordEntry[];
  dir: string;
  /** Calls whose argv (joined) matches. */
  callsMatching(re: RegExp): Call[];
  stepStatus(name: string): string | undefined;
}

export function drillDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `coldstart-test-${name}-`));
}

export function runDrillProcess(args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): DrillResult {
  const r = spawnSync(path.join(ROOT, "bin", "coldstart"), ["drill", "--dir", dir, "--json", ...args], {
    encoding: "utf8",
    env,
    timeout: 90_000,
  });
  if (!r.stdout.trim().startsWith("{")) throw new Error(`drill printed no report (exit ${r.status}):\n${r.stderr}`);
  const report = JSON.parse(r.stdout) as DrillReport;
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
  const calls = read(report.callLog)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Call);
  // through the one record reader (a truncated line is skipped and named, as `coldstart record` does)
  const record: RecordEntry[] = [...readRecord(report.recordFile)];
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    report,
    calls,
    record,
    dir,
    callsMatching: (re) => calls.filter((c) => re.test(`${c.tool} ${c.argv.join(" ")}`)),
    stepStatus: (name) => report.steps.find((s) => s.name === name)?.status,
  };
}

/** Every file a drill leaves behind, as text (to prove a secret is in none of them). */
export function everythingWritten(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(fs.readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out.join("\n");
}

/** Steps that ran after `step` in the drill's own order (they must not exist after a stop). */
export function ranAfter(report: DrillReport, step: string): string[] {
  const failed = report.steps.find((s) => s.name === step);
  if (!failed?.endMs) return [];
  return report.steps.filter((s) => s.startMs !== undefined && s.startMs >= failed.endMs!).map((s) => s.name);
}
