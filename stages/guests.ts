/**
 * Runbook Stage 5 -- guests. With D-043 in force, pre-shutdown-running guests should be ACTIVE.
 * Start the unexpectedly SHUTOFF ones (never the held ones, never ones that were not running
 * before the window); a regressed resume flag takes effect only on the NEXT boot, so it is a
 * warning, and guests are started manually now.
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
  // Which guests ran before the window: this window's baseline (planned) or the newest one in
  // baselineDir (unplanned; its age is printed by the step -- the plan runs offline and cannot
  // read it); with none, startGuests names them or the step stops as a BLOCKER (steps/guests.ts).
  const baseline = {
    mode: config.mode,
    "baseline-dir": config.baselineDir,
    start: config.startGuests ?? [],
    "start-named": config.startGuests === undefined ? undefined : ("yes" as const),
  };
  const from =
    config.mode === "planned"
      ? "this window's baseline-capture"
      : `the newest baseline in ${config.baselineDir} (age shown by the step)`;
  const named =
    config.startGuests === undefined
      ? "no baseline: BLOCKER listing the SHUTOFF guests until startGuests names them"
      : `plus startGuests (${config.startGuests.length === 0 ? "none" : config.startGuests.join(", ")})`;
  const start = stage.step("start-shutoff-guests", {
    verb: "act",
    command: "start-shutoff-guests",
    flags: { openrc: config.openrc, hold: config.holdGuests, parallel: config.parallelism, ...baseline },
    summary: `openstack server start for every guest ACTIVE in ${from} that is SHUTOFF now and not held; others are left as they were (${named})`,
    guard: "guest was ACTIVE in the baseline (or is in startGuests), is SHUTOFF now, and is not in holdGuests",
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
    flags: {
      openrc: config.openrc,
      hold: config.holdGuests,
      ...timingFlags(config.gates.guestsActive),
      ...baseline,
    },
    summary: `waits until every guest ACTIVE in ${from} (or in startGuests) and not held is ACTIVE; guests that were not running before are not counted`,
    budget: budget(gateWait(config.gates.guestsActive)),
    dependsOn: [start],
  });
  stage.finish();
  return [gate];
}
