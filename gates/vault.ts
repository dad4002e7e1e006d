/**
 * Runbook Stage 3 -- Vault unseal ("sealed-after-restart is BY DESIGN").
 *
 * Vault stores in MySQL and always restarts sealed; manual unseal (threshold from status, 3-of-5 on
 * the v1 build) is the standard. Missing keys = recovery BLOCKER: escalate, never improvise
 * (re-init wipes the TLS plane). Never `vault operator init`.
 *
 * Secrecy rule: nothing here ever echoes Vault output text, unseal keys or nonces. Verdicts,
 * summaries, details, plan reasons and parse errors are built only from booleans, counts and the
 * unit names the caller supplies, so a key that somehow reached an input cannot reach a log.
 */
import * as z from "zod";
import type { Parsed } from "./parse";
import type { Verdict } from "./verdict";

/**
 * `vault status -format=json` and the HTTP `GET /v1/sys/seal-status` / `PUT /v1/sys/unseal` answers
 * share SealStatusResponse. Lenient: pre-1.10 Vault omits build_date and the HA fields, so only the
 * fields the gate decides on are required; everything else (nonce, version, cluster id ...) is dropped.
 */
export const VaultStatusSchema = z.object({
  /** Seal type: a short lowercase identifier ("shamir", "awskms", "transit" ...); anything else is refused, not kept. */
  type: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .optional(),
  initialized: z.boolean(),
  sealed: z.boolean(),
  t: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
  progress: z.number().int().nonnegative(),
});
export type VaultStatus = z.infer<typeof VaultStatusSchema>;

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

/** The verdict state of a vault-unseal that handed units to the keyholders (the record and the CI report look for it). */
export const HANDED_TO_KEYHOLDERS = "handed-to-keyholders";

/** What the runbook greps for; `juju status vault` says exactly this (blocked) while sealed. */
export const CHARM_SEALED_MESSAGE = "Unit is sealed";

const KEYS_MISSING = "recovery BLOCKER: escalate, never improvise (re-init wipes the TLS plane)";

function kindOf(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * Parse `vault status -format=json` (or a seal-status / unseal HTTP body). Errors name the field and
 * the kind of value found, never the value or the text itself.
 */
export function parseVaultStatus(text: string): Parsed<VaultStatus> {
  const tool = "vault status";
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const size = text.trim().length;
    return {
      ok: false,
      error: `${tool}: expected JSON output, found ${size === 0 ? "nothing" : `${size} characters of non-JSON text (not echoed: vault output is never logged)`}`,
    };
  }
  const result = VaultStatusSchema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".") || "the document";
  let found: unknown = data;
  for (const part of issue.path) {
    found = found !== null && typeof found === "object" ? (found as Record<string, unknown>)[String(part)] : undefined;
  }
  const want = issue.code === "invalid_type" ? `to be ${issue.expected}` : `to match (${issue.code})`;
  return { ok: false, error: `${tool}: expected ${path} ${want}, found ${kindOf(found)}` };
}

/** `vault status` exits 0 unsealed, 2 sealed, 1 (or anything else) error. Exit 2 is data, not a failed call. */
export function interpretStatusExit(code: number | null): "unsealed" | "sealed" | "error" {
  if (code === 0) return "unsealed";
  if (code === 2) return "sealed";
  return "error";
}

/**
 * Read one `vault status -format=json` call: exit 1 (or a kill) is a failed call; exit 0/2 must carry
 * a status that agrees with the exit code.
 */
export function readVaultStatus(exitCode: number | null, stdout: string): Parsed<VaultStatus> {
  const byExit = interpretStatusExit(exitCode);
  if (byExit === "error") {
    return {
      ok: false,
      error: `vault status: exited ${exitCode === null ? "without a status (killed or timed out)" : exitCode} (0 = unsealed, 2 = sealed)`,
    };
  }
  const parsed = parseVaultStatus(stdout);
  if (!parsed.ok) return parsed;
  if (parsed.value.sealed !== (byExit === "sealed")) {
    return {
      ok: false,
      error: `vault status: exit ${exitCode} says ${byExit} but the JSON says sealed=${parsed.value.sealed}`,
    };
  }
  return parsed;
}

export type UnsealPlan =
  { action: "none" } | { action: "unseal"; keysNeeded: number } | { action: "blocker"; reason: string };

