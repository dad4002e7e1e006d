/** The restart plan as data: built from what the program registered under mocks plus what it said about each step (stages/step-def.ts Registered). */
import type { RegisteredResource } from "./mock-engine";
import type { Registered, StageInfo, Verb } from "../stages/step-def";
import { parseDurationMs } from "../config/duration";
import type { ManualProcedure } from "../stages/manual";

export interface PlanStep {
  name: string;
  stage: string;
  verb: Verb;
  command: string;
  create: string;
  summary: string;
  guard?: string;
  destructive: boolean;
  revalidate?: string;
  /** What the step must see to pass, as its definition says it. */
  expected: string;
  /** What happens when the step fails, as its definition says it (stages/step-def.ts onFailure). */
  onFailure?: string;
  /** The step done by hand, with this stack's values (stages/manual.ts): `coldstart runbook` prints it. */
  manual: ManualProcedure;
  /** The engine's customTimeouts.create, as the program registered it ("16m"). */
  timeout: string;
  /** The same in ms: when the command provider kills the step's shell. */
  timeoutMs: number;
  /** coldstart's own bound on the step: its budget plus process start and a cut call's drain. */
  worstCaseMs: number;
  /** What the budget is made of (stages/budget.ts). */
  budget: string[];
  /** What a changed-input update runs: `coldstart kept <step>`, never the create line again. */
  update: string;
  /** Direct dependencies (step names), exactly as the engine would receive them. */
  dependsOn: string[];
  /** Steps of the same stage that may run at the same time as this one. */
  parallelWith: string[];
  /** Longest chain of steps before this one (0 = may start first). */
  depth: number;
  triggers: unknown[];
  hasDelete: boolean;
}

export interface PlanStage extends StageInfo {
  steps: string[];
  dependsOn: string[];
}

export interface Plan {
  project: string;
  stack: string;
  mode: string;
  window: string;
  stages: PlanStage[];
  steps: PlanStep[];
}

const COMMAND = "command:local:Command";
const STAGE = "coldstart:runbook:Stage";

export function buildPlan(
  head: { project: string; stack: string; mode: string; window: string },
  resources: RegisteredResource[],
  registered: Registered,
): Plan {
  // A URN ends in `::<name>`; coldstart's resource names are unique, so the name identifies it.
  const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
  const info = new Map(registered.steps.map((s) => [s.name, s]));
  const commands = resources.filter((r) => r.type === COMMAND);

  const depth = new Map<string, number>();
  const depthOf = (deps: string[]) => (deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => depth.get(d) ?? 0)));

  // Registration order under mocks is already dependency order (the SDK waits for dependencies).
  const steps: PlanStep[] = commands.map((r) => {
    const meta = info.get(r.name);
    if (!meta) throw new Error(`step ${r.name} was registered without its step information`);
    const dependsOn = r.dependencies.map(nameOf);
    depth.set(r.name, depthOf(dependsOn));
    return {
      name: r.name,
      stage: meta.stage,
      verb: meta.verb,
      command: meta.command,
      create: String(r.inputs.create ?? ""),
      summary: meta.summary,
      guard: meta.guard,
      destructive: meta.destructive === true,
      revalidate: meta.revalidate,
      expected: meta.expected,
      onFailure: meta.onFailure,
      manual: meta.manual,
      timeout: r.createTimeout,
      timeoutMs: parseDurationMs(r.createTimeout) ?? 0,
      worstCaseMs: meta.worstCaseMs,
      budget: meta.budgetParts,
      update: String(r.inputs.update ?? ""),
      dependsOn,
      parallelWith: [],
      depth: depth.get(r.name)!,
      triggers: Array.isArray(r.inputs.triggers) ? r.inputs.triggers : [],
      hasDelete: typeof r.inputs.delete === "string" && r.inputs.delete.trim() !== "",
    };
  });
  for (const step of steps) {
    step.parallelWith = steps
      .filter((o) => o !== step && o.stage === step.stage && o.depth === step.depth)
      .map((o) => o.name);
  }
  steps.sort((a, b) => a.depth - b.depth);

  const stages: PlanStage[] = resources
    .filter((r) => r.type === STAGE)
    .map((r) => {
      const meta = registered.stages.find((s) => s.name === r.name)!;
      return {
        ...meta,
        dependsOn: r.dependencies.map(nameOf),
        steps: steps.filter((s) => s.stage === r.name).map((s) => s.name),
      };
    });
  const stageOrder = (name: string) => Math.min(...steps.filter((s) => s.stage === name).map((s) => s.depth));
  stages.sort((a, b) => stageOrder(a.name) - stageOrder(b.name));
  return { ...head, stages, steps };
}
