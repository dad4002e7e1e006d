/**
 * Runbook Stage 6 -- Octavia LBs. Expect auto-recovery once amphora VMs resume; any LB stuck
 * provisioning_status=ERROR after ~5 min gets `openstack loadbalancer failover` and is polled to
 * ACTIVE (VIP + FIP are preserved). [REVALIDATE: timing budget on current build]
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { budget, calls, gateWait, openrc as sourcing, waitFor } from "./budget";
import { duration, openrc, parallel, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";
import * as manual from "./manual/octavia";

const octaviaGraceFlags = z
  .object({
    openrc,
    grace: duration("how long LBs get to recover on their own, e.g. 5m (coldstart:octaviaErrorGrace)"),
    interval: duration("the pause between two looks at the LBs, e.g. 30s (coldstart:gates.lbsActive.interval)"),
  })
  .strict();
export const OCTAVIA_GRACE: StepDef<typeof octaviaGraceFlags> = defineStep({
  verb: "act",
  command: "octavia-grace",
  flags: octaviaGraceFlags,
  summary: (f) => `give LBs up to ${f.grace} to recover on their own (ends early when none is in ERROR)`,
  revalidate: "timing budget on current build",
  expected: "no LB in provisioning_status=ERROR, or the grace passed",
  onFailure: ON_FAILURE.action,
  manual: (f) => ({ section: `${manual.SECTION} (~5 min to recover on their own)`, blocks: manual.graceBlocks(f) }),
  handler: () => import("../steps/octavia").then((m) => m.octaviaGrace),
});

const lbFailoverFlags = z.object({ openrc, parallel }).strict();
export const LB_FAILOVER: StepDef<typeof lbFailoverFlags> = defineStep({
  verb: "act",
  command: "lb-failover",
  flags: lbFailoverFlags,
  summary: "openstack loadbalancer failover for each LB still provisioning_status=ERROR",
  guard: "LB provisioning_status is ERROR after the grace period; other LBs are never failed over",
  expected: "failover accepted for every LB in provisioning_status=ERROR",
  onFailure: ON_FAILURE.action,
  manual: (f) => ({
    section: `${manual.SECTION} (loadbalancer failover; appendix-A LB entries)`,
    blocks: manual.failoverBlocks(f),
    placeholders: manual.failoverPlaceholders(),
  }),
  handler: () => import("../steps/octavia").then((m) => m.lbFailover),
});

const lbsActiveFlags = z.object({ openrc, ...timing }).strict();
export const LBS_ACTIVE: StepDef<typeof lbsActiveFlags> = defineStep({
  verb: "gate",
  command: "lbs-active",
  flags: lbsActiveFlags,
  summary: "waits until every LB is provisioning_status=ACTIVE",
  expected: "every LB provisioning_status=ACTIVE",
  onFailure: ON_FAILURE.gate,
  manual: (f) => ({ section: `${manual.SECTION} (poll to ACTIVE)`, blocks: manual.activeGate(f) }),
  handler: () => import("../steps/octavia").then((m) => m.lbsActive),
});

export function octavia(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-6-octavia", {
    title: "Stage 6 -- Octavia LBs",
    runbook: "ops-restart-procedure.md#stage-6----octavia-lbs",
    after,
  });
  const wait = stage.step("octavia-grace", OCTAVIA_GRACE, {
    flags: {
      openrc: config.openrc,
      grace: formatDuration(config.octaviaErrorGrace),
      interval: formatDuration(config.gates.lbsActive.interval),
    },
    budget: budget(waitFor("octaviaErrorGrace (each probe cut at it)", config.octaviaErrorGrace)),
    dependsOn: after,
  });
  const failover = stage.step("lb-failover", LB_FAILOVER, {
    flags: { openrc: config.openrc, parallel: config.parallelism },
    // failovers run in parallel batches of `parallelism`; how many LBs are in ERROR is the cloud's: a cap
    budget: budget(sourcing, calls(config, 3, "calls (list, then failover batches: a cap)")),
    dependsOn: [wait],
  });
  const gate = stage.step("lbs-active", LBS_ACTIVE, {
    flags: { openrc: config.openrc, ...timingFlags(config.gates.lbsActive) },
    budget: budget(gateWait(config.gates.lbsActive)),
    dependsOn: [failover],
  });
  stage.finish();
  return [gate];
}
