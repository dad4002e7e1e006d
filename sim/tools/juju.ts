/**
 * Simulated cloud -- the fake `juju` (Stages 1-4, the nova config check of Stage 5, the baseline
 * capture): exactly the calls runtime/juju.ts makes, answered from the shared state in Juju 3's
 * formats. Actions and exec commands are tasks as on Juju 3 (`run`, `exec`, `show-task`,
 * `show-operation`, `operations`: sources at each function). The controller is not on the hosts,
 * so juju answers even with every host off (machines down, agents lost). A wrong -m is
 * `ERROR model "x" not found`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  agentStartedAt,
  machineStarted,
  rebootClusterFromCompleteOutage,
  invocationId,
  restartChassis,
  restartNeutronServer,
  scheduleHandUnseal,
  unsealReset,
  unsealWithKey,
  type SimState,
  type TaskRec,
  type UnitRec,
} from "../state";
import { mysqlWritable, STATUS_NOT_FOUND, statusErrorUnits } from "../views";
import {
  bundleDoc,
  configDoc,
  connectionStatusText,
  findUnit,
  isApplication,
  machinesDoc,
  operationDoc,
  rebootResults,
  runDoc,
  showModelDoc,
  statusDoc,
  statusTable,
  taskDoc,
  taskStatus,
  unitTag,
} from "../format/juju";
import * as vault from "../format/vault";
import { fail, ok, parseArgs, runTool, type Session, type ToolContext, type ToolResult } from "./common";

const VALUED = [
  "-m",
  "--model",
  "--format",
  "--unit",
  "-u",
  "--filename",
  "--output",
  "-o",
  "--wait",
  // juju operations
  "--apps",
  "--applications",
  "--units",
  "--machines",
  "--actions",
  "--status",
  "--limit",
  "--offset",
];
const EXIT_TRAILER = "; echo coldstart-exit=$?";
const CONNECTION_STATUS = "ovn-appctl -t ovn-controller connection-status";
const RESTART_CHASSIS = "systemctl restart ovs-vswitchd ovn-controller";
const RESTART_NEUTRON = "systemctl restart neutron-server";
/** `systemctl show -p InvocationID --value <unit>…`: one line per unit (a new id at each start of it). */
const INVOCATION_IDS = /^systemctl show -p InvocationID --value ((?:[a-z-]+)(?: [a-z-]+)*)$/;
const CHASSIS_SERVICES = ["ovs-vswitchd", "ovn-controller"];
/** Applications deployed from the ovn-chassis charm (octavia-ovn-chassis: format/juju.ts). */
const CHASSIS_APPS = ["ovn-chassis", "octavia-ovn-chassis"];
const ACTION = "reboot-cluster-from-complete-outage";
/** reboot-cluster-from-complete-outage's run time when the scenario does not say (26 s from enqueue, as S-run3's timing). */
const DEFAULT_ACTION_SECONDS = 25;
/** juju run's wait without --wait, and with --wait=0 (cmd/juju/action/common.go runCommandBase.Init; juju/juju#20103). */
const RUN_DEFAULT_WAIT_S = 60;
/** juju exec's wait without --wait (cmd/juju/action/exec.go newExecCommand: defaultWait 5 * time.Minute). */
const EXEC_DEFAULT_WAIT_S = 300;
/** How a juju wait passes: sim seconds on the sim's clock (Session.time.sleepS; Infinity: no limit). */
type Sleep = (simSeconds: number) => Promise<void>;

const json = (doc: unknown) => ok(JSON.stringify(doc) + "\n");

