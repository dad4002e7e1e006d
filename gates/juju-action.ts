/**
 * What Juju 3 prints for action tasks: `juju run <unit> <action> --format=json --wait=<d>`, `juju
 * show-task <id> --format=json`, `juju operations --format=json` and `juju exec --format=json`.
 * zod schemas plus the few readings the steps need. Sources (juju/juju, as stored in the index):
 *
 * - cmd/juju/action/common.go @ 0cdccd5f8d25c44919b72a36bd2d160617ad2b55 (Juju 3.x, names/v5):
 *   `runCommandBase.Init` (no --wait, or --wait=0: 60 s; negative: no limit), `processOperationResults`
 *   (progress on stderr: "Running operation N with 1 task", "  - task M on unit-…", "", "Waiting for
 *   task M..."), `waitForTasks` (the JSON is written, keyed by unit id, BEFORE the "task failed"
 *   error; that error and exit 1 come only for a task whose return-code is 1 or more, so an action
 *   failed through action-fail with its script exiting 0 prints "status": "failed" and exits 0),
 *   `handleTimeout` ("timed out waiting for
 *   results from: unit <name>": no JSON at all), `formatActionResult` (`id`, `status`, `unit`,
 *   `message`, `results`, `log`, `timing`), `convertActionOutput` (`stdout`/`stderr` dropped when
 *   empty, `return-code` an int), `GetActionResult` (only `pending`/`running` are unfinished).
 * - juju/juju#20103 (Juju 3.6.7): `juju run` without --wait, and with --wait=0s, gives up after 60 s
 *   with exactly that progress and `ERROR timed out waiting for results from: unit sleeper/0`.
 * - cmd/juju/action/showtask.go @ e3c3ba69e0b5edeadf017ec4d1edfd46d06d1132: `--format=json` prints
 *   the formatted task itself (not keyed); default `--wait` is -1 s, i.e. answer at once.
 * - cmd/juju/action/listoperations.go @ 5c9102154341a80fbec7b365ebe84ae32ea84ec9: `operations
 *   --format=json` = operation id -> {summary, status, action{name, parameters}, timing, tasks{task
 *   id -> {host, status, timing, message, results}}}; no match: nothing on stdout, "no matching
 *   operations" on stderr, exit 0.
 * - cmd/juju/action/exec.go @ 2f909755a80e461c283e0f1f34de8f05403e4269: exec shares waitForTasks, so
 *   `--format=json` is the same map unit -> task; the uniter puts the command's `return-code`,
 *   `stdout`, `stderr` (each only when non-empty) and `stdout-encoding: base64` for non-UTF-8 bytes
 *   into the task's results (worker/uniter/runner/runner.go `updateActionResults`, Juju 3 branch,
 *   index hit). The plain format prints stdout then stderr, both on juju's stdout (printExecOutput).
 */
import * as z from "zod";
import { JujuActionTaskSchema, JujuRunDocSchema, type JujuActionTask, type JujuRunDoc } from "./juju-schemas";
import { parseJson, type Parsed } from "./parse";
import { excerpt } from "../runtime/excerpt";

// --- juju run: what came back -------------------------------------------------------------------

/** The task of `juju run`, as juju's progress lines (stderr) name it. */
export interface EnqueuedTask {
  operationId?: string;
  taskId?: string;
  /** The receiver tag juju printed ("unit-mysql-innodb-cluster-1"). */
  receiver?: string;
}

export type RunAnswer =
  /** juju printed the task's result (completed, failed, …): read `status`, never the exit code. */
  | ({ kind: "result"; doc: JujuRunDoc } & EnqueuedTask)
  /** juju stopped waiting (its --wait ran out): the action keeps running on the unit agent. */
  | ({ kind: "timed-out"; detail: string } & EnqueuedTask)
  /** No result and no "timed out" (killed at our deadline, API error, …): it may or may not have been enqueued. */
  | ({ kind: "no-result"; detail: string } & EnqueuedTask);

const RUNNING_OPERATION = /^Running operation (\S+) with \d+ tasks?$/m;
const TASK_ON = /^ {2}- task (\S+) on (\S+)$/m;
const TIMED_OUT = /timed out waiting for results from: (.+)$/m;

/** The operation and task ids juju printed on stderr before it started waiting. */
export function enqueuedTask(stderr: string): EnqueuedTask {
  const op = RUNNING_OPERATION.exec(stderr);
  const task = TASK_ON.exec(stderr);
  return {
    ...(op ? { operationId: op[1] } : {}),
    ...(task ? { taskId: task[1], receiver: task[2] } : {}),
  };
}

function lastLines(text: string, n = 2): string {
  return excerpt(text.trim().split("\n").slice(-n).join(" | "));
}

/**
 * Read a `juju run … --format=json` call: JSON on stdout is the answer whatever the exit code; the
 * timeout message (stderr, exit 1, no JSON) means "still running"; anything else is no answer.
 */
export function readRunAnswer(res: {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}): RunAnswer {
  const task = enqueuedTask(res.stderr);
  if (res.stdout.trim() !== "") {
    const parsed = parseJson("juju run", JujuRunDocSchema, res.stdout);
    if (parsed.ok) return { kind: "result", doc: parsed.value, ...task };
    return { kind: "no-result", detail: parsed.error, ...task };
  }
  const timedOut = TIMED_OUT.exec(res.stderr);
  if (timedOut && !res.timedOut) {
    return { kind: "timed-out", detail: `juju stopped waiting for ${timedOut[1].trim()}`, ...task };
  }
  const detail = res.timedOut
    ? "juju was killed at the step's deadline before it answered"
    : `juju exited ${res.exitCode ?? "without a status"}${res.stderr.trim() ? `: ${lastLines(res.stderr)}` : " and printed nothing"}`;
  return { kind: "no-result", detail, ...task };
}

