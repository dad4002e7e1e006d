/**
 * The plan as data (`coldstart plan --json`): a versioned document. Version 1 is the Plan of
 * plan/model.ts with `schemaVersion` first and, on every step, `onFailure` (what happens when it
 * fails, as the text plan says it). Durations are numbers in ms (`timeoutMs`, `worstCaseMs`);
 * `timeout` keeps the engine's own text ("938s"). A field is only ever added within a version;
 * renaming or removing one raises it.
 */
import type { Plan } from "./model";
import { onFailureOf } from "./render-text";

export const PLAN_SCHEMA_VERSION = 1;

export function planDocument(plan: Plan): { schemaVersion: number } & Plan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    ...plan,
    steps: plan.steps.map((step) => ({ ...step, onFailure: onFailureOf(step) })),
  };
}

export function renderJson(plan: Plan): string {
  return JSON.stringify(planDocument(plan), null, 2) + "\n";
}