/** How many keys to submit, or why we must stop. `keysAvailable` is a count; keys never come here. */
export function unsealPlan(status: VaultStatus, keysAvailable: number): UnsealPlan {
  if (!status.initialized) {
    return {
      action: "blocker",
      reason: `Vault reports initialized=false: never run vault operator init; ${KEYS_MISSING}`,
    };
  }
  if (!status.sealed) return { action: "none" };
  if (status.type !== undefined && status.type !== "shamir") {
    return {
      action: "blocker",
      reason: `Vault is sealed with a non-shamir (auto-unseal) seal type: unseal keys do not apply; ${KEYS_MISSING}`,
    };
  }
  const keysNeeded = status.t - status.progress;
  if (status.t < 1 || keysNeeded < 1) {
    return {
      action: "blocker",
      reason: `Vault is sealed but reports progress ${status.progress} of threshold ${status.t}: inconsistent seal status; ${KEYS_MISSING}`,
    };
  }
  const have = Number.isFinite(keysAvailable) ? Math.max(0, Math.floor(keysAvailable)) : 0;
  if (have < keysNeeded) {
    return {
      action: "blocker",
      reason: `${have} unseal key(s) available, ${keysNeeded} needed (threshold ${status.t} of ${status.n}, progress ${status.progress}): ${KEYS_MISSING}`,
    };
  }
  return { action: "unseal", keysNeeded };
}

function describeUnit(unit: string, status: VaultStatus | null): string {
  if (status === null) return `${unit}: status unknown (vault status could not be read)`;
  if (!status.initialized) return `${unit}: NOT initialized (never init: escalate)`;
  if (!status.sealed) return `${unit}: unsealed`;
  return `${unit}: sealed (unseal progress ${status.progress}/${status.t}, threshold ${status.t} of ${status.n})`;
}

/**
 * Stage 3 gate (runbook: "GATE: Sealed=false"): ok only when every unit reports sealed=false.
 * `status: null` = that unit's status could not be read.
 */
export function vaultVerdict(
  units: readonly { unit: string; status: VaultStatus | null }[],
): Verdict<"unsealed" | "sealed" | "unknown"> {
  const details = units.map((u) => describeUnit(u.unit, u.status));
  if (units.length === 0) {
    return {
      ok: false,
      state: "unknown",
      summary: "vault: no units reported a status",
      details,
      route: "tool-unavailable",
    };
  }
  const uninitialized = units.filter((u) => u.status !== null && !u.status.initialized);
  const sealed = units.filter((u) => u.status !== null && u.status.sealed);
  const unknown = units.filter((u) => u.status === null);
  const unsealedCount = units.length - sealed.length - unknown.length;
  const counts = `${unsealedCount} of ${units.length} unit(s) unsealed`;
  if (uninitialized.length > 0) {
    return {
      ok: false,
      state: "sealed",
      summary: `vault: ${counts}; ${uninitialized.map((u) => u.unit).join(", ")} NOT initialized`,
      details,
      route: "vault-keys-missing",
    };
  }
  if (sealed.length > 0) {
    return {
      ok: false,
      state: "sealed",
      summary: `vault: ${counts}; sealed: ${sealed.map((u) => u.unit).join(", ")}`,
      details,
      route: "vault-sealed",
    };
  }
  if (unknown.length > 0) {
    return {
      ok: false,
      state: "unknown",
      summary: `vault: ${counts}; status unknown: ${unknown.map((u) => u.unit).join(", ")}`,
      details,
      route: "tool-unavailable",
    };
  }
  return { ok: true, state: "unsealed", summary: `vault: all ${units.length} unit(s) unsealed`, details };
}

/** The charm's own sealed signal (same test as charmed-openstack-upgrader): blocked + exactly "Unit is sealed". */
export function isCharmSealedMessage(workload: string, message: string): boolean {
  return workload === "blocked" && message === CHARM_SEALED_MESSAGE;
}

/**
 * This window's own earlier unseal of one unit, as its marker holds it: the index of the key it
 * was sending when it stopped (indexes only: never a key, never a nonce).
 */
export interface EarlierUnseal {
  sending: number;
}

/**
 * Where one sealed unit's unseal starts (issue #23). Vault keeps the shares given so far until the
 * threshold (seal-status `progress`) and ignores a share given twice (hashicorp/vault
 * `vault/core.go` `unsealPart`: "Check if we already have this piece"). Progress that this
 * window's own attempt explains -- it was sending key k, and Vault counts k (the kill came before
 * the answer was read) or k+1 (after) -- is continued from the next key: the keys Vault counted
 * are never sent again. Any other progress is someone else's: reset, then from the first key.
 */
export function unsealStart(
  status: Pick<VaultStatus, "progress">,
  earlier: EarlierUnseal | undefined,
): { from: number; reset: boolean; ours: boolean } {
  if (status.progress === 0) return { from: 0, reset: false, ours: false };
  if (earlier && (status.progress === earlier.sending || status.progress === earlier.sending + 1))
    return { from: status.progress, reset: false, ours: true };
  return { from: 0, reset: true, ours: false };
}