// --- one task (juju show-task --format=json) ---------------------------------------------------

/** `pending` and `running` are the only unfinished task states (common.go GetActionResult). */
export function taskFinished(status: string): boolean {
  return status !== "pending" && status !== "running";
}

export function parseShowTask(text: string): Parsed<JujuActionTask> {
  return parseJson("juju show-task", JujuActionTaskSchema, text);
}

// --- juju operations --format=json --------------------------------------------------------------

const OperationTaskSchema = z.looseObject({
  host: z.string(),
  status: z.string(),
  message: z.string().optional(),
});

const OperationSchema = z.looseObject({
  summary: z.string().optional(),
  status: z.string(),
  action: z.looseObject({ name: z.string() }).optional(),
  tasks: z.record(z.string(), OperationTaskSchema).optional(),
});

export const JujuOperationsDocSchema = z.record(z.string(), OperationSchema);
export type JujuOperationsDoc = z.infer<typeof JujuOperationsDocSchema>;

/** No matching operation prints nothing on stdout (listoperations.go: "no matching operations" on stderr). */
export function parseOperations(text: string): Parsed<JujuOperationsDoc> {
  if (text.trim() === "") return { ok: true, value: {} };
  return parseJson("juju operations", JujuOperationsDocSchema, text);
}

export interface FoundTask {
  operationId: string;
  taskId: string;
  unit: string;
  status: string;
}

const numeric = (id: string): number => (/^\d+$/.test(id) ? Number(id) : Number.NaN);

/** The highest numeric operation id listed (0 when none): what existed before an attempt. */
export function highestOperation(doc: JujuOperationsDoc): number {
  return Object.keys(doc).reduce((max, id) => Math.max(max, numeric(id) || 0), 0);
}

/**
 * The tasks of `action` on `unit` in operations numbered above `after`, oldest first. Operation and
 * task ids are numbers from one sequence in Juju 3 ("Running operation 109 with 1 task - task 110",
 * juju/juju#20103), so "above the highest id seen before the attempt" means "enqueued since".
 */
export function tasksSince(doc: JujuOperationsDoc, opts: { unit: string; action: string; after: number }): FoundTask[] {
  const found: FoundTask[] = [];
  for (const [operationId, op] of Object.entries(doc)) {
    if (!(numeric(operationId) > opts.after)) continue;
    if (op.action !== undefined && op.action.name !== opts.action) continue;
    for (const [taskId, task] of Object.entries(op.tasks ?? {})) {
      if (task.host === opts.unit) found.push({ operationId, taskId, unit: task.host, status: task.status });
    }
  }
  return found.sort((a, b) => numeric(a.operationId) - numeric(b.operationId));
}

// --- juju exec --format=json -----------------------------------------------------------------

const ExecResultsSchema = z.looseObject({
  "return-code": z.number().int().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  "stdout-encoding": z.string().optional(),
  "stderr-encoding": z.string().optional(),
});

export const JujuExecTaskSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
  status: z.string(),
  message: z.string().optional(),
  results: ExecResultsSchema.optional(),
});

/** `juju exec --format=json`: unit (or machine) id -> task. */
export const JujuExecDocSchema = z.record(z.string(), JujuExecTaskSchema);
export type JujuExecDoc = z.infer<typeof JujuExecDocSchema>;

/** What the remote command did: its exit code, stdout and stderr, separately. */
export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

function decode(value: string | undefined, encoding: string | undefined): string {
  if (value === undefined) return "";
  return encoding === "base64" ? Buffer.from(value, "base64").toString("utf8") : value;
}

/**
 * The one task of `juju exec --unit <unit> --format=json`. `unit` may be `<app>/leader` (juju answers
 * with the resolved unit id), so a single entry is taken whatever its key. A task that did not
 * complete (the command timed out or was cancelled on the unit) has no trustworthy return code.
 */
export function readExecResult(text: string, unit: string): Parsed<RemoteResult> {
  const parsed = parseJson("juju exec", JujuExecDocSchema, text);
  if (!parsed.ok) return parsed;
  const entries = Object.entries(parsed.value);
  const entry = entries.find(([key]) => key === unit) ?? (entries.length === 1 ? entries[0] : undefined);
  if (entry === undefined) {
    return { ok: false, error: `juju exec: expected the result of ${unit}, found ${entries.length} results` };
  }
  const [key, task] = entry;
  const r = task.results ?? {};
  const stderr = decode(r.stderr, r["stderr-encoding"]);
  if (task.status !== "completed") {
    const why = [task.message, stderr.trim()].filter(Boolean).join(": ");
    return {
      ok: false,
      error: `juju exec on ${key}: task ${String(task.id ?? "?")} ${task.status}${why ? `: ${why}` : ""}`,
    };
  }
  const code = r["return-code"];
  if (code === undefined) return { ok: false, error: `juju exec on ${key}: the task's results have no return-code` };
  return { ok: true, value: { code, stdout: decode(r.stdout, r["stdout-encoding"]), stderr } };
}
