/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. "Check FIRST; act only on a confirmed outage."
 *
 * Classifies `juju status mysql-innodb-cluster` per unit (fixtures/README "What the
 * mysql-innodb-cluster messages mean") and reads the result of the DESTRUCTIVE
 * `reboot-cluster-from-complete-outage` action. `isCompleteOutage` / `mayRunRebootAction` are true
 * for exactly one state: every expected unit shows the complete-outage signature.
 */
import { JujuRunDocSchema, type JujuRunDoc, type JujuStatusDoc } from "./juju-schemas";
import { flattenMachines } from "./machines";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

export type MysqlState = "healthy" | "converging" | "complete-outage" | "partial-outage" | "not-ready" | "unknown";

export interface MysqlUnit {
  unit: string;
  /** `workload-status.current`: active | blocked | waiting | maintenance | unknown | error … */
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

const READY_PREFIX = "Unit is ready: Mode: ";
const DEGRADED = /NOT tolerant|\bmembers? (?:is|are) not active|has no quorum/;

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

type UnitKind =
  | { kind: "lost" }
  | { kind: "error" }
  | { kind: "signature" }
  | { kind: "ready"; mode: string; statusText: string; online: boolean; degraded: boolean }
  | { kind: "other" };

function kindOf(u: MysqlUnit): UnitKind {
  if (u.agent === "lost" || u.workload === "unknown") return { kind: "lost" };
  if (u.workload === "error") return { kind: "error" };
  if (u.workload === "blocked" && COMPLETE_OUTAGE_MESSAGES.includes(u.message)) return { kind: "signature" };
  if (u.workload === "active" && u.message.startsWith(READY_PREFIX)) {
    const rest = u.message.slice(READY_PREFIX.length);
    const comma = rest.indexOf(",");
    const mode = (comma < 0 ? rest : rest.slice(0, comma)).trim();
    const statusText = comma < 0 ? "" : rest.slice(comma + 1).trim();
    const degraded = DEGRADED.test(statusText);
    return { kind: "ready", mode, statusText, online: !degraded && statusText.includes("Cluster is ONLINE"), degraded };
  }
  return { kind: "other" };
}

function describeUnit(u: MysqlUnit): string {
  const where = [`agent ${u.agent}`, u.machine && `machine ${u.machine}`, u.address].filter(Boolean).join(", ");
  return `${u.unit}${u.leader ? "*" : ""}: ${u.workload} "${u.message}" (${where})`;
}

export function classifyMysql(units: MysqlUnit[], expectedUnits: number): Verdict<MysqlState> {
  const details = units.map(describeUnit);
  const kinds = units.map(kindOf);
  const names = (pred: (k: UnitKind) => boolean): string[] => units.filter((_, i) => pred(kinds[i])).map((u) => u.unit);
  const of = `${units.length} of ${expectedUnits} expected units`;
  const ready = kinds.filter((k) => k.kind === "ready");
  const onlineMember = (k: UnitKind): boolean =>
    k.kind === "ready" && k.online && (k.mode === "R/W" || k.mode === "R/O");
  const rw = kinds.filter((k) => k.kind === "ready" && k.online && k.mode === "R/W").length;

  // Survivors report a reformed cluster missing members: the action would be destructive.
  const degraded = names((k) => k.kind === "ready" && k.degraded);
  if (degraded.length > 0) {
    const lost = names((k) => k.kind === "lost");
    return {
      ok: false,
      state: "partial-outage",
      summary:
        `MySQL partial outage: ${degraded.join(", ")} report the cluster running without all members` +
        `${lost.length > 0 ? `; agent lost on ${lost.join(", ")} (start its machine)` : ""}` +
        " -- do NOT run reboot-cluster-from-complete-outage",
      details,
      route: "mysql-partial-outage",
    };
  }
  const lost = names((k) => k.kind === "lost");
  if (units.length < expectedUnits || lost.length > 0) {
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
  if (units.length > expectedUnits) {
    return {
      ok: false,
      state: "unknown",
      summary: `MySQL has more units than expected (${of})`,
      details,
      route: "mysql-will-not-reform",
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
  if (rw === 1 && kinds.every((k) => (k.kind === "ready" && k.online) || k.kind === "signature")) {
    // After the action only the unit it ran on re-assesses; the rest keep the stale message until their next hook.
    return {
      ok: false,
      state: "converging",
      summary: `MySQL cluster rebooted, waiting for ${names((k) => !onlineMember(k)).join(", ")} to re-assess (keep polling)`,
      details,
    };
  }
  const failing = names((k) => k.kind === "other");
  if (ready.length > 0 && failing.length > 0) {
    return {
      ok: false,
      state: "partial-outage",
      summary: `MySQL partial outage: ${names((k) => k.kind === "ready").join(", ")} ready but ${failing.join(", ")} failing -- do NOT run reboot-cluster-from-complete-outage`,
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

/** The unit an address (as mysqlsh prints it, port optional) belongs to. */
export function unitForAddress(units: MysqlUnit[], address: string): MysqlUnit | undefined {
  const host = hostOf(address);
  return units.find((u) => u.address === host || u.addresses.includes(host));
}
