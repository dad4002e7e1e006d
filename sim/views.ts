/**
 * Simulated cloud -- what each part of the cloud REPORTS at a sim instant, derived from the state:
 * machine agents (Stage 1), mysql unit messages (Stage 2), vault seal status (Stage 3), chassis
 * connection (Stage 4), whether the OpenStack API answers, and the health checks cloud-assert runs
 * (Stage 7). Pure: (state, now) in, view out; the output formats live in format/.
 */
import {
  agentStartedAt,
  machineStarted,
  OUTAGE_SIGNATURE,
  type SimState,
  type UnitRec,
  type VaultUnitRec,
} from "./state";

export interface StatusView {
  current: string;
  message?: string;
}

export interface UnitView {
  workload: StatusView;
  agent: StatusView;
}

const NOT_COMMUNICATING = "agent is not communicating with the server";

export function machineAgentView(s: SimState, machine: string, now: number): StatusView {
  return machineStarted(s, machine, now) ? { current: "started" } : { current: "down", message: NOT_COMMUNICATING };
}

/** A unit whose machine agent is down: workload unknown / agent lost (S-presence). */
function lostView(unit: string): UnitView {
  return {
    workload: { current: "unknown", message: `agent lost, see 'juju show-status-log ${unit}'` },
    agent: { current: "lost", message: NOT_COMMUNICATING },
  };
}

function upView(current: string, message: string): UnitView {
  return { workload: { current, message }, agent: { current: "idle" } };
}

// --- MySQL -------------------------------------------------------------------------------------

/**
 * MySQL Shell's statusText for the sim's group, as `Status::check_group_status` builds it
 * (mysql/mysql-shell @ 0437858f312f2fe2e6e37ec0da88e9b8cdab92e3 `modules/adminapi/cluster/status.cc`):
 * `inGroup` = ONLINE + RECOVERING members (both count for quorum), `online` = ONLINE members; the
 * failures tolerated are (inGroup - 1) / 2; every member that is not ONLINE is "not active".
 * `from`: the instance the status is seen from ("as visible from '<addr>'").
 */
function clusterText(total: number, inGroup: number, online: number, from: string): { quorum: boolean; text: string } {
  const quorum = inGroup * 2 > total;
  const tolerates = Math.floor((inGroup - 1) / 2);
  let text = !quorum
    ? `Cluster has no quorum as visible from '${from}:3306' and cannot process write transactions.`
    : tolerates === 0
      ? "Cluster is NOT tolerant to any failures."
      : tolerates === 1
        ? "Cluster is ONLINE and can tolerate up to ONE failure."
        : `Cluster is ONLINE and can tolerate up to ${tolerates} failures.`;
  const inactive = total - online;
  if (inactive === 1) text += " 1 member is not active.";
  else if (inactive > 1) text += ` ${inactive} members are not active.`;
  return { quorum, text };
}

/**
 * The member still RECOVERING (in the group, not yet ONLINE) this long after the cluster came back
 * online (scenario `mysql.recoveringAfterAction`); undefined when none.
 */
export function recoveringMember(s: SimState, now: number): string | undefined {
  const m = s.mysql;
  const r = m.recovering;
  if (!r || m.phase.kind !== "online" || r.unit === m.phase.primary) return undefined;
  return now < m.phase.since + r.seconds ? r.unit : undefined;
}

