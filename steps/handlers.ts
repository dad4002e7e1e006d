/** Which code runs each `coldstart check|act|gate <step>`: one entry per STEP_FLAGS key. */
import type { StepFlags, StepKey } from "../cli/step-flags";
import type { StepContext } from "../runtime/step-context";
import type { StepOutcome } from "./outcome";
import { baselineCapture } from "./baseline";
import { machinesStarted } from "./foundation";
import { mysqlCheck, mysqlClusterOnline, mysqlReboot } from "./mysql";
import { vaultUnseal, vaultUnsealed } from "./vault";
import { ovnChassisConnected, ovnCheck, ovnTlsSweep } from "./ovn";
import { guestsActive, holdGuests, novaResumeFlag, startShutoffGuests } from "./guests";
import { lbFailover, lbsActive, octaviaGrace } from "./octavia";
import { cloudAssert } from "./cloud-assert";
import { powerOff, powerOn, powerState } from "./power";

type Handlers = { [K in StepKey]?: (flags: StepFlags<K>, ctx: StepContext) => Promise<StepOutcome> };

export const STEP_HANDLERS: Handlers = {
  "act baseline-capture": baselineCapture,
  "act hold-guests": holdGuests,
  "gate machines-started": machinesStarted,
  "check mysql-cluster": mysqlCheck,
  "act mysql-reboot-cluster-from-complete-outage": mysqlReboot,
  "gate mysql-cluster-online": mysqlClusterOnline,
  "act vault-unseal": vaultUnseal,
  "gate vault-unsealed": vaultUnsealed,
  "check ovn-chassis": ovnCheck,
  "act ovn-tls-sweep": ovnTlsSweep,
  "gate ovn-chassis-connected": ovnChassisConnected,
  "check nova-resume-flag": novaResumeFlag,
  "act start-shutoff-guests": startShutoffGuests,
  "gate guests-active": guestsActive,
  "act octavia-grace": octaviaGrace,
  "act lb-failover": lbFailover,
  "gate lbs-active": lbsActive,
  "gate cloud-assert": cloudAssert,
  "act power-off": powerOff,
  "act power-on": powerOn,
  "gate power-state": powerState,
};
