/**
 * `coldstart maintenance --stack <name> --window <id> [--yes] [--engine pulumi|drill] ...`:
 * CI-invoked planned maintenance through the Automation API (or the drill engine). Preflight
 * first: against the stack's real cloud (--engine pulumi) or a simulated cloud of the drill's
 * scenario (--engine drill, in <dir>/preflight; the window's own sim is built later by up()).
 * A resumed window (--resume, or a record of this window already written) skips it: its cloud is
 * mid-window.
 *
 * --engine drill is a rehearsal (issue #21): its folder is a new private one per run (0700,
 * mkdtemp, printed on stderr) or a --dir that is ours alone, so `--resume` needs `--dir`; its
 * unseal keys are the scenario's, and the operator's keys and Pulumi credentials are dropped
 * from the environment (one stderr line names them), so no step, fake tool or sim file sees them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import { expectSkippedStepRejections } from "../plan/mock-engine";
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
import { UsageError } from "../config/errors";
import { makePrivateDir, usePrivateDir } from "../runtime/private-dir";
import { dropRealSecrets, ignoredLine } from "../runtime/real-secrets";
import { KEY_VAR_PREFIX } from "../runtime/unseal-keys";
import { loadScenario } from "../sim/scenario";
import { buildState } from "../sim/state";
import { exportedKeys } from "../sim/setup";
import { findProjectDir } from "../config/stack-files";
import { shellQuote } from "../stages/command-line";

export const maintenanceFlags = z
  .object({
    stack: z
      .string()
      .min(1, "expected a stack name (stacks/Pulumi.<name>.yaml)")
      .meta({ description: "the stack to run the window on (stacks/Pulumi.<name>.yaml)", placeholder: "name" }),
    window: windowId.meta({
      description: "the maintenance window id: every step's trigger and its record's name",
      placeholder: "id",
    }),
    yes: z
      .literal("true")
      .optional()
      .describe(
        "approve the preview without asking (CI, where its protected environment's approval stands before the job)",
      ),
    engine: z
      .enum(["pulumi", "drill"])
      .default("pulumi")
      .describe("pulumi: the stack's real cloud through the Automation API; drill: a simulated cloud of --scenario"),
    scenario: z.string().default("healthy-planned").meta({
      description: "with --engine drill: the simulated cloud (sim/scenarios/<name>.json or a file)",
      placeholder: "name|file",
    }),
    dir: z.string().optional().meta({
      description:
        "with --engine drill: its directory, yours alone (created 0700 if missing; default: a new private <tmp>/coldstart-maintenance-<window>-XXXXXX per run, printed). --resume needs it",
      placeholder: "dir",
    }),
    resume: z
      .literal("true")
      .optional()
      .describe(
        "with --engine drill and --dir: carry on the earlier run of this window in that directory (no preflight: its cloud is mid-window)",
      ),
    "report-dir": z
      .string()
      .default("maintenance-reports")
      .meta({ description: "where maintenance-<window>.json and .md are written", placeholder: "dir" }),
    "time-scale": z.coerce.number().positive().max(1).optional().meta({
      description:
        "with --engine drill: demo pacing only, at least this many real seconds per cloud second (at most 1; same timeline, slower)",
      placeholder: "x",
    }),
    json: z
      .literal("true")
      .optional()
      .describe("the report's summary as one JSON document (schemaVersion 1) on stdout at the end; progress on stderr"),
  })
  .strict();

/**
 * Counts SIGINT/SIGTERM: 1 = the stop request, 2 = the engine's cancel, 3 = its terminate, 4 = exit
 * at once (runtime/cancel.ts interruptFor). The pulumi CLI and every step's tool call run in process
 * groups of their own, so a terminal's Ctrl-C reaches this process only and it decides.
 */
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
  const flags = parseFlags("maintenance", argv, maintenanceFlags, ["yes", "resume", "json"]);
  expectSkippedStepRejections(); // the drill engine's skipped steps, and only those (plan/mock-engine.ts)
  const drill = flags.engine === "drill" ? rehearsal(flags) : undefined;
  const engine = drill
    ? new DrillEngine({
        stack: flags.stack,
        scenario: flags.scenario,
        dir: drill.dir,
        timeScale: flags["time-scale"],
        resume: flags.resume === "true",
        // the window's per-run unseal setting, as the pulumi engine's program reads it (config/load.ts)
        set: process.env.COLDSTART_VAULT_UNSEAL_BY ? [`vaultUnsealBy=${process.env.COLDSTART_VAULT_UNSEAL_BY}`] : [],
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
            if (!drill) return runPreflight(stackTarget(flags.stack, env), { onResult });
            const sim = await simTarget({
              stack: flags.stack,
              scenario: flags.scenario,
              dir: path.join(drill.dir, "preflight"),
              timeScale: flags["time-scale"],
              keysFrom: env, // the keys this window will get: the scenario's (rehearsal() below)
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
    env: drill?.env ?? process.env,
    preflight,
    signals: processSignals,
    hardStop: () => {
      stopRunningSteps(); // the drill engine's steps run in their own process groups
      process.stderr.write(`resume this window: ${maintenanceResume(flags, drill?.dir)}\n`);
      process.exit(EXIT.cancelled);
    },
    io: {
      // --json: stdout carries the one JSON document; the human lines go to stderr.
      out: (line) => (flags.json ? process.stderr : process.stdout).write(line + "\n"),
      err: (line) => process.stderr.write(line + "\n"),
      interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
      confirm,
      // a rehearsal asks no one for a key: at a terminal the operator would type a real one
      promptSecret: drill ? async () => "" : promptSecret,
    },
  });
  // a window left unfinished (cancelled, killed, stopped at a step): the command that carries it on
  if (result.result === "cancelled" || result.result === "failed")
    process.stderr.write(`resume this window: ${maintenanceResume(flags, drill?.dir)}\n`);
  if (flags.json) process.stdout.write(JSON.stringify(jsonReport(flags, engine.name, result), null, 2) + "\n");
  return result.exitCode;
}

/**
 * The exact command that resumes this window: the same stack and window (the real engine: the
 * steps that passed are unchanged, the record tells the rest); a rehearsal also its scenario and
 * directory, with --resume.
 */
export function maintenanceResume(flags: z.infer<typeof maintenanceFlags>, drillDir?: string): string {
  const args = ["maintenance", "--stack", flags.stack, "--window", flags.window];
  if (flags["report-dir"] !== "maintenance-reports") args.push("--report-dir", flags["report-dir"]);
  if (drillDir !== undefined)
    args.push("--engine", "drill", "--scenario", flags.scenario, "--dir", drillDir, "--resume");
  return [path.join(findProjectDir(), "bin", "coldstart"), ...args].map(shellQuote).join(" ");
}

/**
 * --engine drill: its folder (a new private one, or a --dir of ours alone) and the environment
 * the window gets: the operator's real keys and Pulumi credentials dropped (said in one line),
 * the scenario's own keys (what its operator exports) in their place.
 */
function rehearsal(flags: z.infer<typeof maintenanceFlags>): { dir: string; env: NodeJS.ProcessEnv } {
  const resume = flags.resume === "true";
  if (resume && flags.dir === undefined)
    throw new UsageError(
      "maintenance --engine drill --resume: give the earlier run's directory with --dir (every run without --dir gets a new private one, printed at its start)",
    );
  const ignored = ignoredLine("maintenance --engine drill", dropRealSecrets(process.env));
  if (ignored) process.stderr.write(`${ignored}\n`);
  const loaded = loadScenario(flags.scenario); // a bad scenario: one line, exit 2, before any folder is made
  const dir =
    flags.dir === undefined
      ? makePrivateDir(`coldstart-maintenance-${flags.window}-`)
      : usePrivateDir(flags.dir, resume ? "maintenance --resume --dir" : "maintenance --dir", resume);
  if (flags.dir === undefined) process.stderr.write(`maintenance drill directory: ${dir}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const keys = exportedKeys(loaded.scenario, buildState(loaded.scenario, { name: loaded.name, mode: "planned" }));
  keys.forEach((k, i) => (env[`${KEY_VAR_PREFIX}${i + 1}`] = k));
  return { dir, env };
}

/**
 * `maintenance --json`: what maintenance-<window>.json holds (summary, revalidate, record) with
 * schemaVersion 1 and the report files; a run that wrote no report (locked, declined, refused by
 * preflight) still answers one document with its summary. README "Machine-readable output".
 */
function jsonReport(
  flags: z.infer<typeof maintenanceFlags>,
  engine: string,
  result: Awaited<ReturnType<typeof runMaintenance>>,
): Record<string, unknown> {
  const file = result.reportFiles.find((f) => f.endsWith(".json"));
  const written = file ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
  const summary = written?.summary ?? {
    stack: flags.stack,
    window: flags.window,
    engine,
    result: result.result,
    exitCode: result.exitCode,
  };
  return { schemaVersion: 1, ...written, summary, reportFiles: result.reportFiles };
}
