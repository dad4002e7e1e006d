/**
 * The maintenance engine for the real cloud: the Pulumi Automation API over this project's
 * folder (LocalWorkspace, stack selected by name). It shells out to the `pulumi` CLI, which the
 * jumphost has; the window id and the secrets reach the steps only through the CLI's
 * environment (envVars), never setConfig and never a stack file.
 */
import * as path from "node:path";
import { ConcurrentUpdateError, LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { makePlan } from "../plan/plan";
import type { Plan } from "../plan/model";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { UsageError } from "../config/errors";
import type { MaintenanceEngine, UpOptions, UpResult } from "./engine";
import { StackLockedError } from "./engine";
import { eventMapper, exitCodeOf } from "./pulumi-events";

export interface PulumiEngineOptions {
  stack: string;
  projectDir?: string;
  /** `pulumi up --parallel`: the four hosts are functional peers. */
  parallel?: number;
}

export class PulumiEngine implements MaintenanceEngine {
  readonly name = "pulumi (Automation API)";
  private readonly projectDir: string;
  constructor(private readonly opts: PulumiEngineOptions) {
    this.projectDir = opts.projectDir ?? findProjectDir();
  }

  private async select(window: string, env: Record<string, string>): Promise<Stack> {
    const envVars = {
      ...env,
      COLDSTART_WINDOW: window,
      // steps run `coldstart ...`
      PATH: `${path.join(this.projectDir, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    };
    try {
      return await LocalWorkspace.selectStack({ stackName: this.opts.stack, workDir: this.projectDir }, { envVars });
    } catch (err) {
      const text = String((err as Error).message ?? err);
      if (/ENOENT/.test(text))
        throw new UsageError(
          "the pulumi CLI is not installed on this machine (the Automation API drives it); use --engine drill to rehearse",
        );
      throw err;
    }
  }

  async preview(window: string): Promise<Plan> {
    // The readable plan comes from the same program under mocks; the engine's own preview then
    // confirms the stack and its config are accepted (and shows what it would change).
    const plan = await makePlan({ stack: this.opts.stack, window, mode: "planned" });
    const stack = await this.select(window, {});
    try {
      await stack.preview({ color: "never" });
    } catch (err) {
      if (err instanceof ConcurrentUpdateError) throw this.lockedError(err);
      throw err;
    }
    return plan;
  }

  private lockedError(err: Error): StackLockedError {
    return new StackLockedError(`stack ${this.opts.stack} is locked by another update: ${err.message.split("\n")[0]}`);
  }

  recordDir(): string {
    const values = readStackConfig(this.projectDir, this.opts.stack).values;
    return values["coldstart:recordDir"] ?? "~/coldstart-records";
  }

  async up(window: string, opts: UpOptions): Promise<UpResult> {
    const stack = await this.select(window, opts.env);
    const mapper = eventMapper(Date.now());
    let failedStep: string | undefined;
    try {
      await stack.up({
        color: "never",
        parallel: this.opts.parallel ?? 4,
        signal: opts.signal, // abort = SIGINT to the CLI: a graceful cancel
        onEvent: (e) => {
          const step = mapper.map(e);
          if (!step) return;
          if (step.status === "failed") failedStep ??= step.step;
          opts.onEvent(step);
        },
      });
      return { result: "succeeded", unchanged: [] };
    } catch (err) {
      if (err instanceof ConcurrentUpdateError) throw this.lockedError(err);
      if (opts.signal.aborted && !failedStep) return { result: "cancelled", unchanged: [] };
      const message = failedStep ? mapper.errorOf(failedStep) : String((err as Error).message ?? err);
      return { result: "failed", failedStep, failedExitCode: exitCodeOf(message), message, unchanged: [] };
    }
  }
}
