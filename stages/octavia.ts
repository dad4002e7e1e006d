/**
 * Runbook Stage 6 -- Octavia LBs. Expect auto-recovery once amphora VMs resume; any LB stuck
 * provisioning_status=ERROR after ~5 min gets `openstack loadbalancer failover` and is polled to
 * ACTIVE (VIP + FIP are preserved). [REVALIDATE: timing budget on current build]
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { budget, calls, gateWait, openrc, waitFor } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function octavia(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-6-octavia",
    { title: "Stage 6 -- Octavia LBs", runbook: "ops-restart-procedure.md#stage-6----octavia-lbs", after },
    config,
  );
  const grace = formatDuration(config.octaviaErrorGrace);
  const wait = stage.step("octavia-grace", {
    verb: "act",
    command: "octavia-grace",
    flags: { openrc: config.openrc, grace, interval: formatDuration(config.gates.lbsActive.interval) },
    summary: `give LBs up to ${grace} to recover on their own (ends early when none is in ERROR)`,
    revalidate: "timing budget on current build",
    budget: budget(waitFor("octaviaErrorGrace (each probe cut at it)", config.octaviaErrorGrace)),
    dependsOn: after,
  });
  const failover = stage.step("lb-failover", {
    verb: "act",
    command: "lb-failover",
    flags: { openrc: config.openrc, parallel: config.parallelism },
    summary: "openstack loadbalancer failover for each LB still provisioning_status=ERROR",
    guard: "LB provisioning_status is ERROR after the grace period; other LBs are never failed over",
    // failovers run in parallel batches of `parallelism`; how many LBs are in ERROR is the cloud's: a cap
    budget: budget(openrc, calls(config, 3, "calls (list, then failover batches: a cap)")),
    dependsOn: [wait],
  });
  const gate = stage.step("lbs-active", {
    verb: "gate",
    command: "lbs-active",
    flags: { openrc: config.openrc, ...timingFlags(config.gates.lbsActive) },
    summary: "waits until every LB is provisioning_status=ACTIVE",
    budget: budget(gateWait(config.gates.lbsActive)),
    dependsOn: [failover],
  });
  stage.finish();
  return [gate];
}