/** The -m value must name this model (controller:model, controller:owner/model, or just model). */
function checkModel(s: SimState, given: string | undefined): ToolResult | null {
  if (given === undefined) return null;
  const colon = given.indexOf(":");
  const controller = colon >= 0 ? given.slice(0, colon) : s.controller;
  const model = (colon >= 0 ? given.slice(colon + 1) : given).replace(/^admin\//, "");
  if (controller !== s.controller) return fail(`ERROR controller "${controller}" not found\n`);
  if (model !== s.model) return fail(`ERROR model "${given}" not found\n`);
  return null;
}

interface Remote {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * What the command does on the unit: stdout, stderr, exit code. `cmd; echo coldstart-exit=$?` (what
 * coldstart sent before it used --format=json) runs as one remote shell: the echo's exit code (0) is
 * the task's, the marker line ends the remote stdout, the remote stderr stays apart.
 */
function remoteCommand(session: Session, app: string, unit: UnitRec, command: string): Remote | ToolResult {
  const trailer = command.endsWith(EXIT_TRAILER);
  const inner = trailer ? command.slice(0, -EXIT_TRAILER.length) : command;
  const r = innerCommand(session, app, unit, inner);
  if (!("code" in r) || !trailer) return r;
  return { stdout: `${r.stdout}coldstart-exit=${r.code}\n`, stderr: r.stderr, code: 0 };
}

function innerCommand(session: Session, app: string, unit: UnitRec, inner: string): Remote | ToolResult {
  const { s, now } = session.read();
  const remote = (stdout: string, code: number, stderr = ""): Remote => ({ stdout, stderr, code });
  const notFound = (program: string) => remote("", 127, `bash: line 1: ${program}: command not found\n`);

  // VAULT_ADDR=<any local listener> vault status [-format=json]: which listener answers is the charm's (format/vault.ts)
  const vaultStatus = vault.parseStatusCommand(inner);
  if (vaultStatus) {
    if (app !== "vault") return notFound("vault");
    const v = s.vault.units.find((x) => x.name === unit.name)!;
    // a unit whose vault service is not running: nothing listens on either port (scenario vault.unreachableUnits)
    const listener = v.unreachable ? "refused" : vault.listenerAt(s, vaultStatus.url);
    if (listener === "plain-to-tls") return remote("", 1, vault.statusPlainToTls(vaultStatus.addr));
    if (listener === "refused")
      return remote(
        "",
        1,
        `Error checking seal status: Get "${vaultStatus.addr}/v1/sys/seal-status": dial tcp ${vaultStatus.url.host}:${vaultStatus.url.port}: connect: connection refused\n`,
      );
    if (!mysqlWritable(s, now)) {
      return remote(
        "",
        1,
        `Error checking seal status: Error making API request.\n\nURL: GET ${vaultStatus.addr}/v1/sys/seal-status\nCode: 500. Errors:\n\n* ${vault.STORAGE_DOWN}\n`,
      );
    }
    if (v.sealed && s.vault.unsealByHandAfterSeconds !== undefined && v.handUnsealAt === undefined)
      session.update((st, t) =>
        scheduleHandUnseal(
          st,
          st.vault.units.find((x) => x.name === unit.name)!,
          t,
        ),
      );
    const text = vaultStatus.json ? vault.statusJson(s, v) : vault.statusTable(s, v);
    return remote(text, v.sealed ? 2 : 0);
  }
  if (inner === CONNECTION_STATUS) {
    if (!CHASSIS_APPS.includes(app)) return notFound("ovn-appctl");
    return remote(connectionStatusText(s, unit.name, now) ?? "", 0);
  }
  if (inner === RESTART_CHASSIS) {
    if (!CHASSIS_APPS.includes(app))
      return remote("", 5, "Failed to restart ovn-controller.service: Unit ovn-controller.service not found.\n");
    session.update((st, t) =>
      restartChassis(
        st,
        st.ovn.chassis.findIndex((c) => c.name === unit.name),
        t,
      ),
    );
    return remote("", 0);
  }
  const shown = INVOCATION_IDS.exec(inner);
  if (shown) {
    const services = shown[1]!.split(" ");
    const known = CHASSIS_APPS.includes(app) ? CHASSIS_SERVICES : app === "neutron-api" ? ["neutron-server"] : [];
    // systemctl show prints an empty value for a unit it does not know (it loads it as not-found)
    return remote(
      services.map((svc) => (known.includes(svc) ? invocationId(s, unit.name, svc) : "")).join("\n") + "\n",
      0,
    );
  }
  if (inner === RESTART_NEUTRON) {
    if (app !== "neutron-api")
      return remote("", 5, "Failed to restart neutron-server.service: Unit neutron-server.service not found.\n");
    session.update((st, t) => restartNeutronServer(st, unit.name, t));
    return remote("", 0);
  }
  return fail(`coldstart sim: juju exec: command not simulated on ${unit.name}: ${inner}\n`);
}

/**
 * "ERROR the following task failed: …" (cmd/juju/action/common.go @ 0cdccd5f processOperationResults):
 * juju's verdict on a task whose results carry a return-code of 1 or more, after the results.
 */
function taskFailedError(id: string, code: number): string {
  return `ERROR the following task failed:\n - id "${id}" with return code ${code}\n\nuse 'juju show-task' to inspect the failure\n`;
}

/** cmd/juju/action/exec.go forceNewline. */
const forceNewline = (text: string) => (text !== "" && !text.endsWith("\n") ? `${text}\n` : text);

/**
 * `juju exec --unit U [--format=json] -- <command>`. Each exec is an operation with one task
 * ("juju-exec"; see below for its id). The task's results carry `return-code`
 * and, only when not empty, `stdout` / `stderr` (worker/uniter/runner/runner.go
 * updateActionResults, Juju 3). `--format=json` prints unit -> task; the plain format prints the
 * remote stdout, then the remote stderr, both on juju's stdout (cmd/juju/action/exec.go @ 2f909755
 * printExecOutput). A return-code of 1 or more makes juju exit 1 with "the following task failed"
 * on stderr, the output still printed. Progress lines are hidden for exec (hideProgress: true).
 */
async function exec(
  session: Session,
  sleep: Sleep,
  unitName: string,
  command: string,
  format: string | undefined,
  waitArg: string | undefined,
): Promise<ToolResult> {
  const { s, now } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (!machineStarted(s, unit.machine, now)) {
    // the task stays pending on a unit whose agent is down; juju gives up after its wait
    const wait = waitSeconds(waitArg, EXEC_DEFAULT_WAIT_S);
    if (wait === null) return invalidWait(waitArg ?? "");
    await sleep(wait);
    return fail(`ERROR timed out waiting for results from: unit ${unit.name}\n`);
  }
  const r = remoteCommand(session, app, unit, command);
  if (!("code" in r)) return r;
  // Numbered like the next operation and task Juju would create; not stored and the sequence not
  // advanced (show-task of an exec task is not simulated), so parallel probes need no lock.
  const at = session.read();
  const results: Record<string, unknown> = { "return-code": r.code };
  if (r.stdout !== "") results.stdout = r.stdout;
  if (r.stderr !== "") results.stderr = r.stderr;
  const task: TaskRec = {
    id: String(at.s.actionSeq + 2),
    operation: String(at.s.actionSeq + 1),
    unit: unit.name,
    action: "juju-exec",
    enqueued: at.now,
    started: at.now,
    completed: at.now,
    final: "completed",
    results,
  };
  const failed = r.code >= 1 ? taskFailedError(task.id, r.code) : "";
  const result = (stdout: string): ToolResult => ({ stdout, stderr: failed, exitCode: failed ? 1 : 0 });
  if (format === "json") return result(JSON.stringify(runDoc(task, task.enqueued)) + "\n");
  if (format === "yaml") {
    const YAML = await import("yaml");
    return result(YAML.stringify(runDoc(task, task.enqueued)));
  }
  return result(forceNewline(r.stdout) + forceNewline(r.stderr));
}

/** `juju ssh U -- curl … /v1/sys/unseal` with {"key": …} or {"reset": true} on stdin. */
function ssh(session: Session, unitName: string, command: string[], stdin: string): ToolResult {
  const { s, now } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (!machineStarted(s, unit.machine, now))
    return fail(`ERROR cannot connect to any address: [${unit.address}:22]\n`, 255);
  const arg = command.find((a) => vault.parseVaultUrl(a) !== undefined);
  const url = arg === undefined ? undefined : vault.parseVaultUrl(arg);
  if (command[0] !== "curl" || url === undefined) {
    return fail(`coldstart sim: juju ssh: command not simulated on ${unit.name}: ${command.join(" ")}\n`);
  }
  if (app !== "vault") return fail(vault.curlRefused(url), 7);
  const down = s.vault.units.find((v) => v.name === unit.name)?.unreachable === true;
  const listener = down ? "refused" : vault.listenerAt(s, url);
  if (listener === "refused") return fail(vault.curlRefused(url), 7);
  // curl -sS without -f prints the body of Go's 400 and exits 0 (format/vault.ts PLAIN_HTTP_TO_TLS_BODY)
  if (listener === "plain-to-tls") return ok(vault.PLAIN_HTTP_TO_TLS_BODY);
  const put = command.includes("PUT");
  if (url.path === "/v1/sys/seal-status" && !put) {
    if (!mysqlWritable(s, now)) return ok(vault.errorBody(vault.STORAGE_DOWN));
    return ok(
      vault.sealStatusBody(
        s,
        s.vault.units.find((v) => v.name === unit.name)!,
      ),
    );
  }
  if (url.path !== "/v1/sys/unseal" || !put || !command.includes("@-")) {
    return fail(`coldstart sim: juju ssh: request not simulated: ${command.join(" ")}\n`);
  }
  let body: { key?: unknown; reset?: unknown };
  try {
    body = JSON.parse(stdin) as { key?: unknown; reset?: unknown };
  } catch {
    return ok(vault.errorBody("failed to parse JSON input: invalid character in request body"));
  }
  return session.update((st, t) => {
    const v = st.vault.units.find((x) => x.name === unit.name)!;
    if (!mysqlWritable(st, t)) return ok(vault.errorBody(vault.STORAGE_DOWN));
    if (body.reset === true) {
      unsealReset(v);
      return ok(vault.sealStatusBody(st, v));
    }
    if (typeof body.key !== "string" || body.key === "")
      return ok(vault.errorBody("'key' must be specified in request body as JSON, or 'reset' set to true"));
    const answer = unsealWithKey(st, v, body.key, t);
    return ok(answer.code === 200 ? vault.sealStatusBody(st, v) : vault.errorBody(answer.error));
  });
}

/**
 * A Go duration as gnuflag's DurationVar reads it (time.ParseDuration: "90s", "1m30s", "1.5h",
 * "-1s", "0"), in seconds; null when it is not one. The fake's clock is the sim's: seconds here
 * are sim seconds, like every other time the sim shows.
 */
export function parseGoDuration(text: string): number | null {
  if (text === "0") return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!m) return null;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]];
  return m[1] === "-" ? -total : total;
}

