/**
 * One runbook step, defined once, in the file of its stage (issue #13): its CLI key, its flag
 * schema (each flag described), what the plan says about it, its guard and marks, the line it
 * must see, what a failure does, and its handler -- imported lazily, so a step process loads
 * only its own handler (and never @pulumi/pulumi). Everything else is derived from these
 * definitions: the step table (stages/step-table.ts; stages/step-index.ts says which stage file
 * a step process loads), the flag types the handlers use
 * (StepFlags), the plan's step metadata (StepInfo, built by stages/stage.ts) and the test that
 * parses every create line of the plan.
 *
 * A stage file writes `const xFlags = z.object({...}).strict();` and
 * `export const X: StepDef<typeof xFlags> = defineStep({ flags: xFlags, ... })`: the annotation
 * is what lets the handler declare `flags: StepFlags<typeof X>` (without it TypeScript meets the
 * definition while inferring the definition's own type through the handler: TS7022).
 *
 * This file and every stage file stay light: type-only imports of pulumi and of stages/stage.ts
 * (the stage factory is passed in by stages/restart.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as z from "zod";
import type { StepContext } from "../runtime/step-context";
import type { StepOutcome } from "../steps/outcome";
import type { Budget } from "./budget";
import type { Verb } from "./command-line";
import type { ManualProcedure } from "./manual";

export type { Verb } from "./command-line";

/** A step's flags: a strict zod object whose keys are the flag names (kebab-case). */
export type FlagSchema = z.ZodObject;

/**
 * The code that runs a step. Declared through a method so that the table of every definition
 * (StepDef<FlagSchema>) can hold each step's own handler type (method parameters are bivariant).
 */
export type StepHandler<F> = {
  run(flags: F, ctx: StepContext): Promise<StepOutcome>;
}["run"];

/** What a stage file writes: the step, once. A text may depend on the flags the stage passes. */
export interface StepSpec<S extends FlagSchema> {
  verb: Verb;
  /** The CLI subcommand: `coldstart <verb> <command>`. */
  command: string;
  flags: S;
  /** What the step does, in runbook words (the plan's line). */
  summary: string | ((flags: z.input<S>) => string);
  /** The condition that must hold before the step changes anything (guarded actions). */
  guard?: string | ((flags: z.input<S>) => string);
  /** An action the runbook calls destructive (reboot-cluster-from-complete-outage). */
  destructive?: boolean;
  /** Its stdout/stderr are stored as Pulumi secrets and not streamed (it reads unseal keys). */
  handlesSecrets?: boolean;
  /** The runbook's [REVALIDATE] note for this step. */
  revalidate?: string;
  /** What the step must see to pass, in runbook words. */
  expected: string;
  /** What happens when it does not: one short line. */
  onFailure: string;
  /**
   * The step done by hand (issue #24): the runbook's commands with these flags' values filled in
   * (stages/manual.ts has the rules). `coldstart runbook` and every stop's hand-back print it.
   */
  manual: (flags: z.input<S>) => ManualProcedure;
  /** The handler, imported when the step runs: `() => import("../steps/x").then((m) => m.y)`. */
  handler: () => Promise<StepHandler<z.output<S>>>;
}

export type StepKey = `${Verb} ${string}`;

export interface StepDef<S extends FlagSchema = FlagSchema> {
  /** `<verb> <command>`: the CLI's key for this step. */
  readonly key: StepKey;
  readonly verb: Verb;
  readonly command: string;
  readonly flags: S;
  summary(flags: z.input<S>): string;
  /** The guard's text, or undefined for an unguarded step. */
  guard(flags: z.input<S>): string | undefined;
  readonly destructive: boolean;
  readonly handlesSecrets: boolean;
  readonly revalidate?: string;
  readonly expected: string;
  readonly onFailure: string;
  manual(flags: z.input<S>): ManualProcedure;
  handler(): Promise<StepHandler<z.output<S>>>;
}

/** The flags a step's handler receives (parsed: durations in ms, counts as numbers). */
export type StepFlags<D extends StepDef> = z.output<D["flags"]>;

export function defineStep<S extends FlagSchema>(spec: StepSpec<S>): StepDef<S> {
  const { summary, guard } = spec;
  return {
    key: `${spec.verb} ${spec.command}`,
    verb: spec.verb,
    command: spec.command,
    flags: spec.flags,
    summary: typeof summary === "function" ? summary : () => summary,
    guard: typeof guard === "function" ? guard : () => guard,
    destructive: spec.destructive === true,
    handlesSecrets: spec.handlesSecrets === true,
    revalidate: spec.revalidate,
    expected: spec.expected,
    onFailure: spec.onFailure,
    manual: spec.manual,
    handler: spec.handler,
  };
}

/** The usual failure lines, so every step says it the same way. */
export const ON_FAILURE = {
  gate: "stops the run; the fix routes per the runbook's quick reference",
  check: "stops the run before anything is changed; the fix routes per the runbook's quick reference",
  action: "stops the run; nothing after it starts; the fix routes per the runbook's quick reference",
  blocker: "stops the run as a BLOCKER: escalate, never improvise",
  power: "stops the run; nothing after it starts; the fix routes to power-control (runbook quick reference)",
} as const;

/** How a stage uses a definition: the flags it passes are type-checked against the step's schema. */
export interface StepUse<S extends FlagSchema> {
  flags: z.input<S>;
  /** coldstart's own bound on the whole step, from the config (stages/budget.ts). */
  budget: Budget;
  dependsOn: pulumi.Resource[];
}

/** One runbook stage being built: stages/stage.ts RunbookStage is the real one. */
export interface StageBuilder {
  step<S extends FlagSchema>(name: string, def: StepDef<S>, use: StepUse<NoInfer<S>>): pulumi.Resource;
  /** Close the stage: its outputs name its steps and its open [REVALIDATE] markers. */
  finish(): void;
}

export interface StageArgs {
  /** Heading in the runbook, e.g. "Stage 2 -- MySQL InnoDB cluster". */
  title: string;
  /** Where an operator finds it: runbook file and section. */
  runbook: string;
  /** The previous stage's gate(s): this stage starts only after they succeeded. */
  after: pulumi.Resource[];
}

/** Makes a stage: passed to every stage function by stages/restart.ts. */
export type NewStage = (name: string, args: StageArgs) => StageBuilder;

/** What the program says about each step beyond its Command inputs (the plan and the drill read it). */
export interface StepInfo {
  name: string;
  stage: string;
  verb: Verb;
  command: string;
  /** What the step does, in runbook words ("waits until every machine agent reports started"). */
  summary: string;
  guard?: string;
  destructive?: boolean;
  revalidate?: string;
  /** What the step must see to pass. */
  expected: string;
  /** What happens when it does not (one line). */
  onFailure: string;
  /** The step done by hand, with this run's values (stages/manual.ts). */
  manual: ManualProcedure;
  /** coldstart's own bound on the step, in ms: the sum of its waits (stages/budget.ts). */
  budgetMs: number;
  /** What the budget is made of, in words. */
  budgetParts: string[];
  /** The longest the step can take: its budget plus process start and a cut call's drain. */
  worstCaseMs: number;
  /** The engine's customTimeouts.create: above the worst case. */
  engineTimeoutMs: number;
}

export interface StageInfo {
  name: string;
  title: string;
  runbook: string;
}

/** Every stage and step one run of the program registered, in order (plain data, per run). */
export interface Registered {
  stages: StageInfo[];
  steps: StepInfo[];
}
