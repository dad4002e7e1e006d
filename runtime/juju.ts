/**
 * juju at the edge. Every call passes `-m <controller:model>` (never relies on `juju switch`)
 * and has a timeout. Output is returned as text; gates/ parses it.
 */
import { describeCall, type ExecRequest } from "./exec";
import type { StepContext } from "./step-context";
import { checkCall, ToolError } from "./tool-error";
import { excerpt } from "./excerpt";
import { readExecResult, type RemoteResult } from "../gates/juju-action";

/** What `juju run` left behind: juju's own exit code and output, or that we killed it at its timeout. */
export interface ActionCall {
  call: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Killed by coldstart at the call's timeout (or the step's deadline): the action may still have been enqueued. */
  timedOut: boolean;
}

/**
 * `--wait` for juju as a Go duration (time.ParseDuration), whole seconds, at least 1 s: juju reads
 * 0 as "the default 60 s" (cmd/juju/action/common.go runCommandBase.Init; juju/juju#20103), and a
 * negative value as "no limit", which a step with a budget must never ask for.
 */
export function jujuWait(ms: number): string {
  return `${Math.max(1, Math.floor(ms / 1000))}s`;
}

export class Juju {
  constructor(
    private readonly ctx: StepContext,
    readonly model: string,
  ) {}

  private async call(args: string[], opts: { input?: string; timeoutMs?: number; okCodes?: number[] } = {}) {
    const req: ExecRequest = {
      file: "juju",
      args,
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? this.ctx.callTimeoutMs,
    };
    return checkCall(req, await this.ctx.exec(req), opts.okCodes);
  }

  /** `juju machines -m M --format=json` */
  async machines(): Promise<string> {
    return (await this.call(["machines", "-m", this.model, "--format=json"])).stdout;
  }

  /** `juju status -m M <app> --format=json` */
  async status(app: string): Promise<string> {
    return (await this.call(["status", "-m", this.model, app, "--format=json"])).stdout;
  }

  /** `juju status -m M --format=yaml` (the whole model, for the baseline capture) */
  /** `juju status -m M --format=json` (the whole model: e.g. applications found by charm) */
  async modelStatus(): Promise<string> {
    return (await this.call(["status", "-m", this.model, "--format=json"])).stdout;
  }

  async statusYaml(): Promise<string> {
    return (await this.call(["status", "-m", this.model, "--format=yaml"])).stdout;
  }

  /** `juju config -m M <app> --format=json` */
  async config(app: string): Promise<string> {
    return (await this.call(["config", "-m", this.model, app, "--format=json"])).stdout;
  }

  /**
   * `juju run -m M <unit> <action> --format=json --wait=<waitMs>`. Never throws for what juju says:
   * exit 1 comes with JSON when the action failed, and without JSON (only "timed out waiting for
   * results") when juju's wait ran out while the action keeps running on the unit agent
   * (cmd/juju/action/common.go @ 0cdccd5f waitForTasks / handleTimeout; juju/juju#20103). Without an
   * explicit --wait juju gives up after 60 s, so one is always passed. gates/juju-action.ts reads it.
   * Throws only when juju could not be started (then nothing was enqueued).
   */
  async runAction(unit: string, action: string, waitMs: number, timeoutMs: number): Promise<ActionCall> {
    const req: ExecRequest = {
      file: "juju",
      args: ["run", "-m", this.model, unit, action, "--format=json", `--wait=${jujuWait(waitMs)}`],
      timeoutMs,
    };
    const res = await this.ctx.exec(req);
    // throws: not on PATH, not started, no budget left, or printed past the cap (no answer to read)
    if (res.notFound || res.startError || res.overflow) checkCall(req, res);
    return {
      call: describeCall(req),
      exitCode: res.exitCode,
      stdout: res.stdout,
      stderr: res.stderr,
      timedOut: res.timedOut,
    };
  }

  /**
   * `juju show-task -m M <id> --format=json`: the task as it is now (no --wait: showtask.go's default
   * -1 s answers at once), `pending`/`running` or its final status with results.
   */
  async showTask(id: string): Promise<string> {
    return (await this.call(["show-task", "-m", this.model, id, "--format=json"])).stdout;
  }

  /**
   * `juju operations -m M --format=json --apps <app> --actions <action>` (cmd/juju/action/
   * listoperations.go @ 5c910215): every operation of that action on that application's units;
   * empty stdout when there is none.
   */
  async operations(app: string, action: string): Promise<string> {
    return (await this.call(["operations", "-m", this.model, "--format=json", "--apps", app, "--actions", action]))
      .stdout;
  }

  /**
   * Run a shell command on a unit: `juju exec -m M --unit U --format=json -- <command>`; the remote
   * exit code, stdout and stderr come back separately from the task's results (return-code, stdout,
   * stderr), so "vault status exited 2 (sealed)" is data and a failed `systemctl restart` is never
   * read as exit 0. (Plain `juju exec` prints the remote stdout, then the remote stderr, both on
   * juju's stdout -- cmd/juju/action/exec.go @ 2f909755 printExecOutput -- so an exit-code trailer
   * appended to the command is not the last line whenever stderr is not empty.) juju itself exits 1
   * when the remote code is not 0 ("the following task failed"), with the JSON still on stdout.
   */
  async execOnUnit(unit: string, shellCommand: string): Promise<RemoteResult> {
    const req: ExecRequest = {
      file: "juju",
      args: ["exec", "-m", this.model, "--unit", unit, "--format=json", "--", shellCommand],
      timeoutMs: this.ctx.callTimeoutMs,
    };
    const res = checkCall(req, await this.ctx.exec(req), [0, 1]);
    if (res.stdout.trim() === "") {
      // no task result at all, e.g. "ERROR timed out waiting for results from: unit U" (exit 1)
      const why = excerpt((res.stderr.trim() || "nothing on stdout or stderr").split("\n").slice(-3).join(" | "));
      throw new ToolError(`${describeCall(req)}: exited ${res.exitCode} without a result: ${why}`);
    }
    const parsed = readExecResult(res.stdout, unit);
    if (!parsed.ok) throw new ToolError(`${describeCall(req)}: ${parsed.error}`);
    return parsed.value;
  }

  /** `juju ssh -m M <unit> -- <command>` with `input` on stdin: the path a secret takes to a unit. */
  async sshWithStdin(unit: string, command: readonly string[], input: string): Promise<string> {
    return (await this.call(["ssh", "-m", this.model, unit, "--", ...command], { input })).stdout;
  }

  /** `juju export-bundle -m M --filename F` */
  async exportBundle(file: string): Promise<void> {
    await this.call(["export-bundle", "-m", this.model, "--filename", file]);
  }

  /** `juju show-model M --format=json`: fails unless the configured model exists on its controller. */
  async showModel(): Promise<string> {
    return (await this.call(["show-model", this.model, "--format=json"])).stdout;
  }
}
