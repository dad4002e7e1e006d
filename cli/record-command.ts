/** `coldstart record --window <id> [--stack <name> | --record-dir <dir>] [--format markdown|json]` */
import { z } from "zod";
import { parseFlags } from "./args";
import { readRecord, recordFile } from "../runtime/record";
import { renderRecord } from "../record/render";
import { makePlan } from "../plan/plan";
import { DEFAULT_STACK } from "./plan-command";
import { findProjectDir, readStackConfig } from "../config/stack-files";

const recordFlags = z
  .object({
    window: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a window id"),
    stack: z.string().default(DEFAULT_STACK),
    "record-dir": z.string().optional(),
    format: z.enum(["markdown", "json"]).default("markdown"),
  })
  .strict();

export async function recordCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("record", argv, recordFlags);
  const stackValues = readStackConfig(findProjectDir(), flags.stack).values;
  const dir = flags["record-dir"] ?? stackValues["coldstart:recordDir"] ?? "~/coldstart-records";
  const entries = readRecord(recordFile(dir, flags.window));
  if (flags.format === "json") {
    out(JSON.stringify(entries, null, 2) + "\n");
    return 0;
  }
  const plan = await makePlan({ stack: flags.stack, window: flags.window });
  const revalidate = plan.steps.filter((s) => s.revalidate).map((s) => ({ step: s.name, note: s.revalidate! }));
  out(renderRecord(flags.window, entries, revalidate));
  return 0;
}
