/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. Check FIRST; act only on a confirmed outage.
 * reboot-cluster-from-complete-outage is DESTRUCTIVE against an already-reformed cluster, so the
 * action re-reads the status itself, runs only on the complete-outage signature, at most once per
 * window, and on the most up-to-date member (GTID superset).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepFlags } from "../stages/step-def";
import { MYSQL_CHECK, type MYSQL_CLUSTER_ONLINE } from "../stages/mysql";
import {
  classifyMysql,
  isCompleteOutage,
  mysqlUnits,
  rebootOutcome,
  rebootTaskOutcome,
  unitForAddress,
  type MysqlUnit,
  type RebootOutcome,
} from "../gates/mysql";
import {
  highestOperation,
  parseOperations,
  parseShowTask,
  readRunAnswer,
  taskFinished,
  tasksSince,
  type FoundTask,
} from "../gates/juju-action";
import type { Verdict } from "../gates/verdict";
import { Juju, jujuWait } from "../runtime/juju";
import { onlyToolErrors, ToolError, toolErrorOf } from "../runtime/tool-error";
import { expandHome } from "../runtime/record";
import { isSystemError } from "../runtime/system-error";
import { createWhole, writeTempBeside } from "../runtime/whole-file";
import type { StepContext } from "../runtime/step-context";
import {
  blocker,
  cancelled,
  CUT_AT_DEADLINE,
  fail,
  pass,
  probeSafely,
  runGate,
  toolVerdict,
  skipped,
  type StepOutcome,
} from "./outcome";
import { unwrap } from "./unwrap";
import { followed } from "./request-line";
import { parseAppStatus } from "../gates/juju-status";

const ACTION = "reboot-cluster-from-complete-outage";
type Target = StepFlags<typeof MYSQL_CHECK>;

async function readUnits(juju: Juju, app: string): Promise<MysqlUnit[]> {
  return mysqlUnits(unwrap(parseAppStatus(await juju.status(app), app)), app);
}

/** CHECK (read-only): classify; a partial outage or an unknown message stops the run here. */
export async function mysqlCheck(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  const verdict = await probeSafely(async () => classifyMysql(await readUnits(juju, flags.app), flags.units));
  switch (verdict.state) {
    case "healthy":
    case "converging":
    case "complete-outage":
      return pass(MYSQL_CHECK.expected, verdict);
    case "not-ready":
    case "tool-error":
    case CUT_AT_DEADLINE:
    case "tool-missing":
      return fail(MYSQL_CHECK.expected, verdict);
    default:
      return blocker(MYSQL_CHECK.expected, verdict);
  }
}

/**
 * One attempt of the action in this window, as the marker file (`<window>.mysql-reboot.json` in the
 * record dir) keeps it. Written before `juju run` starts and after every step of it, so a run that
 * was killed leaves enough for the next one to find its task instead of running the action again.
 */
interface RebootAttempt {
  unit: string;
  at: string;
  /**
   * The highest operation id `juju operations --apps <app> --actions <action>` listed just before
   * this attempt: its own task is in an operation above it (ids come from one sequence in Juju 3).
   */
  after?: number;
  operationId?: string;
  taskId?: string;
  /** "success", "not-most-updated" or "failed: …"; absent while the outcome is unknown. */
  outcome?: string;
  /** not-most-updated: the address the action's error named. */
  address?: string;
}

interface RebootMarker {
  window: string;
  attempts: RebootAttempt[];
}

/** What one attempt came to. */
type AttemptResult =
  | RebootOutcome
  /** Still pending/running at the end of the step's budget (or its state could not be read): it keeps running on the unit. */
  | { state: "running"; taskId: string; summary: string }
  /** No task of this attempt can be found: it may never have been enqueued. */
  | { state: "lost"; summary: string }
  /** The run is being stopped; the task keeps running on the unit. */
  | { state: "stopped"; taskId: string; why: string }
  /** juju could not even be started: nothing was enqueued, and the attempt is not counted. */
  | { state: "not-started"; error: ToolError };

