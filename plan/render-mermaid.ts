/** The plan's dependency graph as a Mermaid flowchart: one subgraph per runbook stage. */
import type { Plan } from "./model";

/** Mermaid node ids: letters, digits and underscores only. */
export function mermaidId(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Labels go inside double quotes; Mermaid has no escape for `"`, so use its entity form. */
function label(text: string): string {
  return `"${text.replace(/"/g, "#quot;")}"`;
}

export function renderMermaid(plan: Plan): string {
  const lines = ["flowchart TD"];
  for (const stage of plan.stages) {
    lines.push(`  subgraph ${mermaidId(`stage_${stage.name}`)}[${label(stage.title)}]`);
    for (const name of stage.steps) {
      const step = plan.steps.find((s) => s.name === name)!;
      const shape = step.verb === "gate" ? ["{{", "}}"] : ["[", "]"];
      lines.push(`    ${mermaidId(step.name)}${shape[0]}${label(`${step.verb}: ${step.name}`)}${shape[1]}`);
    }
    lines.push("  end");
  }
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) lines.push(`  ${mermaidId(dep)} --> ${mermaidId(step.name)}`);
  }
  lines.push("  classDef destructive fill:#fdd,stroke:#c00,stroke-width:2px");
  lines.push("  classDef guarded stroke:#c80,stroke-width:2px");
  const destructive = plan.steps.filter((s) => s.destructive).map((s) => mermaidId(s.name));
  const guarded = plan.steps.filter((s) => s.guard && !s.destructive).map((s) => mermaidId(s.name));
  if (destructive.length) lines.push(`  class ${destructive.join(",")} destructive`);
  if (guarded.length) lines.push(`  class ${guarded.join(",")} guarded`);
  return lines.join("\n") + "\n";
}
