/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. "Check FIRST; act only on a confirmed outage."
 *
 * Classifies `juju status mysql-innodb-cluster` per unit (fixtures/README "What the
 * mysql-innodb-cluster messages mean") and reads the result of the DESTRUCTIVE
 * `reboot-cluster-from-complete-outage` action. `isCompleteOutage` / `mayRunRebootAction` are true
 * for exactly one state: every expected unit shows the complete-outage signature.
 */
import { JujuRunDocSchema, type JujuActionTask, type JujuRunDoc, type JujuStatusDoc } from "./juju-schemas";
import { STATUS_ERROR } from "./juju-status";
import { flattenMachines } from "./machines";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

export type MysqlState = "healthy" | "converging" | "complete-outage" | "partial-outage" | "not-ready" | "unknown";

export interface MysqlUnit {
  unit: string;
  /** `workload-status.current`: active | blocked | waiting | maintenance | unknown | error …, or "status-error" (Juju could not read it: gates/juju-status.ts). */
  workload: string;
  /** `workload-status.message`, "" when absent. */
  message: string;
  /** `juju-status.current` (the unit agent): idle | executing | lost … */
  agent: string;
  machine?: string;
  leader: boolean;
  /** `public-address`. */
  address?: string;
  /** public-address plus the hosting machine's ip-addresses / dns-name. */
  addresses: string[];
}

/** Per unit, the complete-outage signature (21.04+ charm, then the pre-21.04 wording). */
export const COMPLETE_OUTAGE_MESSAGES: readonly string[] = [
  "Cluster is inaccessible from this instance. Please check logs for details.",
  "MySQL InnoDB Cluster not healthy: None",
];

/**
 * The charm's two messages that carry MySQL Shell's `statusText` (openstack/charm-mysql-innodb-cluster
 * @ 342d84b62847347a1789c7973b4f25b3423012b9 `src/lib/charm/openstack/mysql_innodb_cluster.py`
 * `_assess_status`): active `"Unit is ready: Mode: {mode}, {statusText}"` when the cluster status
 * contains "OK" (OK, OK_PARTIAL, OK_NO_TOLERANCE, OK_NO_TOLERANCE_PARTIAL), else blocked
 * `"MySQL InnoDB Cluster not healthy: {statusText}"`; "(Unknown)" / "(empty)" when a key is missing.
 */
const READY_PREFIX = "Unit is ready: Mode: ";
const NOT_HEALTHY_PREFIX = "MySQL InnoDB Cluster not healthy: ";

function unitNumber(name: string): number {
  const n = Number(name.slice(name.lastIndexOf("/") + 1));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

export function mysqlUnits(status: JujuStatusDoc, app: string): MysqlUnit[] {
  const machines = new Map(flattenMachines(status).map((m) => [m.id, m]));
  const units = status.applications[app]?.units ?? {};
  return Object.entries(units)
    .map(([unit, u]): MysqlUnit => {
      const address = u["public-address"];
      const addresses = address === undefined ? [] : [address];
      for (const a of (u.machine === undefined ? undefined : machines.get(u.machine))?.addresses ?? []) {
        if (!addresses.includes(a)) addresses.push(a);
      }
      return {
        unit,
        workload: u["workload-status"].current,
        message: u["workload-status"].message ?? "",
        agent: u["juju-status"].current,
        machine: u.machine,
        leader: u.leader === true,
        address,
        addresses,
      };
    })
    .sort((a, b) => unitNumber(a.unit) - unitNumber(b.unit));
}

/**
 * What MySQL Shell's `statusText` says about the group, as one unit's charm last reported it.
 * mysql/mysql-shell @ 0437858f312f2fe2e6e37ec0da88e9b8cdab92e3 `modules/adminapi/cluster/status.cc`
 * (`Status::check_group_status`): ONLINE and RECOVERING members both count toward `quorum_size`,
 * only ONLINE ones toward `online_count`; failures tolerated = (quorum_size - 1) / 2;
 * "Cluster is NOT tolerant to any failures." when that is 0, "Cluster is ONLINE and can tolerate
 * up to ONE failure." / "... up to N failures." otherwise; "Cluster has no quorum as visible from
 * '<addr>' and cannot process write transactions." without quorum; then " 1 member is not
 * active." / " N members are not active." for every metadata member that is not ONLINE.
 */
export interface ClusterText {
  /** "Cluster is ONLINE and can tolerate up to ..." */
  online: boolean;
  /** Failures tolerated: 0 for "NOT tolerant to any failures", undefined when the text does not say. */
  tolerates?: number;
  /** Members not ONLINE (RECOVERING, OFFLINE, UNREACHABLE or missing); 0 when not said. */
  inactive: number;
  /** "Cluster has no quorum as visible from ..." */
  noQuorum: boolean;
}

const TOLERATES = /Cluster is ONLINE and can tolerate up to (ONE|\d+) failures?\./;
const NOT_TOLERANT = /Cluster is NOT tolerant to any failures\./;
const INACTIVE = /\b(\d+) members? (?:is|are) not active\./;
const NO_QUORUM = /Cluster has no quorum as visible from /;

export function readClusterText(text: string): ClusterText {
  const tol = TOLERATES.exec(text);
  const inactive = INACTIVE.exec(text);
  return {
    online: tol !== null,
    tolerates: tol ? (tol[1] === "ONE" ? 1 : Number(tol[1])) : NOT_TOLERANT.test(text) ? 0 : undefined,
    inactive: inactive ? Number(inactive[1]) : 0,
    noQuorum: NO_QUORUM.test(text),
  };
}

/**
 * One unit's state, from its workload message AND its agent. `mode` is this member's own mode as
 * MySQL Shell gives it (`feed_member_info`): "R/W" / "R/O" for an ONLINE member, "n/a" for any
 * member that is not ONLINE (a RECOVERING member reports n/a), "(Unknown)" from the charm's fallback.
 */
export type UnitKind =
  | { kind: "status-error" }
  | { kind: "lost" }
  | { kind: "error" }
  | { kind: "signature" }
  | { kind: "ready"; mode: string; text: ClusterText }
  | { kind: "not-healthy"; text: ClusterText }
  | { kind: "other" };

export function unitKind(u: MysqlUnit): UnitKind {
  // Juju could not read its status: nothing about MySQL is known from this unit
  if (u.workload === STATUS_ERROR || u.agent === STATUS_ERROR) return { kind: "status-error" };
  if (u.agent === "lost" || u.workload === "unknown") return { kind: "lost" };
  if (u.workload === "error") return { kind: "error" };
  if (u.workload === "blocked" && COMPLETE_OUTAGE_MESSAGES.includes(u.message)) return { kind: "signature" };
  if (u.workload === "active" && u.message.startsWith(READY_PREFIX)) {
    const rest = u.message.slice(READY_PREFIX.length);
    const comma = rest.indexOf(",");
    const mode = (comma < 0 ? rest : rest.slice(0, comma)).trim();
    return { kind: "ready", mode, text: readClusterText(comma < 0 ? "" : rest.slice(comma + 1)) };
  }
  if (u.workload === "blocked" && u.message.startsWith(NOT_HEALTHY_PREFIX)) {
    return { kind: "not-healthy", text: readClusterText(u.message.slice(NOT_HEALTHY_PREFIX.length)) };
  }
  return { kind: "other" };
}

function describeUnit(u: MysqlUnit): string {
  const where = [`agent ${u.agent}`, u.machine && `machine ${u.machine}`, u.address].filter(Boolean).join(", ");
  return `${u.unit}${u.leader ? "*" : ""}: ${u.workload} "${u.message}" (${where})`;
}

type Ready = Extract<UnitKind, { kind: "ready" }>;
const isReady = (k: UnitKind): k is Ready => k.kind === "ready";
/** An ONLINE member whose charm saw a fully ONLINE cluster. */
const onlineMember = (k: UnitKind): boolean =>
  isReady(k) && (k.mode === "R/W" || k.mode === "R/O") && k.text.online && k.text.inactive === 0;
const isRw = (k: UnitKind): boolean => isReady(k) && k.mode === "R/W";
/** A member that reports the group but is not ONLINE itself (RECOVERING): Mode n/a with quorum. */
const recoveringMember = (k: UnitKind): boolean => isReady(k) && k.mode === "n/a" && !k.text.noQuorum;

/**
 * Classify from every unit's message and agent, for any cluster size (`mysqlUnits`, 3 or 5).
 *
 * - converging (wait): the members not active are all still IN the group. MySQL Shell counts a
 *   RECOVERING member toward quorum but not as online, so after the reboot action the ONLINE members
 *   say "... can tolerate up to ONE failure. 1 member is not active." (3 members) and the recovering
 *   one says `Mode: n/a`. Tolerating f failures means quorum_size >= 2f + 1, so when 2f + 1 reaches
 *   the expected size every member is in the group (ONLINE or RECOVERING) -- with every expected
 *   unit present, its agent alive and exactly one R/W, that is a cluster converging, not an outage.
 *   (For an even size the text cannot tell "all in the group" from "one out": it escalates.)
 * - partial-outage (escalate): survivors run the cluster with a member OUT of the group ("NOT
 *   tolerant", or too little tolerance for every member to be in it), a member lost, or no quorum
 *   (`blocked` "not healthy: Cluster has no quorum ...") with members lost.
 * - a unit Juju cannot read (status-error) is never an outage signature; it waits, and is
 *   converging only when the readable units report every member ONLINE or in the group.
 */
export function classifyMysql(units: MysqlUnit[], expectedUnits: number): Verdict<MysqlState> {
  const details = units.map(describeUnit);
  const kinds = units.map(unitKind);
  const names = (pred: (k: UnitKind) => boolean): string[] => units.filter((_, i) => pred(kinds[i])).map((u) => u.unit);
  const of = `${units.length} of ${expectedUnits} expected units`;
  const lost = names((k) => k.kind === "lost");
  const unreadable = names((k) => k.kind === "status-error");
  const missing = Math.max(0, expectedUnits - units.length);
  const rw = kinds.filter(isRw).length;
  const texts = kinds.flatMap((k) => (k.kind === "ready" || k.kind === "not-healthy" ? [k.text] : []));
  const gone =
    `${lost.length > 0 ? `; agent lost on ${lost.join(", ")} (start its machine)` : ""}` +
    `${missing > 0 ? `; ${missing} expected unit(s) not in juju status (${of})` : ""}`;
  const unreadableNote = (msgs: string[]): string =>
    unreadable.length > 0 ? `; juju cannot read the status of ${unreadable.join(", ")} (${msgs.join("; ")})` : "";
  const jujuErrors = units.filter((_, i) => kinds[i].kind === "status-error").map((u) => u.message || STATUS_ERROR);

  if (units.length > expectedUnits) {
    return {
      ok: false,
      state: "unknown",
      summary: `MySQL has more units than expected (${of})`,
      details,
      route: "mysql-will-not-reform",
    };
  }

  // No quorum: the survivors cannot write; waiting does not bring the lost members back.
  if (texts.some((t) => t.noQuorum)) {
    const noQuorum = names((k) => (k.kind === "ready" || k.kind === "not-healthy") && k.text.noQuorum);
    if (lost.length > 0 || missing > 0) {
      return {
        ok: false,
        state: "partial-outage",
        summary:
          `MySQL partial outage: ${noQuorum.join(", ")} report the cluster has no quorum${gone}` +
          " -- do NOT run reboot-cluster-from-complete-outage",
        details,
        route: "mysql-partial-outage",
      };
    }
    return {
      ok: false,
      state: "unknown",
      summary: `MySQL: ${noQuorum.join(", ")} report the cluster has no quorum although no unit is lost${unreadableNote(jujuErrors)}`,
      details,
      route: "mysql-will-not-reform",
    };
  }

  // Some member is not ONLINE: still in the group (converging) or out of it (partial outage)?
  const degraded = names((k) => isReady(k) && (k.text.inactive > 0 || k.text.tolerates === 0));
  if (degraded.length > 0) {
    const primaryText = kinds.filter(isReady).find((k) => k.mode === "R/W")?.text;
    const tolerates = primaryText?.tolerates;
    const allInGroup = tolerates !== undefined && 2 * tolerates + 1 >= expectedUnits;
    const settling = kinds.every(
      (k) =>
        (isReady(k) && (k.mode === "R/W" || k.mode === "R/O" || k.mode === "n/a")) ||
        k.kind === "signature" ||
        k.kind === "status-error",
    );
    if (allInGroup && rw === 1 && lost.length === 0 && missing === 0 && settling) {
      const recovering = names(recoveringMember);
      const stale = names((k) => k.kind === "signature");
      return {
        ok: false,
        state: "converging",
        summary:
          `MySQL cluster converging: ${primaryText?.inactive ?? 0} member(s) not yet ONLINE but still in the group` +
          ` (the R/W unit tolerates ${tolerates} failure(s) of ${expectedUnits})` +
          `${recovering.length > 0 ? `; RECOVERING (Mode: n/a): ${recovering.join(", ")}` : ""}` +
          `${stale.length > 0 ? `; not yet re-assessed: ${stale.join(", ")}` : ""}` +
          `${unreadableNote(jujuErrors)}; every expected unit present, agents alive -- keep polling`,
        details,
      };
    }
    return {
      ok: false,
      state: "partial-outage",
      summary:
        `MySQL partial outage: ${degraded.join(", ")} report the cluster running without all members` +
        `${gone}${unreadableNote(jujuErrors)} -- do NOT run reboot-cluster-from-complete-outage`,
      details,
      route: "mysql-partial-outage",
    };
  }

  if (missing > 0 || lost.length > 0) {
    return {
      ok: false,
      state: "not-ready",
      summary:
        `MySQL state unknowable (${of}` +
        `${lost.length > 0 ? `; agent lost / workload unknown on ${lost.join(", ")}` : ""}) -- Stage 1 not passed, not an outage signature`,
      details,
      route: "machines-not-started",
    };
  }

  if (unreadable.length > 0) {
    // The readable units may still vouch for the whole group: every one of them an ONLINE member
    // of a fully ONLINE cluster, exactly one R/W. Then only Juju's view is behind: keep polling.
    const readable = kinds.filter((k) => k.kind !== "status-error");
    if (readable.length > 0 && readable.every(onlineMember) && rw === 1) {
      return {
        ok: false,
        state: "converging",
        summary: `MySQL: the readable units report every member ONLINE${unreadableNote(jujuErrors)} -- keep polling until juju reads it`,
        details,
      };
    }
    return {
      ok: false,
      state: "not-ready",
      summary: `MySQL state unknowable${unreadableNote(jujuErrors)} -- not an outage signature; the destructive action needs every unit's own signature`,
      details,
      route: "tool-unavailable",
    };
  }

  const errored = names((k) => k.kind === "error");
  if (errored.length > 0) {
    return {
      ok: false,
      state: "unknown",
      summary: `MySQL units in error: ${errored.join(", ")}`,
      details,
      route: "units-error",
    };
  }
  if (kinds.every((k) => k.kind === "signature")) {
    return {
      ok: false,
      state: "complete-outage",
      summary: `MySQL complete outage confirmed: all ${units.length} units show the complete-outage signature`,
      details,
      route: "mysql-will-not-reform",
    };
  }
  if (kinds.every(onlineMember) && rw === 1) {
    return {
      ok: true,
      state: "healthy",
      summary: `MySQL cluster ONLINE: all ${units.length} units ready, exactly one R/W`,
      details,
    };
  }
  if (rw > 1) {
    return {
      ok: false,
      state: "unknown",
      summary: `MySQL reports ${rw} R/W units (expected exactly one)`,
      details,
      route: "mysql-will-not-reform",
    };
  }
  const settled = (k: UnitKind): boolean =>
    onlineMember(k) || (isReady(k) && k.mode === "n/a" && k.text.online && k.text.inactive === 0);
  if (rw === 1 && kinds.every((k) => settled(k) || k.kind === "signature")) {
    // After the action only the unit it ran on re-assesses; the rest keep the stale message until their next hook.
    return {
      ok: false,
      state: "converging",
      summary: `MySQL cluster rebooted, waiting for ${names((k) => !onlineMember(k)).join(", ")} to re-assess (keep polling)`,
      details,
    };
  }
  const failing = names((k) => k.kind === "other" || k.kind === "not-healthy");
  const ready = names(isReady);
  if (ready.length > 0 && failing.length > 0) {
    return {
      ok: false,
      state: "partial-outage",
      summary: `MySQL partial outage: ${ready.join(", ")} ready but ${failing.join(", ")} failing -- do NOT run reboot-cluster-from-complete-outage`,
      details,
      route: "mysql-partial-outage",
    };
  }
  return {
    ok: false,
    state: "unknown",
    summary: "MySQL state not recognised (no complete-outage signature on every unit, not healthy)",
    details,
    route: "mysql-will-not-reform",
  };
}

/** True only for a confirmed complete outage: every expected unit shows the signature. */
export function isCompleteOutage(units: MysqlUnit[], expectedUnits: number): boolean {
  return classifyMysql(units, expectedUnits).state === "complete-outage";
}

/** The destructive action is allowed only on a complete-outage verdict (never converging/partial). */
export function mayRunRebootAction(verdict: Pick<Verdict<MysqlState>, "state">): boolean {
  return verdict.state === "complete-outage";
}

// --- the reboot-cluster-from-complete-outage action result ---

export type RebootOutcome =
  { state: "success" } | { state: "not-most-updated"; address: string } | { state: "failed"; message: string };

export function parseActionResult(text: string): Parsed<JujuRunDoc> {
  return parseJson("juju run", JujuRunDocSchema, text);
}

/** "10.0.0.218:3306" -> "10.0.0.218", "[fd00::1]:3306" -> "fd00::1"; anything else unchanged. */
export function hostOf(address: string): string {
  const a = address.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) return bracketed[1];
  const hostPort = /^([^:]+):\d+$/.exec(a);
  return hostPort ? hostPort[1] : a;
}

const MOST_UPDATED = /Please use the most up to date instance: '([^']+)'/;