/** --wait as juju run/exec read it: absent or 0 -> the default; negative -> no limit (common.go runCommandBase). */
function waitSeconds(arg: string | undefined, dflt: number): number | null {
  if (arg === undefined) return dflt;
  const d = parseGoDuration(arg);
  if (d === null) return null;
  return d === 0 ? dflt : d < 0 ? Infinity : d;
}

/** gnuflag's refusal of a bad duration (exact wording not confirmed from source; exit 2 like every flag error). */
function invalidWait(arg: string): ToolResult {
  return fail(`ERROR invalid value "${arg}" for option --wait: time: invalid duration "${arg}"\n`, 2);
}

/**
 * Enqueue reboot-cluster-from-complete-outage on a unit: one operation with one task. The unit agent
 * starts it 1 s later (once its machine agent runs) and it runs actionSeconds; what it does is
 * decided when it starts (state.ts rebootClusterFromCompleteOutage), but the unit that ran it keeps
 * its old message until the charm's assess_status at the end (charm src/actions/actions.py), and
 * the others theirs for staleSeconds after that. The task lives in the state, not in this process:
 * a killed juju client does not stop it (on real Juju the action runs on the unit agent).
 */
function enqueueReboot(st: SimState, t: number, unit: UnitRec): TaskRec {
  const operation = String(++st.actionSeq);
  const id = String(++st.actionSeq);
  const agent = agentStartedAt(st, unit.machine);
  const started = agent === null || !Number.isFinite(agent) ? null : Math.max(t, agent) + 1;
  const task: TaskRec = {
    id,
    operation,
    unit: unit.name,
    action: ACTION,
    enqueued: t,
    started,
    completed: null,
    final: "failed",
    results: {},
  };
  if (started !== null) {
    const completed = started + (st.mysql.actionSeconds ?? DEFAULT_ACTION_SECONDS);
    const result = rebootClusterFromCompleteOutage(st, unit.name, started);
    const phase = st.mysql.phase;
    if (result.ok && phase.kind === "online" && phase.primary === unit.name) {
      phase.since = completed;
      for (const u of st.mysql.units)
        phase.staleUntil[u.name] = completed + (u.name === unit.name ? 0 : st.mysql.staleSeconds);
    }
    Object.assign(
      task,
      { completed },
      rebootResults(unit, result.ok ? { ok: true } : { ok: false, wantedAddress: result.wantedAddress ?? "" }),
    );
  }
  st.tasks = [...(st.tasks ?? []), task];
  return task;
}

