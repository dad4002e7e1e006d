/**
 * The drill engine: the real program (program.ts) under mocks, where registering a Command runs
 * its create line for real. Pulumi's own dependency resolution orders the steps (a resource
 * registers only after everything it dependsOn has registered); there is no second copy of the
 * graph here. Like `pulumi up` by default, after the first failure no new step starts.
 */
import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import { restartProgram } from "../program";
import { catalog } from "../stages/catalog";
import { runUnderMocks } from "../plan/mock-engine";
import { runCreate, type CommandInputs } from "./executor";
import { hashInputs, loadState, saveState } from "./pulumi-state";

export type StepStatus = "passed" | "failed" | "unchanged" | "not-started" | "skipped";

export interface StepRun {
  name: string;
  stage: string;
  status: StepStatus;
  exitCode?: number;
  startMs?: number;
  endMs?: number;
  /** The step's own closing lines (its stderr on failure): what was expected, seen, the fix. */
  message?: string;
}

export interface EngineRun {
  steps: StepRun[];
  /** The first step that failed, if any. */
  failed?: StepRun;
  wallMs: number;
  programError?: unknown;
}

export interface EngineOptions {
  project: string;
  stack: string;
  config: Record<string, string>;
  /** The environment the `pulumi` process would have (PATH with coldstart, sim tools, keys). */
  env: NodeJS.ProcessEnv;
  /** Where the modelled Pulumi state lives (resume = same dir, same window). */
  stateDir: string;
  /** `pulumi up --parallel`: at most this many steps run at once (default: unbounded). */
  parallel?: number;
  /** Stop launching new steps once one fails (pulumi up's default). */
  stopOnFailure?: boolean;
  /** Cancel: stop launching new steps (running ones finish). */
  shouldStop?: () => boolean;
  onEvent?: (event: { kind: "start" | "finish"; step: StepRun; atMs: number }) => void;
  onOutput?: (step: string, stream: "stdout" | "stderr", line: string) => void;
}

export async function runEngine(opts: EngineOptions): Promise<EngineRun> {
  const start = Date.now();
  const state = loadState(opts.stateDir);
  const runs = new Map<string, StepRun>();
  let failed: StepRun | undefined;
  const slots = semaphore(opts.parallel ?? Number.POSITIVE_INFINITY);

  const execute = async (args: MockResourceArgs, inputs: Record<string, unknown>) => {
    const meta = catalog().steps.find((s) => s.name === args.name);
    const run: StepRun = { name: args.name, stage: meta?.stage ?? "", status: "not-started" };
    runs.set(args.name, run);
    if ((failed && opts.stopOnFailure !== false) || opts.shouldStop?.()) {
      throw new Error(`${args.name}: not started (an earlier step failed or the run was cancelled)`);
    }
    const hash = hashInputs(inputs);
    const stored = state.steps[args.name];
    if (stored && stored.inputsHash === hash) {
      run.status = "unchanged";
      return { stdout: stored.stdout, stderr: stored.stderr };
    }
    await slots.acquire();
    if ((failed && opts.stopOnFailure !== false) || opts.shouldStop?.()) {
      slots.release();
      throw new Error(`${args.name}: not started (an earlier step failed or the run was cancelled)`);
    }
    run.startMs = Date.now() - start;
    opts.onEvent?.({ kind: "start", step: run, atMs: run.startMs });
    const result = await runCreate(inputs as CommandInputs, opts.env, (stream, line) =>
      opts.onOutput?.(args.name, stream, line),
    ).finally(() => slots.release());
    run.endMs = Date.now() - start;
    run.exitCode = result.exitCode;
    if (result.exitCode !== 0) {
      run.status = "failed";
      run.message = result.stderr || result.stdout;
      failed ??= run;
      delete state.steps[args.name]; // a failed create is not written to state
      saveState(opts.stateDir, state);
      opts.onEvent?.({ kind: "finish", step: run, atMs: run.endMs });
      throw new Error(`${args.name}: exit ${result.exitCode}`);
    }
    run.status = "passed";
    state.steps[args.name] = { inputsHash: hash, stdout: result.stdout, stderr: result.stderr };
    saveState(opts.stateDir, state);
    opts.onEvent?.({ kind: "finish", step: run, atMs: run.endMs });
    return { stdout: result.stdout, stderr: result.stderr };
  };

  const result = await runUnderMocks(() => restartProgram(opts.env), {
    project: opts.project,
    stack: opts.stack,
    preview: false,
    config: opts.config,
    execute,
  });
  // Steps the program declared but that never reached the engine: their dependencies failed.
  const steps = catalog().steps.map(
    (s) => runs.get(s.name) ?? { name: s.name, stage: s.stage, status: "skipped" as const },
  );
  return { steps, failed, wallMs: Date.now() - start, programError: result.programError };
}

/** A counting semaphore: the engine's --parallel. */
function semaphore(limit: number): { acquire(): Promise<void>; release(): void } {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    acquire: () => {
      if (active < limit) {
        active++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release: () => {
      const next = waiting.shift();
      if (next) next();
      else active--;
    },
  };
}
