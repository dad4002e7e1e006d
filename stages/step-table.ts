/**
 * Every runbook step's definition, keyed `<verb> <command>`: the step table (tests, the plan's
 * checks, `coldstart <verb> --help`). Derived from the stage files, where each step is defined
 * once; loading it loads no handler and no @pulumi/pulumi. A step's own process does not load it:
 * it finds its definition through stages/step-index.ts, which loads only that step's stage file.
 */
import type { StepDef, StepKey, Verb } from "./step-def";
import { BASELINE_CAPTURE, HOLD_GUESTS } from "./pre-shutdown";
import { POWER_OFF } from "./shutdown";
import { POWER_ON, POWER_STATE } from "./power-on";
import { MACHINES_STARTED } from "./foundation";
import { MYSQL_CHECK, MYSQL_CLUSTER_ONLINE, MYSQL_REBOOT } from "./mysql";
import { VAULT_UNSEAL, VAULT_UNSEALED } from "./vault-unseal";
import { OVN_CHASSIS_CONNECTED, OVN_CHECK, OVN_TLS_SWEEP } from "./ovn-chassis";
import { GUESTS_ACTIVE, NOVA_RESUME_FLAG, START_SHUTOFF_GUESTS } from "./guests";
import { LB_FAILOVER, LBS_ACTIVE, OCTAVIA_GRACE } from "./octavia";
import { CLOUD_ASSERT } from "./cloud-assert";

/** In runbook order. */
export const STEP_DEFS: readonly StepDef[] = [
  BASELINE_CAPTURE,
  HOLD_GUESTS,
  POWER_OFF,
  POWER_ON,
  POWER_STATE,
  MACHINES_STARTED,
  MYSQL_CHECK,
  MYSQL_REBOOT,
  MYSQL_CLUSTER_ONLINE,
  VAULT_UNSEAL,
  VAULT_UNSEALED,
  OVN_CHECK,
  OVN_TLS_SWEEP,
  OVN_CHASSIS_CONNECTED,
  NOVA_RESUME_FLAG,
  START_SHUTOFF_GUESTS,
  GUESTS_ACTIVE,
  OCTAVIA_GRACE,
  LB_FAILOVER,
  LBS_ACTIVE,
  CLOUD_ASSERT,
];

const BY_KEY = new Map<string, StepDef>(STEP_DEFS.map((d) => [d.key, d]));
if (BY_KEY.size !== STEP_DEFS.length) throw new Error("two step definitions share a <verb> <command> key");

/** The definition behind `coldstart <verb> <command>`, if there is one. */
export function findStep(verb: string, command: string): StepDef | undefined {
  return BY_KEY.get(`${verb} ${command}`);
}

/** The commands of one verb, in runbook order. */
export function stepsOf(verb: Verb | string): StepDef[] {
  return STEP_DEFS.filter((d) => d.verb === verb);
}

export type { StepKey };
