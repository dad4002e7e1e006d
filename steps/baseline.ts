/**
 * Runbook "Pre-shutdown (planned only)": baseline capture (reference, not a restore path) into
 * <baselineDir>/<UTC time>-pre-maintenance: bundle, juju status, servers, LBs, amphorae.
 * Refuses to run unless the configured model answers (the runbook: "switch to the openstack
 * model first"; coldstart names the model with -m instead of relying on `juju switch`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepFlags } from "../cli/step-flags";
import { Juju } from "../runtime/juju";
import { OpenStack } from "../runtime/openstack";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { fail, pass, toolVerdict, type StepOutcome } from "./outcome";

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export async function baselineCapture(
  flags: StepFlags<"act baseline-capture">,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = `a baseline of model ${flags.model}: bundle, juju status, servers, load balancers, amphorae`;
  const juju = new Juju(ctx, flags.model);
  const os = new OpenStack(ctx, flags.openrc);
  const dir = path.join(expandHome(flags.dir, ctx.env), `${stamp(ctx.clock.now())}-pre-maintenance`);
  try {
    await juju.showModel();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await juju.exportBundle(path.join(dir, "bundle.yaml"));
    fs.writeFileSync(path.join(dir, "juju-status.yaml"), await juju.statusYaml());
    const captures: [string, string[]][] = [
      ["servers.txt", ["server", "list", "--all-projects"]],
      ["servers.json", ["server", "list", "--all-projects", "-f", "json"]],
      ["loadbalancers.txt", ["loadbalancer", "list"]],
      ["amphorae.txt", ["loadbalancer", "amphora", "list"]],
    ];
    for (const [file, args] of captures) fs.writeFileSync(path.join(dir, file), (await os.call(args)).stdout);
  } catch (err) {
    return fail(expected, toolVerdict(err as Error));
  }
  return pass(expected, {
    ok: true,
    state: "captured",
    summary: `Pre-maintenance snapshot at ${dir}`,
    details: fs.readdirSync(dir).sort(),
  });
}
