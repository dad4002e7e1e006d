/** How a step ends, and the gate/check runners every stage uses. */
import type { Verdict } from "../gates/verdict";
import { describeRoute } from "../gates/routes";
import { EXIT, type ExitCode } from "../runtime/exit-codes";
import type { Evidence, RecordEntry } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { poll } from "../runtime/poll";
import { formatPollLine, pollKey, type PollHead } from "./poll-line";
import { withDeadline } from "../runtime/deadline";
import { ToolError } from "../runtime/tool-error";
import { formatDuration } from "../config/duration";

export interface StepOutcome {
  exitCode: ExitCode;
  outcome: RecordEntry["outcome"];
  /** What the step required, in runbook words. */
  expected: string;
  verdict: Verdict;
  polls?: number;
  /** What the record's Vault / guests / REVALIDATE sections need, typed (runtime/record.ts). */
  evidence?: Evidence;
}

export function pass(expected: string, verdict: Verdict, polls?: number): StepOutcome {
  return { exitCode: EXIT.ok, outcome: "pass", expected, verdict, polls };
}

/** The guard did not match: nothing was changed, and the run goes on. */
export function skipped(expected: string, verdict: Verdict): StepOutcome {
  return { exitCode: EXIT.ok, outcome: "skipped-by-guard", expected, verdict };
}

export function fail(expected: string, verdict: Verdict, polls?: number): StepOutcome {
  return { exitCode: EXIT.gateFailed, outcome: "fail", expected, verdict, polls };
}

/** Stopped at a safe point because the run was cancelled: nothing was left half-done. */
export function cancelled(expected: string, why: string, verdict?: Verdict, polls?: number): StepOutcome {
  return {
    exitCode: EXIT.cancelled,
    outcome: "cancelled",
    expected,
    verdict: {
      ok: false,
      state: "cancelled",
      summary: `cancelled at a safe point: ${why}${verdict ? `; last poll: ${verdict.summary}` : ""}`,
      details: [],
    },
    polls,
  };
}

export function blocker(expected: string, verdict: Verdict, polls?: number): StepOutcome {
  return { exitCode: EXIT.blocker, outcome: "blocker", expected, verdict, polls };
}

/** The state of a probe whose call was cut at the deadline: not news about the cloud (runtime/poll.ts). */
export const CUT_AT_DEADLINE = "cut-at-deadline";

/**
 * A verdict for a call that failed or answered in an unexpected shape. Takes only a ToolError:
 * a catch site narrows with `onlyToolErrors(err)` (runtime/tool-error.ts) first, so a bug is
 * rethrown to the CLI's exit 70 and never reads as "tool unavailable".
 */
export function toolVerdict(err: ToolError): Verdict {
  return {
    ok: false,
    state: err.cut ? CUT_AT_DEADLINE : err.permanent ? "tool-missing" : "tool-error",
    summary: err.message,
    details: [],
    route: err.route,
  };
}

/** Run a probe once; a ToolError becomes a not-ok verdict (never a crash, never a stack trace). */
export async function probeSafely(probe: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await probe();
  } catch (err) {
    if (err instanceof ToolError) return toolVerdict(err);
    throw err;
  }
}

export interface GateSpec {
  expected: string;
  timeoutMs: number;
  intervalMs: number;
  probe: () => Promise<Verdict>;
  /** States that stop the gate at once as an escalation (e.g. a partial MySQL outage). */
  escalate?: (v: Verdict) => boolean;
  /**
   * false inside an action that has already changed the cloud (power-off's wait for the host to
   * go down): a cancel lets it finish. Gates and pure waits stop between polls on a cancel.
   */
  cancellable?: boolean;
  /**
   * How many polls in a row the condition must hold before it counts (runtime/poll.ts). Default:
   * GATE_SUCCESSES for gates and pure waits; 1 for a wait inside an action (`cancellable: false`:
   * power-off's wait for the host to go down, hold-guests' wait for SHUTOFF), whose result the
   * next gate confirms anyway, and where waiting longer only delays the action's own fallback.
   */
  successes?: number;
}

/**
 * A gate passes only after its condition held this many polls in a row: charm status flaps during
 * a cold start. The number is jubilant's default (canonical/jubilant @
 * 06572b53744911b6be6313eb77e65b891daef081 `jubilant/_juju.py`, `Juju.wait(..., successes=3)`).
 */
export const GATE_SUCCESSES = 3;

/**
 * The wait before each confirming poll of a gate (it held, not yet GATE_SUCCESSES times): jubilant's
 * own. canonical/jubilant @ 06572b53744911b6be6313eb77e65b891daef081 `jubilant/_juju.py`
 * `Juju.wait(..., delay: float = 1.0, ..., successes: int = 3)` sleeps `delay` after every status
 * call, ok or not ("waiting *delay* seconds between each call"): one spacing for the wait and for
 * the confirmation. The gate's interval still paces the wait for the cloud (a real cloud's call
 * rate); confirming only asks "still so?" twice more, 1 s apart, as jubilant does: 2 s per gate
 * after the cloud is ready instead of 10 s at 5 s (README, bench section).
 */
export const CONFIRM_INTERVAL_MS = 1_000;

/** The successes a gate asks for, never more than the polls that fit in its timeout. */
export function gateSuccesses(spec: Pick<GateSpec, "successes" | "cancellable" | "timeoutMs" | "intervalMs">): {
  wanted: number;
  fit: number;
} {
  const wanted = Math.max(1, Math.floor(spec.successes ?? (spec.cancellable === false ? 1 : GATE_SUCCESSES)));
  // after a first ok, the confirming polls come CONFIRM_INTERVAL_MS apart (or the interval, when shorter)
  const pace = Math.min(spec.intervalMs, CONFIRM_INTERVAL_MS);
  const fit = pace > 0 ? Math.floor(spec.timeoutMs / pace) + 1 : wanted;
  return { wanted, fit: Math.max(1, fit) };
}

