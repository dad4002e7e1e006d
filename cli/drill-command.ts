/**
 * `coldstart drill --stack <name> --scenario <name|file> [--mode …] [--window <id>] [--dir <dir>]
 * [--resume] [--set key=value]… [--json]`. Ctrl-C behaves like `pulumi up`'s: the first cancels
 * the engine (running steps' shells are killed; coldstart under them finishes an action, a gate
 * stops between polls; nothing new starts) and the run ends with its record line and report.json;
 * the second stops everything at once, after writing report.json (what is known) and a record
 * line saying so. Exit 130 either way.
 *
 * Every run without `--dir` gets its own private directory (0700, mkdtemp:
 * `<$TMPDIR or $XDG_RUNTIME_DIR>/coldstart-drill-<scenario>-<UTC stamp>-XXXXXX`, printed first);
 * `--resume` without `--dir` takes the newest of that scenario among those that are ours alone
 * (owned by us, writable by no one else: runtime/private-dir.ts), so a folder someone else
 * planted is never used. A `--dir` is used only when it is ours alone too (created 0700 if
 * missing). The operator's unseal keys and Pulumi credentials are dropped from the environment
 * (runtime/real-secrets.ts): a drill unseals with its scenario's keys. A second drill of the same
 * directory and window is refused with exit 5 (runtime/run-lock.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import { expectSkippedStepRejections } from "../plan/mock-engine";
import { windowId } from "../config/schema";
import { parseFlags } from "./args";
import { readSavedDrill, runDrill, type DrillControl, type DrillOptions } from "../drill/drill";
import { checkInterrupt } from "../drill/interrupt-plan";
import { makePlan } from "../plan/plan";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { applySets } from "../config/overrides";
import { shellQuote } from "../stages/command-line";
import { WindowLockedError } from "../runtime/run-lock";
import { loadScenario } from "../sim/scenario";
import { UsageError } from "../config/errors";
import { DEFAULT_STACK } from "./plan-command";
import { EXIT } from "../runtime/exit-codes";
import { stopRunningSteps } from "../drill/executor";
import { makePrivateDir, privateBase, privateDirProblem, usePrivateDir } from "../runtime/private-dir";
import { dropRealSecrets, ignoredLine } from "../runtime/real-secrets";

export const drillFlags = z
  .object({
    stack: z.string().default(DEFAULT_STACK).meta({
      description: "the stack whose committed config is rehearsed (stacks/Pulumi.<name>.yaml)",
      placeholder: "name",
    }),
    scenario: z.string().min(1, "expected a scenario name (sim/scenarios/<name>.json) or a file").meta({
      description: "the simulated cloud: a scenario name (sim/scenarios/<name>.json) or a file",
      placeholder: "name|file",
    }),
    mode: z
      .enum(["planned", "unplanned"])
      .optional()
      .describe("planned shutdown and restart, or recovery after an outage (default: the scenario's)"),
    window: windowId.optional().meta({
      description: "the window id its record is written under (default: drill-<scenario>)",
      placeholder: "id",
    }),
    dir: z.string().optional().meta({
      description:
        "the run's directory, yours alone (owned by you, writable by no one else; created 0700 if missing). Default: a new private <tmp>/coldstart-drill-<scenario>-<stamp>-XXXXXX",
      placeholder: "dir",
    }),
    resume: z
      .literal("true")
      .optional()
      .describe(
        "carry on the drill in --dir (or the newest of this scenario among your own private ones) after a cancel, a kill or a fix",
      ),
    "time-scale": z.coerce.number().positive().max(1).optional().meta({
      description:
        "demo pacing only: at least this many real seconds per cloud second (at most 1). The drill runs on the cloud's own clock, which moves only while every step waits: same timeline with or without it, only slower to watch",
      placeholder: "x",
    }),
    json: z
      .literal("true")
      .optional()
      .describe("one JSON document (the drill report, schemaVersion 1) on stdout, no progress lines"),
    set: z.array(z.string()).default([]).meta({
      description:
        "change one stack config value for this run (stack-file key, dotted into maps, e.g. gates.commandTimeout=3m)",
      placeholder: "key=value",
    }),
    "cancel-at": z
      .string()
      .min(1)
      .optional()
      .meta({ description: "rehearse the operator's Ctrl-C at this step's first cloud call", placeholder: "step" }),
    "kill-at": z.string().min(1).optional().meta({
      description: "rehearse a kill -9 of the whole run at this step's first cloud call",
      placeholder: "step",
    }),
    /** With --cancel-at/--kill-at: at the step's first call that starts with this ("juju run"), not its first call. */
    "at-call": z.string().min(1).optional().meta({
      description: 'with --cancel-at/--kill-at: at the step\'s first call that starts with this (e.g. "juju run")',
      placeholder: "prefix",
    }),
  })
  .strict();

