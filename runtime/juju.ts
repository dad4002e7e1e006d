/**
 * juju at the edge. Every call passes `-m <controller:model>` (never relies on `juju switch`)
 * and has a timeout. Output is returned as text; gates/ parses it.
 */
import type { ExecRequest } from "./exec";
import type { StepContext } from "./step-context";
import { checkCall } from "./tool-error";

/** Marker appended to remote shell commands so their exit code survives `juju exec`. */
const EXIT_MARK = "coldstart-exit=";

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
  async statusYaml(): Promise<string> {
    return (await this.call(["status", "-m", this.model, "--format=yaml"])).stdout;
  }

  /** `juju config -m M <app> --format=json` */
  async config(app: string): Promise<string> {
    return (await this.call(["config", "-m", this.model, app, "--format=json"])).stdout;
  }

  /** `juju run -m M <unit> <action> --format=json`: waits for the action; JSON even when it failed. */
  async runAction(unit: string, action: string, timeoutMs: number): Promise<string> {
    const res = await this.call(["run", "-m", this.model, unit, action, "--format=json"], {
      timeoutMs,
      okCodes: [0, 1],
    });
    return res.stdout;
  }

  /**
   * Run a shell command on a unit's machine; returns the remote exit code explicitly (a trailer),
   * so "vault status exited 2 (sealed)" is data and not a failed call.
   */
  async execOnUnit(unit: string, shellCommand: string): Promise<{ code: number; stdout: string }> {
    const res = await this.call(
      ["exec", "-m", this.model, "--unit", unit, "--", `${shellCommand}; echo ${EXIT_MARK}$?`],
      {
        okCodes: [0, 1, 2],
      },
    );
    const lines = res.stdout.replace(/\s+$/, "").split("\n");
    const last = lines[lines.length - 1] ?? "";
    const code = last.startsWith(EXIT_MARK) ? Number(last.slice(EXIT_MARK.length)) : NaN;
    if (Number.isNaN(code)) return { code: res.exitCode, stdout: res.stdout };
    return { code, stdout: lines.slice(0, -1).join("\n") + "\n" };
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
