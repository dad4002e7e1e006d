/**
 * Runbook Stage 4 -- OVN chassis. CHECK connection-status on every chassis; sweep only the
 * affected units, then re-probe.
 *
 * Probe the chassis (`ovn-appctl -t ovn-controller connection-status`), not the charm message:
 * ovn-chassis can say "Unit is ready" while its SB connection is down. ovn-chassis units exist
 * only as subordinates inside each nova-compute unit (no `machine` key of their own).
 */
import type { JujuStatusDoc } from "./juju-schemas";
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

function describe(r: ChassisResult): string {
  return `${r.chassis} (on ${r.principal}): ${r.status ?? "probe output not recognised"}`;
}

export function ovnVerdict(results: ChassisResult[]): Verdict<OvnState> {
  const details = results.map(describe);
  if (results.length === 0) {
    return {
      ok: false,
      state: "unknown",
      summary: "no ovn-chassis units to probe",
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
      route: "chassis-not-connected",
    };
  }
  if (unreadable.length > 0) {
    return {
      ok: false,
      state: "unknown",
      summary: `connection-status unreadable on ${unreadable.map((r) => r.chassis).join(", ")}`,
      details,
      route: "chassis-not-connected",
    };
  }
  return { ok: true, state: "all-connected", summary: `all ${results.length} chassis connected`, details };
}

/** The units the Stage 4 TLS sweep restarts: only those that answered "not connected". */
export function sweepTargets(results: ChassisResult[]): ChassisResult[] {
  return results.filter((r) => r.status === "not connected");
}
