/**
 * Stage 2's manual procedures (issue #24): the seed's CHECK with this stack's model and app, the
 * guard of the destructive action as a command that says yes or no, the action as Juju 3 runs it,
 * and the gate. Every jq program reads what coldstart's classifier reads (gates/mysql.ts): the
 * unit's workload status and message, its agent, and how many units there are.
 */
import { COMPLETE_OUTAGE_MESSAGES } from "../../gates/mysql";
import { ref, shellWord, type ManualBlock, type ManualPlaceholder } from "../manual";

export const SECTION = "ops-restart-procedure.md, Stage 2 -- MySQL InnoDB cluster";
export const REBOOT_ACTION = "reboot-cluster-from-complete-outage";

interface Target {
  model: string;
  app: string;
  units: number | string;
}

/** `.applications."<app>".units`: the app as a jq string literal (JSON's escapes are jq's). */
const unitsOf = (app: string): string => `.applications.${JSON.stringify(app)}.units`;

/** `juju status -m <model> <app> --format=json | jq <flags> '<program>'`, one line. */
function statusJq(t: Target, program: string, jqFlags = "-r"): string {
  return `juju status -m ${shellWord(t.model)} ${shellWord(t.app)} --format=json | jq ${jqFlags} ${shellWord(program)}`;
}

/** The seed's CHECK (Stage 2), adapted: `-m <model>`, the stack's app; one line per unit with its message. */
export function seedCheck(t: Target): string {
  return statusJq(t, `${unitsOf(t.app)} | to_entries[] | "\\(.key)  \\(.value."workload-status".message // "")"`);
}

/** What coldstart reads besides the message: the workload state, the unit agent, the leader. */
export function unitStates(t: Target): string {
  return statusJq(
    t,
    `${unitsOf(t.app)} | to_entries[] | "\\(.key)\\(if .value.leader then "*" else "" end)  workload=\\(.value."workload-status".current)  agent=\\(.value."juju-status".current)"`,
  );
}

/**
 * The guard (gates/mysql.ts isCompleteOutage): exactly `units` units, each blocked with one of the
 * two signature messages, none with its agent lost. Prints true or false; exits 1 on false (jq -e).
 */
export function completeOutage(t: Target): string {
  const messages = COMPLETE_OUTAGE_MESSAGES.map((m) => JSON.stringify(m)).join(", ");
  return statusJq(
    t,
    `(${unitsOf(t.app)} // {}) | length == ${Number(t.units)} and all(.[]; ."workload-status".current == "blocked" and ."juju-status".current != "lost" and (."workload-status".message | IN(${messages})))`,
    "-e",
  );
}

/**
 * The gate (gates/mysql.ts classifyMysql "healthy"): exactly `units` units, each active with
 * "Unit is ready: Mode: R/W|R/O, ... Cluster is ONLINE and can tolerate up to N failure(s)." and
 * no member "not active", no agent lost; exactly one Mode: R/W. Prints true or false (jq -e).
 */
export function clusterOnline(t: Target): string {
  const ready =
    '."workload-status".current == "active" and ."juju-status".current != "lost"' +
    ' and (."workload-status".message | test("^Unit is ready: Mode: R/[WO], .*Cluster is ONLINE and can tolerate up to (ONE|[0-9]+) failures?\\\\."))' +
    ' and (."workload-status".message | test("[0-9]+ members? (is|are) not active") | not)';
  return statusJq(
    t,
    `(${unitsOf(t.app)} // {}) | length == ${Number(t.units)} and all(.[]; ${ready}) and ([.[] | select(."workload-status".message | startswith("Unit is ready: Mode: R/W"))] | length == 1)`,
    "-e",
  );
}

/** Every unit with its addresses (public-address, then its machine's), to match the address an action's refusal names. */
export function unitAddresses(t: Target): string {
  return statusJq(
    t,
    `(.machines // {} | [to_entries[], (.[] | .containers // {} | to_entries[])] | from_entries) as $m | ${unitsOf(t.app)} | to_entries[] | "\\(.key)  \\(.value."public-address" // "")  \\(($m[.value.machine // ""]."ip-addresses" // []) | join(" "))"`,
  );
}

