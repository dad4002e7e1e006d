/**
 * A step's deadline, enforced where every external call starts. The step gets its budget from
 * the graph (COLDSTART_STEP_BUDGET_MS, stages/budget.ts); a gate narrows the deadline to its own
 * while it polls, so its last probe ends at the gate's timeout instead of overrunning it.
 */
import type { Exec } from "./exec";
import type { StepContext } from "./step-context";

export const STEP_BUDGET_ENV = "COLDSTART_STEP_BUDGET_MS";
/** ExecResult.startError of a call refused because the deadline had passed. */
export const BUDGET_SPENT = "not started: the step's time budget was spent";

/** Time left for one call that asks for `requested` ms: never past the deadline; 0 = do not start it. */
export function callTimeout(ctx: Pick<StepContext, "clock" | "deadline">, requested: number): number {
  if (ctx.deadline === undefined) return requested;
  return Math.max(0, Math.min(requested, ctx.deadline - ctx.clock.now()));
}

/** ctx.exec, with every call cut at the step's current deadline. */
export function execWithinDeadline(ctx: Pick<StepContext, "clock" | "deadline">, exec: Exec): Exec {
  return async (req) => {
    const timeoutMs = callTimeout(ctx, req.timeoutMs);
    if (timeoutMs <= 0)
      // not started at all; waiting cannot help, so a gate stops at once (ToolError.permanent)
      return {
        exitCode: null,
        stdout: "",
        stderr: "",
        timedOut: false,
        notFound: false,
        startError: BUDGET_SPENT,
      };
    const res = await exec({ ...req, timeoutMs });
    return timeoutMs < req.timeoutMs ? { ...res, cutToMs: timeoutMs } : res;
  };
}

/** Run `fn` with the deadline narrowed to `until` (the tighter one wins), then restore it. */
export async function withDeadline<T>(ctx: StepContext, until: number, fn: () => Promise<T>): Promise<T> {
  const outer = ctx.deadline;
  ctx.deadline = outer === undefined ? until : Math.min(outer, until);
  try {
    return await fn();
  } finally {
    ctx.deadline = outer;
  }
}
