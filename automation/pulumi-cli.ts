/**
 * The `pulumi` CLI as maintenance runs it: in a process group (and session) of its own, so a
 * terminal's Ctrl-C reaches `coldstart maintenance` only, and the CLI gets a signal only when
 * maintenance forwards one on purpose (automation/maintenance.ts: 1st Ctrl-C = the window's stop
 * request, 2nd = pulumi's cancel, 3rd = pulumi's terminate).
 *
 * Why a command of our own: @pulumi/pulumi 3.270's PulumiCommand.run starts the CLI with
 * `execa(command, args, { env, cwd, maxBuffer: Infinity })` (node_modules/@pulumi/pulumi/
 * automation/cmd.js, exec()): not detached, so it sits in maintenance's process group and the
 * terminal's SIGINT reaches it as well, and pulumi's first SIGINT is a cancel (pulumi/pulumi
 * pkg/backend/cancellation_scope.go NewScope: cancelSource.Cancel(), then the providers' Cancel
 * kills every running step's /bin/sh). LocalWorkspace takes any `pulumiCommand` (localWorkspace.js
 * constructor: `opts.pulumiCommand ? Promise.resolve(opts.pulumiCommand) : PulumiCommand.get()`)
 * and calls only its `command`, `version` and `run(args, cwd, env, onOutput, onError, signal)`
 * (stack.js runPulumiCmd, localWorkspace.js runPulumiCmd); this is that, with `detached: true`.
 *
 * What a forwarded SIGINT means to pulumi (cancellation_scope.go): the first cancels (no new
 * step starts; running steps' shells are killed, coldstart under them finishes its action or
 * stops a gate between polls); the second terminates: pulumi sends SIGINT to each plugin's whole
 * process group, then SIGKILL after 5 s (pkg/resource/plugin/plugin.go; sdk/go/common/util/
 * cmdutil/child_unix.go InterruptChildren / KillChildren). Each tool call a step makes leads a
 * group of its own (runtime/exec.ts), so neither reaches a power, juju or unseal call in flight.
 */
import * as os from "node:os";
import * as path from "node:path";
import execa from "execa";
import { PulumiCommand } from "@pulumi/pulumi/automation";

/** cmd.js CommandResult: what the SDK's callers read (stdout, stderr, code). */
export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
  err?: Error;
}

/** The SDK's own result and error classes, so ConcurrentUpdateError etc. are recognised as from its run(). */
interface SdkInternals {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => CommandResult;
  createCommandError: (result: CommandResult) => Error;
}
/* eslint-disable @typescript-eslint/no-require-imports -- both are exported by the SDK's JS (cmd.js, errors.js) but marked @internal, so absent from its .d.ts */
const sdk: SdkInternals = {
  CommandResult: (require("@pulumi/pulumi/automation/cmd") as Pick<SdkInternals, "CommandResult">).CommandResult,
  createCommandError: (require("@pulumi/pulumi/automation/errors") as Pick<SdkInternals, "createCommandError">)
    .createCommandError,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** One running CLI: its pid (= its process group's id), for a forwarded signal. */
export interface LiveCli {
  pid: number;
  args: readonly string[];
}

export class GroupedPulumiCommand {
  /** CLIs started and not yet ended (normally one: maintenance runs one command at a time). */
  readonly live = new Set<LiveCli>();
  private constructor(private readonly inner: PulumiCommand) {}

  /** `pulumi version` checked as the SDK checks it (PulumiCommand.get), then ours to run. */
  static async get(): Promise<GroupedPulumiCommand> {
    return new GroupedPulumiCommand(await PulumiCommand.get({ skipVersionCheck: false }));
  }

  get command(): string {
    return this.inner.command;
  }
  get version(): PulumiCommand["version"] {
    return this.inner.version;
  }

  /** As cmd.js PulumiCommand.run and exec(), but the CLI leads a process group of its own. */
  async run(
    args: string[],
    cwd: string,
    additionalEnv: Record<string, string>,
    onOutput?: (data: string) => void,
    onError?: (data: string) => void,
    signal?: AbortSignal,
  ): Promise<CommandResult> {
    if (!args.includes("--non-interactive")) args.push("--non-interactive");
    const env: Record<string, string> = { ...additionalEnv };
    if (path.isAbsolute(this.command)) {
      const sep = os.platform() === "win32" ? ";" : ":";
      env.PATH = path.dirname(this.command) + sep + (additionalEnv.PATH || process.env.PATH);
    }
    env.PULUMI_AUTOMATION_API = "true";
    try {
      const proc = execa(this.command, args, { env, cwd, maxBuffer: Infinity, detached: true });
      const live: LiveCli | undefined = proc.pid === undefined ? undefined : { pid: proc.pid, args };
      if (live) this.live.add(live);
      proc.stderr?.on("data", (d: Buffer) => onError?.(d.toString()));
      proc.stdout?.on("data", (d: Buffer) => onOutput?.(d.toString()));
      // the SDK's cancel (stack.up({ signal })): one SIGINT to the CLI itself, as cmd.js sends it
      const cancel = () => proc.kill("SIGINT", { forceKillAfterTimeout: false });
      signal?.addEventListener("abort", cancel, { once: true });
      try {
        const { stdout, stderr, exitCode } = await proc;
        const result = new sdk.CommandResult(stdout, stderr, exitCode);
        if (exitCode !== 0) throw sdk.createCommandError(result);
        return result;
      } finally {
        signal?.removeEventListener("abort", cancel);
        if (live) this.live.delete(live);
      }
    } catch (err) {
      // cmd.js exec(): every failure becomes a CommandError of code -2 holding the message
      throw sdk.createCommandError(new sdk.CommandResult("", (err as Error).message, -2, err as Error));
    }
  }

  /**
   * Send SIGINT to every running CLI (to its pid, as cmd.js does: pulumi stops its plugins
   * itself). Returns the pids signalled.
   */
  interrupt(): number[] {
    const sent: number[] = [];
    for (const cli of this.live) {
      try {
        process.kill(cli.pid, "SIGINT");
        sent.push(cli.pid);
      } catch {
        // ESRCH: it ended meanwhile
      }
    }
    return sent;
  }
}
