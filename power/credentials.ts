/**
 * Where a power driver's secret comes from: a file (path may start with `~/`) or an environment
 * variable, both named by the stack config (`apiKeyFile`/`apiKeyEnv`, `passwordFile`/`passwordEnv`).
 * The secret is read at call time. Every message here names the host, the driver and WHERE the
 * secret was looked for (the file path or the variable name) -- never the value.
 *
 * A missing, unreadable or empty secret, or a secret file its group or others may access
 * (runtime/secret-file.ts, as ssh refuses such a private key), is a configuration problem of the
 * run (exit 2, stops at once), not a power-control failure to poll through: it is a UsageError.
 */
import { UsageError } from "../config/errors";
import { expandHome } from "../runtime/record";
import { readSecretFile } from "../runtime/secret-file";

export interface SecretRef {
  host: string;
  driver: "maas" | "ipmi";
  /** What the secret is, for messages: "MAAS API key", "BMC password". */
  what: string;
  /** A file holding the secret (may start with `~/`). Exactly one of file/env. */
  file?: string;
  /** The name of an environment variable holding the secret. */
  env?: string;
}

/** "file ~/.config/coldstart/maas-api-key" / "environment variable IPMI_PW_OPENSTACK0". */
export function secretWhere(ref: SecretRef): string {
  if (ref.file !== undefined) return `file ${ref.file}`;
  if (ref.env !== undefined) return `environment variable ${ref.env}`;
  return "nowhere (no file or variable configured)";
}

function problem(ref: SecretRef, text: string): UsageError {
  return new UsageError(`${ref.host} (${ref.driver}): the ${ref.what} ${text}`);
}

/** The file's absolute path (`~/` expanded against the step's HOME). */
export function secretFilePath(ref: SecretRef, env: NodeJS.ProcessEnv): string {
  if (ref.file === undefined) throw problem(ref, "has no file configured");
  return expandHome(ref.file, env);
}

/** Why a file could not be read, in words ("does not exist", "is a directory", ...). */
export function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT"
    ? "does not exist"
    : code === "EACCES"
      ? "cannot be read (permission denied)"
      : code === "EISDIR"
        ? "is a directory"
        : `cannot be read (${code ?? "error"})`;
}

/**
 * Read the secret. A trailing newline (`echo key > file`) is dropped; anything else is kept as is.
 * Throws a UsageError naming where the secret was looked for.
 */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv): string {
  let raw: string;
  if (ref.file !== undefined) {
    const file = secretFilePath(ref, env);
    // the open file's mode is checked before it is read (runtime/secret-file.ts)
    const read = readSecretFile(`${ref.host} (${ref.driver}): the ${ref.what} file`, file);
    if (!read.ok && read.code === "EMODE") throw new UsageError(read.problem);
    if (!read.ok)
      throw problem(ref, `file ${ref.file}${file !== ref.file ? ` (${file})` : ""} ${unreadable({ code: read.code })}`);
    raw = read.text;
  } else if (ref.env !== undefined) {
    const value = env[ref.env];
    if (value === undefined)
      throw problem(
        ref,
        `variable ${ref.env} is not set in the environment of this run (export it in the shell that runs pulumi up)`,
      );
    raw = value;
  } else {
    throw problem(ref, "has no source: set a file or an environment variable in the stack config");
  }
  const secret = raw.replace(/(\r?\n)+$/, "");
  if (secret.trim() === "") throw problem(ref, `in ${secretWhere(ref)} is empty`);
  return secret;
}

/** Replace every occurrence of the secret in a text that came from outside (stderr, a response body). */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret === "") return text;
  return text.split(secret).join("<redacted>");
}
