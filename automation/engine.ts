/**
 * "The engine" that CI-invoked planned maintenance drives: preview, then up with live step
 * events, cancellable. Two implementations: the Pulumi Automation API (the real cloud) and the
 * drill engine (the simulated cloud; the Pulumi CLI cannot be installed on our machines).
 */
import type { Plan } from "../plan/model";
import type { PreviewSummary } from "./preview-summary";

export interface StepEvent {
  /**
   * start / finish of a step; output: one line the step printed that the console shows at once
   * (notableOutput below: whether the destructive action RAN or was SKIPPED, every WARNING,
   * a BLOCKER), prefixed by the step's name.
   */
  kind: "start" | "finish" | "output";
  step: string;
  /** For output: the line as the step printed it. */
  line?: string;
  /** For finish: passed, failed, or unchanged (already done in this window). */
  status?: "passed" | "failed";
  /** Milliseconds since up() started. */
  atMs: number;
  /** For a failed step: its closing lines (expected / saw / fix). */
  message?: string;
}

/**
 * A step's output line the console shows as it happens: `RAN:`, `FOLLOWED:`, `SKIPPED:`, `WARNING:` or
 * `BLOCKER:` at its start (any case; `warning: ...` is how older steps warned on stderr).
 */
export function notableOutput(line: string): boolean {
  return /^\s*(RAN|FOLLOWED|SKIPPED|WARNING|BLOCKER):/i.test(line);
}

/** How a console prints an output event: `<step>: <line>`. */
export function outputLine(e: Pick<StepEvent, "step" | "line">): string {
  return `${e.step}: ${(e.line ?? "").trim()}`;
}

export interface UpResult {
  result: "succeeded" | "failed" | "cancelled";
  /** The first step that failed. */
  failedStep?: string;
  /** That step's exit code when known (1 gate failed, 3 blocker, ...). */
  failedExitCode?: number;
  message?: string;
  /** Steps that were already done in this window (resume). */
  unchanged: string[];
}

export interface UpOptions {
  onEvent: (event: StepEvent) => void;
  /**
   * The engine's own cancel (maintenance's second signal): one SIGINT to the pulumi CLI, which
   * kills running steps' shells; coldstart under them still ends at a safe point. The first
   * signal is not this: it is the window's stop request (runtime/cancel.ts).
   */
  signal: AbortSignal;
  /**
   * The engine's terminate (maintenance's third signal): pulumi's second SIGINT. An engine with
   * `terminateGraceMs` ends up() by itself within that time; one without is stopped by the driver.
   */
  terminate?: AbortSignal;
  /** Environment for the steps: unseal keys and credentials travel only this way. */
  env: Record<string, string>;
}

/** What the approval shows. */
export interface EnginePreview {
  /** The readable plan (the same program under mocks): order, stages, destructive steps. */
  plan: Plan;
  /** The engine's own preview: what it will do with each step, in which mode, resume or not. */
  preview: PreviewSummary;
}

export interface MaintenanceEngine {
  readonly name: string;
  preview(window: string): Promise<EnginePreview>;
  /**
   * Run the window as the last preview(window) showed it. The Pulumi engine holds the engine to
   * that preview (an update plan) and refuses to do anything else.
   */
  up(window: string, opts: UpOptions): Promise<UpResult>;
  /** Where the steps append the window's as-executed record. */
  recordDir(): string;
  /**
   * After `terminate`, how long up() may take to return by itself (pulumi: its plugins' 5 s
   * SIGKILL and margin). Absent: the engine runs in this process and the driver stops it at once.
   */
  readonly terminateGraceMs?: number;
  /**
   * The clock the steps write the record by, when it is not the real one (a drill's is the
   * cloud's): maintenance's own record lines use it too, one clock per record (issue #23).
   */
  now?(): Date;
}

/** The stack is locked by another update (Automation API ConcurrentUpdateError). */
export class StackLockedError extends Error {
  override readonly name = "StackLockedError";
}
