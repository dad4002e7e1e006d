/**
 * `coldstart runbook --stack <s> [--mode planned|unplanned] [--from <step>] [--format text|md]`
 * (issue #24): the stack's manual runbook, generated from the step definitions' procedures
 * (stages/manual.ts), in runbook order. What an operator takes over with when coldstart cannot go
 * on; every stop prints the rest of it (runbook/handback.ts).
 */
import * as z from "zod";
import { parseFlags } from "./args";
import { DEFAULT_STACK } from "./plan-command";
import { version } from "./version";
import { makePlan } from "../plan/plan";
import { renderRunbook } from "../runbook/render-runbook";
import { UsageError } from "../config/errors";
import { editDistance } from "../config/load";
import { windowId } from "../config/schema";

const runbookFlags = z
  .object({
    stack: z.string().default(DEFAULT_STACK).describe("the stack whose runbook to print (stacks/Pulumi.<stack>.yaml)"),
    mode: z
      .enum(["planned", "unplanned"])
      .optional()
      .describe(
        "planned (pre-shutdown, shutdown, recovery) or unplanned (recovery from power-on); default: the stack's",
      ),
    from: z.string().min(1, "expected a step name of the plan").optional().meta({
      description: "start at this step (a step name of the plan); says first what must already hold",
      placeholder: "step",
    }),
    window: windowId.optional().describe("the window id to print in the header; default: next-window"),
    format: z.enum(["text", "md"]).default("text").describe("text (default) or md (Markdown)"),
  })
  .strict();

export async function runbookCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("runbook", argv, runbookFlags);
  const plan = await makePlan({ stack: flags.stack, mode: flags.mode, window: flags.window });
  if (flags.from !== undefined && !plan.steps.some((s) => s.name === flags.from)) {
    const names = plan.steps.map((s) => s.name);
    const near = names.find((n) => editDistance(n, flags.from!) <= 3);
    throw new UsageError(
      `runbook: --from: no step "${flags.from}" in the ${plan.stack} ${plan.mode} plan${near ? ` (did you mean ${near}?)` : ""}; see \`coldstart plan --stack ${plan.stack} --mode ${plan.mode}\` for its steps`,
    );
  }
  out(renderRunbook(plan, { format: flags.format, from: flags.from, version: version() }));
  return 0;
}
