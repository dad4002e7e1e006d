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
import { shellWord, type ManualBlock } from "./manual";

const SECTION = "ops-restart-procedure.md, Pre-shutdown (planned only)";

/**
 * The runbook's `unset OS_*; source ~/admin-openrc` with the stack's openrc, as coldstart does it
 * (runtime/openstack.ts: every inherited OS_* removed, then the openrc sourced).
 */
function sourceOpenrc(openrc: string): ManualBlock {
  return {
    label: "RUN",
    says: `load the admin credentials: unset every OS_* variable, then source ${openrc}`,
    where: "jumphost",
    commands: ['for v in ${!OS_@}; do unset "$v"; done', `source ${shellWord(openrc)}`],
  };
}

/**
 * `openstack server list --all-projects -f json` narrowed with jq to the held guests, matched by
 * name or ID as steps/guests.ts holdGuests does (gates/guests.ts holdTargets); `extra` adds a condition.
 */
function heldServers(guests: string[], extra = ""): string {
  const match = guests.map((g) => `.Name == ${JSON.stringify(g)} or .ID == ${JSON.stringify(g)}`).join(" or ");
  return `.[] | select((${match})${extra})`;
}

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
  // steps/baseline.ts: the runbook's capture, the model named with -m (juju switch is never
  // relied on) and refused unless it answers, plus servers.json (Stage 5 reads it)
  manual: (f) => {
    const m = shellWord(f.model);
    return {
      section: `${SECTION}: RUN -- jumphost -- baseline capture (reference, not a restore path)`,
      blocks: [
        {
          label: "CHECK",
          says: `the model ${f.model} answers (the runbook's "switch to the openstack model first"); stop if not`,
          where: "jumphost",
          commands: [`juju show-model ${m} --format=json >/dev/null && echo "model ${f.model}: ok"`],
        },
        {
          label: "RUN",
          says: `capture bundle and juju status into a new timestamped folder under ${f.dir}`,
          where: "jumphost",
          commands: [
            `BAK=${shellWord(f.dir)}/$(date -u +%Y%m%d-%H%M%S)-pre-maintenance`,
            'mkdir -p -m 700 "$BAK"',
            `juju export-bundle -m ${m} --filename "$BAK/bundle.yaml"`,
            `juju status -m ${m} --format=yaml > "$BAK/juju-status.yaml"`,
          ],
        },
        sourceOpenrc(f.openrc),
        {
          label: "RUN",
          says:
            "capture servers, load balancers and amphorae (a capture by hand has no coldstart-baseline.json: " +
            "coldstart's planned Stage 5 does not take it for this window's baseline; an unplanned one uses the newest)",
          where: "jumphost",
          commands: [
            'openstack server list --all-projects </dev/null > "$BAK/servers.txt"',
            'openstack server list --all-projects -f json </dev/null > "$BAK/servers.json"',
            'openstack loadbalancer list </dev/null > "$BAK/loadbalancers.txt"',
            'openstack loadbalancer amphora list </dev/null > "$BAK/amphorae.txt"',
            'echo "Pre-maintenance snapshot at $BAK"',
          ],
        },
      ],
    };
  },
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
  // steps/guests.ts holdGuests: every named guest must exist (else nothing is stopped); each one
  // not SHUTOFF is stopped by its ID; then wait until all are SHUTOFF
  manual: (f) => {
    const guests = f.guest ?? [];
    const section = `${SECTION}; Shutdown sequence step 1 (stop guests you want held down post-maintenance, D-043)`;
    if (guests.length === 0) return { section, blocks: [] }; // holdGuests is empty: nothing to stop
    const list = "openstack server list --all-projects -f json </dev/null";
    const show = shellWord(`${heldServers(guests)} | "\\(.ID)  \\(.Name)  \\(.Status)"`);
    return {
      section,
      blocks: [
        sourceOpenrc(f.openrc),
        {
          label: "CHECK",
          says: `each held guest (${guests.join(", ")}) is listed exactly once; one missing is a typo in holdGuests: stop, stop nothing`,
          where: "jumphost",
          commands: [`${list} | jq -r ${show}`],
        },
        {
          label: "RUN",
          says: "stop every held guest not SHUTOFF yet, by its ID",
          where: "jumphost",
          commands: [
            `${list} | jq -r ${shellWord(`${heldServers(guests, ' and .Status != "SHUTOFF"')} | .ID`)} | xargs -r -n1 openstack server stop`,
          ],
        },
        {
          label: "GATE",
          says: `every held guest reads SHUTOFF`,
          where: "jumphost",
          commands: [`${list} | jq -r ${show}`],
          repeat: `every ${f.interval}, up to ${f.timeout}`,
        },
      ],
    };
  },
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
