/**
 * Runbook Stage 4 -- OVN chassis. CHECK connection-status on every chassis -- every unit of every
 * application deployed from the ovn-chassis or ovn-dedicated-chassis charm, octavia-ovn-chassis
 * included (steps/ovn.ts) --; if any is not connected, run the post-vault TLS restart sweep on the
 * affected units only, then re-probe.
 * [REVALIDATE: sweep unit list against current topology]
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function ovnChassis(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-4-ovn",
    { title: "Stage 4 -- OVN chassis", runbook: "ops-restart-procedure.md#stage-4----ovn-chassis", after },
    config,
  );
  const target = { model: config.jujuModel, app: config.apps.novaCompute, "chassis-app": config.apps.ovnChassis };
  const check = stage.step("ovn-chassis-check", {
    verb: "check",
    command: "ovn-chassis",
    flags: target,
    summary:
      "read-only: ovn-appctl connection-status on every unit of every ovn-chassis / ovn-dedicated-chassis application, found by charm in juju status (octavia-ovn-chassis too; the probe, not the charm message)",
    // juju status, then one probe per chassis in parallel batches of 4: the batches are a cap
    budget: budget(calls(config, 2, "calls (status, then the chassis probes)")),
    dependsOn: after,
  });
  const sweep = stage.step("ovn-tls-sweep", {
    verb: "act",
    command: "ovn-tls-sweep",
    flags: { ...target, "neutron-app": config.apps.neutronApi, parallel: config.parallelism },
    summary:
      "restart ovn-controller / ovs-vswitchd on the chassis that are not connected, and neutron-server, then re-probe",
    guard: "at least one chassis reports `not connected` (re-probed just before acting); otherwise nothing runs",
    revalidate: "sweep unit list against current topology",
    budget: budget(
      gateWait(config.gates.ovnChassis, "cap on probe, restarts, neutron-server, re-probe: chassis gate timeout"),
    ),
    dependsOn: [check],
  });
  const gate = stage.step("ovn-chassis-connected", {
    verb: "gate",
    command: "ovn-chassis-connected",
    flags: { ...target, ...timingFlags(config.gates.ovnChassis) },
    summary: "waits until every chassis reports connected",
    budget: budget(gateWait(config.gates.ovnChassis)),
    dependsOn: [sweep],
  });
  stage.finish();
  return [gate];
}