/**
 * `juju run <unit> <action> [--format=json] [--wait=<d>]` (cmd/juju/action/run.go, common.go @
 * 0cdccd5f): progress on stderr ("Running operation N with 1 task", "  - task M on unit-…", "",
 * "Waiting for task M..."), then either the task (JSON; exit 1 with "the following task failed"
 * when its return-code is 1 or more) or, when the wait runs out first, only
 * "ERROR timed out waiting for results from: unit <name>" and exit 1 -- the task keeps running.
 */
async function runAction(
  session: Session,
  sleep: Sleep,
  unitName: string,
  action: string,
  format: string | undefined,
  waitArg: string | undefined,
): Promise<ToolResult> {
  const wait = waitSeconds(waitArg, RUN_DEFAULT_WAIT_S);
  if (wait === null) return invalidWait(waitArg ?? "");
  const { s } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (app !== "mysql-innodb-cluster" || action !== ACTION) {
    return fail(`ERROR invalid action: action "${action}" not defined on unit "${unit.name}"\n`);
  }
  const task = session.update((st, t) => enqueueReboot(st, t, unit));
  const progress = `Running operation ${task.operation} with 1 task\n  - task ${task.id} on ${unitTag(task.unit)}\n\nWaiting for task ${task.id}...\n`;
  if (task.completed !== null && task.completed - task.enqueued <= wait) {
    await sleep(task.completed - task.enqueued);
    const doc = runDoc(task, task.completed);
    const code = typeof task.results["return-code"] === "number" ? task.results["return-code"] : -1;
    let stdout = JSON.stringify(doc) + "\n";
    if (format === "yaml") stdout = (await import("yaml")).stringify(doc);
    else if (format !== "json")
      return fail("coldstart sim: juju run: only --format=json and --format=yaml are simulated\n");
    return {
      stdout,
      stderr: progress + (code >= 1 ? taskFailedError(task.id, code) : ""),
      exitCode: code >= 1 ? 1 : 0,
    };
  }
  await sleep(wait);
  return fail(`${progress}ERROR timed out waiting for results from: unit ${task.unit}\n`);
}

