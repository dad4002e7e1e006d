/**
 * When a step must stop at its next safe point. Three ways a run is cancelled, one answer:
 * - a stop request in the window's record directory (`maintenance`'s first Ctrl-C/SIGTERM, or an
 *   operator: `touch <recordDir>/<window>.stop`);
 * - the engine cancelled: `pulumi up`'s first Ctrl-C makes the command provider kill the step's
 *   /bin/sh (pulumi-go-provider middleware/cancel/cancel.go -> exec.CommandContext); coldstart,
 *   its forked child (stages/command-line.ts KEEP_CHILD), sees its parent change;
 * - this process got SIGINT/SIGTERM (a terminal Ctrl-C that reached the step itself).
 * Safe points: before a step starts (nothing is done), and a gate between polls. An action that
 * has begun changing the cloud always finishes. A second signal to the step ends it at once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expandHome } from "./record";

/**
 * What the n-th Ctrl-C / SIGTERM to `coldstart maintenance` does (README "Ctrl-C"), escalating:
 * 1. stop-request: the window's stop file only; the engine is not touched (running actions finish,
 *    gates stop between polls, no new step starts);
 * 2. engine-cancel: the engine's own cancel (one SIGINT to pulumi: its cancel);
 * 3. terminate: the engine's terminate (a second SIGINT to pulumi: its terminate);
 * 4. exit-now: maintenance exits at once without waiting for the engine.
 */
export type Interrupt = "stop-request" | "engine-cancel" | "terminate" | "exit-now";

export function interruptFor(count: number): Interrupt {
  if (count <= 1) return "stop-request";
  if (count === 2) return "engine-cancel";
  if (count === 3) return "terminate";
  return "exit-now";
}

export function stopFile(recordDir: string, window: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(expandHome(recordDir, env), `${window}.stop`);
}

export interface StopRequest {
  by: string;
  at: string;
  why: string;
}

/** Ask every step of the window to stop at its next safe point (running actions finish). */
export function requestStop(file: string, request: StopRequest): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(request) + "\n", { mode: 0o600 });
}

export function readStop(file: string): StopRequest | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as StopRequest;
  } catch {
    return { by: "unknown", at: "unknown", why: `stop file ${file} (unreadable: any content counts)` };
  }
}

/** Returns why the run is being cancelled, or undefined to go on. */
export type CancelCheck = () => string | undefined;

export interface CancelWatchOptions {
  env: NodeJS.ProcessEnv;
  /** Listen for SIGINT/SIGTERM (the step CLI does; tests and in-process callers do not). */
  signals?: boolean;
  /** The parent's pid now; a different one later means our shell was killed. */
  parentPid?: () => number;
}

export function watchCancel(opts: CancelWatchOptions): CancelCheck {
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = opts.env;
  const file = window && recordDir ? stopFile(recordDir, window, opts.env) : undefined;
  const parentPid = opts.parentPid ?? (() => process.ppid);
  const firstParent = parentPid();
  let signalled: string | undefined;
  if (opts.signals) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(130); // the second signal: stop at once
      signalled = signal;
      process.stderr.write(
        `coldstart: ${signal}: this step stops at its next safe point (an action in progress finishes); signal again to stop at once\n`,
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  return () => {
    if (signalled) return `${signalled} received by this step`;
    if (parentPid() !== firstParent)
      return "the engine stopped waiting for this step (its shell was killed: pulumi's cancel or its customTimeouts)";
    const stop = file ? readStop(file) : undefined;
    if (stop) return `stop requested by ${stop.by} at ${stop.at} (${stop.why}); to run again, remove ${file}`;
    return undefined;
  };
}
