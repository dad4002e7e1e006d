/**
 * Runbook Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN). Threshold from status
 * (3-of-5 today); keys reach Vault only as the body of PUT /v1/sys/unseal on stdin of `juju ssh`
 * (never argv, here or on the unit). Missing keys = BLOCKER before Vault is touched.
 * GATE: Sealed=false on every unit.
 */
import type { StepFlags } from "../stages/step-def";
import { type VAULT_UNSEAL, VAULT_UNSEALED } from "../stages/vault-unseal";
import { appUnitNames, parseAppStatus } from "../gates/juju-status";
import * as z from "zod";
import {
  parseVaultStatus,
  readVaultStatus,
  unsealPlan,
  unsealStart,
  vaultVerdict,
  type EarlierUnseal,
  type VaultStatus,
} from "../gates/vault";
import { Juju } from "../runtime/juju";
import type { StepContext } from "../runtime/step-context";
import { KEY_VAR_PREFIX, KEYS_FILE_VAR, keyFormProblem, malformedKeys, readUnsealKeys } from "../runtime/unseal-keys";
import { blocker, fail, pass, runGate, toolVerdict, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { followed, sent } from "./request-line";
import { onlyToolErrors, ToolError } from "../runtime/tool-error";
import type { EvidenceOf } from "../runtime/record";
import { unitMarker, type UnitMarker } from "./window-marker";

type UnitUnseal = EvidenceOf<"vault-unseal">["units"][number];

/**
 * The loopback listener the vault charm itself uses, for status and unseal alike: plain HTTP on
 * 127.0.0.1:8220 whatever the TLS settings (openstack/charm-vault @
 * 5a0c525ee5286391fdc42242e82816021c469cb3 `src/lib/charm/vault.py`: `VAULT_LOCALHOST_URL =
 * "http://127.0.0.1:8220"`, used by `unseal_vault`, `get_vault_health`, `can_restart`;
 * `src/templates/vault.hcl.j2`: "Localhost only listener for charm access to vault", `tls_disable = 1`;
 * present since 28fb89a, 2018-04-20). The runbook's http://127.0.0.1:8200 is the public listener
 * `[::]:8200`, which serves TLS only once ssl-cert/ssl-key are set: plain HTTP there gets Go's
 * `400 Client sent an HTTP request to an HTTPS server.` instead of a seal status.
 */
export const VAULT_ADDR = "http://127.0.0.1:8220";
export const STATUS_COMMAND = `VAULT_ADDR=${VAULT_ADDR} vault status -format=json`;
/** curl reads the JSON body {"key": ...} from stdin (@-): the key is in no argv on the unit either. */
export const UNSEAL_COMMAND: readonly string[] = [
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

type Target = StepFlags<typeof VAULT_UNSEAL>;

/**
 * Keys in COLDSTART_UNSEAL_KEY_n still work, but under a plain `pulumi up` the command provider
 * passes the CLI's whole environment to every step (pulumi-command v1.2.1
 * provider/pkg/provider/local/commandOutputs.go: `cmd.Env = os.Environ()` plus the step's
 * `environment`), so all 34 step processes held them. Said once, by the step that uses them.
 */
export const ENV_KEYS_WARNING = `unseal keys from ${KEY_VAR_PREFIX}1..n: under pulumi up every step process's environment holds them; name a 0600 file or a FIFO in ${KEYS_FILE_VAR} instead, or run coldstart maintenance (README "Unseal key custody")`;

async function vaultUnits(juju: Juju, app: string): Promise<string[]> {
  return appUnitNames(unwrap(parseAppStatus(await juju.status(app), app)), app);
}

async function unitStatus(juju: Juju, unit: string): Promise<VaultStatus> {
  const res = await juju.execOnUnit(unit, STATUS_COMMAND);
  // vault status: 0 unsealed, 2 sealed (data), 1 error
  const parsed = readVaultStatus(res.code, res.stdout);
  if (!parsed.ok) throw new ToolError(`vault status on ${unit}: ${parsed.error}`);
  return parsed.value;
}

/** A unit whose status cannot be read counts as not unsealed (null); a bug is rethrown. */
function statusOrNull(juju: Juju, unit: string): Promise<VaultStatus | null> {
  return unitStatus(juju, unit).catch((err: unknown) => {
    onlyToolErrors(err);
    return null;
  });
}

export async function vaultUnseal(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const expected =
    "every vault unit unsealed with the threshold its status reports; enough keys present before any is sent";
  const juju = new Juju(ctx, flags.model);
  // the keys' one consumer: it may open a FIFO in COLDSTART_UNSEAL_KEYS_FILE (runtime/unseal-keys.ts)
  const keys = readUnsealKeys(ctx.env, { openPipes: true });
  if (keys.ok && keys.from === "env") ctx.out.warn(ENV_KEYS_WARNING);
  let statuses: { unit: string; status: VaultStatus }[];
  try {
    const units = await vaultUnits(juju, flags.app);
    statuses = [];
    for (const unit of units) statuses.push({ unit, status: await unitStatus(juju, unit) });
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
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
  // Decide for every unit first: a blocker anywhere means Vault is not touched at all. A partial
  // unseal by someone else is reset before we start, so count on the full threshold.
  const plans = statuses.map((s) => ({ ...s, plan: unsealPlan({ ...s.status, progress: 0 }, keys.keys.length) }));
  const blocked = plans.flatMap((p) => (p.plan.action === "blocker" ? [{ unit: p.unit, reason: p.plan.reason }] : []));
  if (blocked.length > 0) {
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `Vault NOT touched: ${keys.source}; ${blocked.length} unit(s) cannot be unsealed`,
      details: blocked.map((b) => `${b.unit}: ${b.reason}`),
      route: "vault-keys-missing",
    });
  }
  // a key Vault would refuse for its form (400 at that key, progress kept): none is sent
  const malformed = malformedKeys(keys.keys);
  if (malformed.length > 0 && plans.some((p) => p.plan.action === "unseal"))
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `Vault NOT touched: ${keyFormProblem(malformed, keys.keys.length, keys.source)}`,
      details: [],
      route: "vault-keys-missing",
    });
  const details: string[] = [];
  const used: UnitUnseal[] = [];
  const progress = progressMarker(ctx);
  try {
    for (const p of plans) {
      if (p.plan.action !== "unseal") {
        details.push(`${p.unit}: already unsealed`);
        used.push({ unit: p.unit, keysUsed: 0, threshold: p.status.t, result: "already-unsealed" });
      } else {
        const done = await unsealUnit(juju, p.unit, p.status, keys.keys, ctx, progress);
        details.push(done.line);
        used.push(done.unit);
      }
    }
  } catch (err) {
    onlyToolErrors(err);
    const verdict = toolVerdict(err);
    // A refused key is a BLOCKER (never try other keys); anything else leaves Vault sealed.
    if (verdict.route === "vault-key-rejected") return blocker(expected, { ...verdict, details });
    return fail(expected, { ...verdict, details, route: "vault-sealed" });
  }
  const verdict = vaultVerdict(
    await Promise.all(statuses.map(async (s) => ({ unit: s.unit, status: await statusOrNull(juju, s.unit) }))),
  );
  // How many keys each unit took and Vault's own threshold, for the record: counts, never a key.
  const threshold = Math.max(0, ...statuses.map((s) => s.status.t));
  const keyCount = `${Math.max(0, ...used.map((u) => u.keysUsed))} key(s) per sealed unit, threshold ${threshold}, ${keys.keys.length} held`;
  const outcome = verdict.ok
    ? pass(expected, { ...verdict, details: [...details, keyCount] })
    : fail(expected, { ...verdict, details: [...details, keyCount, ...verdict.details] });
  outcome.evidence = { kind: "vault-unseal", threshold, keysAvailable: keys.keys.length, units: used };
  return outcome;
}

