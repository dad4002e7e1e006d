import type { RouteId } from "../gates/routes";
import { describeCall, type ExecRequest, type ExecResult } from "./exec";

/** A call that failed, hung or answered in an unexpected shape: a named failure with a route. */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    message: string,
    readonly route: RouteId = "tool-unavailable",
    /** Waiting cannot help (e.g. the program is not installed): a gate stops at once. */
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** Throw a ToolError for a call that timed out, was not found, or exited outside `okCodes`. */
export function checkCall(req: ExecRequest, res: ExecResult, okCodes: readonly number[] = [0]): ExecResult {
  const call = describeCall(req);
  if (res.notFound)
    throw new ToolError(`${req.file}: not found on PATH (needed for: ${call})`, "tool-unavailable", true);
  if (res.timedOut)
    throw new ToolError(`${call}: no answer within ${Math.round(req.timeoutMs / 1000)}s (timed out, killed)`);
  if (!okCodes.includes(res.exitCode)) {
    const why = (res.stderr.trim() || res.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new ToolError(`${call}: exited ${res.exitCode}${why ? `: ${why}` : ""}`);
  }
  return res;
}
