/**
 * Runbook Stage 7 -- end-to-end behavioral gate: source ~/admin-openrc; bash scripts/cloud-assert.sh.
 * GATE: CLOUD-ASSERT: PASS. Any FAIL routes to appendix-A by its message.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { openrc, text, timing } from "./flags";
import { defineStep, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";
import * as manual from "./manual/cloud-assert";

const cloudAssertFlags = z
  .object({
    openrc,
    script: text.describe("the end-to-end script, run with bash (coldstart:cloudAssertScript)"),
    ...timing,
  })
  .strict();
export const CLOUD_ASSERT: StepDef<typeof cloudAssertFlags> = defineStep({
  verb: "gate",
  command: "cloud-assert",
  flags: cloudAssertFlags,
  summary:
    "bash scripts/cloud-assert.sh with the admin openrc (OS_* scrubbed first); passes only on CLOUD-ASSERT: PASS",
  expected: "cloud-assert prints CLOUD-ASSERT: PASS (and no FAIL line)",
  onFailure: "stops the run; each FAIL line routes to appendix-A by its message",
  manual: (f) => ({ section: manual.SECTION, blocks: manual.cloudAssertBlocks(f) }),
  handler: () => import("../steps/cloud-assert").then((m) => m.cloudAssert),
});

export function cloudAssert(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-7-cloud-assert", {
    title: "Stage 7 -- end-to-end behavioral gate",
    runbook: "ops-restart-procedure.md#stage-7----end-to-end-behavioral-gate",
    after,
  });
  const gate = stage.step("cloud-assert", CLOUD_ASSERT, {
    flags: { openrc: config.openrc, script: config.cloudAssertScript, ...timingFlags(config.gates.cloudAssert) },
    budget: budget(gateWait(config.gates.cloudAssert, "gate timeout (each run of the script cut at it)")),
    dependsOn: after,
  });
  stage.finish();
  return [gate];
}
