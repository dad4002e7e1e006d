/**
 * openstack at the edge. Credentials come from the admin openrc, sourced in a clean shell after
 * every OS_* variable is scrubbed (runbook: `unset OS_*; source ~/admin-openrc`), and reach the
 * client only through its environment -- never argv.
 */
import type { ExecRequest } from "./exec";
import type { StepContext } from "./step-context";
import { checkCall, ToolError } from "./tool-error";
import { expandHome } from "./record";

/**
 * `unset OS_*; source ~/admin-openrc`, then the exported OS_* variables, each ended by a NUL
 * (`env -0`, GNU coreutils): a value may hold a newline, and a line-based reading would take its
 * second half for a variable of its own. The openrc's own output goes to /dev/null.
 */
const SOURCE_OPENRC = `for v in \${!OS_@}; do unset "$v"; done
. "$1" >/dev/null 2>&1 </dev/null || { echo "cannot source $1" >&2; exit 3; }
env -0 | grep -z '^OS_' || true`;

/** One exported variable as `env -0` prints it: OS_NAME=value (the value may hold newlines). */
const OS_ENTRY = /^(OS_[A-Za-z0-9_]+)=([\s\S]*)$/;

/** Bound on sourcing the admin openrc (a local file: it answers at once or never). */
export const OPENRC_TIMEOUT_MS = 30_000;

export class OpenStack {
  private osEnv?: Record<string, string | undefined>;

  constructor(
    private readonly ctx: StepContext,
    private readonly openrc: string,
  ) {}

  /** The OS_* variables of the openrc, with every inherited OS_* removed first. */
  async credentials(): Promise<Record<string, string | undefined>> {
    if (this.osEnv) return this.osEnv;
    const file = expandHome(this.openrc, this.ctx.env);
    const req: ExecRequest = {
      file: "bash",
      args: ["-c", SOURCE_OPENRC, "coldstart", file],
      timeoutMs: OPENRC_TIMEOUT_MS,
      env: scrubbed(this.ctx.env),
    };
    const res = await this.ctx.exec(req);
    // A local file answers the same way on every poll: waiting cannot help (permanent).
    if (res.exitCode === 3)
      throw new ToolError(
        `openrc ${file}: cannot be sourced (missing or broken); the runbook sources ~/admin-openrc before every openstack call`,
        "tool-unavailable",
        true,
      );
    // The shell's stdout is the openrc's credentials (OS_PASSWORD): a failure (killed mid-way,
    // timed out, cut at the cap) is named by how it ended, never by what it printed.
    checkCall(req, { ...res, stdout: "", stderr: "" });
    const env = scrubbed(this.ctx.env);
    // whole NUL-ended entries only: an unended last one (output cut short) is not read
    for (const entry of res.stdout.split("\0").slice(0, -1)) {
      const m = OS_ENTRY.exec(entry);
      if (m) env[m[1]] = m[2];
    }
    if (!env.OS_AUTH_URL)
      throw new ToolError(
        `openrc ${file}: sets no OS_AUTH_URL (not an admin openrc?); fix the file, the runbook sources it before every openstack call`,
        "tool-unavailable",
        true,
      );
    this.osEnv = env;
    return env;
  }

  async call(args: string[], opts: { okCodes?: number[]; timeoutMs?: number } = {}) {
    const req: ExecRequest = {
      file: "openstack",
      args,
      env: await this.credentials(),
      timeoutMs: opts.timeoutMs ?? this.ctx.callTimeoutMs,
    };
    const res = await this.ctx.exec(req);
    return checkCall(req, res, opts.okCodes ?? [0]);
  }

  /** `openstack server list --all-projects -f json` */
  async serverList(): Promise<string> {
    return (await this.call(["server", "list", "--all-projects", "-f", "json"])).stdout;
  }

  /** `server list --all-projects --long -f json`: with Task State (a stop / start under way). */
  async serverListLong(): Promise<string> {
    return (await this.call(["server", "list", "--all-projects", "--long", "-f", "json"])).stdout;
  }

  async serverStart(id: string): Promise<void> {
    await this.call(["server", "start", id]);
  }

  async serverStop(id: string): Promise<void> {
    await this.call(["server", "stop", id]);
  }

  /** `openstack loadbalancer list -f json` */
  async loadBalancerList(): Promise<string> {
    return (await this.call(["loadbalancer", "list", "-f", "json"])).stdout;
  }

  /** `openstack loadbalancer failover <id>`: the raw result, gates/octavia judges it. */
  async loadBalancerFailover(id: string) {
    return this.call(["loadbalancer", "failover", id], { okCodes: [0, 1] });
  }
}

/** The inherited environment minus every OS_* variable (as undefined = remove). */
function scrubbed(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(env)) if (key.startsWith("OS_")) out[key] = undefined;
  return out;
}
