/** The maintenance engine over the simulated cloud: the drill engine from `coldstart drill`. */
import * as path from "node:path";
import { makePlan } from "../plan/plan";
import type { Plan } from "../plan/model";
import { runDrill } from "../drill/drill";
import type { MaintenanceEngine, StepEvent, UpOptions, UpResult } from "./engine";

export interface DrillEngineOptions {
  stack: string;
  scenario: string;
  dir: string;
  timeScale?: number;
  /** Continue an earlier run of the same window in `dir` (same as `coldstart drill --resume`). */
  resume?: boolean;
}

export class DrillEngine implements MaintenanceEngine {
  readonly name = "drill (simulated cloud)";
  constructor(private readonly opts: DrillEngineOptions) {}

  preview(window: string): Promise<Plan> {
    return makePlan({ stack: this.opts.stack, window, mode: "planned" });
  }

  recordDir(): string {
    return path.join(path.resolve(this.opts.dir), "records");
  }

  async up(window: string, opts: UpOptions): Promise<UpResult> {
    const report = await runDrill({
      stack: this.opts.stack,
      scenario: this.opts.scenario,
      mode: "planned",
      window,
      dir: this.opts.dir,
      resume: this.opts.resume,
      timeScale: this.opts.timeScale,
      keysEnv: opts.env,
      shouldStop: () => opts.signal.aborted,
      onEvent: ({ kind, step, atMs }) => {
        const event: StepEvent = { kind, step: step.name, atMs };
        if (kind === "finish") {
          event.status = step.status === "failed" ? "failed" : "passed";
          if (step.status === "failed") event.message = step.message;
        }
        opts.onEvent(event);
      },
    });
    const unchanged = report.steps.filter((s) => s.status === "unchanged").map((s) => s.name);
    if (report.failed) {
      return {
        result: "failed",
        failedStep: report.failed.step,
        failedExitCode: report.failed.exitCode,
        message: report.failed.message,
        unchanged,
      };
    }
    const notRun = report.steps.some((s) => s.status === "not-started" || s.status === "skipped");
    return { result: notRun && opts.signal.aborted ? "cancelled" : "succeeded", unchanged };
  }
}
