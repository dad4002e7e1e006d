/**
 * What the approval shows: the engine's own preview, reduced to one operation per step, the mode
 * the program will run in, and whether this window resumes. Pure (engine events in, lines out):
 * tested on hand-built events typed with the SDK's own EngineEvent. Both engines (Pulumi and the
 * drill) end in a PreviewSummary, so the operator reads the same lines whichever runs.
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import { ENV_OVERRIDES, loadConfig, NAMESPACE } from "../config/load";
import type { Mode } from "../config/schema";
import { STEP_TYPE, stepName } from "./pulumi-events";

/**
 * What the engine will do with one step:
 * - create: not in state, its `create` runs;
 * - update: an input other than `triggers` changed in this window, its `update` runs;
 * - replace: `triggers` (the window id) changed, its `create` runs for the new window;
 * - same: done in this window already, nothing runs;
 * - delete: in state but no longer declared (coldstart sets no `delete` command: state only).
 */
export type StepOp = "create" | "update" | "replace" | "same" | "delete";

export interface StepPreview {
  step: string;
  op: StepOp;
}

export interface ModeInForce {
  mode: Mode;
  /** Where the value comes from, in words ("the stack's coldstart:mode", "COLDSTART_MODE ..."). */
  from: string;
}

export interface PreviewSummary {
  mode: ModeInForce;
  /** Every step the engine reported, in plan order; steps the plan does not know (deletes) last. */
  steps: StepPreview[];
}

export type Resume =
  | { kind: "new"; total: number }
  | { kind: "resumes"; from: string; done: number; total: number }
  | { kind: "complete"; total: number };

/**
 * Pulumi's step operations (node_modules/@pulumi/pulumi/automation/stack.d.ts, OpType) -> ours.
 * A replacement shows as up to three steps (create-replacement, the logical replace,
 * delete-replaced): all three are the one replace. Reads, refreshes, imports and discards are
 * never planned for a coldstart Command.
 */
export function stepOpOf(op: OpType): StepOp | undefined {
  switch (op) {
    case "create":
    case "update":
    case "same":
    case "delete":
      return op;
    case "replace":
    case "create-replacement":
    case "delete-replaced":
      return "replace";
    default:
      return undefined;
  }
}

/** When one step shows several operations, the one that runs the most wins. */
const WEIGHT: Record<StepOp, number> = { same: 0, delete: 1, create: 2, update: 3, replace: 4 };

/**
 * The operation per step from `pulumi preview`'s events. A preview sends a resourcePreEvent with
 * `planning: true` for every step, "same" included (pulumi/pulumi pkg/engine/update.go,
 * previewActions.OnResourceStepPre); events without `planning` belong to an update and are
 * ignored, as are the Stack, the Stage components and the provider.
 */
export function stepOps(events: EngineEvent[]): Map<string, StepOp> {
  const ops = new Map<string, StepOp>();
  for (const e of events) {
    const pre = e.resourcePreEvent;
    if (!pre?.planning || pre.metadata.type !== STEP_TYPE) continue;
    const op = stepOpOf(pre.metadata.op);
    if (!op) continue;
    const step = stepName(pre.metadata.urn);
    const seen = ops.get(step);
    if (!seen || WEIGHT[op] > WEIGHT[seen]) ops.set(step, op);
  }
  return ops;
}

/** A step as a state-keeping engine compares it: its `triggers` hash and the rest of its inputs. */
export interface StepFingerprint {
  name: string;
  /** Absent in a state written before triggers were hashed on their own. */
  triggersHash?: string;
  inputsHash: string;
}

export type StoredFingerprint = Omit<StepFingerprint, "name">;

/** An engine's own decision for one step (the drill engine's: drill/pulumi-state.ts diffStep). */
export type StepDiff<S extends StoredFingerprint> = (stored: S | undefined, now: StoredFingerprint) => StepOp;

/**
 * The operation per step of the program, by the engine's own diff against its state. Steps in
 * state that the program no longer declares are left out: the drill engine leaves them alone.
 */
export function opsAgainstState<S extends StoredFingerprint>(
  program: StepFingerprint[],
  stored: Record<string, S>,
  diff: StepDiff<S>,
): Map<string, StepOp> {
  return new Map(
    program.map(({ name, ...now }) => [name, diff(Object.hasOwn(stored, name) ? stored[name] : undefined, now)]),
  );
}

