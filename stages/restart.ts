/**
 * The whole restart as one chain through gates ("one gated step at a time"):
 * planned:   pre-shutdown -> shutdown -> power-on -> stages 1..7
 * unplanned:                              power-on -> stages 1..7
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
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

type Stage = (config: Config, after: pulumi.Resource[]) => pulumi.Resource[];

const RECOVERY: Stage[] = [powerOn, foundation, mysql, vaultUnseal, ovnChassis, guests, octavia, cloudAssert];

export function buildRestart(config: Config): pulumi.Resource[] {
  let gates: pulumi.Resource[] = config.mode === "planned" ? shutdown(config, preShutdown(config)) : [];
  for (const stage of RECOVERY) gates = stage(config, gates);
  return gates;
}
