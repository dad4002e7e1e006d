import type { RouteId } from "../gates/routes";
import { describeCall, describeExit, type ExecRequest, type ExecResult } from "./exec";
import { BUDGET_SPENT } from "./deadline";
import { isSystemError } from "./system-error";
import { excerpt } from "./excerpt";

/**
 * A call that failed, hung or answered in an unexpected shape: a named failure with a route, and
 * the ONE error class a step reports as a verdict. Everything else thrown inside a step (a
 * TypeError, a RangeError) is a bug: catch sites rethrow it (`onlyToolErrors`) and the CLI's top
 * level exits 70 "internal error (a bug)" with its stack (cli/main.ts). The underlying error, when
 * there is one (an OS error, a fetch failure), rides along as the ES2022 `cause`.
 */
export class ToolError extends Error {
  // string, not the literal: power/driver.ts's PowerError is a ToolError with its own name
  override readonly name: string = "ToolError";
  constructor(
    message: string,
    readonly route: RouteId = "tool-unavailable",
    /** Waiting cannot help (e.g. the program is not installed): a gate stops at once. */
    readonly permanent = false,
    /** The call was cut (or not started) at the step's or gate's deadline: it says nothing new about the cloud. */
    readonly cut = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The guard of every catch site in a step: a ToolError is a verdict, anything else is a bug and is
 * rethrown as it is (so it reaches the CLI's exit 70 instead of reading as "tool unavailable").
 */
export function onlyToolErrors(err: unknown): asserts err is ToolError {
  if (!(err instanceof ToolError)) throw err;
}

/**
 * For catch sites around file writes (the baseline folder, the MySQL marker): an OS error is the
 * machine's answer, not a bug, so it becomes a ToolError carrying it as `cause`; a ToolError passes
 * through; anything else is rethrown.
 */
export function toolErrorOf(err: unknown, route: RouteId = "tool-unavailable"): ToolError {
  if (err instanceof ToolError) return err;
  if (isSystemError(err)) return new ToolError(err.message, route, false, false, { cause: err });
  throw err;
}

/**
 * Throw a ToolError for a call that timed out, was not found, could not start, printed more than
 * MAX_OUTPUT_BYTES (runtime/exec.ts), was killed, or exited outside `okCodes`. The output a
 * message quotes is cut to a few KB (runtime/excerpt.ts).
 */
export function checkCall(
  req: ExecRequest,
  res: ExecResult,
  okCodes: readonly number[] = [0],
): ExecResult & { exitCode: number } {
  const call = describeCall(req);
  if (res.notFound) throw new ToolError(`${req.file}: not found on PATH (needed for: ${call})`, "tool-missing", true);
  if (cutAtDeadline(res))
    throw new ToolError(`${call}: ${describeExit(res, req.timeoutMs)}`, "tool-unavailable", false, true);
  if (res.startError) throw new ToolError(`${call}: ${describeExit(res)}`, "tool-unavailable", true);
  // whatever its exit code: its output was cut, so no answer of it can be read
  if (res.overflow) throw new ToolError(`${call}: ${describeExit(res)}`);
  if (res.exitCode === null || !okCodes.includes(res.exitCode)) {
    const why = excerpt((res.stderr.trim() || res.stdout.trim()).split("\n").slice(-3).join(" | "));
    throw new ToolError(`${call}: ${describeExit(res, req.timeoutMs)}${why && !res.timedOut ? `: ${why}` : ""}`);
  }
  return { ...res, exitCode: res.exitCode };
}

/** A call cut at the deadline, or not started because the budget was spent (runtime/deadline.ts). */
export function cutAtDeadline(res: ExecResult): boolean {
  return (res.timedOut && res.cutToMs !== undefined) || res.startError === BUDGET_SPENT;
}
