/**
 * The plan's dependency graph as a Mermaid flowchart: one subgraph per runbook stage, one node per
 * step (its id readable: the step's own name with `_` for `-`), destructive steps in red with the
 * word DESTRUCTIVE in their label, the runbook's [REVALIDATE] markers shown on their steps.
 */
import type { Plan, PlanStep } from "./model";

/**
 * Mermaid's flowchart lexer takes the first rule that matches, and these keywords come before the
 * rule for a node name, so an id that merely STARTS with one (`styles`, `classic`, `endpoint`) is
 * read as the keyword and breaks the chart; only `default` and `v` are also accepted inside an id
 * (mermaid-js/mermaid packages/mermaid/src/diagrams/flowchart/parser/flow.jison, lexical rules
 * and `idStringToken`). `end` is matched as `"end"\b`, but an id is never just `end` here anyway.
 */
const KEYWORD_PREFIXES = [
  "style",
  "linkStyle",
  "interpolate",
  "classDef",
  "class",
  "href",
  "click",
  "call",
  "flowchart",
  "graph",
  "subgraph",
  "end",
  "direction",
  "_self",
  "_blank",
  "_parent",
  "_top",
];

/**
 * Mermaid node id of a name: letters, digits and underscores, starting with a letter; the name's
 * words stay as they are (`power-off-openstack0` -> `power_off_openstack0`). Edges are written
 * `a --> b` with spaces, so an id starting with `o` or `x` is not read as a circle/cross edge end
 * (flow.jison's LINK rule `\s*[xo<]?\-\-+[-xo>]\s*` takes the space, not the letter).
 */
export function mermaidId(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!/^[A-Za-z]/.test(id) || KEYWORD_PREFIXES.some((k) => id.startsWith(k))) id = `n_${id}`;
  return id;
}

/** Ids for every stage and step, unique even when two names map to the same id (`a-b`, `a_b`). */
function allocateIds(plan: Plan): { stage: Map<string, string>; step: Map<string, string> } {
  const used = new Set<string>();
  const take = (base: string) => {
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    return id;
  };
  // Steps first: their ids are the ones an operator reads in edges and class lines.
  const step = new Map(plan.steps.map((s) => [s.name, take(mermaidId(s.name))]));
  // `stage-1-foundation` -> `stage_1_foundation`, `shutdown` -> `stage_shutdown`
  const stage = new Map(
    plan.stages.map((s) => [s.name, take(mermaidId(s.name.startsWith("stage") ? s.name : `stage_${s.name}`))]),
  );
  return { stage, step };
}

/** Labels go inside double quotes; Mermaid has no escape for `"`, so use its entity form. */
function label(text: string): string {
  return `"${text.replace(/"/g, "#quot;")}"`;
}

/** The node's text: kind and name, then its marks on a second line (`<br/>` is Mermaid's line break). */
function nodeText(step: PlanStep): string {
  const marks: string[] = [];
  if (step.destructive) marks.push("DESTRUCTIVE");
  if (step.guard) marks.push("guarded");
  if (step.revalidate) marks.push(`[REVALIDATE: ${step.revalidate}]`);
  return `${step.verb}: ${step.name}${marks.length ? `<br/>${marks.join(" ")}` : ""}`;
}

export function renderMermaid(plan: Plan): string {
  const ids = allocateIds(plan);
  const idOf = (name: string) => ids.step.get(name) ?? mermaidId(name);
  const lines = ["flowchart TD"];
  for (const stage of plan.stages) {
    lines.push(`  subgraph ${ids.stage.get(stage.name)}[${label(stage.title)}]`);
    for (const name of stage.steps) {
      const step = plan.steps.find((s) => s.name === name)!;
      const shape = step.verb === "gate" ? ["{{", "}}"] : ["[", "]"];
      lines.push(`    ${idOf(step.name)}${shape[0]}${label(nodeText(step))}${shape[1]}`);
    }
    lines.push("  end");
  }
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) lines.push(`  ${idOf(dep)} --> ${idOf(step.name)}`);
  }
  lines.push("  classDef destructive fill:#fdd,stroke:#c00,stroke-width:3px");
  lines.push("  classDef guarded stroke:#c80,stroke-width:2px");
  lines.push("  classDef revalidate stroke-dasharray:4");
  const ofClass = (keep: (s: PlanStep) => boolean) => plan.steps.filter(keep).map((s) => idOf(s.name));
  // A node may carry several classes: flowDb.setClass appends each one to the vertex's classes
  // (mermaid-js/mermaid packages/mermaid/src/diagrams/flowchart/flowDb.ts, setClass).
  const classes: [string, string[]][] = [
    ["destructive", ofClass((s) => s.destructive)],
    ["guarded", ofClass((s) => Boolean(s.guard) && !s.destructive)],
    ["revalidate", ofClass((s) => Boolean(s.revalidate))],
  ];
  for (const [name, members] of classes) if (members.length) lines.push(`  class ${members.join(",")} ${name}`);
  return lines.join("\n") + "\n";
}
