/**
 * The runbook's "Quick reference (symptom -> fix)" table as data, plus the stage texts a failure
 * can route to. Every failed gate names one of these: escalate, never improvise.
 */

export interface Route {
  id: RouteId;
  symptom: string;
  fix: string;
  /** Where the fix comes from: the quick-reference table, a runbook stage text, or appendix-A. */
  source: string;
}

export const ROUTES = {
  // --- the runbook's quick-reference table, row by row ---
  "units-error": {
    symptom: "Units in error (stuck relation-broken hook)",
    fix: "juju resolved --no-retry <unit>",
    source: "quick reference",
  },
  "mysql-will-not-reform": {
    symptom: "MySQL will not reform",
    fix: 'Stage 2 -- reboot-cluster-from-complete-outage ONLY on a confirmed complete outage; otherwise appendix-A "mysql-innodb-cluster recovery" (signature table, D-062)',
    source: "quick reference",
  },
  "vault-sealed": {
    symptom: "Vault sealed",
    // The table says "3-of-5": that is today's Vault. The threshold is Vault's own (`vault status`).
    fix: "Expected after restart; Stage 3 manual unseal with as many keys as Vault's own threshold (`vault status`: Threshold), on every sealed unit",
    source: "quick reference",
  },
  "chassis-not-connected": {
    symptom: "Chassis not connected",
    fix: "Stage 4 TLS sweep (restart ovn-controller / ovs-vswitchd / neutron-server on affected units), then re-probe",
    source: "quick reference",
  },
  "chassis-still-down": {
    symptom: "Chassis still not connected after the Stage 4 TLS sweep ran in this window",
    fix: "do NOT sweep again (the restart did not fix it): appendix-A OVN/TLS entries for the listed chassis (its certificates from Vault, `ovn-sbctl show` on an ovn-central unit); escalate. Stage 5 does not start until every chassis is connected",
    source: "runbook Stage 4 (the sweep is its only action) + escalate, never improvise",
  },
  "hypervisor-down": {
    symptom: "Hypervisor down, juju green",
    fix: "restart nova-compute on the host; recheck in 60s",
    source: "quick reference",
  },
  "lb-error": {
    symptom: "LB provisioning_status=ERROR",
    fix: "openstack loadbalancer failover <lb>; appendix-A LB entries",
    source: "quick reference",
  },
  "lb-pending": {
    symptom: "LB still provisioning_status=PENDING_* at the gate's timeout (none in ERROR)",
    // Octavia answers a failover of a PENDING_* LB with 409 "Invalid state PENDING_..." (the answer
    // gates/octavia.ts failoverOutcome classifies as busy); the exact API function was not located.
    fix: "do NOT fail it over (Octavia refuses failover while PENDING_*): check its amphorae (`openstack loadbalancer amphora list --loadbalancer <lb>`) and the octavia worker / health-manager logs; appendix-A LB entries; the LB is failed over only once it is ERROR",
    source: "runbook Stage 6 + Octavia API",
  },
  "horizon-cookie": {
    symptom: "Horizon login cookie failure",
    fix: "restore _99_internal_http_cookies.py (D-044)",
    source: "quick reference",
  },
  // --- stage texts of the runbook ---
  "machines-not-started": {
    symptom: "Juju machine agents not started after power-on",
    fix: "Stage 1 gate: check the listed machines' power and console (MAAS/IPMI/virsh); do not continue to Stage 2 until every agent is started",
    source: "runbook Stage 1",
  },
  "mysql-partial-outage": {
    symptom: "MySQL partial outage (some units ONLINE, some not)",
    fix: 'do NOT run reboot-cluster-from-complete-outage (destructive against a reformed cluster); appendix-A "mysql-innodb-cluster recovery" signature table (D-062)',
    source: "runbook Stage 2",
  },
  "vault-keys-missing": {
    symptom: "Vault unseal keys missing",
    fix: "recovery BLOCKER: escalate, never improvise (re-init wipes the TLS plane); key custody per D-069 / docs/security-ledger.md",
    source: "runbook Stage 3",
  },
  "vault-key-rejected": {
    symptom: "Vault refused an unseal key (wrong or malformed share)",
    fix: "recovery BLOCKER: do not try other keys or re-init; check which key custodian's share was used (D-069 / docs/security-ledger.md), then re-run Stage 3 with the right keys (Vault's own threshold, `vault status`)",
    source: "runbook Stage 3 + escalate, never improvise",
  },
  "guests-shutoff": {
    symptom: "Guests unexpectedly SHUTOFF",
    fix: "openstack server start <name>; if MANY are down verify juju config nova-compute resume-guests-state-on-host-boot (a regressed flag takes effect only on the NEXT boot -- start manually now)",
    source: "runbook Stage 5",
  },
  "cloud-assert-fail": {
    symptom: "CLOUD-ASSERT: FAIL",
    fix: "route each FAIL line to runbooks/appendix-A-troubleshooting.md by its message",
    source: "runbook Stage 7",
  },
  // --- coldstart's own (outside the runbook; still escalate, never improvise) ---
  "power-control": {
    symptom: "Host power control failed or the host did not reach the expected power state",
    fix: "check the host's BMC / MAAS / libvirt reachability and credentials from the jumphost; re-run `pulumi up` in the same window to resume",
    source: "coldstart",
  },
  "tool-missing": {
    symptom: "A program coldstart calls (juju, openstack, ipmitool, virsh, bash) is not on PATH",
    fix: "install it on the jumphost, or put it on the PATH of the process that runs coldstart (pulumi up inherits the shell's PATH); waiting cannot help, so the step stopped at once",
    source: "coldstart",
  },
  "tool-unavailable": {
    symptom: "A juju / openstack / vault call failed, hung or answered in an unexpected shape",
    fix: "check controller / API reachability and credentials from the jumphost; re-run `pulumi up` in the same window to resume after the last successful step",
    source: "coldstart",
  },
} as const satisfies Record<string, Omit<Route, "id">>;

export type RouteId = keyof typeof ROUTES;

/** One line for an operator: "-> fix: ... (quick reference: Vault sealed)". */
export function describeRoute(id: RouteId): string {
  const r = ROUTES[id];
  return `fix: ${r.fix}  [${r.source}: ${r.symptom}]`;
}
