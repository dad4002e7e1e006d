/**
 * Runbook Stage 7 -- end-to-end behavioral gate: `source ~/admin-openrc; bash scripts/cloud-assert.sh`.
 * GATE: CLOUD-ASSERT: PASS. Re-run until it passes or the timeout; any FAIL routes to appendix-A.
 */
import * as path from "node:path";
import type { StepFlags } from "../stages/step-def";
import { CLOUD_ASSERT } from "../stages/cloud-assert";
import { cloudAssertVerdict } from "../gates/cloud-assert";
import { OpenStack } from "../runtime/openstack";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { runGate, type StepOutcome } from "./outcome";
import { cutAtDeadline, ToolError } from "../runtime/tool-error";
import { describeExit } from "../runtime/exec";

export async function cloudAssert(flags: StepFlags<typeof CLOUD_ASSERT>, ctx: StepContext): Promise<StepOutcome> {
  const os = new OpenStack(ctx, flags.openrc);
  const script = expandHome(flags.script, ctx.env);
  // The runbook runs `bash scripts/cloud-assert.sh` from the repository root.
  const repoRoot = path.dirname(path.dirname(script));
  return runGate(ctx, {
    expected: CLOUD_ASSERT.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      const res = await ctx.exec({
        file: "bash",
        args: [script],
        cwd: repoRoot,
        env: await os.credentials(),
        timeoutMs: flags.timeout,
      });
      if (res.notFound) throw new ToolError("bash: not found on PATH", "tool-unavailable", true);
      if (cutAtDeadline(res))
        throw new ToolError(`cloud-assert: ${describeExit(res, flags.timeout)}`, "tool-unavailable", false, true);
      // its output was cut at the cap (runtime/exec.ts): no verdict can be read from it
      if (res.overflow) throw new ToolError(`cloud-assert: ${describeExit(res)}`);
      return cloudAssertVerdict(res.timedOut ? null : res.exitCode, res.stdout);
    },
  });
}
