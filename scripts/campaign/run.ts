/**
 * The fault campaign's I/O (issue #23 item 2): a reference drill per scenario, then for each of
 * its kill points a drill killed there (`--kill-at <step> --at-call "<call>#N"`, a kill -9 of the
 * whole run right after that call returned) and `--resume` in the same directory. A point is
 * survived when the resume exits 0, the sim records no damage, and every state-changing request
 * was sent as often as in the reference run (scripts/campaign/points.ts). Drills run as an
 * operator runs them (bin/coldstart, own processes), at most `jobs` at a time.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as z from "zod";
import { countRequests, killPoints, parseCallLog, requestDiff, type KillPoint, type LoggedCall } from "./points";

/** The checkout: bin/coldstart above this file, whether it runs from dist/ or from source (jest). */
function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "bin", "coldstart")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const COLDSTART = path.join(ROOT, "bin", "coldstart");

/** One scenario of the campaign and how its drill is run. */
export interface CampaignScenario {
  scenario: string;
  stack: string;
  /** `--set key=value` for every run of it. */
  set: string[];
}

/** The two of `npm run campaign`: every recoverable failure at once, planned; and an unplanned recovery. */
export const SCENARIOS: readonly CampaignScenario[] = [
  { scenario: "campaign-planned", stack: "prior-build", set: [] },
  // unplanned has no baseline of this window: the guest that does not resume is named (README Stage 5)
  { scenario: "campaign-unplanned", stack: "prior-build", set: ['startGuests=["web-1"]'] },
];

/** The fields of `drill --json` the campaign reads. */
const drillReport = z.object({
  exitCode: z.number(),
  callLog: z.string(),
  failed: z.object({ step: z.string() }).optional(),
  steps: z.array(z.object({ name: z.string(), status: z.string(), killedBy: z.string().optional() })),
});
type DrillReport = z.infer<typeof drillReport>;

interface DrillRun {
  status: number | null;
  report?: DrillReport;
  stderr: string;
}

function drill(s: CampaignScenario, dir: string, extra: string[], timeoutMs: number): Promise<DrillRun> {
  const args = ["drill", "--stack", s.stack, "--scenario", s.scenario, "--dir", dir, "--json"];
  for (const kv of s.set) args.push("--set", kv);
  return new Promise((resolve) => {
    const child = spawn(COLDSTART, [...args, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      let report: DrillReport | undefined;
      try {
        report = drillReport.parse(JSON.parse(stdout));
      } catch {
        report = undefined;
      }
      resolve({ status, report, stderr });
    });
  });
}

function readCalls(file: string): LoggedCall[] {
  return fs.existsSync(file) ? parseCallLog(fs.readFileSync(file, "utf8")) : [];
}

/** What the sim says the real cloud would have suffered (sim/state.ts `damage`). */
function damageOf(callLog: string): string[] {
  const stateFile = path.join(path.dirname(callLog), "state.json");
  const state = z
    .object({ damage: z.array(z.object({ what: z.string(), detail: z.string() })) })
    .safeParse(JSON.parse(fs.readFileSync(stateFile, "utf8")));
  if (!state.success) return [`sim state unreadable: ${stateFile}`];
  return state.data.damage.map((d) => `${d.what}: ${d.detail}`);
}

/** The reference run of a scenario: no kill. */
export interface Reference {
  scenario: CampaignScenario;
  calls: LoggedCall[];
  points: KillPoint[];
}

export async function reference(s: CampaignScenario, base: string): Promise<Reference> {
  const dir = fs.mkdtempSync(path.join(base, `${s.scenario}-reference-`));
  const run = await drill(s, dir, [], 600_000);
  if (run.status !== 0 || !run.report)
    throw new Error(
      `campaign: the reference drill of ${s.scenario} did not pass (exit ${run.status}): ${run.stderr.slice(-2000)}`,
    );
  const calls = readCalls(run.report.callLog);
  return { scenario: s, calls, points: killPoints(calls) };
}

export interface PointResult {
  scenario: string;
  point: KillPoint;
  survived: boolean;
  /** Why it was lost (empty when survived). */
  problems: string[];
  /** The commands that replay it. */
  replay: string;
  ms: number;
}

export async function runPoint(ref: Reference, point: KillPoint, base: string): Promise<PointResult> {
  const s = ref.scenario;
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(base, `${s.scenario}-kill-`));
  const kill = ["--kill-at", point.step, "--at-call", point.atCall];
  const sets = s.set.map((kv) => ` --set '${kv}'`).join("");
  const replay =
    `bin/coldstart drill --stack ${s.stack} --scenario ${s.scenario}${sets} --dir D --kill-at ${point.step} --at-call '${point.atCall}'` +
    ` && bin/coldstart drill --stack ${s.stack} --scenario ${s.scenario}${sets} --dir D --resume`;
  const problems: string[] = [];
  const killed = await drill(s, dir, kill, 600_000);
  const stopped = killed.report?.steps.find((x) => x.name === point.step);
  if (!killed.report) problems.push(`the killed drill printed no report (exit ${killed.status})`);
  else if (killed.report.exitCode === 0 || stopped?.status !== "failed")
    problems.push(
      `the kill never landed (exit ${killed.report.exitCode}, ${point.step} ${stopped?.status ?? "absent"})`,
    );
  const resumed = problems.length ? undefined : await drill(s, dir, ["--resume"], 600_000);
  if (resumed && !resumed.report) problems.push(`the resume printed no report (exit ${resumed.status})`);
  if (resumed?.report) {
    if (resumed.status !== 0) {
      const failed = resumed.report.failed?.step ?? "?";
      problems.push(`the resume exited ${resumed.status} (failed: ${failed})`);
    }
    problems.push(...damageOf(resumed.report.callLog).map((d) => `damage: ${d}`));
    problems.push(...requestDiff(countRequests(ref.calls), countRequests(readCalls(resumed.report.callLog))));
  }
  if (!problems.length) fs.rmSync(dir, { recursive: true, force: true });
  else problems.push(`left for a look: ${dir}`);
  return { scenario: s.scenario, point, survived: !problems.length, problems, replay, ms: Date.now() - started };
}

/** Run `work` over `items`, at most `jobs` at a time, in order of start. */
export async function pool<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

export function campaignBase(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-campaign-"));
}