export function mysqlUnitView(s: SimState, unit: UnitRec, now: number): UnitView {
  if (!machineStarted(s, unit.machine, now)) return lostView(unit.name);
  const m = s.mysql;
  const started = m.units.filter((u) => machineStarted(s, u.machine, now));
  // the charm's _assess_status (openstack/charm-mysql-innodb-cluster @ 342d84b6
  // src/lib/charm/openstack/mysql_innodb_cluster.py): active "Unit is ready: Mode: {mode}, {statusText}"
  // while the status contains "OK", blocked "MySQL InnoDB Cluster not healthy: {statusText}" without
  // quorum; a member that is not ONLINE has mode "n/a" (status.cc feed_member_info)
  const ready = (primary: string, members: UnitRec[], recovering?: string) => {
    const online = members.filter((u) => u.name !== recovering).length;
    const { quorum, text } = clusterText(m.units.length, members.length, online, unit.address);
    if (!quorum) return upView("blocked", `MySQL InnoDB Cluster not healthy: ${text}`);
    const mode = unit.name === recovering ? "n/a" : unit.name === primary ? "R/W" : "R/O";
    return upView("active", `Unit is ready: Mode: ${mode}, ${text}`);
  };
  if (m.phase.kind === "online") {
    const stale = m.phase.staleUntil[unit.name];
    if (stale !== undefined && now < stale) return upView("blocked", OUTAGE_SIGNATURE);
    return ready(m.phase.primary, started, recoveringMember(s, now));
  }
  switch (m.afterBoot) {
    case "healthy":
      return ready(m.leader, started);
    case "complete-outage":
      return upView("blocked", OUTAGE_SIGNATURE);
    case "unknown-message":
      return upView("blocked", m.unknownMessage);
    case "partial-outage": {
      if (unit.name === m.partialMissing) return upView("blocked", OUTAGE_SIGNATURE);
      const members = m.units.filter((u) => u.name !== m.partialMissing);
      const primary = members.some((u) => u.name === m.leader) ? m.leader : members[0].name;
      return ready(primary, members);
    }
  }
}

/** Whether the cluster has a writable primary right now (Vault's storage and the OpenStack API need it). */
export function mysqlWritable(s: SimState, now: number): boolean {
  const m = s.mysql;
  const up = (name: string) => machineStarted(s, m.units.find((u) => u.name === name)!.machine, now);
  const upCount = m.units.filter((u) => machineStarted(s, u.machine, now)).length;
  if (m.phase.kind === "online") return up(m.phase.primary) && upCount * 2 > m.units.length;
  if (m.afterBoot === "healthy") return up(m.leader) && upCount * 2 > m.units.length;
  if (m.afterBoot === "partial-outage")
    return m.units.filter((u) => u.name !== m.partialMissing).every((u) => up(u.name));
  return false;
}

// --- Vault -------------------------------------------------------------------------------------

export function vaultUnitView(s: SimState, v: VaultUnitRec, now: number): UnitView {
  if (!machineStarted(s, v.machine, now)) return lostView(v.name);
  return v.sealed
    ? upView("blocked", "Unit is sealed")
    : upView("active", "Unit is ready (active: true, mlock: disabled)");
}

// --- OVN, nova, neutron ------------------------------------------------------------------------

/** ovn-appctl connection-status on a chassis; null when its host's agent is down (unreachable). */
export function chassisConnection(s: SimState, index: number, now: number): "connected" | "not connected" | null {
  const c = s.ovn.chassis[index];
  if (!machineStarted(s, c.machine ?? s.hosts[c.host].machine, now)) return null;
  return c.connected ? "connected" : "not connected";
}

// --- units whose status Juju cannot read ---------------------------------------------------------

/**
 * The units `juju status` cannot read right now (scenario `jujuStatusErrors`): for `seconds` after
 * their machine's agent started, or always. Juju then prints `{"status-error": "<error>"}` in place
 * of the unit (juju/juju cmd/juju/status/formatted.go `unitStatus.MarshalJSON` / `errorStatus`, as
 * stored at manadart/juju @ 1d4846f2d9cc260f278cfc5b7d4e8bc14a242e99).
 */
export function statusErrorUnits(s: SimState, now: number, machineOf: (unit: string) => string | undefined): string[] {
  return (s.statusErrors ?? [])
    .filter((e) => {
      if (e.seconds === "forever") return true;
      const machine = machineOf(e.unit);
      const at = machine === undefined ? null : agentStartedAt(s, machine);
      return at !== null && now >= at && now < at + e.seconds;
    })
    .map((e) => e.unit);
}

/** The error the controller gives for a status it cannot find (juju state/status.go getStatus: errors.NotFoundf("status")). */
export const STATUS_NOT_FOUND = "status not found";

export function plainUnitView(s: SimState, machine: string, unit: string, now: number): UnitView {
  return machineStarted(s, machine, now) ? upView("active", "Unit is ready") : lostView(unit);
}

// --- OpenStack API ----------------------------------------------------------------------------

/** Keystone (behind its VIP) answers only with a writable database; with every host off nothing listens. */
export function apiAvailability(s: SimState, now: number): "up" | "no-database" | "unreachable" {
  if (!s.hosts.slice(0, 3).some((h) => machineStarted(s, h.machine, now))) return "unreachable";
  return mysqlWritable(s, now) ? "up" : "no-database";
}