/**
 * Which key this window's unseal was sending to each unit (indexes only), in
 * `<recordDir>/<window>.vault-unseal.json`, written whole before each key is sent: a run killed
 * mid-unseal lets the resume tell its own progress from someone else's (gates/vault.ts
 * `unsealStart`). Outside a window (no COLDSTART_WINDOW / COLDSTART_RECORD_DIR): not kept.
 */
type ProgressMarker = UnitMarker<EarlierUnseal>;
const progressMarker = (ctx: StepContext): ProgressMarker =>
  unitMarker(ctx, "vault-unseal", z.object({ sending: z.number().int().min(0) }));

/** Send the threshold of keys to one unit, each as a request body on stdin. Returns its detail line and key count. */
async function unsealUnit(
  juju: Juju,
  unit: string,
  start: VaultStatus,
  keys: string[],
  ctx: StepContext,
  marker: ProgressMarker,
): Promise<{ line: string; unit: UnitUnseal }> {
  let status = start;
  let used = 0;
  const begin = unsealStart(status, marker.earlier(unit));
  const reset = begin.reset;
  if (reset) {
    // A partial unseal by someone else: start over so we know which shares were given.
    status = unwrap(
      parseVaultStatus(
        await sent(
          ctx.out,
          `${unit}: unseal reset (progress was ${start.progress}/${start.t}, someone else's partial unseal)`,
          () => juju.sshWithStdin(unit, UNSEAL_COMMAND, JSON.stringify({ reset: true })),
          () => "done",
        ),
      ),
    );
  }
  const resumed = begin.ours
    ? `${unit}: unseal already in progress from this window's earlier run (progress ${start.progress}/${start.t}): key(s) 1-${begin.from} counted, not sent again`
    : undefined;
  if (resumed) followed(ctx.out, resumed);
  for (let i = begin.from; i < status.t && status.sealed; i++) {
    if (keys[i] === undefined) throw new ToolError(`${unit}: ran out of keys after ${i} (threshold ${status.t})`);
    marker.note(unit, { sending: i });
    // said without the key: its number, and Vault's progress or refusal (Vault never echoes a key)
    const what = `${unit}: unseal key ${i + 1} of ${status.t}`;
    const raw = await sent(
      ctx.out,
      what,
      () => juju.sshWithStdin(unit, UNSEAL_COMMAND, JSON.stringify({ key: keys[i] })),
      (r) => {
        const a = parseVaultStatus(r);
        return a.ok
          ? `accepted (sealed=${a.value.sealed}, progress ${a.value.progress}/${a.value.t})`
          : `refused (${vaultErrors(r) ? "Vault refused the key" : "no unseal answer"})`;
      },
    );
    const answer = parseVaultStatus(raw);
    if (!answer.ok) {
      const refused = vaultErrors(raw);
      throw new ToolError(
        `${unit}: ${refused ?? `unseal answer: ${answer.error}`}`,
        refused ? "vault-key-rejected" : "tool-unavailable",
      );
    }
    status = answer.value;
    used = i + 1;
  }
  const verdict = status.sealed
    ? "STILL SEALED after the threshold"
    : `unsealed with ${used} key(s) (threshold ${status.t})`;
  return {
    line: resumed ? `${unit}: ${verdict}; ${resumed.slice(unit.length + 2)}` : `${unit}: ${verdict}`,
    unit: { unit, keysUsed: used, threshold: status.t, result: status.sealed ? "still-sealed" : "unsealed", reset },
  };
}

/** Vault's own error list ({"errors": [...]}), e.g. a wrong share; it never echoes the key. */
function vaultErrors(raw: string): string | undefined {
  try {
    const doc = JSON.parse(raw) as { errors?: unknown };
    if (Array.isArray(doc.errors) && doc.errors.every((e) => typeof e === "string")) {
      return `Vault refused the unseal request: ${doc.errors.join("; ")} (a wrong or malformed key; check the key custody, D-069)`;
    }
  } catch {
    // not JSON: the caller reports the parse error
  }
  return undefined;
}

export async function vaultUnsealed(flags: StepFlags<typeof VAULT_UNSEALED>, ctx: StepContext): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  return runGate(ctx, {
    expected: VAULT_UNSEALED.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      const units = await vaultUnits(juju, flags.app);
      return vaultVerdict(
        await Promise.all(units.map(async (unit) => ({ unit, status: await statusOrNull(juju, unit) }))),
      );
    },
  });
}
