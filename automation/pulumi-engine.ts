/**
 * The maintenance engine for the real cloud: the Pulumi Automation API over this project's
 * folder (LocalWorkspace, stack selected by name). It shells out to the `pulumi` CLI, which the
 * jumphost has; the window id and the secrets reach the steps only through the CLI's
 * environment (envVars), never setConfig and never a stack file.
 *
 * What is approved is what runs, through Pulumi's update plans:
 * - preview: `stack.preview({ plan })` runs `pulumi preview --save-plan <file>`
 *   (node_modules/@pulumi/pulumi/automation/stack.d.ts PreviewOptions.plan: "the path where the
 *   update plan should be saved"; stack.js preview() pushes `--save-plan`). Its events, collected
 *   with onEvent, are the per-step operations the operator approves.
 * - up: `stack.up({ plan })` runs `pulumi up --plan <file>` (stack.d.ts UpOptions.plan: "the
 *   path to an update plan to use for the update"; stack.js up() pushes `--plan`): the engine
 *   refuses any operation the plan does not contain, so a step that became an update, a changed
 *   mode or another window's state between the approval and the run stops the run instead.
 * `preview --save-plan` is a visible [PREVIEW] flag since pulumi/pulumi#20271; `up --plan` is the
 * hidden one; the CLI accepts both without PULUMI_EXPERIMENTAL.
 *
 * The CLI runs in a process group of its own (automation/pulumi-cli.ts): a terminal's Ctrl-C
 * reaches maintenance only, which forwards SIGINT on purpose: up()'s `signal` is pulumi's cancel
 * (its first SIGINT), `terminate` its terminate (its second).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ConcurrentUpdateError,
  LocalWorkspace,
  type EngineEvent,
  type PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { makePlan } from "../plan/plan";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { UsageError } from "../config/errors";
import { parseStackValues } from "../config/load";
import type { EnginePreview, MaintenanceEngine, UpOptions, UpResult } from "./engine";
import { StackLockedError } from "./engine";
import { eventMapper, exitCodeOf, PLAN_REFUSED, planRefusal } from "./pulumi-events";
import { modeInForce, summariseEvents } from "./preview-summary";
import type { Mode } from "../config/schema";
import { isKeyVariable } from "../runtime/unseal-keys";
import { makePrivateDir } from "../runtime/private-dir";
import { GroupedPulumiCommand } from "./pulumi-cli";

export interface PulumiEngineOptions {
  stack: string;
  projectDir?: string;
  /**
   * `pulumi up --parallel` (default: the stack's coldstart:parallelism, as the drill's engine
   * uses it): the hosts are functional peers, powered off and on together.
   */
  parallel?: number;
  /**
   * The environment the mode is decided from (default: this process's, which the CLI inherits:
   * stack.js runPulumiCmd adds envVars on top of it). The decided mode is then passed to the CLI
   * as COLDSTART_MODE, so the program runs in the mode the approval showed.
   */
  env?: NodeJS.ProcessEnv;
}

/**
 * How long after its terminate pulumi takes to end: it SIGINTs each plugin's group and SIGKILLs it
 * 5 s later (pulumi/pulumi pkg/resource/plugin/plugin.go), then exits; the rest is margin.
 */
export const PULUMI_TERMINATE_GRACE_MS = 10_000;

export class PulumiEngine implements MaintenanceEngine {
  readonly name = "pulumi (Automation API)";
  readonly terminateGraceMs = PULUMI_TERMINATE_GRACE_MS;
  /** The CLI, run in a process group of its own (made once: `pulumi version` is checked then). */
  private cli: Promise<GroupedPulumiCommand> | undefined;
  private readonly projectDir: string;
  /** window -> the update plan its approved preview saved, and the mode it was made in. */
  private readonly plans = new Map<string, { file: string; mode: Mode }>();
  constructor(private readonly opts: PulumiEngineOptions) {
    this.projectDir = opts.projectDir ?? findProjectDir();
  }

