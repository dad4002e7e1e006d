/**
 * `coldstart plan --stack <name> [--mode planned|unplanned] [--window <id>] [--format text|mermaid|json] [--json]`:
 * the restart plan, before any window. `--json` is `--format json` (the convention every command
 * shares); the document carries `schemaVersion` (plan/render-json.ts).
 */
import * as z from "zod";
import { parseFlags } from "./args";
import { makePlan } from "../plan/plan";
import { renderText } from "../plan/render-text";
import { renderMermaid } from "../plan/render-mermaid";
import { renderJson } from "../plan/render-json";
import { windowId } from "../config/schema";
import { UsageError } from "../config/errors";

export const DEFAULT_STACK = "roosevelt";

const planFlags = z
  .object({
    stack: z.string().default(DEFAULT_STACK).describe("the stack to plan (stacks/Pulumi.<stack>.yaml)"),
    mode: z
      .enum(["planned", "unplanned"])
      .optional()
      .describe(
        "planned (pre-shutdown, shutdown, recovery) or unplanned (recovery from power-on); default: the stack's",
      ),
    // an empty --window is an error, never a silent default
    window: windowId.optional().describe("the window id the steps carry; default: next-window"),
    format: z
      .enum(["text", "mermaid", "json"])
      .optional()
      .describe("text (default), mermaid (the dependency graph) or json (the plan as data)"),
    json: z.literal("true").optional().describe("the plan as JSON, the same as --format json"),
  })
  .strict();

export async function planCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("plan", argv, planFlags, ["json"]);
  if (flags.json && flags.format && flags.format !== "json") {
    throw new UsageError(`plan: --json and --format ${flags.format} ask for two formats; give one of them`);
  }
  const format = flags.json ? "json" : (flags.format ?? "text");
  const plan = await makePlan({ stack: flags.stack, mode: flags.mode, window: flags.window });
  if (format === "json") out(renderJson(plan));
  else if (format === "mermaid") out(renderMermaid(plan));
  else out(renderText(plan));
  return 0;
}