interface RebootRun {
  juju: Juju;
  flags: Target;
  ctx: StepContext;
  expected: string;
  markerFile: string;
  /** Units as this run read them, before anything was done. */
  units: MysqlUnit[];
  /** Clock time by which the step must be done: the budget (stages/mysql.ts), or 10 calls' worth without one. */
  until: number;
  /** What juju itself may take beyond its --wait: connecting, enqueueing, printing. */
  slack: number;
}

/**
 * The destructive action, guarded: only on the complete-outage signature on every unit, at most
 * once per window (the marker is taken with an exclusive create before `juju run` starts), on the
 * leader and at most once more on the unit the action's own error names. A `juju run` whose wait
 * runs out is followed (`juju show-task`) to its end, never run again; so is the task of an
 * earlier, interrupted run of this step.
 */
export async function mysqlReboot(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const expected = `every one of the ${flags.units} units shows the complete-outage signature, and no earlier attempt in this window`;
  try {
    return await rebootGuarded(flags, ctx, expected);
  } catch (err) {
    if (err instanceof MarkerNotWritten) return fail(expected, markerNotWritten(err));
    throw err;
  }
}

async function rebootGuarded(flags: Target, ctx: StepContext, expected: string): Promise<StepOutcome> {
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = ctx.env;
  const juju = new Juju(ctx, flags.model);
  const until = ctx.deadline ?? ctx.clock.now() + 10 * ctx.callTimeoutMs;
  let units: MysqlUnit[];
  try {
    units = await readUnits(juju, flags.app);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
  const markerFile =
    window && recordDir ? path.join(expandHome(recordDir, ctx.env), `${window}.mysql-reboot.json`) : undefined;
  const run = (file: string): RebootRun => ({
    juju,
    flags,
    ctx,
    expected,
    markerFile: file,
    units,
    until,
    slack: Math.min(ctx.callTimeoutMs, MAX_SLACK_MS),
  });

  let earlier: RebootMarker | undefined;
  if (markerFile) {
    try {
      earlier = readMarker(markerFile);
    } catch (err) {
      onlyToolErrors(err);
      return blocker(expected, unreadableMarker(markerFile, err));
    }
    const last = earlier?.attempts[earlier.attempts.length - 1];
    if (earlier && last && last.outcome === undefined) {
      // An earlier run started the action and never learnt how it ended (killed, cut at its deadline).
      followed(
        ctx.out,
        `${ACTION} on ${last.unit}: the earlier attempt${last.taskId ? ` (task ${last.taskId})` : ""}, started at ${last.at}, recorded no outcome (${markerFile}); following its task, not run again`,
      );
      const outcome = await decide(run(markerFile), earlier, await settle(run(markerFile), earlier, last, false), last);
      return followedEarlier(outcome, last, earlier.attempts.at(-1) !== last);
    }
    if (earlier && last?.outcome === "not-most-updated" && last.address && earlier.attempts.length === 1) {
      // Interrupted between the refusal on the leader and the attempt on the unit it names.
      return decide(run(markerFile), earlier, { state: "not-most-updated", address: last.address }, last);
    }
  }

  const verdict = classifyMysql(units, flags.units);
  if (!isCompleteOutage(units, flags.units)) {
    if (verdict.state === "healthy" || verdict.state === "converging") {
      const guardVerdict: Verdict = {
        ...verdict,
        ok: true,
        summary: `not a complete outage (${verdict.state}): ${ACTION} NOT run. ${verdict.summary}`,
      };
      // Said at once (the drill's and maintenance's consoles show RAN:/SKIPPED: lines as they come).
      ctx.out.line(`SKIPPED: ${ACTION} (guard: not a complete outage, ${verdict.state})`);
      return skipped(expected, guardVerdict);
    }
    return blocker(expected, {
      ...verdict,
      summary: `${ACTION} NOT run: ${verdict.summary}`,
      route: verdict.route ?? "mysql-will-not-reform",
    });
  }
  if (!markerFile || !window) {
    return blocker(expected, {
      ok: false,
      state: "no-window",
      summary: `${ACTION} NOT run: it must run inside a maintenance window (COLDSTART_WINDOW and COLDSTART_RECORD_DIR), so that it runs at most once per window`,
      details: [],
      route: "mysql-will-not-reform",
    });
  }
  if (earlier) {
    ctx.out.line(`SKIPPED: ${ACTION} (guard: already attempted in window ${window})`);
    return alreadyAttempted(expected, window, earlier);
  }
  const stop = ctx.cancelled?.();
  if (stop) return cancelled(expected, `${ACTION} NOT run: ${stop}`);
  const r = run(markerFile);
  const leader = units.find((u) => u.leader)?.unit ?? `${flags.app}/leader`;
  const first = await beforeAttempt(r, leader);
  if ("exitCode" in first) return first;
  const marker: RebootMarker = { window, attempts: [first] };
  // Taken BEFORE the action, exclusively: two runs can never both pass this point in one window.
  if (!takeMarker(markerFile, marker)) {
    ctx.out.line(`SKIPPED: ${ACTION} (guard: another run took this window's attempt first)`);
    return alreadyAttempted(expected, window, readMarker(markerFile) ?? { window, attempts: [] });
  }
  ctx.out.line(`RAN: ${ACTION} on ${leader} (complete outage on all ${flags.units} units; window ${window})`);
  return decide(r, marker, await settle(r, marker, first, true), first);
}

/**
 * The verdict of a run that followed an earlier, interrupted attempt says so first, with its task:
 * the record and the console must never read as if the destructive action was run again.
 */
function followedEarlier(outcome: StepOutcome, earlier: RebootAttempt, thenSecond: boolean): StepOutcome {
  const task = earlier.taskId === undefined ? "its task not found" : `task ${earlier.taskId}`;
  const then = thenSecond ? " (then the second attempt its error directs: the RAN: line)" : "";
  outcome.verdict.summary = `followed the earlier attempt, ${task}; not run again${then}: ${outcome.verdict.summary}`;
  return outcome;
}

/**
 * Juju's wait is bounded by the step's budget; this much of it (at most) is left for juju itself:
 * connecting, enqueueing, printing. No upstream number: coldstart's own margin.
 */
const MAX_SLACK_MS = 30_000;
/**
 * Polling a task that outlived juju's wait: commandTimeout / 8, at most this long between two
 * `juju show-task`. Coldstart's own pace (juju's own poll backs off to 2 s between API reads:
 * cmd/juju/action/common.go @ 0cdccd5f resultPollMaxTime; each of ours starts a juju process).
 */
const MAX_POLL_INTERVAL_MS = 30_000;

/** Ready an attempt on `unit`: time for it, and the operations listed before it (nothing is run here). */
async function beforeAttempt(r: RebootRun, unit: string): Promise<RebootAttempt | StepOutcome> {
  const left = r.until - r.ctx.clock.now();
  if (left < r.slack + 1_000) {
    return fail(r.expected, {
      ok: false,
      state: "no-time-left",
      summary: `${ACTION} NOT run on ${unit}: ${Math.round(left / 1000)}s of the step's budget left, not enough to run it and wait for its result`,
      details: [],
    });
  }
  try {
    const listed = unwrap(parseOperations(await r.juju.operations(r.flags.app, ACTION)));
    return { unit, at: new Date(r.ctx.clock.now()).toISOString(), after: highestOperation(listed) };
  } catch (err) {
    onlyToolErrors(err);
    const v = toolVerdict(err);
    return fail(r.expected, { ...v, summary: `${ACTION} NOT run on ${unit}: ${v.summary}` });
  }
}

/** After an attempt: a refusal naming another unit gets one more attempt there; everything else is the verdict. */
async function decide(
  r: RebootRun,
  marker: RebootMarker,
  result: AttemptResult,
  entry: RebootAttempt,
): Promise<StepOutcome> {
  if (result.state !== "not-most-updated" || marker.attempts.length > 1) return verdictOf(r, result, entry);
  const right = unitForAddress(r.units, result.address);
  if (!right || right.unit === entry.unit) {
    return blocker(r.expected, {
      ok: false,
      state: "action-failed",
      summary: `${ACTION} on ${entry.unit} refused: not the most up-to-date member; it names ${result.address}, which ${right ? "is the same unit" : "matches no unit"}`,
      details: r.units.map((u) => `${u.unit}: ${u.addresses.join(", ")}`),
      route: "mysql-will-not-reform",
    });
  }
  if (!isCompleteOutage(r.units, r.flags.units)) {
    const v = classifyMysql(r.units, r.flags.units);
    return blocker(r.expected, {
      ...v,
      summary: `${ACTION} NOT run on ${right.unit}: the status no longer shows a complete outage on every unit: ${v.summary}`,
      route: v.route ?? "mysql-will-not-reform",
    });
  }
  const stop = r.ctx.cancelled?.();
  if (stop) return cancelled(r.expected, `${ACTION} NOT run on ${right.unit}: ${stop}`);
  const second = await beforeAttempt(r, right.unit);
  if ("exitCode" in second) return second;
  r.ctx.out.line(
    `${entry.unit} is not the most up-to-date member; running ${ACTION} once on ${right.unit} (${result.address}) as the error directs`,
  );
  marker.attempts.push(second);
  writeMarker(r.markerFile, marker);
  r.ctx.out.line(`RAN: ${ACTION} on ${right.unit} (second and last attempt, as the error directs)`);
  return verdictOf(r, await settle(r, marker, second, true), second);
}

function verdictOf(r: RebootRun, result: AttemptResult, entry: RebootAttempt): StepOutcome {
  const task = entry.taskId === undefined ? "" : ` (task ${entry.taskId})`;
  switch (result.state) {
    case "success":
      return pass(r.expected, {
        ok: true,
        state: "rebooted",
        summary: `${ACTION} completed on ${entry.unit}${task}; the cluster-online gate now polls until every unit reassesses`,
        details: [],
      });
    case "running":
      return fail(r.expected, {
        ok: false,
        state: "action-running",
        summary: `${ACTION} on ${entry.unit}${task}: ${result.summary}. It keeps running on the unit; the next run of this step in window ${windowOf(r)} follows task ${result.taskId} to its end and never starts the action again`,
        details: [`marker: ${r.markerFile}`],
      });
    case "stopped":
      return cancelled(
        r.expected,
        `${result.why}; ${ACTION} keeps running on ${entry.unit} (task ${result.taskId}); the next run of this step follows it to its end`,
      );
    case "not-started": {
      const v = toolVerdict(result.error);
      return fail(r.expected, { ...v, summary: `${ACTION} NOT run on ${entry.unit}: ${v.summary}` });
    }
    case "lost":
      return blocker(r.expected, {
        ok: false,
        state: "attempt-not-found",
        summary: `${ACTION} was started on ${entry.unit} at ${entry.at} but ${result.summary}; it may never have been enqueued. Check \`juju operations --apps ${r.flags.app} --actions ${ACTION}\`; only if it never ran, remove ${r.markerFile} to allow one attempt`,
        details: [`marker: ${r.markerFile}`],
        route: "mysql-will-not-reform",
      });
    case "failed":
    case "not-most-updated": {
      const why =
        result.state === "failed" ? result.message : `still not the most up-to-date member (${result.address})`;
      return blocker(r.expected, {
        ok: false,
        state: "action-failed",
        summary: `${ACTION} on ${entry.unit}${task} failed: ${why}`,
        details: [],
        route: "mysql-will-not-reform",
      });
    }
  }
}

function windowOf(r: RebootRun): string {
  return path.basename(r.markerFile, ".mysql-reboot.json");
}

/**
 * Bring one attempt to its end: run it (`fresh`), or find the task an earlier run started; follow
 * a task juju stopped waiting for with `juju show-task` until it finishes or the budget ends.
 */
async function settle(
  r: RebootRun,
  marker: RebootMarker,
  entry: RebootAttempt,
  fresh: boolean,
): Promise<AttemptResult> {
  const { ctx } = r;
  if (fresh) {
    const waitMs = Math.max(1_000, r.until - ctx.clock.now() - r.slack);
    let call;
    try {
      call = await r.juju.runAction(entry.unit, ACTION, waitMs, waitMs + r.slack);
    } catch (err) {
      // juju did not start (not on PATH, no budget left): nothing was enqueued, the window stays free
      marker.attempts.pop();
      if (marker.attempts.length === 0) fs.rmSync(r.markerFile, { force: true });
      else writeMarker(r.markerFile, marker);
      if (err instanceof ToolError) return { state: "not-started", error: err };
      throw err;
    }
    const answer = readRunAnswer(call);
    if (answer.taskId !== undefined) {
      entry.taskId = answer.taskId;
      entry.operationId = answer.operationId;
      writeMarker(r.markerFile, marker);
    }
    if (answer.kind === "result") {
      const task = Object.values(answer.doc)[0];
      if (task && entry.taskId === undefined) entry.taskId = String(task.id);
      const outcome = rebootOutcome(answer.doc);
      record(r, marker, entry, outcome);
      ctx.out.line(
        `juju run ${entry.unit} ${ACTION}${entry.taskId ? ` (task ${entry.taskId})` : ""}: ${describe(outcome)}`,
      );
      return outcome;
    }
    ctx.out.line(
      `juju run ${entry.unit} ${ACTION} --wait=${jujuWait(waitMs)}: ${answer.detail}; the action runs on the unit agent, not in juju: following ${entry.taskId ? `task ${entry.taskId}` : "its task"} to its end, never running it again`,
    );
  }
  if (entry.taskId === undefined) {
    const found = await findTask(r, entry, !fresh);
    if ("state" in found) return found;
    entry.taskId = found.taskId;
    entry.operationId = found.operationId;
    writeMarker(r.markerFile, marker);
    ctx.out.line(
      `found task ${found.taskId} (operation ${found.operationId}) of ${ACTION} on ${entry.unit}: ${found.status}`,
    );
  }
  const taskId = entry.taskId;
  const interval = pollInterval(ctx.callTimeoutMs);
  let last = "not read yet";
  for (;;) {
    try {
      const task = unwrap(parseShowTask(await r.juju.showTask(taskId)));
      last = task.status;
      if (taskFinished(task.status)) {
        const outcome = rebootTaskOutcome(entry.unit, task);
        record(r, marker, entry, outcome);
        ctx.out.line(`task ${taskId} of ${ACTION} on ${entry.unit} ${task.status}: ${describe(outcome)}`);
        return outcome;
      }
    } catch (err) {
      onlyToolErrors(err);
      if (err.cut) break;
      last = `unreadable (${err.message})`;
    }
    const stop = ctx.cancelled?.();
    if (stop) return { state: "stopped", taskId, why: stop };
    if (ctx.clock.now() + interval >= r.until) break;
    await ctx.clock.sleep(interval);
  }
  return { state: "running", taskId, summary: `task ${taskId} is ${last} at the end of the step's budget` };
}

/**
 * The task of an attempt whose id was never learnt: the one `juju operations` lists on its unit
 * since the attempt began. When following another run's attempt (`following`), that run may still
 * be between taking the marker and juju enqueueing the action (two step processes at once, or a
 * resume right after a kill): a task not listed yet is looked for again until one call's timeout
 * has passed since the attempt began (coldstart's own margin for `juju run` to connect and
 * enqueue), and only then called lost. This run's own `juju run` that ended without an answer had
 * its chance: nothing more to wait for.
 */
async function findTask(r: RebootRun, entry: RebootAttempt, following: boolean): Promise<FoundTask | AttemptResult> {
  if (entry.after === undefined) {
    return { state: "lost", summary: "the marker records no task id and no operations baseline to find it by" };
  }
  const { ctx } = r;
  const began = Date.parse(entry.at);
  const lookUntil = following && Number.isFinite(began) ? Math.min(began + ctx.callTimeoutMs, r.until) : -Infinity;
  const interval = pollInterval(ctx.callTimeoutMs);
  for (;;) {
    let listed;
    try {
      listed = unwrap(parseOperations(await r.juju.operations(r.flags.app, ACTION)));
    } catch (err) {
      onlyToolErrors(err);
      return {
        state: "running",
        taskId: "(unknown)",
        summary: `its task could not be looked up: ${err.message}`,
      };
    }
    const found = tasksSince(listed, { unit: entry.unit, action: ACTION, after: entry.after });
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      return {
        state: "lost",
        summary: `juju operations lists ${found.length} tasks of it on ${entry.unit} after operation ${entry.after} (${found.map((f) => f.taskId).join(", ")}), not one`,
      };
    }
    if (ctx.clock.now() + interval > lookUntil) break;
    const stop = ctx.cancelled?.();
    if (stop) return { state: "stopped", taskId: "(not listed yet)", why: stop };
    await ctx.clock.sleep(interval);
  }
  return {
    state: "lost",
    summary: `juju operations lists no task of it on ${entry.unit} after operation ${entry.after}`,
  };
}

