/**
 * `coldstart check|act|gate <name> --flags`: the steps the graph's Commands run.
 *
 * Inside a window (COLDSTART_WINDOW + COLDSTART_RECORD_DIR, which the graph sets) every step ends
 * with one line in the window's record. A record that cannot be written fails the step with
 * EXIT.gateFailed (1) and one line naming the file and the OS error: checked before the step acts
 * (nothing is done), and again when its line is appended (a verdict of PASS becomes exit 1: a run
 * whose record is lost is not a passed run; the resume runs the step again, which every step
 * allows -- README "When a step is killed").
 */
import * as z from "zod";
import { UsageError } from "../config/errors";
import { parseFlags } from "./args";
import { EXIT } from "../runtime/exit-codes";
import { consoleReporter, type Reporter, type StepContext } from "../runtime/step-context";
import { realExec } from "../runtime/exec";
import { realClock } from "../runtime/clock";
import { NOT_STARTED, recordFile, recordWritable } from "../runtime/record";
import { cancelled, describeOutcome, type StepOutcome } from "../steps/outcome";
import { watchCancel } from "../runtime/cancel";
import { claimStep } from "../runtime/step-claim";
import { execWithinDeadline, STEP_BUDGET_ENV } from "../runtime/deadline";
import { commandsOf, loadStep } from "../stages/step-index";
import type { StepDef } from "../stages/step-def";
import { fillWords, renderFlagsHelp, synopsisWords, wantsHelp } from "./help";
import { keep, recordLost, requestRecorder, writeRecord } from "./step-record";
import { boundStepOutput, MAX_LINE_BYTES } from "../runtime/line-bound";
import { excerpt } from "../runtime/excerpt";

/** `--json`: one JSON object per line on stdout instead of human lines (for records and CI). */
export const STEP_SWITCHES = ["json"] as const;

/** The version of the steps' `--json` lines: additive changes keep it, a removal or rename bumps it. */
export const STEP_JSON_SCHEMA_VERSION = 1;

/** Default bound on one juju/openstack call when the step's flags do not set one. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/**
 * In a drill on the discrete-event clock (issue #14; the engine sets COLDSTART_SIM_CLOCK) the step
 * joins it: its clock and every call's timeout run on cloud time. Loaded only then: under the
 * real engine nothing of it is even imported, realClock and realExec stay.
 */
async function joinDrillClock(env: NodeJS.ProcessEnv) {
  if (!env.COLDSTART_SIM_CLOCK) return undefined;
  return (await import("../runtime/sim-clock")).joinSimClock(env);
}

export async function stepCommand(verb: string, argv: string[], ctxOverride?: Partial<StepContext>): Promise<number> {
  // a real step's stdout and stderr are the engine's log lines: none over 16 KiB (runtime/line-bound.ts)
  if (!ctxOverride) boundStepOutput();
  const sim = ctxOverride ? undefined : await joinDrillClock(process.env);
  try {
    return await runStep(verb, argv, ctxOverride, sim);
  } finally {
    sim?.close();
  }
}

