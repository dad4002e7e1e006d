/**
 * Runbook Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN). Manual 3-of-5 unseal;
 * keys come from the run's environment (or a file the operator names there), reach Vault on
 * stdin only, and never enter argv, config, state, logs or records. Missing keys = BLOCKER:
 * escalate, never improvise -- unless the stack hands the unseal to its keyholders
 * (coldstart:vaultUnsealBy keyholders): then the step prints the manual procedure for every unit
 * still sealed and passes, and the gate waits for the keyholders. GATE: Sealed=false.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { app, model, timing } from "./flags";
import { unsealedProcedure, unsealProcedure } from "./manual/vault";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";

const target = {
  model,
  app: app("the vault application (coldstart:apps.vault)"),
  "unseal-by": z
    .enum(["environment", "keyholders"])
    .optional()
    .describe(
      "environment (the default): coldstart sends the keys it holds, too few = BLOCKER; keyholders: it sends those it holds (none or more, up to the threshold) and hands the rest to the keyholders, who unseal by hand (coldstart:vaultUnsealBy)",
    ),
};

const vaultUnsealFlags = z.object(target).strict();
export const VAULT_UNSEAL: StepDef<typeof vaultUnsealFlags> = defineStep({
  verb: "act",
  command: "vault-unseal",
  flags: vaultUnsealFlags,
  summary: (f) =>
    f["unseal-by"] === "keyholders"
      ? "unseal every sealed vault unit with the keys the run holds, if any, sent on stdin; hand the rest to the keyholders: print the manual unseal procedure for every unit still sealed"
      : "unseal every sealed vault unit with the threshold its status reports; keys from the environment, sent on stdin",
  guard: (f) =>
    f["unseal-by"] === "keyholders"
      ? "a unit is sealed; with fewer keys than its threshold the keyholders unseal it by hand"
      : "a unit is sealed and enough keys are present; missing keys stop the run before Vault is touched",
  handlesSecrets: true,
  expected: "every sealed vault unit accepts the threshold of keys its status reports",
  onFailure: `${ON_FAILURE.blocker} (missing or rejected keys); other failures stop the run`,
  manual: unsealProcedure,
  handler: () => import("../steps/vault").then((m) => m.vaultUnseal),
});

const vaultUnsealedFlags = z.object({ ...target, ...timing }).strict();
export const VAULT_UNSEALED: StepDef<typeof vaultUnsealedFlags> = defineStep({
  verb: "gate",
  command: "vault-unsealed",
  flags: vaultUnsealedFlags,
  summary: "waits until every vault unit reports sealed=false",
  expected: "every vault unit reports sealed=false",
  onFailure: ON_FAILURE.gate,
  manual: unsealedProcedure,
  handler: () => import("../steps/vault").then((m) => m.vaultUnsealed),
});

export function vaultUnseal(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-3-vault", {
    title: "Stage 3 -- Vault unseal",
    runbook: "ops-restart-procedure.md#stage-3----vault-unseal-sealed-after-restart-is-by-design",
    after,
  });
  // said only when it is keyholders: an environment stack's create lines are as they always were
  const flags = {
    model: config.jujuModel,
    app: config.apps.vault,
    ...(config.vaultUnsealBy === "keyholders" ? { "unseal-by": "keyholders" as const } : {}),
  };
  const unseal = stage.step("vault-unseal", VAULT_UNSEAL, {
    flags,
    // status per unit, then up to t keys per sealed unit, then status again: how many units is
    // the cloud's, so the vault gate's timeout caps it
    budget: budget(gateWait(config.gates.vaultUnsealed, "cap on status reads and unseal calls: vault gate timeout")),
    dependsOn: after,
  });
  const gate = stage.step("vault-unsealed", VAULT_UNSEALED, {
    flags: { ...flags, ...timingFlags(config.gates.vaultUnsealed) },
    budget: budget(gateWait(config.gates.vaultUnsealed)),
    dependsOn: [unseal],
  });
  stage.finish();
  return [gate];
}
