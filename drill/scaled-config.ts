/**
 * A sim on the scaled clock (preflight --scenario; drills before issue #14 ran on it) gets the stack's timing scaled like the cloud's
 * (one simulated minute = 100 ms by default): every gate timeout and poll interval, and the
 * Octavia grace, shrink by the same factor, so the gates wait in the same proportion as on
 * the real cloud. One juju/openstack call keeps a real floor: a process still takes real time.
 */
import type { Config } from "../config/schema";
import { formatDuration } from "../config/duration";
import { GATE_SUCCESSES } from "../steps/outcome";

/** The shortest poll interval a drill uses: below this the fake tools' start-up dominates. */
export const MIN_INTERVAL_MS = 20;

/**
 * Real time one poll of a gate takes in a drill (a few fake-tool processes), which the time scale
 * cannot shrink. A gate passes only after GATE_SUCCESSES polls in a row (steps/outcome.ts): the
 * confirming polls get this much real time each on top of the scaled timeout.
 */
export const CONFIRM_POLL_MS = 1_000;

export function scaledGates(config: Config, timeScale: number, callTimeoutMs: number): Record<string, unknown> {
  const scale = (ms: number, floor: number) => formatDuration(Math.max(floor, Math.round(ms * timeScale)));
  // One call keeps a real floor (a process still takes real time) plus its scaled bound, so a
  // changed commandTimeout still changes the steps' inputs, as it would on the real cloud.
  const out: Record<string, unknown> = {
    commandTimeout: formatDuration(callTimeoutMs + Math.round(config.gates.commandTimeout * timeScale)),
  };
  for (const [name, value] of Object.entries(config.gates)) {
    if (typeof value === "number") continue;
    const confirm = (GATE_SUCCESSES - 1) * CONFIRM_POLL_MS;
    out[name] = {
      timeout: formatDuration(Math.max(200, Math.round(value.timeout * timeScale)) + confirm),
      interval: scale(value.interval, MIN_INTERVAL_MS),
    };
  }
  return out;
}

export function scaledGrace(config: Config, timeScale: number): string {
  return formatDuration(Math.max(MIN_INTERVAL_MS, Math.round(config.octaviaErrorGrace * timeScale)));
}
