/**
 * Where unseal keys come from: a file the operator names in COLDSTART_UNSEAL_KEYS_FILE (one key a
 * line: a 0600 file, a FIFO, `<(...)`; `coldstart maintenance` points it at a FIFO it serves
 * itself) or the run's environment (COLDSTART_UNSEAL_KEY_1..N, e.g. mapped from a CI secret
 * store). Never argv, never Pulumi config. A keys file others may read is refused
 * (runtime/secret-file.ts). Messages here name variables and paths, never a key nor its length.
 *
 * Only the key's one consumer opens a pipe-like keys file (`{ openPipes: true }`: the vault-unseal
 * step, or maintenance which serves the keys on): a FIFO's writer sends the keys to whoever opens
 * it first, so a reader that only counts (the preflight) would take them from the unseal step, or
 * wait forever for a writer that already sent them.
 */
import * as fs from "node:fs";
import { expandHome } from "./record";
import { isPipeLike, readSecretFile, secretFileProblem } from "./secret-file";

export const KEY_VAR_PREFIX = "COLDSTART_UNSEAL_KEY_";
export const KEYS_FILE_VAR = "COLDSTART_UNSEAL_KEYS_FILE";
/** The one step whose process may hold the keys (stages/vault-unseal.ts VAULT_UNSEAL.command). */
export const UNSEAL_STEP = "vault-unseal";

export type UnsealKeys =
  | {
      ok: true;
      keys: string[];
      source: string;
      /** Where they came from: COLDSTART_UNSEAL_KEY_n, the keys file, or nowhere. */
      from: "env" | "file" | "none";
    }
  | { ok: false; problem: string };

/** Whether `name` carries unseal keys or says where they are (what only the unseal step may see). */
export function isKeyVariable(name: string): boolean {
  return name.startsWith(KEY_VAR_PREFIX) || name === KEYS_FILE_VAR;
}

export interface ReadKeysOptions {
  /** Open a FIFO / device / pipe keys file: only the keys' one consumer may (see the top of this file). */
  openPipes?: boolean;
}

export function readUnsealKeys(env: NodeJS.ProcessEnv, opts: ReadKeysOptions = {}): UnsealKeys {
  const file = env[KEYS_FILE_VAR];
  if (file) return readKeysFile(expandHome(file, env), opts);
  const keys: string[] = [];
  for (let i = 1; env[`${KEY_VAR_PREFIX}${i}`]; i++) keys.push(env[`${KEY_VAR_PREFIX}${i}`]!.trim());
  if (keys.length === 0)
    return {
      ok: true,
      keys,
      from: "none",
      source: `no keys (neither ${KEY_VAR_PREFIX}1.. nor ${KEYS_FILE_VAR} is set)`,
    };
  return { ok: true, keys, from: "env", source: `${keys.length} key(s) from ${KEY_VAR_PREFIX}1..${keys.length}` };
}

function readKeysFile(file: string, opts: ReadKeysOptions): UnsealKeys {
  const what = `${KEYS_FILE_VAR}: the unseal keys file`;
  if (!opts.openPipes) {
    // stat only: a pipe is not opened by a reader that only counts
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      return {
        ok: false,
        problem: `${what} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      };
    }
    const problem = secretFileProblem(what, file, st);
    if (problem) return { ok: false, problem };
    if (isPipeLike(st))
      return {
        ok: false,
        problem: `${what} ${file} is a FIFO or pipe: only the vault-unseal step opens it (a count would take the keys); to count them here, name a 0600 regular file`,
      };
  }
  const read = readSecretFile(what, file);
  if (!read.ok) return { ok: false, problem: read.problem };
  // one key a line; a key sent twice (a FIFO's writer that served a slow reader twice) counts once
  const keys = [
    ...new Set(
      read.text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== ""),
    ),
  ];
  return { ok: true, keys, from: "file", source: `${keys.length} key(s) from the file in ${KEYS_FILE_VAR}` };
}

// --- the keys' form: what Vault's unseal endpoint accepts at all -------------------------------

/**
 * Vault's bounds on one unseal share, in bytes: the barrier key is 16 to 32 bytes (vault
 * barrier_aes_gcm.go `KeyLength`: aes.BlockSize to 2 x aes.BlockSize) and a Shamir share has one
 * byte more (shamir.ShareOverhead). `vault operator init` prints 33-byte shares.
 */
export const KEY_MIN_BYTES = 16;
export const KEY_MAX_BYTES = 33;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
/** Go's base64.StdEncoding: the standard alphabet, padded to a multiple of 4. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const inRange = (bytes: number) => bytes >= KEY_MIN_BYTES && bytes <= KEY_MAX_BYTES;

/**
 * Whether Vault would take `key` as an unseal share at all (not whether it is the right one):
 * hashicorp/vault http/sys_seal.go `handleSysUnseal` decodes it as hex, and when that fails or
 * gives a length outside the barrier's bounds, as standard base64 (else 400 "'key' must be a
 * valid hex or base64 string"); vault/core.go `Unseal` then refuses a share shorter than 16 or
 * longer than 33 bytes (400 "key is shorter than minimum 16 bytes").
 */
export function vaultAcceptsKeyForm(key: string): boolean {
  if (HEX.test(key) && inRange(key.length / 2)) return true;
  if (!BASE64.test(key)) return false;
  const padding = key.endsWith("==") ? 2 : key.endsWith("=") ? 1 : 0;
  return inRange((key.length / 4) * 3 - padding);
}

/** The 1-based positions of the keys Vault would refuse for their form. */
export function malformedKeys(keys: readonly string[]): number[] {
  return keys.flatMap((k, i) => (vaultAcceptsKeyForm(k) ? [] : [i + 1]));
}

/**
 * One line naming the keys of the wrong form by position, never a value nor a length, and the fix.
 * `source`: where the keys came from (UnsealKeys.source).
 */
export function keyFormProblem(malformed: readonly number[], count: number, source: string): string {
  const which = malformed.length === 1 ? `unseal key ${malformed[0]}` : `unseal keys ${malformed.join(", ")}`;
  return (
    `${which} of ${count} (${source}) ${malformed.length === 1 ? "is" : "are"} not of a form Vault accepts ` +
    `(hex or base64 of ${KEY_MIN_BYTES} to ${KEY_MAX_BYTES} bytes, as \`vault operator init\` prints them): ` +
    `copy ${malformed.length === 1 ? "it" : "them"} again from the key custodians' unseal_keys_b64 or unseal_keys_hex`
  );
}
