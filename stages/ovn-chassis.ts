/**
 * Runbook Stage 4 -- OVN chassis. CHECK connection-status on every chassis -- every unit of every
 * application deployed from the ovn-chassis or ovn-dedicated-chassis charm, octavia-ovn-chassis
 * included (steps/ovn.ts) --; if any is not connected, run the post-vault TLS restart sweep on the
 * affected units only, then re-probe.
 * [REVALIDATE: sweep unit list against current topology]
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, calls, gateWait } from "./budget";
import { app, model, parallel, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";
import * as manual from "./manual/ovn";

const target = {
  model,
  app: app("the nova-compute application (coldstart:apps.novaCompute)"),
  "chassis-app": app("the ovn-chassis application (coldstart:apps.ovnChassis)"),
};

const ovnCheckFlags = z.object(target).strict();
export const OVN_CHECK: StepDef<typeof ovnCheckFlags> = defineStep({
  verb: "check",
  command: "ovn-chassis",
  flags: ovnCheckFlags,
  summary:
    "read-only: ovn-appctl connection-status on every unit of every ovn-chassis / ovn-dedicated-chassis application, found by charm in juju status (octavia-ovn-chassis too; the probe, not the charm message)",
  expected: "a connection-status from every chassis",
  onFailure: ON_FAILURE.check,
  manual: (f) => ({ section: `${manual.SECTION} (CHECK)`, blocks: manual.checkBlocks(f) }),
  handler: () => import("../steps/ovn").then((m) => m.ovnCheck),
});

const ovnTlsSweepFlags = z
  .object({
    ...target,
    "neutron-app": app("the neutron-api application (coldstart:apps.neutronApi)"),
    parallel,
  })
  .strict();
export const OVN_TLS_SWEEP: StepDef<typeof ovnTlsSweepFlags> = defineStep({
  verb: "act",
  command: "ovn-tls-sweep",
  flags: ovnTlsSweepFlags,
  summary:
    "restart ovn-controller / ovs-vswitchd on the chassis that are not connected, and neutron-server, then re-probe",
  guard: "at least one chassis reports `not connected` (re-probed just before acting); otherwise nothing runs",
  revalidate: "sweep unit list against current topology",
  expected: "restart services only on chassis that report not connected, then neutron-server",
  onFailure: ON_FAILURE.action,
  manual: (f) => ({
    section: manual.SWEEP_SECTION,
    blocks: manual.sweepBlocks(f),
    placeholders: manual.sweepPlaceholders(f),
  }),
  handler: () => import("../steps/ovn").then((m) => m.ovnTlsSweep),
});

const ovnChassisConnectedFlags = z.object({ ...target, ...timing }).strict();
export const OVN_CHASSIS_CONNECTED: StepDef<typeof ovnChassisConnectedFlags> = defineStep({
  verb: "gate",
  command: "ovn-chassis-connected",
  flags: ovnChassisConnectedFlags,
  summary: "waits until every chassis reports connected",
  expected: "every chassis reports connected",
  onFailure: ON_FAILURE.gate,
  manual: (f) => ({ section: `${manual.SECTION} (re-probe)`, blocks: manual.connectedGate(f, f) }),
  handler: () => import("../steps/ovn").then((m) => m.ovnChassisConnected),
});

export function ovnChassis(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-4-ovn", {
    title: "Stage 4 -- OVN chassis",
    runbook: "ops-restart-procedure.md#stage-4----ovn-chassis",
    after,
  });
  const flags = { model: config.jujuModel, app: config.apps.novaCompute, "chassis-app": config.apps.ovnChassis };
  const check = stage.step("ovn-chassis-check", OVN_CHECK, {
    flags,
    // juju status, then one probe per chassis in parallel batches of 4: the batches are a cap
    budget: budget(calls(config, 2, "calls (status, then the chassis probes)")),
    dependsOn: after,
  });
  const sweep = stage.step("ovn-tls-sweep", OVN_TLS_SWEEP, {
    flags: { ...flags, "neutron-app": config.apps.neutronApi, parallel: config.parallelism },
    budget: budget(
      gateWait(config.gates.ovnChassis, "cap on probe, restarts, neutron-server, re-probe: chassis gate timeout"),
    ),
    dependsOn: [check],
  });
  const gate = stage.step("ovn-chassis-connected", OVN_CHASSIS_CONNECTED, {
    flags: { ...flags, ...timingFlags(config.gates.ovnChassis) },
    budget: budget(gateWait(config.gates.ovnChassis)),
    dependsOn: [sweep],
  });
  stage.finish();
  return [gate];
}
