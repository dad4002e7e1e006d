/** The plan as an operator reads it: stages in order, each step with what it runs and waits for. */
import type { Plan, PlanStep } from "./model";
import { formatDuration } from "../config/duration";

function marks(step: PlanStep): string {
  const out: string[] = [];
  if (step.destructive) out.push("DESTRUCTIVE");
  if (step.guard) out.push("guarded");
  if (step.revalidate) out.push("REVALIDATE");
  return out.length ? `  [${out.join(", ")}]` : "";
}

export function renderText(plan: Plan): string {
  const lines: string[] = [];
  const count = plan.steps.length;
  lines.push(`coldstart plan -- stack ${plan.stack}, mode ${plan.mode}, window ${plan.window}`);
  lines.push(`${count} steps in ${plan.stages.length} stages; each stage starts only after the previous stage's gate.`);
  let n = 0;
  for (const stage of plan.stages) {
    lines.push("");
    lines.push(`== ${stage.title}  (${stage.runbook})`);
    for (const name of stage.steps) {
      const step = plan.steps.find((s) => s.name === name)!;
      n += 1;
      lines.push(`${String(n).padStart(3)}. ${step.verb.padEnd(5)} ${step.name}${marks(step)}`);
      lines.push(`       ${step.summary}`);
      lines.push(`       $ ${step.create}`);
      lines.push(
        `       after: ${step.dependsOn.length ? step.dependsOn.join(", ") : "(nothing: first step)"}; engine timeout ${step.timeout} (worst case ${formatDuration(step.worstCaseMs)}: ${step.budget.join(" + ")})`,
      );
      if (step.parallelWith.length) lines.push(`       in parallel with: ${step.parallelWith.join(", ")}`);
      if (step.guard) lines.push(`       guard: ${step.guard}`);
      if (step.revalidate) lines.push(`       [REVALIDATE: ${step.revalidate}]`);
    }
  }
  return lines.join("\n") + "\n";
}
