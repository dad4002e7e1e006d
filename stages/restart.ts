/**
 * The whole restart as one chain through gates ("one gated step at a time"):
 * planned:   pre-shutdown -> shutdown -> power-on -> stages 1..7
 * unplanned:                              power-on -> stages 1..7
 * The only stage-wiring file that loads stages/stage.ts (and so @pulumi/pulumi): it hands every
 * stage function the factory that makes its RunbookStage, registering into this run's list.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { RunbookStage } from "./stage";
import type { NewStage, Registered } from "./step-def";
import { preShutdown } from "./pre-shutdown";
import { shutdown } from "./shutdown";
import { powerOn } from "./power-on";
import { foundation } from "./foundation";
import { mysql } from "./mysql";
import { vaultUnseal } from "./vault-unseal";
import { ovnChassis } from "./ovn-chassis";
import { guests } from "./guests";
import { octavia } from "./octavia";
import { cloudAssert } from "./cloud-assert";

type Stage = (config: Config, after: pulumi.Resource[], newStage: NewStage) => pulumi.Resource[];

const RECOVERY: Stage[] = [powerOn, foundation, mysql, vaultUnseal, ovnChassis, guests, octavia, cloudAssert];

export interface Restart {
  /** The last stage's gate(s). */
  gates: pulumi.Resource[];
  /** Every stage and step this build registered, in order. */
  registered: Registered;
}

export function buildRestart(config: Config): Restart {
  const registered: Registered = { stages: [], steps: [] };
  const newStage: NewStage = (name, args) => new RunbookStage(name, args, config, registered);
  let gates: pulumi.Resource[] =
    config.mode === "planned" ? shutdown(config, preShutdown(config, newStage), newStage) : [];
  for (const stage of RECOVERY) gates = stage(config, gates, newStage);
  return { gates, registered };
}
