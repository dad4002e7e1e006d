import type { RouteId } from "../gates/routes";
import { describeCall, describeExit, type ExecRequest, type ExecResult } from "./exec";
import { BUDGET_SPENT } from "./deadline";

/** A call that failed, hung or answered in an unexpected shape: a named failure with a route. */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    message: string,
    readonly route: RouteId = "tool-unavailable",
    /** Waiting cannot help (e.g. the program is not installed): a gate stops at once. */
    readonly permanent = false,
    /** The call was cut (or not started) at the step's or gate's deadline: it says nothing new about the cloud. */
    readonly cut = false,
  ) {
    super(message);
  }
}

/** Throw a ToolError for a call that timed out, was not found, could not start, was killed, or exited outside `okCodes`. */
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
  if (res.exitCode === null || !okCodes.includes(res.exitCode)) {
    const why = (res.stderr.trim() || res.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new ToolError(`${call}: ${describeExit(res, req.timeoutMs)}${why && !res.timedOut ? `: ${why}` : ""}`);
  }
  return { ...res, exitCode: res.exitCode };
}

/** A call cut at the deadline, or not started because the budget was spent (runtime/deadline.ts). */
export function cutAtDeadline(res: ExecResult): boolean {
  return (res.timedOut && res.cutToMs !== undefined) || res.startError === BUDGET_SPENT;
}