export async function drillCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = parseFlags("drill", argv, drillFlags, ["resume", "json"]);
  const resume = flags.resume === "true";
  // before anything runs: nothing of this process or its children sees them from here on
  const ignored = ignoredLine("drill", dropRealSecrets(process.env));
  // A bad scenario is one line and exit 2 before any directory is made for it.
  const fresh = resume ? undefined : loadScenario(flags.scenario).scenario;
  const wantsInterrupt = ["cancel-at", "kill-at", "at-call"].some((f) => flags[f as keyof typeof flags] !== undefined);
  // --cancel-at/--kill-at/--at-call against the plan before anything is made or run (issue #23);
  // a resume's mode is the earlier run's, read from its folder (found, never created, by --resume)
  let interrupt: DrillOptions["interrupt"];
  if (fresh && wantsInterrupt) interrupt = await planInterrupt(flags, flags.mode ?? fresh.mode);
  const dir = flags.dir
    ? usePrivateDir(flags.dir, resume ? "drill --resume --dir" : "drill --dir", resume)
    : resume
      ? newestRunDir(flags.scenario)
      : newRunDir(flags.scenario);
  if (resume && wantsInterrupt) interrupt = await planInterrupt(flags, flags.mode ?? readSavedDrill(dir).sim.mode);
  process.stderr.write(`drill directory: ${dir}${resume ? " (resumed)" : ""}\n`);
  if (ignored) process.stderr.write(`${ignored}\n`);
  // A failed step rejects its dependents' registrations; nothing awaits those, by design.
  expectSkippedStepRejections(); // failed steps' registrations, and only those (plan/mock-engine.ts)
  // Steps run in their own process groups (shielded from the terminal's Ctrl-C, as the
  // provider's are): the first signal is the engine's cancel, the second stops them at once.
  const cancel = new AbortController();
  let control: DrillControl | undefined;
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
    try {
      control?.stopNow("stopped at once by a second signal");
    } finally {
      process.stderr.write(`stopped at once; report: ${path.join(dir, "report.json")}\n`);
      process.stderr.write(`resume this window: ${resumeCommand(flags, dir)}\n`);
      process.exit(EXIT.cancelled);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let report;
  try {
    report = await runDrill({
      stack: flags.stack,
      scenario: flags.scenario,
      mode: flags.mode,
      window: flags.window,
      dir,
      resume,
      timeScale: flags["time-scale"],
      set: flags.set,
      interrupt,
      cancel: cancel.signal,
      control: (c) => (control = c),
      progress: flags.json ? undefined : (line) => process.stderr.write(line + "\n"),
    });
  } catch (err) {
    if (!(err instanceof WindowLockedError)) throw err;
    process.stderr.write(`coldstart: drill: ${err.message}\n`);
    return EXIT.locked;
  }
  // a stop that left the window unfinished (cancel, kill, a failed step): how to carry it on
  if (report.cancelled || report.failed)
    process.stderr.write(`resume this window: ${resumeCommand(flags, report.dir)}\n`);
  // README "Machine-readable output": additive changes keep schemaVersion, removals/renames bump it.
  if (flags.json) out(JSON.stringify({ schemaVersion: 1, ...report }, null, 2) + "\n");
  else
    out(`report: ${path.join(report.dir, "report.json")}\nrecord: ${report.recordFile}\ncalls:  ${report.callLog}\n`);
  return report.exitCode;
}

