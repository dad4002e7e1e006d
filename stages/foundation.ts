/**
 * Runbook Stage 1 -- foundation. GATE: every juju machine agent reports started (typically
 * 2-5 min). Unlike the runbook's jq, the gate also reads LXD containers nested under each host.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function foundation(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-1-foundation",
    { title: "Stage 1 -- foundation", runbook: "ops-restart-procedure.md#stage-1----foundation", after },
    config,
  );
  const gate = stage.step("machines-started", {
    verb: "gate",
    command: "machines-started",
    flags: { model: config.jujuModel, ...timingFlags(config.gates.machinesStarted) },
    summary: "waits until every juju machine agent (hosts and their LXD containers) reports started",
    budget: budget(gateWait(config.gates.machinesStarted)),
    dependsOn: after,
  });
  stage.finish();
  return [gate];
}
