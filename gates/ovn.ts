/**
 * Runbook Stage 4 -- OVN chassis. CHECK connection-status on every chassis; sweep only the
 * affected units, then re-probe.
 *
 * Probe the chassis (`ovn-appctl -t ovn-controller connection-status`), not the charm message:
 * ovn-chassis can say "Unit is ready" while its SB connection is down. ovn-chassis units exist
 * only as subordinates inside each nova-compute unit (no `machine` key of their own).
 */
import type { JujuApplication, JujuStatusDoc } from "./juju-schemas";
import type { Verdict } from "./verdict";

export type ConnectionStatus = "connected" | "not connected";

export interface ChassisUnit {
  /** e.g. "ovn-chassis/2" */
  chassis: string;
  /** e.g. "nova-compute/2" -- the principal whose machine the chassis runs on. */
  principal: string;
  machine?: string;
}

export interface ChassisResult {
  chassis: string;
  principal: string;
  /** undefined: the probe failed or printed something else. */
  status: ConnectionStatus | undefined;
}

export type OvnState = "all-connected" | "not-connected" | "unknown";

/** Whole trimmed lines only: "not connected" contains "connected". */
export function parseConnectionStatus(text: string): ConnectionStatus | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines.includes("not connected")) return "not connected";
  if (lines.includes("connected")) return "connected";
  return undefined;
}

