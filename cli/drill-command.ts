/** `coldstart drill --stack <name> --scenario <name|file> [--mode …] [--window <id>] [--dir <dir>] [--resume] [--json]` */
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { parseFlags } from "./args";
import { runDrill } from "../drill/drill";
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
  })
  .strict();

export async function drillCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("drill", argv, drillFlags, ["resume", "json"]);
  const dir = flags.dir ?? path.join(os.tmpdir(), `coldstart-drill-${flags.scenario.replace(/[^A-Za-z0-9_-]/g, "_")}`);
  // A failed step rejects its dependents' registrations; nothing awaits those, by design.
  process.on("unhandledRejection", () => undefined);
  // Steps run in their own process groups (shielded from the terminal's Ctrl-C): stop them too.
  const stop = () => {
    stopRunningSteps();
    process.exit(EXIT.cancelled);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const report = await runDrill({
    stack: flags.stack,
    scenario: flags.scenario,
    mode: flags.mode,
    window: flags.window,
    dir,
    resume: flags.resume === "true",
    timeScale: flags["time-scale"],
    progress: flags.json ? undefined : (line) => process.stderr.write(line + "\n"),
  });
  if (flags.json) out(JSON.stringify(report, null, 2) + "\n");
  else
    out(`report: ${path.join(report.dir, "report.json")}\nrecord: ${report.recordFile}\ncalls:  ${report.callLog}\n`);
  return report.exitCode;
}
