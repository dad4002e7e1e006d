/**
 * Runbook Stage 7 -- end-to-end behavioral gate: source ~/admin-openrc; bash scripts/cloud-assert.sh.
 * GATE: CLOUD-ASSERT: PASS. Any FAIL routes to appendix-A by its message.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function cloudAssert(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-7-cloud-assert",
    {
      title: "Stage 7 -- end-to-end behavioral gate",
      runbook: "ops-restart-procedure.md#stage-7----end-to-end-behavioral-gate",
      after,
    },
    config,
  );
  const gate = stage.step("cloud-assert", {
    verb: "gate",
    command: "cloud-assert",
    flags: { openrc: config.openrc, script: config.cloudAssertScript, ...timingFlags(config.gates.cloudAssert) },
    summary:
      "bash scripts/cloud-assert.sh with the admin openrc (OS_* scrubbed first); passes only on CLOUD-ASSERT: PASS",
    budget: budget(gateWait(config.gates.cloudAssert, "gate timeout (each run of the script cut at it)")),
    dependsOn: after,
  });
  stage.finish();
  return [gate];
}
