/**
 * Runbook: "Power-on / recovery" -- hosts come up in parallel (functional peers). An unplanned
 * recovery starts here; a host that is already on is left alone. The power-state gate is defined
 * here and used by the shutdown sequence too (expecting off).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { budget, calls, gateWait } from "./budget";
import { timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { powerFlags, powerFlagShape } from "./power-flags";
import { alreadyCheck, loginBlocks, powerOnCommand, stateIs, stateWords, via } from "./manual/power";

const SECTION =
  "ops-restart-procedure.md, Power-on / recovery (hosts via MAAS/IPMI/virsh, as in Shutdown sequence step 2)";

const powerOnFlags = z.object(powerFlagShape).strict();
export const POWER_ON: StepDef<typeof powerOnFlags> = defineStep({
  verb: "act",
  command: "power-on",
  flags: powerOnFlags,
  summary: (f) => `power on ${f.host} via ${f.driver}; skipped if already on`,
  expected: "the host powered on (a host already on is left alone)",
  onFailure: ON_FAILURE.power,
  // steps/power.ts powerOn: read the state; on = nothing done; else power on (the gate confirms)
  manual: (f) => ({
    section: SECTION,
    blocks: [
      ...loginBlocks(f),
      alreadyCheck(f, "on"),
      { label: "RUN", says: `power on ${via(f)}`, where: "jumphost", commands: [powerOnCommand(f)] },
    ],
  }),
  handler: () => import("../steps/power").then((m) => m.powerOn),
});

const powerStateFlags = z
  .object({
    ...powerFlagShape,
    expect: z.enum(["on", "off"]).describe("the power state the gate waits for"),
    ...timing,
  })
  .strict();
export const POWER_STATE: StepDef<typeof powerStateFlags> = defineStep({
  verb: "gate",
  command: "power-state",
  flags: powerStateFlags,
  summary: (f) => `waits until ${f.host} reports power ${f.expect}`,
  expected: "the host reports the power state --expect names",
  onFailure: ON_FAILURE.power,
  manual: (f) => ({
    section:
      f.expect === "on"
        ? SECTION
        : "ops-restart-procedure.md, Shutdown sequence step 2 (power down hosts via MAAS/IPMI/virsh)",
    blocks: [
      ...loginBlocks(f),
      {
        label: "GATE",
        says: `${via(f)} reports power ${f.expect} (the line printed reads ${stateWords(f, f.expect)})`,
        where: "jumphost",
        commands: [stateIs(f, f.expect)],
        repeat: `every ${f.interval}, up to ${f.timeout}`,
      },
    ],
  }),
  handler: () => import("../steps/power").then((m) => m.powerState),
});

export function powerOn(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("power-on", {
    title: "Power-on / recovery",
    runbook: "ops-restart-procedure.md#power-on--recovery",
    after,
  });
  const { timeout, interval } = config.gates.powerState;
  const gates = config.hosts.map((host) => {
    const on = stage.step(`power-on-${host.name}`, POWER_ON, {
      flags: powerFlags(host),
      budget: budget(calls(config, 2, "calls (power state, power on)")),
      dependsOn: after,
    });
    return stage.step(`powered-on-${host.name}`, POWER_STATE, {
      flags: {
        ...powerFlags(host),
        expect: "on",
        timeout: formatDuration(timeout),
        interval: formatDuration(interval),
      },
      budget: budget(gateWait(config.gates.powerState)),
      dependsOn: [on],
    });
  });
  stage.finish();
  return gates;
}
