/**
 * Which stage file defines each step: a step's process (`coldstart <verb> <command>`) loads that
 * one file, so it builds its own stage's flag schemas and not the other ten stages' (issue #14,
 * per-step start). The definitions stay in the stage files; this only says where each one is.
 * In runbook order, like stages/step-table.ts STEP_DEFS: test/step-definitions.test.ts checks that
 * both name the same steps in the same order and that each line here loads that very definition,
 * so a step added to a stage file without a line here fails there.
 */
import type { StepDef, StepKey } from "./step-def";

const LOAD: Record<StepKey, () => Promise<StepDef>> = {
  "act baseline-capture": () => import("./pre-shutdown").then((m) => m.BASELINE_CAPTURE),
  "act hold-guests": () => import("./pre-shutdown").then((m) => m.HOLD_GUESTS),
  "act power-off": () => import("./shutdown").then((m) => m.POWER_OFF),
  "act power-on": () => import("./power-on").then((m) => m.POWER_ON),
  "gate power-state": () => import("./power-on").then((m) => m.POWER_STATE),
  "gate machines-started": () => import("./foundation").then((m) => m.MACHINES_STARTED),
  "check mysql-cluster": () => import("./mysql").then((m) => m.MYSQL_CHECK),
  "act mysql-reboot-cluster-from-complete-outage": () => import("./mysql").then((m) => m.MYSQL_REBOOT),
  "gate mysql-cluster-online": () => import("./mysql").then((m) => m.MYSQL_CLUSTER_ONLINE),
  "act vault-unseal": () => import("./vault-unseal").then((m) => m.VAULT_UNSEAL),
  "gate vault-unsealed": () => import("./vault-unseal").then((m) => m.VAULT_UNSEALED),
  "check ovn-chassis": () => import("./ovn-chassis").then((m) => m.OVN_CHECK),
  "act ovn-tls-sweep": () => import("./ovn-chassis").then((m) => m.OVN_TLS_SWEEP),
  "gate ovn-chassis-connected": () => import("./ovn-chassis").then((m) => m.OVN_CHASSIS_CONNECTED),
  "check nova-resume-flag": () => import("./guests").then((m) => m.NOVA_RESUME_FLAG),
  "act start-shutoff-guests": () => import("./guests").then((m) => m.START_SHUTOFF_GUESTS),
  "gate guests-active": () => import("./guests").then((m) => m.GUESTS_ACTIVE),
  "act octavia-grace": () => import("./octavia").then((m) => m.OCTAVIA_GRACE),
  "act lb-failover": () => import("./octavia").then((m) => m.LB_FAILOVER),
  "gate lbs-active": () => import("./octavia").then((m) => m.LBS_ACTIVE),
  "gate cloud-assert": () => import("./cloud-assert").then((m) => m.CLOUD_ASSERT),
};

/** Every `<verb> <command>` in runbook order, without loading a stage. */
export const STEP_KEYS = Object.keys(LOAD) as StepKey[];

/** The definition behind `coldstart <verb> <command>`, loading only its stage file; undefined if there is none. */
export async function loadStep(verb: string, command: string): Promise<StepDef | undefined> {
  const key = `${verb} ${command}`;
  return Object.hasOwn(LOAD, key) ? LOAD[key as StepKey]() : undefined;
}

/** The commands of one verb, in runbook order, without loading a stage (the unknown-step message). */
export function commandsOf(verb: string): string[] {
  return STEP_KEYS.filter((k) => k.startsWith(`${verb} `)).map((k) => k.slice(verb.length + 1));
}
