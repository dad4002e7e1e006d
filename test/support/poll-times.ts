/**
 * The poll instants (ms since the gate began) of a gate whose verdict never holds and never
 * changes, up to its timeout: the adaptive schedule's (runtime/poll-schedule.ts) with the floor
 * and confirm wait runGate uses (steps/outcome.ts). Tests of a gate's timeout count its polls with
 * this; test/runtime/poll-schedule.test.ts pins the schedule itself with written-out instants.
 */
import { nextWaitMs } from "../../runtime/poll-schedule";
import { CONFIRM_INTERVAL_MS } from "../../steps/outcome";

export function stillPollTimes(timeoutMs: number, intervalMs: number): number[] {
  const at = [0];
  for (;;) {
    const now = at[at.length - 1];
    if (now >= timeoutMs) return at;
    const wait = nextWaitMs({
      intervalMs,
      floorMs: CONFIRM_INTERVAL_MS,
      confirmMs: CONFIRM_INTERVAL_MS,
      held: 0,
      stillMs: now,
    });
    at.push(Math.min(now + wait, timeoutMs));
  }
}
