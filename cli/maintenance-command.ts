/**
 * `coldstart maintenance --stack <name> --window <id> [--yes] [--engine pulumi|drill] ...`:
 * CI-invoked planned maintenance through the Automation API (or the drill engine).
 */
import * as path from "node:path";
import * as os from "node:os";
import { z } from "zod";
import { parseFlags } from "./args";
import { runMaintenance, type SignalSource } from "../automation/maintenance";
import { PulumiEngine } from "../automation/pulumi-engine";
import { DrillEngine } from "../automation/drill-engine";
import { confirm, promptSecret } from "./terminal";
import { EXIT } from "./exit-codes";
import { stopRunningSteps } from "../drill/executor";

const maintenanceFlags = z
  .object({
    stack: z.string().min(1, "expected a stack name (stacks/Pulumi.<name>.yaml)"),
    window: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a window id like 2026-12-05-roosevelt"),
    yes: z.literal("true").optional(),
    engine: z.enum(["pulumi", "drill"]).default("pulumi"),
    scenario: z.string().default("healthy-planned"),
    dir: z.string().optional(),
    resume: z.literal("true").optional(),
    "report-dir": z.string().default("maintenance-reports"),
    "min-keys": z.coerce.number().int().min(1).default(3),
    "time-scale": z.coerce.number().positive().max(1).optional(),
  })
  .strict();

/** Counts SIGINT/SIGTERM: 1 = graceful cancel, 2 = stop at once. */
const processSignals: SignalSource = (handler) => {
  let count = 0;
  const on = () => handler(++count);
  process.on("SIGINT", on);
  process.on("SIGTERM", on);
  return () => {
    process.off("SIGINT", on);
    process.off("SIGTERM", on);
  };
};

export async function maintenanceCommand(argv: string[]): Promise<number> {
  const flags = parseFlags("maintenance", argv, maintenanceFlags, ["yes", "resume"]);
  process.on("unhandledRejection", () => undefined); // the drill engine's skipped steps, by design
  const engine =
    flags.engine === "drill"
      ? new DrillEngine({
          stack: flags.stack,
          scenario: flags.scenario,
          dir: flags.dir ?? path.join(os.tmpdir(), `coldstart-maintenance-${flags.window}`),
          timeScale: flags["time-scale"],
          resume: flags.resume === "true",
        })
      : new PulumiEngine({ stack: flags.stack });
  const result = await runMaintenance({
    stack: flags.stack,
    window: flags.window,
    yes: flags.yes === "true",
    engine,
    reportDir: path.resolve(flags["report-dir"]),
    env: process.env,
    minKeys: flags["min-keys"],
    signals: processSignals,
    hardStop: () => {
      stopRunningSteps(); // the drill engine's steps run in their own process groups
      process.exit(EXIT.cancelled);
    },
    io: {
      out: (line) => process.stdout.write(line + "\n"),
      err: (line) => process.stderr.write(line + "\n"),
      interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
      confirm,
      promptSecret,
    },
  });
  return result.exitCode;
}
