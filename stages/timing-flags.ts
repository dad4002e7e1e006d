import type { GateTiming } from "../config/schema";
import { formatDuration } from "../config/duration";

/** `--timeout 15m --interval 15s`: every gate states in its own line how long it waits. */
export function timingFlags(timing: GateTiming): { timeout: string; interval: string } {
  return { timeout: formatDuration(timing.timeout), interval: formatDuration(timing.interval) };
}
