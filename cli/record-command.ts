/**
 * `coldstart record --window <id> [--stack <name>] [--record-dir <dir>] [--json | --format markdown|json]`
 *
 * Always names the file it read (first line on stderr, and in the Markdown / JSON); a line of the
 * file that is not an entry (a jumphost that lost power mid-write) is skipped with a one-line
 * notice naming the file and the line number, never a crash. Without --stack, the stack the record
 * names is used for the plan (the steps that did not run, the [REVALIDATE] markers).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import { stepOutputDir } from "../record/step-output";
import { windowId } from "../config/schema";
import { parseFlags } from "./args";
import { readRecord, recordFile } from "../runtime/record";
import { renderRecord, skippedNotice } from "../record/render";
import { summarizeRecord } from "../record/summary";
import { makePlan } from "../plan/plan";
import { handbackOf, resumeAdvice } from "../runbook/handback";
import { DEFAULT_STACK } from "./plan-command";
import { findProjectDir, listStacks, readStackConfig } from "../config/stack-files";
import { EXIT } from "../runtime/exit-codes";
import { UsageError } from "../config/errors";

export const recordFlags = z
  .object({
    window: windowId.meta({
      description: "the window whose record is read (<record dir>/<window>.jsonl)",
      placeholder: "id",
    }),
    stack: z
      .string()
      .optional()
      .meta({
        description: `the stack whose coldstart:recordDir holds the record and whose plan it is read against (default: ${DEFAULT_STACK} for the directory, the stack the record names for the plan)`,
        placeholder: "name",
      }),
    "record-dir": z.string().optional().meta({
      description: "read the record from this directory instead of the stack's coldstart:recordDir",
      placeholder: "dir",
    }),
    format: z
      .enum(["markdown", "json"])
      .default("markdown")
      .describe("markdown for people; json is the same as --json"),
    json: z.literal("true").optional().describe("one JSON document (the record's summary, schemaVersion 1) on stdout"),
  })
  .strict();

export async function recordCommand(
  argv: string[],
  out: (text: string) => void,
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  const flags = parseFlags("record", argv, recordFlags, ["json"]);
  if (flags.json && flags.format === "markdown" && argv.some((w) => w.startsWith("--format")))
    throw new UsageError("record: --json and --format markdown ask for two formats; give one of them");
  const projectDir = findProjectDir();
  const flagStack = flags.stack ?? DEFAULT_STACK;
  const dir =
    flags["record-dir"] ??
    readStackConfig(projectDir, flagStack).values["coldstart:recordDir"] ??
    "~/coldstart-records";
  const file = recordFile(dir, flags.window);
  // a drill keeps each run's steps' output beside its records: <dir>/output/<run id> (record/step-output.ts)
  const outputOf = (runId: string): string | undefined => {
    if (!/^[A-Za-z0-9-]+$/.test(runId)) return undefined; // a run id names a folder only as a uuid does
    const folder = stepOutputDir(path.dirname(path.dirname(file)), runId);
    return path.basename(path.dirname(file)) === "records" &&
      fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()
      ? folder
      : undefined;
  };
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
  // a window not finished hands the rest back: the steps left as manual commands (issue #24)
  const left = entries.length ? handbackOf(plan, entries) : undefined;
  const runKind = entries.at(-1)?.runKind;
  const handback = left && {
    handback: left,
    resume: {
      stack,
      window: flags.window,
      runKind,
      drillDir: path.basename(path.dirname(file)) === "records" ? path.dirname(path.dirname(file)) : undefined,
      recordDir: dir,
      finished: plan.steps.length - left.steps.length,
    },
  };
  if (flags.json || flags.format === "json") {
    // README "Machine-readable output": additive changes keep schemaVersion, removals/renames bump it.
    const summary = summarizeRecord({ window: flags.window, entries, file, skipped: entries.skipped, plan, outputOf });
    const more = handback ? { handback: left, resume: resumeAdvice(handback.handback, handback.resume) } : {};
    out(JSON.stringify({ schemaVersion: 1, ...summary, ...more }, null, 2) + "\n");
    return EXIT.ok;
  }
  out(renderRecord(flags.window, entries, { plan, file, skipped: entries.skipped, outputOf, handback }));
  return EXIT.ok;
}
