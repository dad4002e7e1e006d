/**
 * Runbook Stage 5 -- guests. With D-043 in force, pre-shutdown-running guests should be ACTIVE.
 * Start the unexpectedly SHUTOFF ones (never the held ones); a regressed resume flag takes
 * effect only on the NEXT boot, so it is a warning, and guests are started manually now.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait, openrc } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function guests(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-5-guests",
    { title: "Stage 5 -- guests", runbook: "ops-restart-procedure.md#stage-5----guests", after },
    config,
  );
  const flag = stage.step("nova-resume-flag", {
    verb: "check",
    command: "nova-resume-flag",
    flags: { model: config.jujuModel, app: config.apps.novaCompute },
    summary:
      "read-only: resume-guests-state-on-host-boot must be true (a regressed flag is reported; it only takes effect on the NEXT boot)",
    budget: budget(calls(config, 1, "call")),
    dependsOn: after,
  });
  const start = stage.step("start-shutoff-guests", {
    verb: "act",
    command: "start-shutoff-guests",
    flags: { openrc: config.openrc, hold: config.holdGuests, parallel: config.parallelism },
    summary: "openstack server start for every SHUTOFF guest that is not held down",
    guard: "guest is SHUTOFF and not in holdGuests",
    // starts run in parallel batches of `parallelism`; how many guests is the cloud's: a cap
    budget: budget(
      openrc,
      calls(config, 1, "server list"),
      gateWait(config.gates.guestsActive, "cap on the starts: guests gate timeout"),
    ),
    dependsOn: [flag],
  });
  const gate = stage.step("guests-active", {
    verb: "gate",
    command: "guests-active",
    flags: { openrc: config.openrc, hold: config.holdGuests, ...timingFlags(config.gates.guestsActive) },
    summary: "waits until every guest that is not held down is ACTIVE",
    budget: budget(gateWait(config.gates.guestsActive)),
    dependsOn: [start],
  });
  stage.finish();
  return [gate];
}
