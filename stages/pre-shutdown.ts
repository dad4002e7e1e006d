/**
 * Runbook: "Pre-shutdown (planned only)" -- baseline capture (reference, not a restore path),
 * then shutdown step 1: stop the guests to be held down (D-043: everything else auto-resumes).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, calls, gateWait, openrc as sourcing } from "./budget";
import { list, model, openrc, text, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";

const baselineCaptureFlags = z
  .object({
    model,
    openrc,
    dir: text.describe("where the timestamped baseline folder is written (coldstart:baselineDir)"),
  })
  .strict();
export const BASELINE_CAPTURE: StepDef<typeof baselineCaptureFlags> = defineStep({
  verb: "act",
  command: "baseline-capture",
  flags: baselineCaptureFlags,
  summary:
    "capture bundle, juju status, servers, load balancers and amphorae into a timestamped folder (refuses a model other than the configured one); its coldstart-baseline.json names this window, whose Stage 5 starts only the guests ACTIVE in it",
  expected: "a baseline of the model: bundle, juju status, servers, load balancers, amphorae",
  onFailure: `${ON_FAILURE.action} (nothing is shut down without a baseline)`,
  handler: () => import("../steps/baseline").then((m) => m.baselineCapture),
});

const holdGuestsFlags = z
  .object({
    openrc,
    guest: list("a guest (name or ID) to stop and keep down after the window (coldstart:holdGuests)"),
    ...timing,
  })
  .strict();
export const HOLD_GUESTS: StepDef<typeof holdGuestsFlags> = defineStep({
  verb: "act",
  command: "hold-guests",
  flags: holdGuestsFlags,
  summary: (f) =>
    `stop the guests to keep down after the window (${(f.guest ?? []).length === 0 ? "none configured" : (f.guest ?? []).join(", ")}); all others auto-resume (D-043)`,
  expected: "every guest named in holdGuests exists and is SHUTOFF before the shutdown",
  onFailure: `${ON_FAILURE.action} (no host is powered off)`,
  handler: () => import("../steps/guests").then((m) => m.holdGuests),
});

export function preShutdown(config: Config, newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("pre-shutdown", {
    title: "Pre-shutdown (planned only)",
    runbook: "ops-restart-procedure.md#pre-shutdown-planned-only",
    after: [],
  });
  const baseline = stage.step("baseline-capture", BASELINE_CAPTURE, {
    flags: { model: config.jujuModel, openrc: config.openrc, dir: config.baselineDir },
    // juju show-model, export-bundle, status; then server list (text, json), LBs, amphorae
    budget: budget(calls(config, 3, "juju calls"), sourcing, calls(config, 4, "openstack calls")),
    dependsOn: [],
  });
  const hold = stage.step("hold-guests", HOLD_GUESTS, {
    // waits for the held guests to reach SHUTOFF with the guests gate's timing
    flags: { openrc: config.openrc, guest: config.holdGuests, ...timingFlags(config.gates.guestsActive) },
    budget: budget(
      sourcing,
      calls(config, 1 + config.holdGuests.length, "calls (server list, one stop per held guest)"),
      gateWait(config.gates.guestsActive, "wait for SHUTOFF: guests gate timeout"),
    ),
    dependsOn: [baseline],
  });
  stage.finish();
  return [hold];
}
