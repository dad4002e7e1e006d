/**
 * Runbook Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN). Manual 3-of-5 unseal;
 * keys come from the run's environment (or a file the operator names there), reach Vault on
 * stdin only, and never enter argv, config, state, logs or records. Missing keys = BLOCKER:
 * escalate, never improvise. GATE: Sealed=false.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function vaultUnseal(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-3-vault",
    {
      title: "Stage 3 -- Vault unseal",
      runbook: "ops-restart-procedure.md#stage-3----vault-unseal-sealed-after-restart-is-by-design",
      after,
    },
    config,
  );
  const target = { model: config.jujuModel, app: config.apps.vault };
  const unseal = stage.step("vault-unseal", {
    verb: "act",
    command: "vault-unseal",
    flags: target,
    summary:
      "unseal every sealed vault unit with the threshold its status reports; keys from the environment, sent on stdin",
    guard: "a unit is sealed and enough keys are present; missing keys stop the run before Vault is touched",
    handlesSecrets: true,
    // status per unit, then up to t keys per sealed unit, then status again: how many units is
    // the cloud's, so the vault gate's timeout caps it
    budget: budget(gateWait(config.gates.vaultUnsealed, "cap on status reads and unseal calls: vault gate timeout")),
    dependsOn: after,
  });
  const gate = stage.step("vault-unsealed", {
    verb: "gate",
    command: "vault-unsealed",
    flags: { ...target, ...timingFlags(config.gates.vaultUnsealed) },
    summary: "waits until every vault unit reports sealed=false",
    budget: budget(gateWait(config.gates.vaultUnsealed)),
    dependsOn: [unseal],
  });
  stage.finish();
  return [gate];
}
