/**
 * `coldstart drill --stack <name> --scenario <name|file> [--mode …] [--window <id>] [--dir <dir>]
 * [--resume] [--set key=value]… [--json]`. Ctrl-C behaves like `pulumi up`'s: the first cancels
 * the engine (running steps' shells are killed; coldstart under them finishes an action, a gate
 * stops between polls; nothing new starts), the second stops everything at once.
 */
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { parseFlags } from "./args";
import { runDrill, type DrillOptions } from "../drill/drill";
import { UsageError } from "../config/errors";
import { DEFAULT_STACK } from "./plan-command";
import { EXIT } from "./exit-codes";
import { stopRunningSteps } from "../drill/executor";

const drillFlags = z
  .object({
    stack: z.string().default(DEFAULT_STACK),
    scenario: z.string().min(1, "expected a scenario name (sim/scenarios/<name>.json) or a file"),
    mode: z.enum(["planned", "unplanned"]).optional(),
    window: z.string().optional(),
    dir: z.string().optional(),
    resume: z.literal("true").optional(),
    "time-scale": z.coerce.number().positive().max(1).optional(),
    json: z.literal("true").optional(),
    set: z.array(z.string()).default([]),
    "cancel-at": z.string().min(1).optional(),
    "kill-at": z.string().min(1).optional(),
  })
  .strict();

export async function drillCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("drill", argv, drillFlags, ["resume", "json"]);
  const dir = flags.dir ?? path.join(os.tmpdir(), `coldstart-drill-${flags.scenario.replace(/[^A-Za-z0-9_-]/g, "_")}`);
  // A failed step rejects its dependents' registrations; nothing awaits those, by design.
  process.on("unhandledRejection", () => undefined);
  // Steps run in their own process groups (shielded from the terminal's Ctrl-C, as the
  // provider's are): the first signal is the engine's cancel, the second stops them at once.
  const cancel = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) {
      process.stderr.write(
        "cancel: running steps end at their next safe point, no new step starts (again to stop at once)\n",
      );
      cancel.abort();
      return;
    }
    stopRunningSteps();
    process.exit(EXIT.cancelled);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const report = await runDrill({
    stack: flags.stack,
    scenario: flags.scenario,
    mode: flags.mode,
    window: flags.window,
    dir,
    resume: flags.resume === "true",
    timeScale: flags["time-scale"],
    set: flags.set,
    interrupt: interruptOf(flags["cancel-at"], flags["kill-at"]),
    cancel: cancel.signal,
    progress: flags.json ? undefined : (line) => process.stderr.write(line + "\n"),
  });
  if (flags.json) out(JSON.stringify(report, null, 2) + "\n");
  else
    out(`report: ${path.join(report.dir, "report.json")}\nrecord: ${report.recordFile}\ncalls:  ${report.callLog}\n`);
  return report.exitCode;
}

/** At most one of --cancel-at / --kill-at: the engine's cancel, or a kill -9, mid-way through that step. */
function interruptOf(cancelAt?: string, killAt?: string): DrillOptions["interrupt"] {
  if (cancelAt && killAt) throw new UsageError("drill: --cancel-at and --kill-at: give one of them, not both");
  if (cancelAt) return { step: cancelAt, how: "cancel" };
  if (killAt) return { step: killAt, how: "kill" };
  return undefined;
}
