/**
 * What the program says about each step beyond its Command inputs (stage, kind, guard,
 * destructive mark, REVALIDATE note). The plan reads it after running the same program, so the
 * plan describes exactly the resources the program registered.
 */
import type { Verb } from "./command-line";

export interface StepInfo {
  name: string;
  stage: string;
  verb: Verb;
  command: string;
  /** What the step does, in runbook words ("waits until every machine agent reports started"). */
  summary: string;
  /** The condition that must hold before the step changes anything (guarded actions). */
  guard?: string;
  /** True for actions the runbook calls destructive (reboot-cluster-from-complete-outage). */
  destructive?: boolean;
  /** The runbook's [REVALIDATE] note for this step, when it carries one. */
  revalidate?: string;
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

const steps = new Map<string, StepInfo>();
const stages = new Map<string, StageInfo>();

export function recordStep(info: StepInfo): void {
  if (steps.has(info.name)) throw new Error(`duplicate step name ${info.name}`);
  steps.set(info.name, info);
}

export function recordStage(info: StageInfo): void {
  stages.set(info.name, info);
}

export function catalog(): { steps: StepInfo[]; stages: StageInfo[] } {
  return { steps: [...steps.values()], stages: [...stages.values()] };
}

export function resetCatalog(): void {
  steps.clear();
  stages.clear();
}