/** Polling a task or the operations list: commandTimeout / 8, at most MAX_POLL_INTERVAL_MS. */
function pollInterval(callTimeoutMs: number): number {
  return Math.min(MAX_POLL_INTERVAL_MS, Math.max(1, Math.round(callTimeoutMs / 8)));
}

function describe(o: RebootOutcome): string {
  if (o.state === "success") return "completed, outcome Success";
  if (o.state === "not-most-updated") return `refused: not the most up-to-date member; it names ${o.address}`;
  return `failed: ${o.message}`;
}

function record(r: RebootRun, marker: RebootMarker, entry: RebootAttempt, o: RebootOutcome): void {
  entry.outcome = o.state === "failed" ? `failed: ${o.message}` : o.state;
  if (o.state === "not-most-updated") entry.address = o.address;
  writeMarker(r.markerFile, marker);
}

function alreadyAttempted(expected: string, window: string, earlier: RebootMarker): StepOutcome {
  return blocker(expected, {
    ok: false,
    state: "already-attempted",
    summary: `${ACTION} already ran in window ${window}; a second attempt needs a human`,
    details: earlier.attempts.map(
      (a) =>
        `${a.at} on ${a.unit}${a.taskId ? ` (task ${a.taskId})` : ""}: ${a.outcome ?? "no result recorded (interrupted?)"}`,
    ),
    route: "mysql-will-not-reform",
  });
}

