/** `coldstart plan --stack <name> [--mode planned|unplanned] [--window <id>] [--format text|mermaid|json]` */
import { z } from "zod";
import { parseFlags } from "./args";
import { makePlan } from "../plan/plan";
import { renderText } from "../plan/render-text";
import { renderMermaid } from "../plan/render-mermaid";
import { windowId } from "../config/schema";

export const DEFAULT_STACK = "roosevelt";

const planFlags = z
  .object({
    stack: z.string().default(DEFAULT_STACK),
    mode: z.enum(["planned", "unplanned"]).optional(),
    window: windowId.optional(), // an empty --window is an error, never a silent default
    format: z.enum(["text", "mermaid", "json"]).default("text"),
  })
  .strict();

export async function planCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("plan", argv, planFlags);
  const plan = await makePlan({ stack: flags.stack, mode: flags.mode, window: flags.window });
  if (flags.format === "json") out(JSON.stringify(plan, null, 2) + "\n");
  else if (flags.format === "mermaid") out(renderMermaid(plan));
  else out(renderText(plan));
  return 0;
}
