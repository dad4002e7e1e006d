/**
 * Runbook Stage 1 -- foundation. GATE: every juju machine agent reports started (typically
 * 2-5 min). Unlike the runbook's jq, the gate also reads LXD containers nested under each host.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { model, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";

/**
 * The runbook's jq over `juju machines --format=json`, walking each machine's `containers`
 * (recursively) as gates/machines.ts does: a down LXD container fails the gate too.
 */
// no single quote in either filter: each is written between single quotes as it stands
const FLAT = "def flat: to_entries[] | ., (.value.containers // {} | flat);";
const MACHINES_JQ = `${FLAT} .machines // {} | flat | "\\(.key)  agent=\\(.value."juju-status".current)"`;
const COUNT_JQ = `${FLAT} [.machines // {} | flat] | length`;

const machinesStartedFlags = z.object({ model, ...timing }).strict();
export const MACHINES_STARTED: StepDef<typeof machinesStartedFlags> = defineStep({
  verb: "gate",
  command: "machines-started",
  flags: machinesStartedFlags,
  summary: "waits until every juju machine agent (hosts and their LXD containers) reports started",
  expected: "every juju machine agent (hosts and LXD containers) reports started",
  onFailure: ON_FAILURE.gate,
  // the model needs no quoting: its flag (and coldstart:jujuModel) allow only [A-Za-z0-9._/:-], a
  // shell word as it stands; stages/manual.ts's shellWord is not imported so that this step's
  // process loads no more than it did (test/step-definitions.test.ts pins its stage modules)
  manual: (f) => ({
    section: "ops-restart-procedure.md, Stage 1 -- foundation",
    blocks: [
      {
        label: "GATE",
        says:
          "every juju machine agent, hosts and their LXD containers, reports started: it prints `all machines started` " +
          "and the count is not 0 (no machines at all = the wrong model)",
        where: "jumphost",
        commands: [
          `juju machines -m ${f.model} --format=json | jq -r '${MACHINES_JQ}' | grep -v 'agent=started' || echo "all machines started"`,
          `juju machines -m ${f.model} --format=json | jq '${COUNT_JQ}'`,
        ],
        repeat: `every ${f.interval}, up to ${f.timeout}`,
      },
    ],
  }),
  handler: () => import("../steps/foundation").then((m) => m.machinesStarted),
});

export function foundation(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-1-foundation", {
    title: "Stage 1 -- foundation",
    runbook: "ops-restart-procedure.md#stage-1----foundation",
    after,
  });
  const gate = stage.step("machines-started", MACHINES_STARTED, {
    flags: { model: config.jujuModel, ...timingFlags(config.gates.machinesStarted) },
    budget: budget(gateWait(config.gates.machinesStarted)),
    dependsOn: after,
  });
  stage.finish();
  return [gate];
}