/** Any attempt of the action already (juju operations: read-only), for the once-per-window rule. */
export function operations(t: Target): string {
  return `juju operations -m ${shellWord(t.model)} --apps ${shellWord(t.app)} --actions ${REBOOT_ACTION}`;
}

export function checkBlocks(t: Target): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: "read-only: each unit's workload message (act only on a confirmed outage)",
      where: "jumphost",
      commands: [seedCheck(t), unitStates(t)],
    },
    {
      label: "CHECK",
      says: `read-only: is it a complete outage? true only when all ${t.units} units are blocked with the complete-outage signature and no agent is lost`,
      where: "jumphost",
      commands: [completeOutage(t)],
    },
  ];
}

export const MOST_UPDATED_UNIT = "MOST_UPDATED_UNIT";

/**
 * `juju run` without --wait gives up after 60 s (juju reads --wait 0 as its default 60 s:
 * cmd/juju/action/common.go runCommandBase.Init, juju/juju#20103; runtime/juju.ts jujuWait) while
 * the action keeps running on the unit: it is followed, never run again (steps/mysql.ts settle).
 */
const waitNote = (model: string): string =>
  `If juju prints "timed out waiting for results", the action is still running on the unit: follow it with juju show-task -m ${shellWord(model)} <task id> (the id from juju operations), never run it again`;

export function rebootBlocks(t: Target): ManualBlock[] {
  const signature = COMPLETE_OUTAGE_MESSAGES.map((m) => `"${m}"`).join(" or ");
  return [
    {
      label: "CHECK",
      says: `DESTRUCTIVE action ahead: only if every unit shows the complete-outage signature (blocked, ${signature}) -- re-read just before acting: the second command must print true; otherwise do NOT run it`,
      where: "jumphost",
      commands: [seedCheck(t), completeOutage(t)],
    },
    {
      label: "CHECK",
      says: `at most once per maintenance window: if this lists a ${REBOOT_ACTION} task from this window, do NOT run it again (follow that task with juju show-task)`,
      where: "jumphost",
      commands: [operations(t)],
    },
    {
      label: "RUN",
      says: `only if every unit shows the complete-outage signature and no attempt in this window: the action on the leader (Juju 3 juju run). ${waitNote(t.model)}`,
      where: "jumphost",
      commands: [`juju run -m ${shellWord(t.model)} ${shellWord(`${t.app}/leader`)} ${REBOOT_ACTION}`],
    },
    {
      label: "RUN",
      says: `only if the leader refused as not the most up-to-date member ("Please use the most up to date instance: '<address>'") and every unit still shows the signature: once, on the unit that address belongs to; never a third attempt. ${waitNote(t.model)}`,
      where: "jumphost",
      commands: [completeOutage(t), `juju run -m ${shellWord(t.model)} ${ref(MOST_UPDATED_UNIT)} ${REBOOT_ACTION}`],
    },
  ];
}

export function rebootPlaceholders(t: Target): ManualPlaceholder[] {
  return [
    {
      name: MOST_UPDATED_UNIT,
      means: `the unit whose address the leader's refusal names ("Please use the most up to date instance: '<address>:3306'", in the output of the juju run above; juju show-task <id> prints it again)`,
      findWith: unitAddresses(t),
    },
  ];
}

export function onlineGate(t: Target, timing: { timeout: string; interval: string }): ManualBlock[] {
  return [
    {
      label: "GATE",
      says: `all ${t.units} units say Cluster is ONLINE, exactly one says Mode: R/W (the last command prints true)`,
      where: "jumphost",
      commands: [seedCheck(t), clusterOnline(t)],
      repeat: `every ${timing.interval}, up to ${timing.timeout}`,
    },
  ];
}