/** A task or operation id as names.IsValidAction / IsValidOperation accept it: a number (or a legacy UUID). */
const VALID_ID = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * `juju show-task <id>` / `juju show-operation <id>` (showtask.go @ e3c3ba69, showoperation.go @
 * 5c910215): at once by default (--wait -1 s); with --wait=<d> (or --watch: no limit) until the
 * task ends, else "ERROR maximum wait time reached" / "ERROR timeout reached". Unknown ids:
 * "ERROR id not found" (apiserver ErrBadId) / `ERROR operation "N" not found` (state/operation.go).
 */
async function showTask(
  session: Session,
  sleep: Sleep,
  kind: "task" | "operation",
  id: string | undefined,
  args: ReturnType<typeof parseArgs>,
): Promise<ToolResult> {
  if (id === undefined) return fail(`ERROR no ${kind} ID specified\n`, 2);
  if (!VALID_ID.test(id)) return fail(`ERROR ${kind} ID "${id}" not valid\n`, 2);
  const watch = args.options.has("--watch");
  const waitArg = args.options.get("--wait");
  if (watch && waitArg !== undefined) return fail("ERROR specify either --watch or --wait but not both\n", 2);
  const waitParsed = watch ? 0 : waitArg === undefined ? -1 : parseGoDuration(waitArg);
  if (waitParsed === null) return invalidWait(waitArg ?? "");
  const { s, now } = session.read();
  const task = (s.tasks ?? []).find((t) => (kind === "task" ? t.id === id : t.operation === id));
  if (!task) return fail(kind === "task" ? "ERROR id not found\n" : `ERROR operation "${id}" not found\n`);
  let at = now;
  const unfinished = taskStatus(task, now) === "pending" || taskStatus(task, now) === "running";
  if (waitParsed >= 0 && unfinished) {
    const limit = waitParsed === 0 ? Infinity : waitParsed;
    if (task.completed !== null && task.completed - now <= limit) {
      await sleep(task.completed - now);
      at = task.completed;
    } else {
      await sleep(limit);
      return fail(kind === "task" ? "ERROR maximum wait time reached\n" : "ERROR timeout reached\n");
    }
  }
  const doc = kind === "task" ? taskDoc(task, at) : operationDoc(task, at);
  const format = args.options.get("--format") ?? args.options.get("-o") ?? (kind === "task" ? "plain" : "yaml");
  if (format === "json") return ok(JSON.stringify(doc) + "\n");
  if (format === "yaml") return ok((await import("yaml")).stringify(doc));
  return fail(`coldstart sim: juju show-${kind}: only --format=json and --format=yaml are simulated\n`);
}

