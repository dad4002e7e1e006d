/**
 * The one place coldstart starts external programs. Every call has a timeout (a hung juju is a
 * named failure, not a hang), never throws for a non-zero exit, and takes secrets only on stdin.
 */
import execa from "execa";

export interface ExecRequest {
  file: string;
  args: string[];
  /** Bytes for the child's stdin: the only way a secret may reach a child. */
  input?: string;
  /** Variables added to (or, when undefined, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** Working directory (default: the current one). */
  cwd?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The program could not be started at all (e.g. not on PATH). */
  notFound: boolean;
}

export type Exec = (req: ExecRequest) => Promise<ExecResult>;

/**
 * Variables no child ever inherits: unseal keys travel on stdin only, and whatever looks like a
 * credential (BMC passwords, MAAS keys, tokens) reaches a child only when a step passes it in
 * `env` on purpose (ipmitool's IPMI_PASSWORD, the openrc's OS_PASSWORD).
 */
export const NEVER_INHERITED = /^COLDSTART_UNSEAL_|PASSWORD|PASSWD|SECRET|API_?KEY|TOKEN|CREDENTIAL/i;
/** Names of the stack's own credential variables (hosts' passwordEnv / apiKeyEnv), comma-separated; set by the graph. */
export const SECRET_VARS = "COLDSTART_SECRET_VARS";

/** Whether `name` must stay out of a child's inherited environment. */
export function neverInherited(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (NEVER_INHERITED.test(name)) return true;
  return (env[SECRET_VARS] ?? "").split(",").some((v) => v.trim() === name);
}

export const realExec: Exec = async (req) => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !neverInherited(k)) env[k] = v;
  for (const [k, v] of Object.entries(req.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const result = await execa(req.file, req.args, {
    input: req.input ?? "",
    env,
    extendEnv: false,
    cwd: req.cwd,
    timeout: req.timeoutMs,
    killSignal: "SIGKILL",
    reject: false,
    stripFinalNewline: false,
  });
  const notFound =
    (result as { errno?: number; code?: string }).code === "ENOENT" ||
    /ENOENT/.test(String((result as { message?: string }).message ?? ""));
  return {
    exitCode: result.timedOut ? -1 : (result.exitCode ?? -1),
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    timedOut: result.timedOut === true,
    notFound: notFound && result.exitCode !== 0,
  };
};

/** "juju machines -m x --format=json" -- for messages (never contains stdin, so never a secret). */
export function describeCall(req: ExecRequest): string {
  return [req.file, ...req.args].join(" ");
}
