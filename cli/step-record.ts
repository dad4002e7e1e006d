/**
 * A step's line in the window's as-executed record, shared by the step verbs (cli/step-command.ts)
 * and `kept` (cli/kept-command.ts): written when the step runs inside a window (the graph sets
 * COLDSTART_WINDOW and COLDSTART_RECORD_DIR), and what happens when it cannot be written.
 */
import { describeRoute } from "../gates/routes";
import { runFields } from "../record/meta";
import { EXIT } from "../runtime/exit-codes";
import { appendRecord, recordFile, REQUEST_LINE, type RequestLine } from "../runtime/record";
import type { Reporter } from "../runtime/step-context";
import type { StepOutcome } from "../steps/outcome";

/** Appends the step's line; returns the problem when it could not be written (undefined: written, or no window). */
export function writeRecord(
  env: NodeJS.ProcessEnv,
  key: string,
  step: string,
  start: Date,
  end: Date,
  o: StepOutcome,
  mode: string | undefined,
  requests: readonly RequestLine[] = [],
): string | undefined {
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: dir } = env;
  if (!window || !dir) return undefined;
  return appendRecord(recordFile(dir, window, env), {
    window,
    stack: env.COLDSTART_STACK ?? "",
    stage: env.COLDSTART_STAGE ?? "",
    step,
    command: key,
    start: start.toISOString(),
    end: end.toISOString(),
    exitCode: o.exitCode,
    outcome: o.outcome,
    state: o.verdict.state,
    summary: o.verdict.summary,
    details: o.verdict.details,
    route: o.verdict.route,
    fix: o.verdict.route ? describeRoute(o.verdict.route) : undefined,
    polls: o.polls,
    durationMs: end.getTime() - start.getTime(),
    ...runFields(env, mode),
    ...(requests.length ? { requests: [...requests] } : {}),
    evidence: o.evidence,
  });
}

/**
 * The step's record line is lost: one line on stderr naming the file and the OS error. A step that
 * passed exits EXIT.gateFailed (1) instead of 0, so the engine shows it failed and stops the run;
 * a step that failed keeps its own exit code.
 */
export function recordLost(step: string, problem: string, what: string, exitCode: number = EXIT.ok): number {
  process.stderr.write(
    `RECORD NOT WRITTEN ${step}: ${problem}; ${what}, but a step whose record line is lost does not count as passed: ` +
      `make the record dir writable (coldstart:recordDir, free space) and run again\n`,
  );
  return exitCode === EXIT.ok ? EXIT.gateFailed : exitCode;
}

/** Where a kept step's line goes and what time it is (a drill's kept step reads cloud time). */
export interface KeptContext {
  env: NodeJS.ProcessEnv;
  now: () => number;
  out: Reporter;
}

/** Record a step kept from an earlier run of this window (nothing runs again); exit 0. */
export function keep(
  ctx: KeptContext,
  key: string,
  step: string,
  start: Date,
  passedAt: string,
  mode: string | undefined,
): number {
  const outcome: StepOutcome = {
    exitCode: EXIT.ok,
    outcome: "kept",
    expected: "the step passed earlier in this window",
    verdict: {
      ok: true,
      state: "kept",
      summary: `passed earlier in this window (at ${passedAt}); not run again`,
      details: [],
    },
  };
  const problem = writeRecord(ctx.env, key, step, start, new Date(ctx.now()), outcome, mode);
  return problem ? recordLost(step, problem, "it was kept") : EXIT.ok;
}

/**
 * The step's reporter, keeping every `RAN:` / `FOLLOWED:` line it says (the requests it sent, the
 * earlier ones it found in progress) for its record line: the record lists what the console
 * showed, word for word, by construction (issue #23).
 */
export function requestRecorder(out: Reporter, now: () => number): { out: Reporter; requests: RequestLine[] } {
  const requests: RequestLine[] = [];
  return {
    requests,
    out: {
      line: (text, data) => {
        if (REQUEST_LINE.test(text)) requests.push({ at: new Date(now()).toISOString(), line: text.trim() });
        out.line(text, data);
      },
      warn: (text) => out.warn(text),
    },
  };
}
