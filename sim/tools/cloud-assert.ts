/**
 * Simulated cloud -- the operations repo's `scripts/cloud-assert.sh` (Stage 7, the end-to-end
 * behavioural gate): one line per check (A1 machines .. A6 load balancers), any extra FAIL lines
 * the scenario names, then `CLOUD-ASSERT: PASS` (exit 0) or `CLOUD-ASSERT: FAIL` (exit 1).
 * It judges the simulated cloud itself, so it FAILs whenever the cloud is not actually healthy.
 */
import { cloudChecks } from "../views";
import { runTool, type Session, type ToolContext, type ToolResult } from "./common";

function cloudAssert(_argv: string[], _stdin: string, session: Session): ToolResult {
  const { s, now } = session.read();
  const env = session.env;
  const credentials =
    env.OS_AUTH_URL === s.openstack.authUrl &&
    env.OS_USERNAME === s.openstack.username &&
    env.OS_PASSWORD === s.openstack.password;
  const checks = cloudChecks(s, now, credentials);
  const lines = checks.map((c) => `${c.id} ${c.ok ? "PASS" : "FAIL"} ${c.text}`);
  lines.push(...s.cloudAssert.failLines);
  const passed = checks.every((c) => c.ok) && s.cloudAssert.failLines.length === 0;
  lines.push(passed ? "CLOUD-ASSERT: PASS" : "CLOUD-ASSERT: FAIL");
  return { stdout: lines.join("\n") + "\n", stderr: "", exitCode: passed ? 0 : 1 };
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  return runTool("cloud-assert", argv, stdin, ctx, cloudAssert);
}