/** Go's encoding/json writes a map's keys in sorted (string) order: "11" before "9". */
function goMapJson(entries: [string, unknown][]): string {
  return `{${[...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(",")}}`;
}

/**
 * `juju operations [--apps a,b] [--units u] [--actions x] [--status s] --format=json|yaml`
 * (listoperations.go @ 5c910215): operation id -> operation; nothing matching prints nothing on
 * stdout and "no matching operations" on stderr, exit 0. Without --actions only actions are
 * listed; `juju-exec` tasks only when asked for by name (listOperationsDoc). Not simulated:
 * --machines (no machine tasks here), --limit/--offset, the plain table.
 */
async function operations(session: Session, args: ReturnType<typeof parseArgs>): Promise<ToolResult> {
  const list = (...keys: string[]) => keys.flatMap((k) => (args.repeated.get(k) ?? []).flatMap((v) => v.split(",")));
  const apps = list("--apps", "--applications");
  const units = list("--units");
  const actions = list("--actions");
  const statuses = list("--status");
  const { s, now } = session.read();
  const tasks = (s.tasks ?? []).filter(
    (t) =>
      (apps.length === 0 || apps.includes(t.unit.split("/")[0])) &&
      (units.length === 0 || units.includes(t.unit)) &&
      (actions.length === 0 ? t.action !== "juju-exec" : actions.includes(t.action)) &&
      (statuses.length === 0 || statuses.includes(taskStatus(t, now))),
  );
  if (tasks.length === 0) return ok("", "no matching operations\n");
  const format = args.options.get("--format") ?? args.options.get("-o") ?? "plain";
  const entries: [string, unknown][] = tasks.map((t) => [t.operation, operationDoc(t, now)]);
  if (format === "json") return ok(goMapJson(entries) + "\n");
  if (format === "yaml") return ok((await import("yaml")).stringify(Object.fromEntries(entries)));
  return fail("coldstart sim: juju operations: only --format=json and --format=yaml are simulated\n");
}

