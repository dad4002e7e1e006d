/**
 * `coldstart maintenance --stack <name> --window <id> [--yes] [--engine pulumi|drill] ...`:
 * CI-invoked planned maintenance through the Automation API (or the drill engine). Preflight
 * first: against the stack's real cloud (--engine pulumi) or a simulated cloud of the drill's
 * scenario (--engine drill, in <dir>/preflight; the window's own sim is built later by up()).
 * A resumed window (--resume, or a record of this window already written) skips it: its cloud is
 * mid-window.
 */
import * as path from "node:path";
import * as os from "node:os";
import { z } from "zod";
import { windowId } from "../config/schema";
import { parseFlags } from "./args";
import { runMaintenance, type SignalSource } from "../automation/maintenance";
import { PulumiEngine } from "../automation/pulumi-engine";
import { DrillEngine } from "../automation/drill-engine";
import { confirm, promptSecret } from "./terminal";
import { EXIT } from "../runtime/exit-codes";
import { stopRunningSteps } from "../drill/executor";
import { readRecord, recordFile } from "../runtime/record";
import { resultLines } from "../preflight/checks";
import { runPreflight } from "../preflight/run";
import { simTarget, stackTarget } from "../preflight/targets";
import type { MaintenanceOptions } from "../automation/maintenance";

const maintenanceFlags = z
  .object({
    stack: z.string().min(1, "expected a stack name (stacks/Pulumi.<name>.yaml)"),
    window: windowId,
    yes: z.literal("true").optional(),
    engine: z.enum(["pulumi", "drill"]).default("pulumi"),
    scenario: z.string().default("healthy-planned"),
    dir: z.string().optional(),
    resume: z.literal("true").optional(),
    "report-dir": z.string().default("maintenance-reports"),
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
  const dir = flags.dir ?? path.join(os.tmpdir(), `coldstart-maintenance-${flags.window}`);
  const engine =
    flags.engine === "drill"
      ? new DrillEngine({
          stack: flags.stack,
          scenario: flags.scenario,
          dir,
          timeScale: flags["time-scale"],
          resume: flags.resume === "true",
        })
      : new PulumiEngine({ stack: flags.stack });
  const earlier = readRecord(recordFile(engine.recordDir(), flags.window, process.env));
  const preflight: MaintenanceOptions["preflight"] =
    flags.resume === "true"
      ? { skip: `resuming window ${flags.window}: its cloud is mid-window` }
      : flags.engine === "pulumi" && earlier.length > 0
        ? { skip: `window ${flags.window} already started (${earlier.length} record entries): its cloud is mid-window` }
        : async (env, onLine) => {
            const onResult = (r: Parameters<typeof resultLines>[0]) => resultLines(r).forEach(onLine);
            if (flags.engine === "pulumi") return runPreflight(stackTarget(flags.stack, env), { onResult });
            const sim = await simTarget({
              stack: flags.stack,
              scenario: flags.scenario,
              dir: path.join(path.resolve(dir), "preflight"),
              timeScale: flags["time-scale"],
              keysFrom: env, // the keys this window will get, not the scenario's
            });
            try {
              return await runPreflight(sim.target, { onResult });
            } finally {
              await sim.close();
            }
          };
  const result = await runMaintenance({
    stack: flags.stack,
    window: flags.window,
    yes: flags.yes === "true",
    engine,
    reportDir: path.resolve(flags["report-dir"]),
    env: process.env,
    preflight,
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
