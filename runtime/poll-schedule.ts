/**
 * When a gate polls next: a pure function of what its polls saw, so the schedule is tested
 * without a clock (test/runtime/poll-schedule.test.ts).
 *
 * - The condition held, not yet `successes` times: confirm after `confirmMs` (jubilant's delay,
 *   steps/outcome.ts CONFIRM_INTERVAL_MS), never more than the interval.
 * - Otherwise the wait grows with the time the cloud has been still (no change in the verdict's
 *   state or summary since the gate began or since the last change): a quarter of it, at least
 *   `firstMs` and at most the gate's interval, in whole seconds. A poll then sees the change it
 *   waits for at most a quarter of the still time late (a fixed interval: up to the interval),
 *   and a change (agents starting one after another, a server going SHUTOFF) starts it again
 *   from `firstMs`: the end of a wait comes soon after the cloud moved.
 *   This is exponential backoff (the wait grows by a factor, 1.25 per poll here) as
 *   hashicorp/terraform-plugin-sdk @ a1db2af76a93b6197201d077086adb99c98bd6e6
 *   `helper/resource/state.go` `WaitForStateContext` waits ("using exponential backoff": 100 ms
 *   doubling, capped at 10 s) and as MAAS confirms its own power actions, 1 s first and growing
 *   (canonical/maas @ a97f0b5a1a359b9e5ffd25be166a79f2326d56eb
 *   `src/provisioningserver/drivers/power/__init__.py` `DEFAULT_WAITING_POLICY = (1, 2, 2, 4, 6, 8, 12)`),
 *   with the gate's interval as the cap.
 *
 * Call rate of one gate (README "Polling"): at most 60 / firstMs calls per minute, and only right
 * after a change; a cloud that stays still for a minute costs about 10 calls more than the fixed
 * interval would, then the interval's own rate (60 / interval per minute).
 */

/** A poll lags the cloud by at most 1 / STILL_FRACTION of the time it has been still. */
export const STILL_FRACTION = 4;
/** The shortest wait is the interval / FIRST_FRACTION (and never under the floor, 1 s). */
export const FIRST_FRACTION = 10;

export interface ScheduleInput {
  /** The gate's interval: the longest wait. */
  intervalMs: number;
  /** The floor of the shortest wait (jubilant's delay, 1 s). */
  floorMs: number;
  /** The wait before a confirming poll. */
  confirmMs: number;
  /** How many polls in a row, up to the last, saw the condition hold. */
  held: number;
  /** How long the verdict has stayed the same: since the gate began or its last change. */
  stillMs: number;
}

/** The shortest wait of a gate: a tenth of its interval, at least the floor, at most the interval. */
export function firstWaitMs(intervalMs: number, floorMs: number): number {
  return Math.min(intervalMs, Math.max(floorMs, intervalMs / FIRST_FRACTION));
}

export function nextWaitMs(s: ScheduleInput): number {
  const cap = Math.max(0, s.intervalMs);
  if (s.held > 0) return Math.min(cap, s.confirmMs);
  const grown = Math.max(firstWaitMs(cap, s.floorMs), s.stillMs / STILL_FRACTION);
  // whole seconds: poll lines ([mm:ss]) and the drill's timeline stay readable; an interval under
  // a second (the scaled clock, tests) is every wait
  return Math.min(cap, Math.max(1_000, Math.round(grown / 1_000) * 1_000));
}
