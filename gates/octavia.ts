/**
 * Runbook Stage 6 -- Octavia LBs. Expect auto-recovery once amphora VMs resume; an LB stuck at
 * provisioning_status=ERROR gets `openstack loadbalancer failover <lb>` and is polled to ACTIVE.
 * Octavia accepts failover only from ACTIVE or ERROR (409 `Invalid state PENDING_…` otherwise), and
 * the CLI prints nothing and exits 0 when the API accepted it (202).
 */
import * as z from "zod";
import { forConsole } from "../runtime/safe-text";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

/** One row of `openstack loadbalancer list -f json`; `loadbalancer show -f json` parses too. */
export const LoadBalancerSchema = z.object({
  id: z.string(),
  name: z.string().nullable().optional(),
  project_id: z.string().optional(),
  vip_address: z.string().nullable().optional(),
  provisioning_status: z.string(),
  operating_status: z.string(),
  provider: z.string().optional(),
});
export type LoadBalancer = z.infer<typeof LoadBalancerSchema>;

/** One row of `openstack loadbalancer amphora list -f json` (a spare amphora has no LB and no role). */
export const AmphoraSchema = z.object({
  id: z.string(),
  loadbalancer_id: z.string().nullable(),
  status: z.string(),
  role: z.string().nullable().optional(),
  lb_network_ip: z.string().nullable().optional(),
  ha_ip: z.string().nullable().optional(),
  cert_expiration: z.string().nullable().optional(),
});
export type Amphora = z.infer<typeof AmphoraSchema>;

export function parseLoadBalancers(text: string): Parsed<LoadBalancer[]> {
  return parseJson("openstack loadbalancer list", z.array(LoadBalancerSchema), text);
}

export function parseLoadBalancerShow(text: string): Parsed<LoadBalancer> {
  return parseJson("openstack loadbalancer show", LoadBalancerSchema, text);
}

export function parseAmphorae(text: string): Parsed<Amphora[]> {
  return parseJson("openstack loadbalancer amphora list", z.array(AmphoraSchema), text);
}

export function parseAmphoraShow(text: string): Parsed<Amphora> {
  return parseJson("openstack loadbalancer amphora show", AmphoraSchema, text);
}

/** LBs the runbook fails over: provisioning_status ERROR only (operating_status is not the trigger). */
export function lbsInError(lbs: readonly LoadBalancer[]): LoadBalancer[] {
  return lbs.filter((lb) => lb.provisioning_status === "ERROR");
}

/**
 * What lb-failover does about one LB as listed now: ERROR -> failover; PENDING_* -> under way (a
 * failover -- perhaps this window's own, sent by a run killed before it read the answer -- or
 * another update): never a second request (Octavia's API sets PENDING_UPDATE before it answers a
 * failover and refuses one meanwhile with 409 `Invalid state PENDING_UPDATE`: openstack/octavia,
 * octavia/api/v2/controllers/load_balancer.py `_test_and_set_failover_prov_status`, which raises
 * LBPendingStateError); the lbs-active gate
 * waits for it. So an LB is failed over again in one window only when its last failover ended in
 * ERROR. Anything else is left alone.
 */
export type FailoverMove = "failover" | "in-progress" | "leave";

export function failoverMove(lb: LoadBalancer): FailoverMove {
  if (lb.provisioning_status === "ERROR") return "failover";
  return lb.provisioning_status.startsWith("PENDING_") ? "in-progress" : "leave";
}

/** An LB's name (else its id) as messages show it: a tenant chose it (runtime/safe-text.ts). */
export function lbName(lb: { id: string; name?: string | null }): string {
  return forConsole(lb.name ?? lb.id);
}

function label(lb: LoadBalancer): string {
  return lb.name ? `${forConsole(lb.name)} (${forConsole(lb.id)})` : forConsole(lb.id);
}

/**
 * Stage 6 gate: ok when every LB is provisioning ACTIVE. ERROR -> "error" (route lb-error);
 * PENDING_* (or anything else not final) -> "pending": keep polling; at the timeout it routes to
 * lb-pending, never to a failover Octavia would refuse.
 * `amphorae`, when given, adds the amphorae of each not-ACTIVE LB to the details.
 */
export function lbsVerdict(
  lbs: readonly LoadBalancer[],
  amphorae: readonly Amphora[] = [],
): Verdict<"all-active" | "pending" | "error"> {
  const errored = lbsInError(lbs);
  const pending = lbs.filter((lb) => lb.provisioning_status !== "ACTIVE" && lb.provisioning_status !== "ERROR");
  const details: string[] = [];
  for (const lb of [...errored, ...pending]) {
    details.push(`${label(lb)}: provisioning ${lb.provisioning_status}, operating ${lb.operating_status}`);
    for (const a of amphorae.filter((x) => x.loadbalancer_id === lb.id)) {
      details.push(`  amphora ${a.id} (${a.role ?? "no role"}): ${a.status}`);
    }
  }
  const active = lbs.length - errored.length - pending.length;
  const parts = [`${active} of ${lbs.length} load balancer(s) ACTIVE`];
  if (errored.length > 0) parts.push(`${errored.length} ERROR`);
  if (pending.length > 0) parts.push(`${pending.length} pending`);
  const summary = `octavia: ${parts.join(", ")}`;
  if (errored.length > 0) return { ok: false, state: "error", summary, details, route: "lb-error" };
  if (pending.length > 0) return { ok: false, state: "pending", summary, details, route: "lb-pending" };
  return { ok: true, state: "all-active", summary, details };
}

export type FailoverOutcome =
  { state: "accepted" } | { state: "busy" } | { state: "not-found" } | { state: "failed"; message: string };

/**
 * Classify one `openstack loadbalancer failover <lb>` call. Accepted = rc 0 with EMPTY stdout.
 * busy = 409 because the LB is PENDING_* / immutable (wait, then retry); not-found = no such LB.
 */
export function failoverOutcome(exitCode: number | null, stdout: string, stderr: string): FailoverOutcome {
  const firstLine = (text: string): string =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "";
  if (exitCode === 0) {
    if (stdout.trim() === "") return { state: "accepted" };
    return {
      state: "failed",
      message: `exit 0 but printed output (failover prints nothing): ${forConsole(firstLine(stdout))}`,
    };
  }
  const text = `${stderr}\n${stdout}`;
  if (/Invalid state PENDING_\w+/.test(text) || /is immutable and cannot be updated/.test(text))
    return { state: "busy" };
  if (/Unable to locate .* in loadbalancers/.test(text) || /not found\. \(HTTP 404\)/.test(text)) {
    return { state: "not-found" };
  }
  const what = exitCode === null ? "no exit status (killed or timed out)" : `exit ${exitCode}`;
  // the client's error line may quote the LB's tenant-chosen name
  const line = forConsole(firstLine(stderr) || firstLine(stdout));
  return { state: "failed", message: line === "" ? `${what} with no output` : `${what}: ${line}` };
}