async function runStep(
  verb: string,
  argv: string[],
  ctxOverride: Partial<StepContext> | undefined,
  sim: Awaited<ReturnType<typeof joinDrillClock>>,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h") {
    process.stdout.write(await verbHelp(verb));
    return EXIT.ok;
  }
  // only the stage file that defines this step is loaded, not every stage's flag schemas
  const def = name ? await loadStep(verb, name) : undefined;
  if (!name || !def) {
    throw new UsageError(`${verb}: unknown step "${name ?? ""}" (known: ${commandsOf(verb).join(", ")})`);
  }
  const key = def.key;
  if (wantsHelp(rest)) {
    process.stdout.write(stepHelp(def));
    return EXIT.ok;
  }
  const json = rest.includes("--json");
  const flags = parseFlags(
    key,
    rest.filter((w) => w !== "--json"),
    def.flags,
  );
  const env = ctxOverride?.env ?? process.env;
  const ctx: StepContext = {
    exec: sim?.exec ?? realExec,
    clock: sim?.clock ?? realClock,
    env,
    out: json ? jsonReporter() : consoleReporter(false),
    callTimeoutMs: Number(env.COLDSTART_CALL_TIMEOUT_MS) || DEFAULT_CALL_TIMEOUT_MS,
    // the real step listens for signals; an injected context (tests) brings its own check
    cancelled: ctxOverride ? undefined : watchCancel({ env, signals: true }),
    ...ctxOverride,
  };
  // only this step's handler module is loaded (stages/step-def.ts: a lazy import)
  const handler = await def.handler();
  const stepName = env.COLDSTART_STEP ?? key;
  const start = new Date(ctx.clock.now());
  // every RAN: / FOLLOWED: line the step says also goes into its record line
  const said = requestRecorder(ctx.out, () => ctx.clock.now());
  ctx.out = said.out;
  // The step's own budget (stages/budget.ts): every call is cut at this deadline.
  const budgetMs = Number(env[STEP_BUDGET_ENV]);
  if (ctx.deadline === undefined && budgetMs > 0) ctx.deadline = start.getTime() + budgetMs;
  ctx.exec = execWithinDeadline(ctx, ctx.exec);
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = env;
  const mode = typeof (flags as { mode?: unknown }).mode === "string" ? (flags as { mode: string }).mode : undefined;
  let outcome: StepOutcome;
  if (window && recordDir) {
    // Before anything is done: a step that cannot leave its record line does not act at all.
    const problem = recordWritable(recordFile(recordDir, window, env));
    if (problem) return recordLost(stepName, problem, "nothing was run");
  }
  let claim: Awaited<ReturnType<typeof claimStep>> | undefined;
  try {
    claim =
      window && recordDir
        ? await claimStep({
            recordDir,
            window,
            step: stepName,
            env,
            sleep: (ms) => ctx.clock.sleep(ms),
            cancelled: ctx.cancelled,
            say: (line) => ctx.out.line(line),
            now: () => ctx.clock.now(),
          })
        : undefined;
  } catch (err) {
    // the claim lives next to the record (<recordDir>/<window>.running/): same failure, same exit
    return recordLost(stepName, `cannot claim the step in ${recordDir}: ${(err as Error).message}`, "nothing was run");
  }
  if (claim?.kind === "done") {
    // Passed earlier in this window (an earlier run finished it after the engine stopped waiting).
    const earlier = claim.entry;
    ctx.out.line(
      `KEPT ${stepName}: already ${earlier.outcome === "skipped-by-guard" ? "done (guard)" : "passed"} in window ${window} at ${earlier.end}; not run again`,
    );
    return keep({ env: ctx.env, now: () => ctx.clock.now(), out: ctx.out }, key, stepName, start, earlier.end, mode);
  }
  if (claim?.kind === "held-elsewhere") {
    // `why`: another run holds the whole window (runtime/run-lock.ts); otherwise this step's claim.
    process.stderr.write(
      claim.why
        ? `LOCKED ${stepName}: ${claim.why}; nothing was run here\n`
        : `LOCKED ${stepName}: ${claim.holder.host} (pid ${claim.holder.pid}, since ${claim.holder.start}) runs this step of window ${window}; ` +
            `nothing was run here. If that run is gone for good, remove ${claim.file}\n`,
    );
    return EXIT.locked;
  }
  const release = claim?.kind === "claimed" ? claim.release : () => undefined;
  try {
    const stale =
      claim?.kind === "claimed" && claim.stale
        ? `an earlier run of ${stepName} (pid ${claim.stale.pid}, started ${claim.stale.start}) ended without a verdict (${claim.stale.gone ?? "killed outright?"}); this run takes the step up again from what the record and the cloud show now (each request it sends or follows is a RAN: / FOLLOWED: line; README "When a step is killed")`
        : undefined;
    if (stale) ctx.out.warn(stale);
    const stopWhy = claim?.kind === "cancelled" ? claim.why : ctx.cancelled?.();
    outcome = stopWhy ? notStarted(stopWhy) : await handler(flags, ctx);
    if (stale) outcome.verdict.details.unshift(stale);
    const end = new Date(ctx.clock.now());
    report(ctx, stepName, outcome, json);
    const problem = writeRecord(ctx.env, key, stepName, start, end, outcome, mode, said.requests);
    if (problem) return recordLost(stepName, problem, `its verdict was ${outcome.outcome}`, outcome.exitCode);
  } finally {
    release();
  }
  return outcome.exitCode;
}