  private async select(window: string, mode: Mode, env: Record<string, string>): Promise<Stack> {
    const envVars: Record<string, string | undefined> = {
      // Unseal keys this process was given never reach the CLI: the command provider hands the
      // CLI's environment to every step (README "Unseal key custody"). The SDK runs the CLI with
      // process.env plus envVars (execa 5 extendEnv: {...process.env, ...env}), and Node's spawn
      // leaves out a variable whose value is undefined (child_process normalizeSpawnArguments).
      // The keys reach the unseal step through the FIFO maintenance names in `env`.
      ...Object.fromEntries(
        Object.keys(process.env)
          .filter(isKeyVariable)
          .map((k) => [k, undefined]),
      ),
      ...env,
      COLDSTART_WINDOW: window,
      COLDSTART_MODE: mode,
      // steps run `coldstart ...`
      PATH: `${path.join(this.projectDir, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    };
    try {
      this.cli ??= GroupedPulumiCommand.get();
      // the SDK types pulumiCommand as its own class (private constructor); ours has the members
      // LocalWorkspace and Stack call (command, version, run: see automation/pulumi-cli.ts)
      const pulumiCommand = (await this.cli) as unknown as PulumiCommand;
      return await LocalWorkspace.selectStack(
        { stackName: this.opts.stack, workDir: this.projectDir },
        { envVars: envVars as Record<string, string>, pulumiCommand },
      );
    } catch (err) {
      this.cli = undefined; // e.g. no CLI yet: the next select looks again
      const text = String((err as Error).message ?? err);
      if (/ENOENT/.test(text))
        throw new UsageError(
          "the pulumi CLI is not installed on this machine (the Automation API drives it); use --engine drill to rehearse",
        );
      throw err;
    }
  }

  async preview(window: string): Promise<EnginePreview> {
    // The mode the program will read: the stack's value unless COLDSTART_MODE overrides it.
    const values = readStackConfig(this.projectDir, this.opts.stack).values;
    const mode = modeInForce(values, { ...(this.opts.env ?? process.env), COLDSTART_WINDOW: window });
    // The readable plan (order, stages, destructive steps) is the same program under mocks, in
    // that mode; what happens to each step is the engine's own preview.
    const plan = await makePlan({ stack: this.opts.stack, window, mode: mode.mode, projectDir: this.projectDir });
    const stack = await this.select(window, mode.mode, {});
    const planFile = path.join(makePrivateDir("coldstart-plan-"), "update-plan.json");
    const events: EngineEvent[] = [];
    try {
      await stack.preview({ color: "never", plan: planFile, onEvent: (e) => events.push(e) });
    } catch (err) {
      removePlan(planFile);
      if (err instanceof ConcurrentUpdateError) throw this.lockedError(err);
      throw err;
    }
    const previous = this.plans.get(window);
    if (previous) removePlan(previous.file);
    this.plans.set(window, { file: planFile, mode: mode.mode });
    return {
      plan,
      preview: summariseEvents(
        events,
        plan.steps.map((s) => s.name),
        mode,
      ),
    };
  }

  private lockedError(err: Error): StackLockedError {
    return new StackLockedError(`stack ${this.opts.stack} is locked by another update: ${err.message.split("\n")[0]}`);
  }

  /** The stack's coldstart:parallelism, through the one config loader (its default; preview validated it). */
  private stackParallelism(window: string): number {
    return parseStackValues(readStackConfig(this.projectDir, this.opts.stack).values, window).parallelism;
  }

  recordDir(): string {
    const values = readStackConfig(this.projectDir, this.opts.stack).values;
    return values["coldstart:recordDir"] ?? "~/coldstart-records";
  }

  async up(window: string, opts: UpOptions): Promise<UpResult> {
    const approved = this.plans.get(window);
    if (!approved) throw new Error(`up(${window}) without an approved preview of that window: call preview first`);
    const planFile = approved.file;
    const stack = await this.select(window, approved.mode, opts.env);
    const mapper = eventMapper(Date.now());
    let failedStep: string | undefined;
    // maintenance's third signal: a second SIGINT to the CLI, which pulumi takes as terminate
    const cli = await this.cli;
    const terminate = () => cli?.interrupt();
    opts.terminate?.addEventListener("abort", terminate, { once: true });
    try {
      await stack.up({
        color: "never",
        parallel: this.opts.parallel ?? this.stackParallelism(window),
        plan: planFile, // only what the approved preview showed (see the top of this file)
        signal: opts.signal, // abort = one SIGINT to the CLI: pulumi's cancel (automation/pulumi-cli.ts)
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
      const text = String((err as Error).message ?? err);
      const refusal = planRefusal(`${text}\n${mapper.errorText()}`);
      // A failed step is the cause to report (with its fix). A cancelled update reports every
      // step it did not reach as "none were seen": that is the cancel, not a changed preview.
      if (!failedStep && refusal && (refusal.reason === "violates" || !opts.signal.aborted))
        return { result: "failed", failedStep: refusal.step, message: PLAN_REFUSED, unchanged: [] };
      if (opts.signal.aborted && !failedStep) return { result: "cancelled", unchanged: [] };
      const message = failedStep ? mapper.errorOf(failedStep) : text;
      return { result: "failed", failedStep, failedExitCode: exitCodeOf(message), message, unchanged: [] };
    } finally {
      opts.terminate?.removeEventListener("abort", terminate);
      // A plan is good for one run: the next run previews (and is approved) again.
      this.plans.delete(window);
      removePlan(planFile);
    }
  }
}

function removePlan(file: string): void {
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
