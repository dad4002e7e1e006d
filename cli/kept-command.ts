/**
 * `coldstart kept <step>`: every step's `update` (stages/command-line.ts keptLine). The engine
 * runs it when the step passed earlier in this window and an input changed since; nothing runs
 * again, the record says so. Its own module: it needs the record, not the step table, the flag
 * parser or anything that runs a program (issue #14, per-step start).
 */
import { UsageError } from "../config/errors";
import { realClock } from "../runtime/clock";
import { readSimClockMs, SIM_CLOCK_VAR, SIM_EPOCH_MS } from "../runtime/clock-file";
import { consoleReporter } from "../runtime/step-context";
import { passedEarlier } from "../runtime/step-claim";
import { keep } from "./step-record";
import { boundStepOutput } from "../runtime/line-bound";

export function keptCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  // the real `kept` (not a test's call with its own env): its lines too are the engine's (runtime/line-bound.ts)
  if (env === process.env) boundStepOutput();
  const [step, ...rest] = argv;
  if (!step || rest.length)
    throw new UsageError("kept: expected exactly one step name (this is each step's update command)");
  const ctx = {
    env,
    // `kept` never waits, so it does not join the drill's clock; its record line still carries cloud time
    now: env[SIM_CLOCK_VAR] ? () => SIM_EPOCH_MS + readSimClockMs(env) : realClock.now,
    out: consoleReporter(false),
  };
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = env;
  const earlier = window && recordDir ? passedEarlier(recordDir, window, step, env) : undefined;
  const at = earlier ? earlier.end : "an earlier run (the engine's state says it passed)";
  ctx.out.line(
    `KEPT ${step}: passed in window ${window ?? "(none)"} at ${at}; its inputs changed since (config or coldstart version), so the engine asked for an update: nothing was run again`,
  );
  return keep(ctx, `kept ${step}`, step, new Date(ctx.now()), at, undefined);
}
