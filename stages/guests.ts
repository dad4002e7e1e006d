/**
 * Runbook Stage 5 -- guests. With D-043 in force, pre-shutdown-running guests should be ACTIVE.
 * Start the unexpectedly SHUTOFF ones (never the held ones, never ones that were not running
 * before the window); a regressed resume flag takes effect only on the NEXT boot, so it is a
 * warning, and guests are started manually now.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, calls, gateWait, openrc as sourcing } from "./budget";
import { app, list, model, openrc, parallel, text, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";
import * as manual from "./manual/guests";

const hold = list("a guest (name or ID) to keep down (coldstart:holdGuests): never started");

/**
 * Stage 5 against a baseline (steps/guests.ts): all optional; without --mode a step keeps the
 * pre-baseline rule (every SHUTOFF guest that is not held). The graph always passes --mode.
 */
const guestBaseline = {
  mode: z
    .enum(["planned", "unplanned"])
    .optional()
    .describe(
      "the window's mode: planned reads this window's baseline, unplanned the newest one; unset: every SHUTOFF guest that is not held",
    ),
  "baseline-dir": text.optional().describe("where baseline-capture writes its baselines (coldstart:baselineDir)"),
  start: z
    .array(text)
    .optional()
    .describe("a guest (name or ID) to start when SHUTOFF even if not in the baseline (coldstart:startGuests); repeat"),
  "start-named": z
    .enum(["yes"])
    .optional()
    .describe("`yes`: coldstart:startGuests is set (possibly to an empty list: start none beyond the baseline)"),
};

type BaselineInput = { mode?: string; "baseline-dir"?: string; start?: string[]; "start-named"?: "yes" };

/** Which guests ran before the window, in the plan's words. */
function fromWhere(f: BaselineInput): string {
  return f.mode === "planned"
    ? "this window's baseline-capture"
    : `the newest baseline in ${f["baseline-dir"]} (age shown by the step)`;
}

function named(f: BaselineInput): string {
  const start = f.start ?? [];
  return f["start-named"] === undefined
    ? "no baseline: BLOCKER listing the SHUTOFF guests until startGuests names them"
    : `plus startGuests (${start.length === 0 ? "none" : start.join(", ")})`;
}

const novaResumeFlagFlags = z
  .object({ model, app: app("the nova-compute application (coldstart:apps.novaCompute)") })
  .strict();
export const NOVA_RESUME_FLAG: StepDef<typeof novaResumeFlagFlags> = defineStep({
  verb: "check",
  command: "nova-resume-flag",
  flags: novaResumeFlagFlags,
  summary:
    "read-only: resume-guests-state-on-host-boot must be true (a regressed flag is reported; it only takes effect on the NEXT boot)",
  expected: "resume-guests-state-on-host-boot=true (D-043)",
  onFailure: ON_FAILURE.check,
  manual: (f) => ({
    section: `${manual.SECTION} (resume-guests-state-on-host-boot, D-043)`,
    blocks: manual.resumeFlagCheck(f),
  }),
  handler: () => import("../steps/guests").then((m) => m.novaResumeFlag),
});

const startShutoffGuestsFlags = z.object({ openrc, hold, parallel, ...guestBaseline }).strict();
export const START_SHUTOFF_GUESTS: StepDef<typeof startShutoffGuestsFlags> = defineStep({
  verb: "act",
  command: "start-shutoff-guests",
  flags: startShutoffGuestsFlags,
  summary: (f) =>
    `openstack server start for every guest ACTIVE in ${fromWhere(f)} that is SHUTOFF now and not held; others are left as they were (${named(f)})`,
  guard: "guest was ACTIVE in the baseline (or is in startGuests), is SHUTOFF now, and is not in holdGuests",
  expected:
    "every guest ACTIVE before the window (or named in startGuests) that is SHUTOFF now, and not held, gets openstack server start",
  onFailure: `${ON_FAILURE.action}; no baseline and no startGuests is a BLOCKER`,
  manual: (f) => ({
    section: `${manual.SECTION} (unexpectedly SHUTOFF guests)`,
    blocks: manual.startBlocks(f),
    placeholders: manual.startPlaceholders(f),
  }),
  handler: () => import("../steps/guests").then((m) => m.startShutoffGuests),
});

const guestsActiveFlags = z.object({ openrc, hold, ...timing, ...guestBaseline }).strict();
export const GUESTS_ACTIVE: StepDef<typeof guestsActiveFlags> = defineStep({
  verb: "gate",
  command: "guests-active",
  flags: guestsActiveFlags,
  summary: (f) =>
    `waits until every guest ACTIVE in ${fromWhere(f)} (or in startGuests) and not held is ACTIVE; guests that were not running before are not counted`,
  expected: "every guest ACTIVE before the window (or named in startGuests) and not held is ACTIVE",
  onFailure: ON_FAILURE.gate,
  manual: (f) => ({
    section: manual.SECTION,
    blocks: manual.activeGate(f),
    placeholders: manual.activePlaceholders(f),
  }),
  handler: () => import("../steps/guests").then((m) => m.guestsActive),
});

export function guests(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-5-guests", {
    title: "Stage 5 -- guests",
    runbook: "ops-restart-procedure.md#stage-5----guests",
    after,
  });
  const flag = stage.step("nova-resume-flag", NOVA_RESUME_FLAG, {
    flags: { model: config.jujuModel, app: config.apps.novaCompute },
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
  const start = stage.step("start-shutoff-guests", START_SHUTOFF_GUESTS, {
    flags: { openrc: config.openrc, hold: config.holdGuests, parallel: config.parallelism, ...baseline },
    // starts run in parallel batches of `parallelism`; how many guests is the cloud's: a cap
    budget: budget(
      sourcing,
      calls(config, 1, "server list"),
      gateWait(config.gates.guestsActive, "cap on the starts: guests gate timeout"),
    ),
    dependsOn: [flag],
  });
  const gate = stage.step("guests-active", GUESTS_ACTIVE, {
    flags: {
      openrc: config.openrc,
      hold: config.holdGuests,
      ...timingFlags(config.gates.guestsActive),
      ...baseline,
    },
    budget: budget(gateWait(config.gates.guestsActive)),
    dependsOn: [start],
  });
  stage.finish();
  return [gate];
}
