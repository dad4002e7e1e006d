/**
 * One step's manual procedure as text or Markdown (issue #24): the block `coldstart runbook`
 * prints per step and every stop's hand-back repeats for each step left. Pure: data in, lines out.
 */
import type { ManualProcedure } from "../stages/manual";

export type RunbookFormat = "text" | "md";

/** What the renderer needs of a step besides its procedure (a plan step has all of it). */
export interface ProcedureStep {
  name: string;
  summary: string;
  guard?: string;
  destructive?: boolean;
  revalidate?: string;
  manual: ManualProcedure;
}

/** The step's procedure: its heading, the guard before any command, each block, its placeholders. */
export function renderProcedure(step: ProcedureStep, format: RunbookFormat): string[] {
  const md = format === "md";
  const out: string[] = [md ? `### ${step.name}: ${step.summary}` : `[${step.name}] ${step.summary}`];
  const note = (text: string) => out.push(md ? `> ${text}` : `  ${text}`);
  note(`runbook: ${step.manual.section}`);
  // a destructive step's guard comes BEFORE its command, as the seed writes it ("act only on a confirmed outage")
  if (step.destructive) note(`DESTRUCTIVE: run only when ${step.guard ?? "its guard holds"}`);
  else if (step.guard) note(`only when: ${step.guard}`);
  for (const p of step.manual.placeholders ?? []) {
    note(`${p.name} = ${p.means}; find it with: ${p.findWith}`);
  }
  for (const b of step.manual.blocks) {
    const head = b.label === "GATE" ? `GATE: ${b.says}` : `${b.label} -- ${b.where} -- ${b.says}`;
    const repeat = b.repeat ? ` (repeat ${b.repeat})` : "";
    if (md) {
      out.push("", `**${head}**${repeat}`, "", "```bash", ...b.commands, "```");
    } else {
      out.push(`  ${head}${repeat}`, ...b.commands.map((c) => `      ${c}`));
    }
  }
  if (step.revalidate) note(`[REVALIDATE: ${step.revalidate}]`);
  return out;
}
