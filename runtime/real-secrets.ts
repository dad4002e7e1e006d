/**
 * A rehearsal never holds real secrets (issue #21): `drill` and `maintenance --engine drill` take
 * their unseal keys from the scenario, and need no Pulumi backend. The operator's own keys and
 * Pulumi credentials, if set where a rehearsal is started, are taken out of its environment
 * before anything (a step, a fake tool, a sim openrc) can see them; one line says so, by name.
 */
import { KEY_VAR_PREFIX, KEYS_FILE_VAR } from "./unseal-keys";

const REAL_SECRET = new RegExp(
  `^(${KEY_VAR_PREFIX}\\d+|${KEYS_FILE_VAR}|PULUMI_CONFIG_PASSPHRASE|PULUMI_CONFIG_PASSPHRASE_FILE|PULUMI_ACCESS_TOKEN)$`,
);

/** Whether `name` is one of the operator's real secrets a rehearsal must never pass on. */
export function isRealSecret(name: string): boolean {
  return REAL_SECRET.test(name);
}

/** Remove the real secrets from `env` (in place); their names, sorted. */
export function dropRealSecrets(env: NodeJS.ProcessEnv): string[] {
  const names = Object.keys(env)
    .filter(isRealSecret)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const name of names) delete env[name];
  return names;
}

/** The one stderr line naming what was dropped (never a value), or undefined when nothing was. */
export function ignoredLine(command: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  return `${command}: ignored ${names.join(", ")} from the environment: a rehearsal takes its unseal keys from the scenario and needs no Pulumi credentials`;
}
