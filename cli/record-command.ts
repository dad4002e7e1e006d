/**
 * `coldstart record --window <id> [--stack <name>] [--record-dir <dir>] [--format markdown|json]`
 *
 * Always names the file it read (first line on stderr, and in the Markdown / JSON); a line of the
 * file that is not an entry (a jumphost that lost power mid-write) is skipped with a one-line
 * notice naming the file and the line number, never a crash. Without --stack, the stack the record
 * names is used for the plan (the steps that did not run, the [REVALIDATE] markers).
 */
import { z } from "zod";
import { windowId } from "../config/schema";
import { parseFlags } from "./args";
import { readRecord, recordFile } from "../runtime/record";
import { renderRecord, skippedNotice } from "../record/render";
import { summarizeRecord } from "../record/summary";
import { makePlan } from "../plan/plan";
import { DEFAULT_STACK } from "./plan-command";
import { findProjectDir, listStacks, readStackConfig } from "../config/stack-files";
import { EXIT } from "../runtime/exit-codes";

const recordFlags = z
  .object({
    window: windowId,
    stack: z.string().optional(),
    "record-dir": z.string().optional(),
    format: z.enum(["markdown", "json"]).default("markdown"),
  })
  .strict();

export async function recordCommand(
  argv: string[],
  out: (text: string) => void,
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  const flags = parseFlags("record", argv, recordFlags);
  const projectDir = findProjectDir();
  const flagStack = flags.stack ?? DEFAULT_STACK;
  const dir =
    flags["record-dir"] ??
    readStackConfig(projectDir, flagStack).values["coldstart:recordDir"] ??
    "~/coldstart-records";
  const file = recordFile(dir, flags.window);
  const entries = readRecord(file);
  err(`record: ${file} (${entries.length} entr${entries.length === 1 ? "y" : "ies"})\n`);
  for (const line of skippedNotice(file, entries.skipped)) err(line + "\n");
  // the plan of the stack the record was written for, unless one was asked for
  const recorded = [...new Set(entries.map((e) => e.stack).filter(Boolean))];
  const stack =
    flags.stack ?? (recorded.length === 1 && listStacks(projectDir).includes(recorded[0]!) ? recorded[0]! : flagStack);
  // ... in the mode the window ran in (an unplanned recovery has no shutdown steps)
  const modes = [...new Set(entries.map((e) => e.mode))].filter((m) => m === "planned" || m === "unplanned");
  const plan = await makePlan({ stack, window: flags.window, mode: modes.length === 1 ? modes[0] : undefined });
  if (flags.format === "json") {
    out(
      JSON.stringify(
        summarizeRecord({ window: flags.window, entries, file, skipped: entries.skipped, plan }),
        null,
        2,
      ) + "\n",
    );
    return EXIT.ok;
  }
  out(renderRecord(flags.window, entries, { plan, file, skipped: entries.skipped }));
  return EXIT.ok;
}