/** Keyed on `status` and `results.outcome` (the charm's), never on `return-code`. */
export function rebootOutcome(result: JujuRunDoc): RebootOutcome {
  const tasks = Object.entries(result);
  if (tasks.length !== 1) {
    return { state: "failed", message: `expected the result of one action task, found ${tasks.length}` };
  }
  const [unit, task] = tasks[0];
  const output = task.results?.output ?? "";
  if (task.status === "completed" && task.results?.outcome === "Success") return { state: "success" };
  const wanted = task.status === "failed" ? (MOST_UPDATED.exec(output) ?? MOST_UPDATED.exec(task.message ?? "")) : null;
  if (wanted) return { state: "not-most-updated", address: hostOf(wanted[1]) };
  const firstLine = output.trim().split("\n")[0] ?? "";
  const outcome =
    task.status === "completed" ? ` without outcome "Success" (outcome: ${task.results?.outcome ?? "none"})` : "";
  return {
    state: "failed",
    message:
      `${unit}: action ${task.status}${outcome}` +
      `${task.message ? `: ${task.message}` : ""}${firstLine === "" ? "" : ` -- ${firstLine}`}`,
  };
}

/**
 * The same reading for one task as `juju show-task <id> --format=json` prints it (the task itself,
 * not keyed by unit: cmd/juju/action/showtask.go @ e3c3ba69). Only for a finished task: `pending`
 * and `running` are not outcomes (gates/juju-action.ts taskFinished).
 */
export function rebootTaskOutcome(unit: string, task: JujuActionTask): RebootOutcome {
  return rebootOutcome({ [unit]: task });
}

/** The unit an address (as mysqlsh prints it, port optional) belongs to. */
export function unitForAddress(units: MysqlUnit[], address: string): MysqlUnit | undefined {
  const host = hostOf(address);
  return units.find((u) => u.address === host || u.addresses.includes(host));
}