/**
 * A poll whose line says nothing new is not printed; after this long without a printed line the
 * next poll prints anyway (a heartbeat: the gate is alive and still sees the same thing). 5 min: a
 * 30-minute MySQL gate at 20 s prints its first poll, each change, and about 6 heartbeats instead
 * of 90 near-identical lines.
 */
export const GATE_HEARTBEAT_MS = 5 * 60_000;

/**
 * A GATE: poll until the condition held for `successes` polls in a row or the timeout passes. A
 * poll prints its line when it differs from the previous poll's (first poll, another state or
 * summary, a streak that counts up or flaps) and otherwise once per GATE_HEARTBEAT_MS, marked
 * "unchanged since poll N"; the record still counts every poll. The deadline is narrowed to the
 * gate's own (runtime/deadline.ts) and a cancel stops it between polls (ctx.cancelled), whatever
 * the streak.
 */
export async function runGate(ctx: StepContext, spec: GateSpec): Promise<StepOutcome> {
  const { wanted, fit } = gateSuccesses(spec);
  // a timeout that leaves room for fewer polls than asked for could never pass: confirm with what fits
  const successes = Math.min(wanted, fit);
  if (successes < wanted)
    ctx.out.line(
      `only ${fit} poll(s) fit in ${formatDuration(spec.timeoutMs)} at ${formatDuration(Math.min(spec.intervalMs, CONFIRM_INTERVAL_MS))}: the condition must hold for ${successes} in a row (not ${wanted})`,
    );
  let lastHeld = 0;
  let lastKey: string | undefined; // what the previous poll's line said
  let lastPrintedAt = 0; // elapsed ms of the last printed line
  let sameSince = 0; // the first poll of the current run of identical lines
  // the last probe is cut at the gate's deadline (runtime/deadline.ts), not left to overrun it
  const result = await withDeadline(ctx, ctx.clock.now() + spec.timeoutMs, () =>
    poll({
      timeoutMs: spec.timeoutMs,
      intervalMs: spec.intervalMs,
      clock: ctx.clock,
      successes,
      confirmIntervalMs: CONFIRM_INTERVAL_MS,
      // waits that grow while the cloud is still and start short when it moves (runtime/poll-schedule.ts)
      minWaitMs: CONFIRM_INTERVAL_MS,
      probe: () => probeSafely(spec.probe),
      isFinal: (v) => v.state === "tool-missing" || (spec.escalate?.(v) ?? false),
      shouldStop: spec.cancellable === false ? undefined : ctx.cancelled,
      isCut: (v) => v.state === CUT_AT_DEADLINE,
      onPoll: (v, attempt, elapsed, held) => {
        const head: PollHead = v.ok ? { ok: true, held, successes } : { ok: false, flappedAfter: lastHeld };
        lastHeld = v.ok ? held : 0;
        const key = pollKey(head, v.state, v.summary);
        const changed = key !== lastKey;
        lastKey = key;
        if (changed) sameSince = attempt;
        const heartbeat = !changed && elapsed - lastPrintedAt >= GATE_HEARTBEAT_MS;
        if (!changed && !heartbeat) return;
        lastPrintedAt = elapsed;
        const line = formatPollLine({
          elapsedMs: elapsed,
          attempt,
          head,
          summary: v.summary,
          unchangedSince: heartbeat ? sameSince : undefined,
        });
        ctx.out.line(line, {
          poll: attempt,
          elapsedMs: elapsed,
          state: v.state,
          ok: v.ok,
          held,
          successes,
          ...(heartbeat ? { unchangedSincePoll: sameSince } : {}),
        });
      },
    }),
  );
  if (result.passed) return pass(spec.expected, result.verdict, result.attempts);
  if (result.cancelled) return cancelled(spec.expected, result.cancelled, result.verdict, result.attempts);
  if (!result.timedOut) {
    const stop = result.verdict.state === "tool-missing" ? fail : blocker;
    return stop(spec.expected, result.verdict, result.attempts);
  }
  // the condition held at the end, but not long enough to count: not a pass
  const seen: Verdict = result.verdict.ok
    ? {
        ...result.verdict,
        ok: false,
        state: "not-held",
        summary: `held for only ${result.held} of ${successes} polls in a row: ${result.verdict.summary}`,
      }
    : result.verdict;
  const timedOut: Verdict = {
    ...seen,
    summary: `still not there after ${formatDuration(spec.timeoutMs)} (${result.attempts} polls): ${seen.summary}`,
  };
  return fail(spec.expected, timedOut, result.attempts);
}

/** The closing lines of a step: PASS, or what was expected / seen / the fix. */
export function describeOutcome(step: string, o: StepOutcome): string[] {
  const v = o.verdict;
  if (o.outcome === "pass" || o.outcome === "skipped-by-guard" || o.outcome === "kept") {
    const head = { pass: "PASS", "skipped-by-guard": "SKIPPED (guard)", kept: "KEPT" }[o.outcome];
    return [`${head} ${step}: ${v.summary}`, ...v.details.map((d) => `  ${d}`)];
  }
  const head = o.outcome === "blocker" ? "BLOCKER" : o.outcome === "cancelled" ? "CANCELLED" : "FAILED";
  return [
    `${head} ${step}`,
    `  expected: ${o.expected}`,
    `  saw:      ${v.summary}`,
    ...v.details.map((d) => `    ${d}`),
    ...(v.route ? [`  ${describeRoute(v.route)}`] : []),
    ...(o.outcome === "blocker" ? ["  escalate, never improvise: the run stops here."] : []),
  ];
}