/** Cancelled before the step began: state NOT_STARTED tells the record it never ran (record/summary.ts). */
function notStarted(why: string): StepOutcome {
  const o = cancelled("the step to start", `not started, nothing was done: ${why}`);
  o.verdict.state = NOT_STARTED;
  return o;
}

function report(ctx: StepContext, stepName: string, outcome: StepOutcome, json: boolean): void {
  for (const line of describeOutcome(stepName, outcome)) {
    if (outcome.exitCode === EXIT.ok) ctx.out.line(line);
    else process.stderr.write(line + "\n");
  }
  if (json)
    ctx.out.line("result", { outcome: outcome.outcome, state: outcome.verdict.state, route: outcome.verdict.route });
}

/**
 * `--json`: each line a JSON object with `schemaVersion` first (README "Machine-readable output");
 * warnings stay human lines on stderr.
 */
export function jsonReporter(write = (s: string) => process.stdout.write(s)): Reporter {
  const human = consoleReporter(false);
  return {
    line: (text, data) => {
      const whole = JSON.stringify({ schemaVersion: STEP_JSON_SCHEMA_VERSION, message: text, ...data });
      // a line the engine can read (runtime/line-bound.ts) that is still one JSON object: its message cut
      const line =
        Buffer.byteLength(whole, "utf8") < MAX_LINE_BYTES
          ? whole
          : JSON.stringify({
              schemaVersion: STEP_JSON_SCHEMA_VERSION,
              message: excerpt(text, MAX_LINE_BYTES / 2),
              cut: true,
            });
      write(line + "\n");
    },
    warn: (text) => human.warn(text),
  };
}

/** The step's flags as the help shows them: its own schema plus the `--json` switch. */
function helpSchema(def: StepDef) {
  return def.flags.extend({
    json: z
      .boolean()
      .optional()
      .describe(
        `one JSON object per line on stdout ("schemaVersion": ${STEP_JSON_SCHEMA_VERSION}) instead of human lines`,
      ),
  });
}

/** `coldstart <verb> <step> --help`: what the step does, when it passes, what a failure does, then each flag. */
export function stepHelp(def: StepDef): string {
  const schema = helpSchema(def);
  const lead = `usage: coldstart ${def.key}`;
  const head = fillWords(lead, synopsisWords(schema, STEP_SWITCHES), lead.length + 1);
  // a guard written from the flags reads with each flag as its placeholder: "every one of the <units> units"
  const guard = def.guard(new Proxy({}, { get: (_, flag) => `<${String(flag)}>` }) as never);
  const about = [
    ["passes when:", def.expected],
    ...(guard !== undefined ? [["guard:", guard]] : []),
    ...(def.destructive ? [["DESTRUCTIVE:", "acts only under its guard, at most once per window"]] : []),
    ...(def.revalidate ? [["[REVALIDATE]", def.revalidate]] : []),
    ["on failure:", def.onFailure],
    ["", "run by the graph (coldstart plan shows its create line); by hand only as the runbook says"],
  ].flatMap(([label, text]) => fillWords(label, text.split(" "), 4));
  return renderFlagsHelp([...head, "", ...about].join("\n"), schema, STEP_SWITCHES);
}

/** `coldstart <verb> --help`: the steps of that verb (every stage file is loaded for their texts). */
async function verbHelp(verb: string): Promise<string> {
  const steps = (await import("../stages/step-table")).stepsOf(verb);
  const width = Math.max(...steps.map((d) => d.command.length)) + 2;
  return (
    [
      `usage: coldstart ${verb} <step> [flags]    (coldstart ${verb} <step> --help: the step's flags)`,
      "",
      "steps:",
      ...steps.map((d) => `  ${d.command.padEnd(width)}${d.expected}`),
    ].join("\n") + "\n"
  );
}