function unreadableMarker(file: string, err: Error): Verdict {
  return {
    ok: false,
    state: "marker-unreadable",
    summary: `${ACTION} NOT run: the window's attempt marker ${file} cannot be read (${err.message}); check \`juju operations --actions ${ACTION}\` before removing it`,
    details: [],
    route: "mysql-will-not-reform",
  };
}

/** The window's marker, or undefined when there is none; a ToolError when it is there but not readable. */
function readMarker(file: string): RebootMarker | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw toolErrorOf(err);
  }
  let marker: RebootMarker;
  try {
    marker = JSON.parse(text) as RebootMarker;
  } catch (err) {
    // a torn or hand-edited file: the marker's problem, not a bug
    throw new ToolError(`not JSON (${(err as Error).message})`, "tool-unavailable", false, false, { cause: err });
  }
  if (!Array.isArray(marker?.attempts)) throw new ToolError("no attempts list");
  return marker;
}

/**
 * The marker could not be written (a full disk, a read-only or vanished record dir). Thrown by
 * takeMarker / writeMarker, turned into a named failure by mysqlReboot (never exit 70): the file,
 * the OS error and the fix.
 */
class MarkerNotWritten extends Error {
  constructor(
    readonly file: string,
    readonly osError: NodeJS.ErrnoException,
    /** What the marker on disk holds now, for the operator: the action's state in this window. */
    readonly left: string,
  ) {
    super(`${file}: ${osError.message}`, { cause: osError });
  }
}

