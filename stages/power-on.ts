/**
 * Runbook: "Power-on / recovery" -- hosts come up in parallel (functional peers). An unplanned
 * recovery starts here; a host that is already on is left alone.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { powerFlags } from "./power-flags";
import { formatDuration } from "../config/duration";

export function powerOn(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "power-on",
    { title: "Power-on / recovery", runbook: "ops-restart-procedure.md#power-on--recovery", after },
    config,
  );
  const { timeout, interval } = config.gates.powerState;
  const gates = config.hosts.map((host) => {
    const on = stage.step(`power-on-${host.name}`, {
      verb: "act",
      command: "power-on",
      flags: powerFlags(host),
      summary: `power on ${host.name} via ${host.power.driver}; skipped if already on`,
      budget: budget(calls(config, 2, "calls (power state, power on)")),
      dependsOn: after,
    });
    return stage.step(`powered-on-${host.name}`, {
      verb: "gate",
      command: "power-state",
      flags: {
        ...powerFlags(host),
        expect: "on",
        timeout: formatDuration(timeout),
        interval: formatDuration(interval),
      },
      summary: `waits until ${host.name} reports power on`,
      budget: budget(gateWait(config.gates.powerState)),
      dependsOn: [on],
    });
  });
  stage.finish();
  return gates;
}