/**
 * `juju status --format=json|yaml` with every unit Juju cannot read right now printed as
 * `{"status-error": "status not found"}` in place of the whole unit, principal or subordinate
 * (juju/juju cmd/juju/status/formatted.go `unitStatus.MarshalJSON`; sim/views.ts statusErrorUnits).
 */
function withStatusErrors(doc: Record<string, unknown>, s: SimState, now: number): Record<string, unknown> {
  const machineOf = (name: string) => findUnit(s, name)?.unit.machine;
  const broken = new Set(statusErrorUnits(s, now, machineOf));
  if (broken.size === 0) return doc;
  type Units = Record<string, Record<string, unknown>>;
  const rewrite = (units: Units | undefined) => {
    for (const [name, u] of Object.entries(units ?? {})) {
      if (broken.has(name)) units![name] = { "status-error": STATUS_NOT_FOUND };
      else rewrite(u.subordinates as Units | undefined);
    }
  };
  for (const app of Object.values(doc.applications as Record<string, { units?: Units }>)) rewrite(app.units);
  return doc;
}

async function juju(argv: string[], stdin: string, session: Session, sleep: Sleep): Promise<ToolResult> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest, VALUED);
  const format = args.options.get("--format") ?? args.options.get("-o");
  const { s, now } = session.read();
  const model = args.options.get("-m") ?? args.options.get("--model");

  switch (command) {
    case "machines":
    case "list-machines": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      return json(machinesDoc(s, now));
    }
    case "status": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const doc = () => withStatusErrors(statusDoc(s, now, args.positional), s, now);
      if (format === "json") return json(doc());
      if (format === "yaml") {
        const YAML = await import("yaml");
        return ok(YAML.stringify(doc()));
      }
      // the tabular listing does not show status-error units differently in the sim
      return ok(statusTable(s, now, args.positional));
    }
    case "config": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const app = args.positional[0];
      if (!app || !isApplication(app)) return fail(`ERROR application "${app ?? ""}" not found\n`);
      if (args.positional.length > 1) return fail("coldstart sim: juju config: setting options is not simulated\n");
      return json(configDoc(s, app));
    }
    case "run": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const [unit, action] = args.positional;
      if (!unit) return fail("ERROR no unit specified\n", 2);
      if (!action) return fail("ERROR no action specified\n", 2);
      return runAction(session, sleep, unit, action, format, args.options.get("--wait"));
    }
    case "exec": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const unit = args.options.get("--unit") ?? args.options.get("-u");
      if (!unit || args.rest.length === 0) return fail("ERROR expected --unit <unit> -- <command>\n", 2);
      return exec(session, sleep, unit, args.rest.join(" "), format, args.options.get("--wait"));
    }
    case "show-task":
    case "show-operation": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      return showTask(session, sleep, command === "show-task" ? "task" : "operation", args.positional[0], args);
    }
    case "operations":
    case "list-operations": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      return operations(session, args);
    }
    case "ssh": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const unit = args.positional[0];
      if (!unit) return fail("ERROR no target name specified\n", 2);
      return ssh(session, unit, args.rest.length > 0 ? args.rest : args.positional.slice(1), stdin);
    }
    case "export-bundle": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const file = args.options.get("--filename");
      const YAML = await import("yaml");
      const text = YAML.stringify(bundleDoc(s));
      if (!file) return ok(text);
      const target = path.resolve(session.cwd, file);
      fs.writeFileSync(target, text);
      return ok(`Bundle successfully exported to ${file}\n`);
    }
    case "show-model": {
      const bad = checkModel(s, args.positional[0] ?? model);
      if (bad) return bad;
      return json(showModelDoc(s));
    }
    default:
      return fail(`ERROR juju: "${command ?? ""}" is not a juju command. See "juju --help".\n`, 2);
  }
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  // juju's own waits (run/exec --wait, show-task --wait) pass on the sim's clock, like hangs do
  return runTool("juju", argv, stdin, ctx, (a, i, session) => juju(a, i, session, (sec) => session.time.sleepS(sec)));
}