// --- cloud-assert (Stage 7) --------------------------------------------------------------------

export interface AssertLine {
  id: string;
  ok: boolean;
  text: string;
}

/** The checks cloud-assert.sh runs, judged from the state itself (so a "PASS" cannot lie). */
export function cloudChecks(s: SimState, now: number, hasCredentials: boolean): AssertLine[] {
  const machines = [...s.hosts.map((h) => h.machine), ...s.containers.map((c) => c.id)];
  const down = machines.filter((m) => !machineStarted(s, m, now));
  const mysql = s.mysql.units.map((u) => mysqlUnitView(s, u, now).workload);
  const rw = mysql.filter((w) => w.message?.startsWith("Unit is ready: Mode: R/W")).length;
  const mysqlOk =
    rw === 1 &&
    mysql.every(
      (w) => w.current === "active" && w.message?.includes("Cluster is ONLINE") && !w.message.includes("not active"),
    );
  const sealed = s.vault.units.filter((v) => v.sealed || !machineStarted(s, v.machine, now)).map((v) => v.name);
  const chassisDown = s.ovn.chassis.filter((_, i) => chassisConnection(s, i, now) !== "connected").map((c) => c.name);
  const lines: AssertLine[] = [
    {
      id: "A1",
      ok: down.length === 0,
      text:
        down.length === 0
          ? `juju: all ${machines.length} machines started`
          : `juju: machines not started: ${down.join(", ")}`,
    },
    {
      id: "A2",
      ok: mysqlOk,
      text: mysqlOk
        ? "mysql-innodb-cluster: all units ONLINE, one R/W"
        : "mysql-innodb-cluster: cluster not ONLINE with exactly one R/W",
    },
    {
      id: "A3",
      ok: sealed.length === 0,
      text:
        sealed.length === 0
          ? `vault: ${s.vault.units.length} unit(s) unsealed`
          : `vault: sealed or unreachable: ${sealed.join(", ")}`,
    },
    {
      id: "A4",
      ok: chassisDown.length === 0,
      text:
        chassisDown.length === 0
          ? `ovn: all ${s.ovn.chassis.length} chassis connected`
          : `ovn: not connected: ${chassisDown.join(", ")}`,
    },
  ];
  const api = apiAvailability(s, now);
  if (!hasCredentials || api !== "up") {
    const why = !hasCredentials
      ? "no OpenStack credentials in the environment (source the admin openrc)"
      : `the OpenStack API does not answer (${api})`;
    lines.push({ id: "A5", ok: false, text: `nova: ${why}` }, { id: "A6", ok: false, text: `octavia: ${why}` });
    return lines;
  }
  // The real scripts/cloud-assert.sh is not available to us (no source): the sim's A5 follows the
  // runbook's Stage 5 -- "pre-shutdown-running guests should be ACTIVE" -- so it watches the guests
  // that were ACTIVE before the window (no `before` = a state written before the field existed).
  const watched = s.guests.filter((g) => !g.held && (g.before ?? "ACTIVE") === "ACTIVE");
  const notActive = watched.filter((g) => g.status !== "ACTIVE" || g.task !== null);
  const lbsBad = s.lbs.filter((l) => l.provisioning !== "ACTIVE");
  lines.push(
    {
      id: "A5",
      ok: notActive.length === 0,
      text:
        notActive.length === 0
          ? `nova: ${watched.length} of ${watched.length} guests ACTIVE (${s.guests.length - watched.length} held)`
          : `nova: ${notActive.length} guest(s) not ACTIVE: ${notActive
              .slice(0, 10)
              .map((g) => `${g.name} (${g.status})`)
              .join(", ")}`,
    },
    {
      id: "A6",
      ok: lbsBad.length === 0,
      text:
        lbsBad.length === 0
          ? `octavia: ${s.lbs.length} of ${s.lbs.length} load balancers ACTIVE`
          : `octavia: ${lbsBad.length} load balancer(s) not ACTIVE: ${lbsBad
              .slice(0, 10)
              .map((l) => `${l.name} (${l.provisioning})`)
              .join(", ")}`,
    },
  );
  return lines;
}