function unitNumber(name: string): number {
  const n = Number(name.slice(name.lastIndexOf("/") + 1));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

export function chassisUnits(status: JujuStatusDoc, principalApp: string, chassisApp: string): ChassisUnit[] {
  const out: ChassisUnit[] = [];
  for (const [principal, unit] of Object.entries(status.applications[principalApp]?.units ?? {})) {
    for (const chassis of Object.keys(unit.subordinates ?? {})) {
      if (chassis.startsWith(`${chassisApp}/`)) out.push({ chassis, principal, machine: unit.machine });
    }
  }
  return out.sort((a, b) => unitNumber(a.chassis) - unitNumber(b.chassis));
}

/**
 * The charms whose units are OVN chassis. ovn-chassis is a subordinate (of nova-compute, and -- with
 * Octavia on OVN -- deployed a second time as `octavia-ovn-chassis`, a subordinate of octavia, for the
 * load-balancer management network: openstack-charmers/openstack-bundles @
 * c77f3ea800f8d7bcdbcf008f1b731609315f6d3d `stable/overlays/loadbalancer-octavia.yaml`);
 * ovn-dedicated-chassis is the same chassis as a principal charm (its own machines).
 */
export const CHASSIS_CHARMS: readonly string[] = ["ovn-chassis", "ovn-dedicated-chassis"];

/**
 * The charm an application is deployed from. Juju 3's `juju status --format=json` has both `charm`
 * and `charm-name`: `charm-name` is always the bare name, `charm` is the name for a Charmhub charm but
 * the whole URL for a local one (`local:ovn-chassis-3`) -- juju/juju `cmd/juju/status/formatter.go`
 * `formatApplication` (`charmAlias` / `charmName`) as stored at manadart/juju @
 * 37c99d94ccc55b3ff5d36e0c1a8d7cac5e1edfc5; both in the real Juju 3.6.4 capture (app `ubun2`, charm
 * `ubuntu`: test/recorded S-jubilant). Without `charm-name`, the name is read out of `charm`
 * (`cs:ovn-chassis-27`, `ch:amd64/focal/ovn-chassis-27`, `local:ovn-chassis-3`).
 */
export function charmOf(app: JujuApplication): string | undefined {
  const named = (app as Record<string, unknown>)["charm-name"];
  if (typeof named === "string" && named !== "") return named;
  const charm = (app as Record<string, unknown>).charm;
  if (typeof charm !== "string" || charm === "") return undefined;
  const path = charm.replace(/^[a-z]+:/, "");
  const last = path.slice(path.lastIndexOf("/") + 1);
  return last.replace(/-\d+$/, "");
}

/** Every application deployed from a chassis charm, plus `configured` (an application named in the stack) when the model has it. */
export function chassisApplications(status: JujuStatusDoc, configured?: string): string[] {
  const apps = Object.entries(status.applications)
    .filter(([, a]) => CHASSIS_CHARMS.includes(charmOf(a) ?? ""))
    .map(([name]) => name);
  if (configured !== undefined && status.applications[configured] !== undefined && !apps.includes(configured))
    apps.push(configured);
  return apps.sort();
}

/**
 * Every unit of the given chassis applications: a subordinate application's units are found inside
 * each principal unit's `subordinates` (whatever the principal: nova-compute, octavia, ...), a
 * principal application's (ovn-dedicated-chassis) in its own `units`.
 */
export function allChassisUnits(status: JujuStatusDoc, chassisApps: readonly string[]): ChassisUnit[] {
  const out: ChassisUnit[] = [];
  const wanted = (unit: string) => chassisApps.includes(unit.slice(0, unit.lastIndexOf("/")));
  for (const app of Object.values(status.applications)) {
    for (const [name, unit] of Object.entries(app.units ?? {})) {
      if (wanted(name)) out.push({ chassis: name, principal: name, machine: unit.machine });
      for (const sub of Object.keys(unit.subordinates ?? {})) {
        if (wanted(sub)) out.push({ chassis: sub, principal: name, machine: unit.machine });
      }
    }
  }
  const appOf = (u: string) => u.slice(0, u.lastIndexOf("/"));
  return out.sort((a, b) =>
    appOf(a.chassis) === appOf(b.chassis)
      ? unitNumber(a.chassis) - unitNumber(b.chassis)
      : appOf(a.chassis) < appOf(b.chassis)
        ? -1
        : 1,
  );
}

function describe(r: ChassisResult): string {
  return `${r.chassis} (on ${r.principal}): ${r.status ?? "probe output not recognised"}`;
}

/**
 * @param afterSweep the Stage 4 sweep has run in this window (the gate after it): a chassis still
 *   down is not told to sweep again, it routes to chassis-still-down.
 */
export function ovnVerdict(results: ChassisResult[], afterSweep = false): Verdict<OvnState> {
  const downRoute = afterSweep ? "chassis-still-down" : "chassis-not-connected";
  const details = results.map(describe);
  if (results.length === 0) {
    return {
      ok: false,
      state: "unknown",
      summary: "no units of an ovn-chassis / ovn-dedicated-chassis application to probe",
      details,
      route: "tool-unavailable",
    };
  }
  const down = results.filter((r) => r.status === "not connected");
  const unreadable = results.filter((r) => r.status === undefined);
  if (down.length > 0) {
    return {
      ok: false,
      state: "not-connected",
      summary: `${down.length} of ${results.length} chassis not connected to the OVN SB DB: ${down.map((r) => r.chassis).join(", ")}`,
      details,
      route: downRoute,
    };
  }
  if (unreadable.length > 0) {
    return {
      ok: false,
      state: "unknown",
      summary: `connection-status unreadable on ${unreadable.map((r) => r.chassis).join(", ")}`,
      details,
      route: downRoute,
    };
  }
  return { ok: true, state: "all-connected", summary: `all ${results.length} chassis connected`, details };
}

/** The units the Stage 4 TLS sweep restarts: only those that answered "not connected". */
export function sweepTargets(results: ChassisResult[]): ChassisResult[] {
  return results.filter((r) => r.status === "not connected");
}

/** The sweep's own earlier restart of one unit in this window: which services, their InvocationIDs just before it. */
export interface EarlierRestart {
  services: string;
  before: string[];
}

/**
 * Did this window's earlier restart of a unit take effect? systemd gives a service a new
 * InvocationID at every start (src/core/unit.c `unit_acquire_invocation_id`), so ids that all
 * differ from the ones read just before the restart was sent prove it ran: it is not sent again.
 * The same ids (or none could be read) prove nothing was restarted: the restart is sent.
 */
export function restartTookEffect(
  earlier: EarlierRestart | undefined,
  services: string,
  now: readonly string[] | undefined,
): boolean {
  if (!earlier || earlier.services !== services || !now || now.length !== earlier.before.length) return false;
  return now.every((id, i) => id !== "" && id !== earlier.before[i]);
}
