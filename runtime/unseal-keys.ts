/**
 * Where unseal keys come from: the run's environment (COLDSTART_UNSEAL_KEY_1..N, e.g. mapped from
 * a CI secret store) or a file the operator names in COLDSTART_UNSEAL_KEYS_FILE (one key a line,
 * e.g. a FIFO or a tmpfs file filled by a hidden prompt). Never argv, never Pulumi config.
 * Messages here name variables and paths, never a key.
 */
import * as fs from "node:fs";
import { expandHome } from "./record";

export const KEY_VAR_PREFIX = "COLDSTART_UNSEAL_KEY_";
export const KEYS_FILE_VAR = "COLDSTART_UNSEAL_KEYS_FILE";

export type UnsealKeys = { ok: true; keys: string[]; source: string } | { ok: false; problem: string };

export function readUnsealKeys(env: NodeJS.ProcessEnv): UnsealKeys {
  const file = env[KEYS_FILE_VAR];
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(expandHome(file, env), "utf8");
    } catch (err) {
      return {
        ok: false,
        problem: `${KEYS_FILE_VAR} names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      };
    }
    const keys = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    return { ok: true, keys, source: `${keys.length} key(s) from the file in ${KEYS_FILE_VAR}` };
  }
  const keys: string[] = [];
  for (let i = 1; env[`${KEY_VAR_PREFIX}${i}`]; i++) keys.push(env[`${KEY_VAR_PREFIX}${i}`]!.trim());
  const source = keys.length
    ? `${keys.length} key(s) from ${KEY_VAR_PREFIX}1..${keys.length}`
    : `no keys (neither ${KEY_VAR_PREFIX}1.. nor ${KEYS_FILE_VAR} is set)`;
  return { ok: true, keys, source };
}