/**
 * At most one of --cancel-at / --kill-at (the engine's cancel, or a kill -9, mid-way through that
 * step), checked against this stack's plan in this mode, with this run's --set values
 * (drill/interrupt-plan.ts): exit 2 naming the flag, nothing run.
 */
async function planInterrupt(
  flags: z.infer<typeof drillFlags>,
  mode: "planned" | "unplanned",
): Promise<DrillOptions["interrupt"]> {
  const committed = readStackConfig(findProjectDir(), flags.stack);
  const plan = await makePlan({ stack: flags.stack, mode, overrides: applySets(committed.values, flags.set) });
  return checkInterrupt(
    { cancelAt: flags["cancel-at"], killAt: flags["kill-at"], atCall: flags["at-call"] },
    { stack: plan.stack, mode: plan.mode, steps: plan.steps },
  );
}

/**
 * The exact command that carries this window on: this checkout's coldstart, the same stack,
 * scenario and --set values (other values would change the steps' inputs), the run's directory.
 */
export function resumeCommand(flags: { stack: string; scenario: string; set: string[] }, dir: string): string {
  const bin = path.join(findProjectDir(), "bin", "coldstart");
  const args = ["drill", "--stack", flags.stack, "--scenario", flags.scenario, "--dir", dir, "--resume"];
  for (const set of flags.set) args.push("--set", set);
  return [bin, ...args].map(shellQuote).join(" ");
}

/** The scenario as a file-name part: a scenario file's base name, anything odd as `_`. */
function scenarioPart(scenario: string): string {
  return path.basename(scenario, ".json").replace(/[^A-Za-z0-9_-]/g, "_");
}

const RUN_DIR_PREFIX = "coldstart-drill-";

/** A fresh run's own private directory: `<base>/coldstart-drill-<scenario>-<UTC stamp>-XXXXXX`, 0700. */
function newRunDir(scenario: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return makePrivateDir(`${RUN_DIR_PREFIX}${scenarioPart(scenario)}-${stamp}-`);
}

/**
 * `--resume` without `--dir`: the newest run directory of this scenario that holds a drill, among
 * those that are ours alone. Anyone can make a folder of that name in a shared /tmp: one that is
 * not ours, or that others may write, is skipped (and named when nothing is left).
 */
function newestRunDir(scenario: string): string {
  const base = privateBase();
  const prefix = `${RUN_DIR_PREFIX}${scenarioPart(scenario)}-`;
  const stamped = new RegExp(`^${prefix}(\\d{8}T\\d{6}Z)-([A-Za-z0-9]+)$`);
  const skipped: string[] = [];
  const runs = fs
    .readdirSync(base)
    .filter((name) => stamped.test(name))
    .flatMap((name) => {
      const dir = path.join(base, name);
      const problem = privateDirProblem(dir);
      if (problem) {
        skipped.push(`${name} (${problem})`);
        return [];
      }
      const saved = path.join(dir, "drill.json");
      return fs.existsSync(saved) ? [{ dir, stamp: stamped.exec(name)![1], at: fs.statSync(saved).mtimeMs }] : [];
    })
    .sort((a, b) => (a.stamp === b.stamp ? a.at - b.at : a.stamp < b.stamp ? -1 : 1));
  const newest = runs[runs.length - 1];
  if (!newest)
    throw new UsageError(
      `drill --resume: no earlier run of scenario ${scenario} of yours in ${base} (${prefix}*)${skipped.length ? `; skipped, not yours alone: ${skipped.join("; ")}` : ""}; give its directory with --dir, or run it without --resume`,
    );
  return newest.dir;
}