/** Flush a folder's entries (the marker's new name) to disk; where a folder cannot be opened for that, the write stands as it is. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // not every filesystem lets a folder be fsynced; the file itself was
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Create the marker exclusively and whole: written to a temporary file, then hard-linked to its
 * name (link(2) fails with EEXIST like open(O_EXCL)): false when it exists already. A `wx` create
 * then write left an EMPTY marker when the write failed (a full disk): the step died (exit 70)
 * and the window stayed blocked on an unreadable marker although the action never ran. Now a
 * failure leaves nothing behind and is a MarkerNotWritten.
 */
function takeMarker(file: string, marker: RebootMarker): boolean {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // flushed before it takes the name: after a power loss a marker is whole or absent, never
    // empty (an empty one would stop the window as unreadable, and must: nobody could tell
    // whether the action ran)
    try {
      createWhole(file, JSON.stringify(marker, null, 2) + "\n", { durable: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    }
    syncDir(path.dirname(file));
    return true;
  } catch (err) {
    if (!isSystemError(err)) throw err;
    throw new MarkerNotWritten(file, err, "there is no marker: the action was not run");
  }
}

/** Rewrite the marker whole (temp file + rename): a reader never sees half of it; on failure it keeps what it held. */
function writeMarker(file: string, marker: RebootMarker): void {
  let tmp: string | undefined;
  try {
    tmp = writeTempBeside(file, JSON.stringify(marker, null, 2) + "\n", { durable: true });
    fs.renameSync(tmp, file);
    tmp = undefined;
  } catch (err) {
    if (!isSystemError(err)) throw err;
    throw new MarkerNotWritten(
      file,
      err,
      "the marker keeps what it held before, which names every attempt already started, so the next run of this step goes on from there and never starts one twice",
    );
  } finally {
    if (tmp) fs.rmSync(tmp, { force: true });
  }
}

/** A MarkerNotWritten as the step's verdict: the file, the OS error, what the window holds now, and the fix. */
function markerNotWritten(err: MarkerNotWritten): Verdict {
  const dir = path.dirname(err.file);
  return {
    ok: false,
    state: "marker-not-written",
    summary:
      `the window's ${ACTION} marker ${err.file} could not be written (${err.osError.message}); ${err.left}. ` +
      `Free space on the filesystem of the record dir ${dir} (df ${dir}) or make it writable, then resume (pulumi up in the same window)`,
    details: [`marker: ${err.file}`, `error: ${err.osError.code ?? "unknown"}`],
  };
}

/** GATE: all units Cluster is ONLINE, exactly one Mode: R/W. A partial outage or unknown state escalates at once. */
export async function mysqlClusterOnline(
  flags: StepFlags<typeof MYSQL_CLUSTER_ONLINE>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  const outcome = await runGate(ctx, {
    expected: `all ${flags.units} units say Cluster is ONLINE and exactly one says Mode: R/W`,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => classifyMysql(await readUnits(juju, flags.app), flags.units),
    escalate: (v) => v.state === "partial-outage" || v.state === "unknown",
  });
  // Converging or still-blocked units that never come ONLINE: "MySQL will not reform".
  if (!outcome.verdict.ok && !outcome.verdict.route) outcome.verdict.route = "mysql-will-not-reform";
  return outcome;
}
