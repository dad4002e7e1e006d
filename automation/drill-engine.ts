/** The maintenance engine over the simulated cloud: the drill engine from `coldstart drill`. */
import * as path from "node:path";
import { PREVIEW_WINDOW, runPlanProgram } from "../plan/plan";
import type { RegisteredResource } from "../plan/mock-engine";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import type { Mode } from "../config/schema";
import { DEFAULT_CALL_TIMEOUT_MS, readSavedDrill, runDrill } from "../drill/drill";
import { diffStep, hashStep, loadState } from "../drill/pulumi-state";
import { parseStackValues } from "../config/load";
import { applySets } from "../config/overrides";
import { drillProgramConfig, type DrillSim } from "../drill/program-config";
import { simLayout } from "../sim/setup";
import { readClockFileMs, SIM_EPOCH_MS } from "../runtime/clock-file";
import type { EnginePreview, MaintenanceEngine, StepEvent, UpOptions, UpResult } from "./engine";
import { STEP_TYPE } from "./pulumi-events";
import { opsAgainstState, summarise, type ModeInForce, type StepFingerprint } from "./preview-summary";

export interface DrillEngineOptions {
  stack: string;
  scenario: string;
  dir: string;
  /** Demo pacing only (drill/drill.ts DrillOptions.timeScale): the timeline is the same without it. */
  timeScale?: number;
  /** Continue an earlier run of the same window in `dir` (same as `coldstart drill --resume`). */
  resume?: boolean;
  /** `--set key=value` overrides of the stack's values, as `coldstart drill --set` (config/overrides.ts). */
  set?: string[];
}

/** A maintenance drill runs a planned window (up() below); COLDSTART_* never reaches a drill's program. */
const DRILL_MODE: Mode = "planned";

export class DrillEngine implements MaintenanceEngine {
  readonly name = "drill (simulated cloud)";
  constructor(private readonly opts: DrillEngineOptions) {}

  /**
   * The drill engine's own preview: the program's step inputs compared with the drill's modelled
   * Pulumi state by the drill engine's own diff (drill/pulumi-state.ts diffStep), as runEngine
   * will compare them. A fresh drill starts from no state (drill/drill.ts create() removes
   * pulumi-state.json), so every step is a create; a resumed one is compared with the program as
   * the resumed drill will run it. Unlike Pulumi's update plans, nothing holds up() to this
   * preview: between the two only this run touches the drill's folder.
   */
  async preview(window: string): Promise<EnginePreview> {
    const dir = path.resolve(this.opts.dir);
    if (!this.opts.resume) {
      const mode: ModeInForce = { mode: DRILL_MODE, from: "a maintenance drill runs a planned window" };
      const { plan, resources } = await runPlanProgram({
        stack: this.opts.stack,
        window,
        mode: mode.mode,
        overrides: this.overrides(),
      });
      return { plan, preview: summarise(opsAgainstState(fingerprints(resources), {}, diffStep), order(plan), mode) };
    }
    const saved = readSavedDrill(dir);
    const mode: ModeInForce = {
      mode: saved.sim.mode,
      from: `the resumed drill's mode (${path.join(dir, "drill.json")})`,
    };
    const { plan, resources } = await runPlanProgram({
      stack: this.opts.stack,
      window,
      mode: mode.mode,
      // the sim's paths derived as the resumed drill derives them, never read from drill.json (issue #21)
      overrides: resumedConfig(
        this.opts.stack,
        dir,
        window,
        { ...saved.sim, ...simLayout(path.join(dir, "cloud")) },
        this.opts.set,
      ),
    });
    const stored = loadState(dir).steps;
    return { plan, preview: summarise(opsAgainstState(fingerprints(resources), stored, diffStep), order(plan), mode) };
  }

  /** The stack's values after --set, for the preview's program (as runDrill applies them). */
  private overrides(): Record<string, string> | undefined {
    if (!this.opts.set?.length) return undefined;
    return applySets(readStackConfig(findProjectDir(), this.opts.stack).values, this.opts.set);
  }

  recordDir(): string {
    return path.join(path.resolve(this.opts.dir), "records");
  }

  /** The drill's cloud time (<dir>/cloud/clock, as every step reads it); the cloud's start before the drill made it. */
  now(): Date {
    let t = 0;
    try {
      t = readClockFileMs(path.join(path.resolve(this.opts.dir), "cloud", "clock"));
    } catch {
      // no clock yet: the drill has not begun, its cloud is at its start
    }
    return new Date(SIM_EPOCH_MS + t);
  }

  async up(window: string, opts: UpOptions): Promise<UpResult> {
    const report = await runDrill({
      stack: this.opts.stack,
      scenario: this.opts.scenario,
      mode: DRILL_MODE,
      window,
      dir: this.opts.dir,
      resume: this.opts.resume,
      timeScale: this.opts.timeScale,
      set: this.opts.set,
      // no keys from opts.env: the drill unseals with its scenario's keys, never the operator's (issue #21)
      cancel: opts.signal, // the engine's cancel, as pulumi's: running steps' shells are killed
      // maintenance holds the window's lock and gives its run id to the steps' environment
      runId: opts.env.COLDSTART_RUN_ID,
      onEvent: ({ kind, step, atMs, line }) => {
        const event: StepEvent = { kind, step: step.name, atMs, ...(kind === "output" ? { line } : {}) };
        if (kind === "finish") {
          event.status = step.status === "failed" ? "failed" : "passed";
          if (step.status === "failed") event.message = step.message;
        }
        opts.onEvent(event);
      },
    });
    const unchanged = report.steps.filter((s) => s.status === "unchanged").map((s) => s.name);
    if (report.cancelled) return { result: "cancelled", failedStep: report.failed?.step, unchanged };
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

const order = (plan: EnginePreview["plan"]) => plan.steps.map((s) => s.name);

/** Each step's hashes, computed the way the drill engine computes them when it runs the step. */
function fingerprints(resources: RegisteredResource[]): StepFingerprint[] {
  return resources.filter((r) => r.type === STEP_TYPE).map((r) => ({ name: r.name, ...hashStep(r.inputs) }));
}

/**
 * The config a resumed drill gives the program, built by the drill's own builder with the
 * maintenance driver's defaults (its own --set only: the per-run unseal setting; the default call
 * timeout; a resumed sim MAAS listens on the saved URL again, so hostsConfig is as saved).
 */
function resumedConfig(
  stackName: string,
  dir: string,
  window: string,
  sim: DrillSim,
  set: string[] = [],
): Record<string, string> {
  const values = applySets(readStackConfig(findProjectDir(), stackName).values, set);
  const base = parseStackValues(values, PREVIEW_WINDOW);
  return drillProgramConfig({ values, base, sim, dir, window, callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS });
}
