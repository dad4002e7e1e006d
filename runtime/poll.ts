/**
 * A GATE: poll until the verdict is ok or the timeout passes, one line per poll. A probe that
 * throws a ToolError ends the gate with that failure unless it is transient and time remains.
 */
import type { Verdict } from "../gates/verdict";
import type { Clock } from "./clock";

export interface PollOptions<V extends Verdict> {
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  probe: () => Promise<V>;
  /** Called after each poll with the verdict and the attempt number (1-based). */
  onPoll?: (verdict: V, attempt: number, elapsedMs: number) => void;
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
}

/** How often a cancellable wait looks at shouldStop while it sleeps. */
const STOP_CHECK_MS = 1_000;

export async function poll<V extends Verdict>(opts: PollOptions<V>): Promise<PollResult<V>> {
  const start = opts.clock.now();
  let seen: V | undefined;
  for (let attempt = 1; ; attempt++) {
    const probed = await opts.probe();
    // a probe cut at the deadline knows nothing new: keep what the last full probe saw
    const verdict = opts.isCut?.(probed) && seen ? seen : probed;
    seen = verdict;
    const elapsedMs = opts.clock.now() - start;
    opts.onPoll?.(verdict, attempt, elapsedMs);
    if (verdict.ok) return { verdict, attempts: attempt, elapsedMs, timedOut: false };
    if (opts.isFinal?.(verdict)) return { verdict, attempts: attempt, elapsedMs, timedOut: false };
    const remaining = opts.timeoutMs - elapsedMs;
    if (remaining <= 0) return { verdict, attempts: attempt, elapsedMs, timedOut: true };
    const cancelled = await sleepUnlessStopped(opts, Math.min(opts.intervalMs, remaining));
    if (cancelled)
      return { verdict, attempts: attempt, elapsedMs: opts.clock.now() - start, timedOut: false, cancelled };
  }
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