/** Order the operations by the plan (dependency order); anything the plan lacks goes last. */
export function summarise(ops: Map<string, StepOp>, planOrder: string[], mode: ModeInForce): PreviewSummary {
  const known = new Set(planOrder);
  const steps: StepPreview[] = [];
  for (const step of planOrder) {
    const op = ops.get(step);
    if (op) steps.push({ step, op });
  }
  for (const [step, op] of ops) if (!known.has(step)) steps.push({ step, op });
  return { mode, steps };
}

export function summariseEvents(events: EngineEvent[], planOrder: string[], mode: ModeInForce): PreviewSummary {
  return summarise(stepOps(events), planOrder, mode);
}

/**
 * The mode the program will run in, decided by the program's own loader (config/load.ts
 * loadConfig: the COLDSTART_MODE override, else the stack's coldstart:mode, else the schema's
 * default), given the stack's values and the environment the program will see.
 */
export function modeInForce(values: Record<string, string>, env: NodeJS.ProcessEnv): ModeInForce {
  const mode = loadConfig((key) => values[`${NAMESPACE}:${key}`], env).mode;
  const envVar = ENV_OVERRIDES.mode ?? "COLDSTART_MODE";
  const stackValue = values[`${NAMESPACE}:mode`];
  // loadConfig takes `env[override] || read(key)`: a non-empty variable wins.
  if (env[envVar]) {
    const over = stackValue ? `overrides the stack's coldstart:mode ${stackValue}` : "the stack sets no coldstart:mode";
    return { mode, from: `${envVar}=${env[envVar]} (${over})` };
  }
  if (stackValue !== undefined) return { mode, from: "the stack's coldstart:mode" };
  return { mode, from: "the default: the stack sets no coldstart:mode" };
}

/**
 * A window resumes when the engine has some of its steps already done (op same) and starts at
 * the first step, in plan order, that is not. No step same: a new window (every step runs).
 */
export function resumeOf(summary: PreviewSummary): Resume {
  const steps = summary.steps.filter((s) => s.op !== "delete");
  const done = steps.filter((s) => s.op === "same").length;
  if (done === 0) return { kind: "new", total: steps.length };
  const first = steps.find((s) => s.op !== "same");
  if (!first) return { kind: "complete", total: steps.length };
  return { kind: "resumes", from: first.step, done, total: steps.length };
}

const nSteps = (n: number) => `${n} step${n === 1 ? "" : "s"}`;

export function resumeLine(summary: PreviewSummary): string {
  const r = resumeOf(summary);
  if (r.kind === "new") return "new window: every step will run";
  if (r.kind === "complete") return `this window is complete: all ${nSteps(r.total)} already done, nothing will run`;
  return `this window resumes from ${r.from}: ${nSteps(r.done)} already done`;
}

const ORDER: StepOp[] = ["create", "update", "replace", "delete", "same"];
/** These run a command (update: the step's `update`; replace: its `create`), so they are named. */
const NAMED = new Set<StepOp>(["update", "replace", "delete"]);

/** "create 30, update 2 (power-off-openstack0, powered-off-openstack0), same 4" */
export function countsLine(summary: PreviewSummary): string {
  const parts: string[] = [];
  for (const op of ORDER) {
    const steps = summary.steps.filter((s) => s.op === op).map((s) => s.step);
    if (steps.length === 0) continue;
    parts.push(`${op} ${steps.length}${NAMED.has(op) ? ` (${steps.join(", ")})` : ""}`);
  }
  return parts.length > 0 ? parts.join(", ") : "the engine reported no steps";
}

/** The lines printed before the approval (or before a --yes run): mode, resume, operations. */
export function summaryLines(summary: PreviewSummary): string[] {
  const lines = [`mode: ${summary.mode.mode} (${summary.mode.from})`, resumeLine(summary), countsLine(summary)];
  if (summary.steps.some((s) => s.op === "delete"))
    lines.push("delete: steps no longer declared; coldstart sets no delete command, so only the state changes");
  return lines;
}

/** The label a plan line carries for its step. */
export function opLabel(op: StepOp | undefined): string {
  if (op === undefined) return "not in the engine's preview";
  if (op === "same") return "same: done in this window";
  return op;
}
