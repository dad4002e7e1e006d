/**
 * Runbook Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN). Threshold from status
 * (3-of-5 today); keys reach Vault only as the body of PUT /v1/sys/unseal on stdin of `juju ssh`
 * (never argv, here or on the unit). Missing keys = BLOCKER before Vault is touched.
 * GATE: Sealed=false on every unit.
 */
import type { StepFlags } from "../cli/step-flags";
import { parseAppStatus } from "../gates/mysql";
import { parseVaultStatus, readVaultStatus, unsealPlan, vaultVerdict, type VaultStatus } from "../gates/vault";
import { Juju } from "../runtime/juju";
import type { StepContext } from "../runtime/step-context";
import { readUnsealKeys } from "../runtime/unseal-keys";
import { blocker, fail, pass, runGate, toolVerdict, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { ToolError } from "../runtime/tool-error";

/** The runbook's address: the unit-local listener. */
const VAULT_ADDR = "http://127.0.0.1:8200";
const STATUS_COMMAND = `VAULT_ADDR=${VAULT_ADDR} vault status -format=json`;
/** curl reads the JSON body {"key": ...} from stdin (@-): the key is in no argv on the unit either. */
const UNSEAL_COMMAND = [
  "curl",
  "-sS",
  "--max-time",
  "30",
  "-X",
  "PUT",
  "--data-binary",
  "@-",
  `${VAULT_ADDR}/v1/sys/unseal`,
];

type Target = StepFlags<"act vault-unseal">;

async function vaultUnits(juju: Juju, app: string): Promise<string[]> {
  const doc = unwrap(parseAppStatus(await juju.status(app), app));
  return Object.keys(doc.applications[app]?.units ?? {}).sort();
}

async function unitStatus(juju: Juju, unit: string): Promise<VaultStatus> {
  const res = await juju.execOnUnit(unit, STATUS_COMMAND);
  // vault status: 0 unsealed, 2 sealed (data), 1 error
  const parsed = readVaultStatus(res.code, res.stdout);
  if (!parsed.ok) throw new ToolError(`vault status on ${unit}: ${parsed.error}`);
  return parsed.value;
}

export async function vaultUnseal(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const expected =
    "every vault unit unsealed with the threshold its status reports; enough keys present before any is sent";
  const juju = new Juju(ctx, flags.model);
  const keys = readUnsealKeys(ctx.env);
  let statuses: { unit: string; status: VaultStatus }[];
  try {
    const units = await vaultUnits(juju, flags.app);
    statuses = [];
    for (const unit of units) statuses.push({ unit, status: await unitStatus(juju, unit) });
  } catch (err) {
    return fail(expected, toolVerdict(err as Error));
  }
  if (!keys.ok) {
    return blocker(expected, {
      ok: false,
      state: "keys-unreadable",
      summary: keys.problem,
      details: [],
      route: "vault-keys-missing",
    });
  }
  // Decide for every unit first: a blocker anywhere means Vault is not touched at all.
  const plans = statuses.map((s) => ({ ...s, plan: unsealPlan(s.status, keys.keys.length) }));
  const blocked = plans.filter((p) => p.plan.action === "blocker");
  if (blocked.length > 0) {
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `Vault NOT touched: ${keys.source}; ${blocked.length} unit(s) cannot be unsealed`,
      details: blocked.map((b) => `${b.unit}: ${b.plan.action === "blocker" ? b.plan.reason : ""}`),
      route: "vault-keys-missing",
    });
  }
  const details: string[] = [];
  for (const p of plans) {
    if (p.plan.action !== "unseal") {
      details.push(`${p.unit}: already unsealed`);
      continue;
    }
    let status = p.status;
    if (status.progress > 0) {
      // A partial unseal by someone else: start over so we know which shares were given.
      status = unwrap(
        parseVaultStatus(await juju.sshWithStdin(p.unit, UNSEAL_COMMAND, JSON.stringify({ reset: true }))),
      );
      ctx.out.line(`${p.unit}: unseal progress was ${p.status.progress}/${p.status.t}; reset before unsealing`);
    }
    for (let i = 0; i < status.t && status.sealed; i++) {
      const body = JSON.stringify({ key: keys.keys[i] });
      const answer = parseVaultStatus(await juju.sshWithStdin(p.unit, UNSEAL_COMMAND, body));
      if (!answer.ok)
        return fail(expected, {
          ok: false,
          state: "unseal-error",
          summary: `${p.unit}: unseal answer: ${answer.error}`,
          details,
          route: "vault-sealed",
        });
      status = answer.value;
      ctx.out.line(
        `${p.unit}: key ${i + 1} of ${status.t} accepted (sealed=${status.sealed}, progress ${status.progress}/${status.t})`,
      );
    }
    details.push(`${p.unit}: ${status.sealed ? "STILL SEALED after the threshold" : "unsealed"}`);
  }
  const verdict = vaultVerdict(
    await Promise.all(
      statuses.map(async (s) => ({ unit: s.unit, status: await unitStatus(juju, s.unit).catch(() => null) })),
    ),
  );
  return verdict.ok
    ? pass(expected, { ...verdict, details })
    : fail(expected, { ...verdict, details: [...details, ...verdict.details] });
}

export async function vaultUnsealed(flags: StepFlags<"gate vault-unsealed">, ctx: StepContext): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  return runGate(ctx, {
    expected: "every vault unit reports sealed=false",
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      const units = await vaultUnits(juju, flags.app);
      return vaultVerdict(
        await Promise.all(
          units.map(async (unit) => ({ unit, status: await unitStatus(juju, unit).catch(() => null) })),
        ),
      );
    },
  });
}
