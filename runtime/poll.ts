/**
 * A GATE: poll until the verdict is ok or the timeout passes, one line per poll. A probe that
 * throws a ToolError ends the gate with that failure unless it is transient and time remains.
 *
 * "ok" counts only after it held for `successes` polls in a row: charm status flaps during a cold
 * start (a unit re-assesses, a member rejoins), so one green poll is not a settled cloud. Same
 * rule as canonical/jubilant @ 06572b53744911b6be6313eb77e65b891daef081 `jubilant/_juju.py`
 * (`Juju.wait(..., successes=3)`: "It needs to return True *successes* times in a row"; a
 * not-ready status resets the count; the same delay between every status call).
 */
import type { Verdict } from "../gates/verdict";
import type { Clock } from "./clock";
import { nextWaitMs } from "./poll-schedule";

export interface PollOptions<V extends Verdict> {
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  probe: () => Promise<V>;
  /** How many polls in a row must be ok before the condition counts (default 1: the first ok ends the poll). */
  successes?: number;
  /**
   * The wait before a confirming poll (the condition held at the last poll, not yet `successes`
   * times): at most this, never more than intervalMs. The interval paces the wait for the cloud;
   * the confirmation only asks "still so?". jubilant confirms at its `delay`, 1 s by default
   * (canonical/jubilant @ 06572b53744911b6be6313eb77e65b891daef081 `jubilant/_juju.py` `Juju.wait(..., delay: float = 1.0, ..., successes: int = 3)`).
   */
  confirmIntervalMs?: number;
  /**
   * Adaptive waits (runtime/poll-schedule.ts), with this as the floor of the shortest: the wait
   * grows with the time the verdict has stayed the same, up to intervalMs, and starts short again
   * when it changes. Unset: every wait is intervalMs.
   */
  minWaitMs?: number;
  /** Called after each poll with the verdict, the attempt number (1-based) and how many ok polls in a row so far. */
  onPoll?: (verdict: V, attempt: number, elapsedMs: number, held: number) => void;
  /** A verdict that must stop the gate at once (an escalation, not a wait). */
  isFinal?: (verdict: V) => boolean;
  /** Checked between polls (a safe point): a reason to stop, or undefined to go on. */
  shouldStop?: () => string | undefined;
  /** A verdict from a probe cut at the deadline: the gate reports the last one before it instead. */
  isCut?: (verdict: V) => boolean;
}

export interface PollResult<V extends Verdict> {
  verdict: V;
  attempts: number;
  elapsedMs: number;
  timedOut: boolean;
  /** Why the gate stopped between polls (a cancel), when it did. */
  cancelled?: string;
  /** How many polls in a row, up to the last, saw an ok verdict. */
  held: number;
  /** The condition held for `successes` polls in a row: the gate passed. */
  passed: boolean;
}

/** How often a cancellable wait looks at shouldStop while it sleeps. */
const STOP_CHECK_MS = 1_000;

export async function poll<V extends Verdict>(opts: PollOptions<V>): Promise<PollResult<V>> {
  const successes = Math.max(1, Math.floor(opts.successes ?? 1));
  const start = opts.clock.now();
  let seen: V | undefined;
  let held = 0;
  let stillSince = start; // the gate's start, then the last poll whose verdict changed
  for (let attempt = 1; ; attempt++) {
    const probed = await opts.probe();
    // a probe cut at the deadline knows nothing new: keep what the last full probe saw, and do not
    // count it as one more ok poll in a row either (it confirms nothing)
    const cut = opts.isCut?.(probed) === true && seen !== undefined;
    const verdict = cut && seen ? seen : probed;
    if (seen !== undefined && verdictKey(seen) !== verdictKey(verdict)) stillSince = opts.clock.now();
    seen = verdict;
    if (!cut) held = verdict.ok ? held + 1 : 0;
    const elapsedMs = opts.clock.now() - start;
    opts.onPoll?.(verdict, attempt, elapsedMs, held);
    const done = (extra: Partial<PollResult<V>> = {}): PollResult<V> => ({
      verdict,
      attempts: attempt,
      elapsedMs,
      timedOut: false,
      held,
      passed: false,
      ...extra,
    });
    if (verdict.ok && held >= successes) return done({ passed: true });
    if (!verdict.ok && opts.isFinal?.(verdict)) return done();
    const remaining = opts.timeoutMs - elapsedMs;
    if (remaining <= 0) return done({ timedOut: true });
    const confirmMs = Math.min(opts.intervalMs, opts.confirmIntervalMs ?? opts.intervalMs);
    const pace =
      opts.minWaitMs === undefined
        ? held > 0
          ? confirmMs
          : opts.intervalMs
        : nextWaitMs({
            intervalMs: opts.intervalMs,
            floorMs: opts.minWaitMs,
            confirmMs,
            held,
            stillMs: opts.clock.now() - stillSince,
          });
    const cancelled = await sleepUnlessStopped(opts, Math.min(pace, remaining));
    if (cancelled) return done({ elapsedMs: opts.clock.now() - start, cancelled });
  }
}

/** What a poll saw, for "did the cloud move": what the gate's poll line says (ok, state, summary). */
function verdictKey(v: Verdict): string {
  return `${v.ok}\n${v.state}\n${v.summary}`;
}

async function sleepUnlessStopped<V extends Verdict>(opts: PollOptions<V>, ms: number): Promise<string | undefined> {
  if (!opts.shouldStop) {
    await opts.clock.sleep(ms);
    return undefined;
  }
  const until = opts.clock.now() + ms;
  for (;;) {
    const why = opts.shouldStop();
    if (why) return why;
    const left = until - opts.clock.now();
    if (left <= 0) return opts.shouldStop();
    await opts.clock.sleep(Math.min(STOP_CHECK_MS, left));
  }
}
