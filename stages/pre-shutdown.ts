/**
 * Runbook: "Pre-shutdown (planned only)" -- baseline capture (reference, not a restore path),
 * then shutdown step 1: stop the guests to be held down (D-043: everything else auto-resumes).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait, openrc } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function preShutdown(config: Config): pulumi.Resource[] {
  const stage = new RunbookStage(
    "pre-shutdown",
    { title: "Pre-shutdown (planned only)", runbook: "ops-restart-procedure.md#pre-shutdown-planned-only", after: [] },
    config,
  );
  const baseline = stage.step("baseline-capture", {
    verb: "act",
    command: "baseline-capture",
    flags: { model: config.jujuModel, openrc: config.openrc, dir: config.baselineDir },
    summary:
      "capture bundle, juju status, servers, load balancers and amphorae into a timestamped folder (refuses a model other than the configured one); its coldstart-baseline.json names this window, whose Stage 5 starts only the guests ACTIVE in it",
    // juju show-model, export-bundle, status; then server list (text, json), LBs, amphorae
    budget: budget(calls(config, 3, "juju calls"), openrc, calls(config, 4, "openstack calls")),
    dependsOn: [],
  });
  const hold = stage.step("hold-guests", {
    verb: "act",
    command: "hold-guests",
    // waits for the held guests to reach SHUTOFF with the guests gate's timing
    flags: { openrc: config.openrc, guest: config.holdGuests, ...timingFlags(config.gates.guestsActive) },
    summary: `stop the guests to keep down after the window (${config.holdGuests.length === 0 ? "none configured" : config.holdGuests.join(", ")}); all others auto-resume (D-043)`,
    budget: budget(
      openrc,
      calls(config, 1 + config.holdGuests.length, "calls (server list, one stop per held guest)"),
      gateWait(config.gates.guestsActive, "wait for SHUTOFF: guests gate timeout"),
    ),
    dependsOn: [baseline],
  });
  stage.finish();
  return [hold];
}
