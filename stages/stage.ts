/**
 * One runbook stage = one ComponentResource; each runbook step = one command.local.Command child.
 * Shared mechanics live here so every stage file reads like its runbook section. Only
 * stages/restart.ts imports this file (it hands stage files a factory): a stage file stays
 * light enough for the CLI's step table to load.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { engineTimeoutMs, worstCaseMs } from "./budget";
import { STEP_BUDGET_ENV } from "../runtime/deadline";
import { commandLine, keptLine, type FlagValue } from "./command-line";
import type { FlagSchema, Registered, StageArgs, StageBuilder, StepDef, StepUse } from "./step-def";

/** The environment variable names the stack's hosts read credentials from. */
export function secretVarNames(config: Config): string[] {
  const names = config.hosts.flatMap((h) => {
    const p = h.power;
    if (p.driver === "ipmi") return p.passwordEnv ? [p.passwordEnv] : [];
    if (p.driver === "maas") return p.apiKeyEnv ? [p.apiKeyEnv] : [];
    return [];
  });
  return [...new Set(names)].sort();
}

export class RunbookStage extends pulumi.ComponentResource implements StageBuilder {
  public readonly title: string;
  public readonly stageName: string;
  private readonly config: Config;
  private readonly registered: Registered;
  private readonly stepNames: string[] = [];
  private readonly revalidate: string[] = [];

  /** `registered`: this run's list (restartProgram returns it); never a module-level one. */
  constructor(
    name: string,
    args: StageArgs,
    config: Config,
    registered: Registered,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("coldstart:runbook:Stage", name, {}, { ...opts, dependsOn: args.after });
    this.title = args.title;
    this.stageName = name;
    this.config = config;
    this.registered = registered;
    registered.stages.push({ name, title: args.title, runbook: args.runbook });
  }

  /** Register one runbook step (its definition, with these flags) as a Command that runs the coldstart CLI. */
  step<S extends FlagSchema>(name: string, def: StepDef<S>, use: StepUse<S>): command.local.Command {
    if (this.registered.steps.some((s) => s.name === name)) throw new Error(`duplicate step name ${name}`);
    const args = {
      ...use,
      summary: def.summary(use.flags),
      guard: def.guard(use.flags),
      revalidate: def.revalidate,
      handlesSecrets: def.handlesSecrets,
    };
    this.registered.steps.push({
      name,
      stage: this.stageName,
      verb: def.verb,
      command: def.command,
      summary: args.summary,
      guard: args.guard,
      destructive: def.destructive || undefined,
      revalidate: args.revalidate,
      expected: def.expected,
      onFailure: def.onFailure,
      manual: def.manual(use.flags),
      budgetMs: args.budget.ms,
      budgetParts: args.budget.parts,
      worstCaseMs: worstCaseMs(args.budget),
      engineTimeoutMs: engineTimeoutMs(args.budget),
    });
    this.stepNames.push(name);
    if (args.revalidate) this.revalidate.push(`${name}: ${args.revalidate}`);
    return new command.local.Command(
      name,
      {
        create: commandLine(this.config.cli, def.verb, def.command, use.flags as Record<string, FlagValue>),
        // Changed config or a new coldstart version in the same window: keep, never re-run.
        update: keptLine(this.config.cli, name),
        // A new window id replaces every step (re-runs it); the same window resumes after the last success.
        triggers: [this.config.window],
        // No `delete`: `pulumi destroy` (or a replaced step) never touches the cloud.
        environment: {
          COLDSTART_WINDOW: this.config.window,
          COLDSTART_STACK: pulumi.getStack(),
          // the record says which part of the runbook ran (runtime/record.ts)
          COLDSTART_MODE: this.config.mode,
          COLDSTART_STAGE: this.stageName,
          COLDSTART_STEP: name,
          COLDSTART_RECORD_DIR: this.config.recordDir,
          // bound on one juju/openstack call inside the step (coldstart:gates.commandTimeout)
          COLDSTART_CALL_TIMEOUT_MS: String(this.config.gates.commandTimeout),
          // the step's own deadline: every call is cut at it (runtime/deadline.ts)
          [STEP_BUDGET_ENV]: String(args.budget.ms),
          // names (never values) of the stack's credential variables: no child inherits them
          COLDSTART_SECRET_VARS: secretVarNames(this.config).join(","),
        },
        logging: args.handlesSecrets ? "none" : "stdoutAndStderr",
        // Nothing reads PULUMI_COMMAND_STDOUT/STDERR, and on an update the provider would put the
        // step's whole previous output into ONE environment string (pulumi-command v1.2.1
        // provider/pkg/provider/local/commandOutputs.go `run`, on unless this is false): past
        // Linux's MAX_ARG_STRLEN (128 KiB a string) `kept` could not even start (E2BIG,
        // "argument list too long"); the unseal step's output is no one else's to read either.
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: args.dependsOn,
        // above the step's worst case, so coldstart's own verdict always comes before the engine's
        // kill; the same on update (the kept line is quick, but the provider applies it too)
        customTimeouts: {
          create: formatDuration(engineTimeoutMs(args.budget)),
          update: formatDuration(engineTimeoutMs(args.budget)),
        },
        additionalSecretOutputs: args.handlesSecrets ? ["stdout", "stderr"] : undefined,
      },
    );
  }

  /** Close the component: its outputs name its steps and the runbook's open [REVALIDATE] markers. */
  finish(): void {
    this.registerOutputs({ steps: this.stepNames, revalidate: this.revalidate });
  }
}
