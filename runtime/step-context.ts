/** Everything a step needs from the outside world, injectable so tests reach every branch. */
import type { Clock } from "./clock";
import type { Exec } from "./exec";
import type { CancelCheck } from "./cancel";

export interface Reporter {
  /** One human line (or, with --json, one JSON object) on stdout. */
  line(text: string, data?: Record<string, unknown>): void;
  /** A warning on stderr as `WARNING: ...` (still never a secret). */
  warn(text: string): void;
}

export interface StepContext {
  exec: Exec;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  out: Reporter;
  /** Bound on one external call (juju / openstack / vault). */
  callTimeoutMs: number;
  /** Whether the run is being cancelled (runtime/cancel.ts); gates stop between polls when it says so. */
  cancelled?: CancelCheck;
  /** Clock time by which the step (or the gate polling now) must be done; calls are cut at it (runtime/deadline.ts). */
  deadline?: number;
}

export function consoleReporter(
  json: boolean,
  write = (s: string) => process.stdout.write(s),
  warn = (s: string) => process.stderr.write(s),
): Reporter {
  return {
    line: (text, data) => write(json ? JSON.stringify({ message: text, ...data }) + "\n" : text + "\n"),
    // Upper case, as RAN:/SKIPPED:: the drill and maintenance consoles pass such lines on at once.
    warn: (text) => warn(`WARNING: ${text}\n`),
  };
}
