/**
 * Runbook: "Shutdown sequence" step 2 -- power down hosts via MAAS/IPMI/virsh. The hosts are
 * functional peers, so they go down in parallel; each ends in its own power-state gate
 * (defined with the power-on stage).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { duration } from "./flags";
import { budget, calls, gateWait, waitFor } from "./budget";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { powerFlags, powerFlagShape } from "./power-flags";
import { POWER_STATE } from "./power-on";
import { alreadyCheck, loginBlocks, powerOffCommand, readState, stateIs, stateWords, via } from "./manual/power";

/** Tries to deliver the soft-off before giving up, however slow the calls are (steps/power.ts powerOff). */
export const SOFT_OFF_TRIES = 3;

const powerOffFlags = z
  .object({
    ...powerFlagShape,
    "graceful-timeout": duration(
      "how long the OS gets after the soft-off before a hard off, e.g. 5m (half of coldstart:gates.powerState.timeout)",
    ),
    interval: duration("the pause between two power-state reads, e.g. 10s (coldstart:gates.powerState.interval)"),
  })
  .strict();
export const POWER_OFF: StepDef<typeof powerOffFlags> = defineStep({
  verb: "act",
  command: "power-off",
  flags: powerOffFlags,
  summary: (f) =>
    `graceful power-off of ${f.host} via ${f.driver}; transient errors retry the graceful path; ` +
    `hard off only if the soft-off is refused or the host is still on after ${f["graceful-timeout"]}; skipped if already off` +
    (f.driver === "maas"
      ? " (MAAS itself powers off hard every power type without a soft off: stop_mode=soft reaches only ipmi)"
      : ""),
  expected:
    "the host powered off (graceful first; hard only if the soft-off is refused or the host is still on after the graceful timeout)",
  onFailure: ON_FAILURE.power,
  // steps/power.ts powerOff: state (off = nothing done), soft-off, wait up to the graceful timeout
  // polling every interval, then hard off only if the soft-off was refused or a fresh read says on
  manual: (f) => ({
    section: "ops-restart-procedure.md, Shutdown sequence step 2 (power down hosts via MAAS/IPMI/virsh)",
    blocks: [
      ...loginBlocks(f),
      alreadyCheck(f, "off"),
      {
        label: "RUN",
        says:
          `graceful (soft, ACPI) power-off of ${via(f)}: the OS shuts down` +
          (f.driver === "maas"
            ? " (MAAS sends a soft off only for power type ipmi; every other power type it powers off hard)"
            : "") +
          "; a transient error: send it again",
        where: "jumphost",
        commands: [powerOffCommand(f, true)],
      },
      {
        label: "GATE",
        says: `${via(f)} reports power off (${stateWords(f, "off")}) within the graceful timeout`,
        where: "jumphost",
        commands: [stateIs(f, "off")],
        repeat: `every ${f.interval}, up to ${f["graceful-timeout"]} after the soft-off`,
      },
      {
        label: "RUN",
        says: `ONLY if the soft-off was refused, or ${f.host} still reads on (read it again now) ${f["graceful-timeout"]} after the soft-off: hard power off`,
        where: "jumphost",
        commands: [readState(f), powerOffCommand(f, false)],
      },
    ],
  }),
  handler: () => import("../steps/power").then((m) => m.powerOff),
});

export function shutdown(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("shutdown", {
    title: "Shutdown sequence",
    runbook: "ops-restart-procedure.md#shutdown-sequence",
    after,
  });
  const { timeout, interval } = config.gates.powerState;
  const gates = config.hosts.map((host) => {
    const off = stage.step(`power-off-${host.name}`, POWER_OFF, {
      flags: {
        ...powerFlags(host),
        "graceful-timeout": formatDuration(timeout / 2),
        interval: formatDuration(interval),
      },
      // power state + soft off (tried again on transient errors within the graceful wait; the
      // last try may start at its end), then power state + hard off (steps/power.ts)
      budget: budget(
        // at least SOFT_OFF_TRIES tries of state + soft off, each followed by an interval
        calls(config, 2 * SOFT_OFF_TRIES + 2, "calls (state + soft off per try, then state + hard off)"),
        waitFor("soft-off tries on transient errors", Math.max(timeout / 2, SOFT_OFF_TRIES * interval)),
        waitFor("graceful wait after the soft-off", timeout / 2),
      ),
      dependsOn: after,
    });
    return stage.step(`powered-off-${host.name}`, POWER_STATE, {
      flags: {
        ...powerFlags(host),
        expect: "off",
        timeout: formatDuration(timeout),
        interval: formatDuration(interval),
      },
      budget: budget(gateWait(config.gates.powerState)),
      dependsOn: [off],
    });
  });
  stage.finish();
  return gates;
}
