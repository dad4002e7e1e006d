/**
 * Runbook: "Shutdown sequence" step 2 -- power down hosts via MAAS/IPMI/virsh. The hosts are
 * functional peers, so they go down in parallel; each ends in its own power-state gate.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait, waitFor } from "./budget";
import { RunbookStage } from "./stage";
import { powerFlags } from "./power-flags";
import { formatDuration } from "../config/duration";
import { SOFT_OFF_TRIES } from "../steps/power";

export function shutdown(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "shutdown",
    { title: "Shutdown sequence", runbook: "ops-restart-procedure.md#shutdown-sequence", after },
    config,
  );
  const { timeout, interval } = config.gates.powerState;
  const gates = config.hosts.map((host) => {
    const off = stage.step(`power-off-${host.name}`, {
      verb: "act",
      command: "power-off",
      flags: {
        ...powerFlags(host),
        "graceful-timeout": formatDuration(timeout / 2),
        interval: formatDuration(interval),
      },
      summary:
        `graceful power-off of ${host.name} via ${host.power.driver}; transient errors retry the graceful path; ` +
        `hard off only if the soft-off is refused or the host is still on after ${formatDuration(timeout / 2)}; skipped if already off` +
        (host.power.driver === "maas"
          ? " (MAAS itself powers off hard every power type without a soft off: stop_mode=soft reaches only ipmi)"
          : ""),
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
    return stage.step(`powered-off-${host.name}`, {
      verb: "gate",
      command: "power-state",
      flags: {
        ...powerFlags(host),
        expect: "off",
        timeout: formatDuration(timeout),
        interval: formatDuration(interval),
      },
      summary: `waits until ${host.name} reports power off`,
      budget: budget(gateWait(config.gates.powerState)),
      dependsOn: [off],
    });
  });
  stage.finish();
  return gates;
}
