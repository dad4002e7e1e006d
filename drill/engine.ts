/**
 * The drill engine: the real program (program.ts) under mocks, where registering a Command runs
 * it for real, the way `pulumi up` with pulumi-command v1.2.1 would. Pulumi's own dependency
 * resolution orders the steps (a resource registers only after everything it dependsOn has
 * registered); there is no second copy of the graph here. What the engine and provider do and
 * this models (sources in drill/pulumi-state.ts and drill/executor.ts):
 * - create / replace / update / same from the modelled state; update runs `update`;
 * - customTimeouts.create kills the step's shell at the deadline (whole seconds);
 * - cancel (pulumi's first Ctrl-C) kills every running step's shell and starts nothing new;
 * - after the first failure no new step starts (pulumi up without --continue-on-error).
 */
import { occurrenceMatcher } from "./at-call";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import { restartProgram } from "../program";
import type { StepInfo } from "../stages/step-def";
import { runUnderMocks } from "../plan/mock-engine";
import { parseDurationMs } from "../config/duration";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { notableOutput } from "../automation/engine";
import { CALL_LOG } from "../sim/call-log";
import { cancelRunningSteps, killStepGroup, runCommand, type CommandInputs, type CommandResult } from "./executor";
import { diffStep, hashStep, loadState, saveState, type StepOp } from "./pulumi-state";
import type { SimClockServer } from "./sim-clock";

export type StepStatus = "passed" | "failed" | "unchanged" | "not-started" | "skipped";

export interface StepRun {
  name: string;
  stage: string;
  status: StepStatus;
  /** What the engine did with it: create, replace (new window), update (inputs changed), same. */
  op?: StepOp;
  exitCode?: number;
  /** The step's shell was killed by the provider: at customTimeouts, or by the engine's cancel. */
  killedBy?: "timeout" | "cancel";
  startMs?: number;
  endMs?: number;
  /** Drills on the discrete-event clock: cloud seconds since this run began, at spawn / at close. */
  simStart?: number;
  simEnd?: number;
  /** The step's own closing lines (its stderr on failure): what was expected, seen, the fix. */
  message?: string;
}

export interface EngineRun {
  steps: StepRun[];
  /** The first step that failed, if any. */
  failed?: StepRun;
  /** The engine was cancelled (cancel()): no step started after it. */
  cancelled: boolean;
  /** The steps running when the cancel came (their shells were killed), in start order. */
  inFlightAtCancel?: string[];
  /** opts.interrupt fired: at that step's call (the call log's line), or at its first output line. */
  interruptedAt?: { step: string; call?: string };
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
  /** The engine's cancel, like pulumi's first Ctrl-C: running steps' shells are killed. */
  cancel?: AbortSignal;
  /** Start no new step from now on (running ones are left alone). */
  shouldStop?: () => boolean;
  /**
   * Drills only: interrupt this step mid-way, at its first cloud call (the sim's call log,
   * `<COLDSTART_SIM_DIR>/calls.jsonl`, names the step of each call, logged as the call ends), or
   * at its first call that starts with `call` ("juju run"): a step may print a line before it
   * acts. "cancel" is the engine's cancel (pulumi's first Ctrl-C) at that moment; "kill" SIGKILLs
   * the step's whole process group, as a lost jumphost or `kill -9` would, and the run stops there.
   */
  interrupt?: { step: string; how: "cancel" | "kill"; call?: string };
  /** start / finish of a step; output: a line the console shows at once (automation/engine.ts notableOutput). */
  onEvent?: (event: { kind: "start" | "finish" | "output"; step: StepRun; atMs: number; line?: string }) => void;
  onOutput?: (step: string, stream: "stdout" | "stderr", line: string) => void;
  /** Every step the program declared, as soon as it has built the graph (before any step runs). */
  onProgram?: (steps: readonly StepInfo[]) => void;
  /**
   * Drills: the discrete-event clock (drill/sim-clock.ts). Every step shell is a token, its
   * customTimeouts a cloud-time timer; which step starts when (a slot, "may start" after a
   * failure) and the interrupt are decided at quiescence in the catalog's order.
   */
  clock?: SimClockServer;
}

/** Go's exec error text for how the shell ended (what the provider puts before the output). */
function goExitText(result: CommandResult): string {
  if (result.startError) return result.startError;
  return result.signal
    ? `signal: ${result.signal === "SIGKILL" ? "killed" : result.signal}`
    : `exit status ${result.exitCode}`;
}

export async function runEngine(opts: EngineOptions): Promise<EngineRun> {
  const start = Date.now();
  const clock = opts.clock;
  const simBegin = clock?.nowMs() ?? 0;
  const simSeconds = () => ((clock?.nowMs() ?? 0) - simBegin) / 1000;
  const state = loadState(opts.stateDir);
  let declared: readonly StepInfo[] = [];
  const limit = opts.parallel ?? Number.POSITIVE_INFINITY;
  let active = 0;
  const runs = new Map<string, StepRun>();
  let failed: StepRun | undefined;
  let cancelled = false;
  let inFlightAtCancel: string[] | undefined;
  let interruptedAt: EngineRun["interruptedAt"];
  let lost = false;
  const slots = semaphore(opts.parallel ?? Number.POSITIVE_INFINITY);
  const onCancel = () => {
    if (!cancelled)
      inFlightAtCancel = [...runs.values()]
        .filter((r) => r.startMs !== undefined && r.endMs === undefined)
        .sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0))
        .map((r) => r.name);
    cancelled = true;
    cancelRunningSteps();
  };
  if (opts.cancel?.aborted) cancelled = true;
  opts.cancel?.addEventListener("abort", onCancel, { once: true });
  const mayStart = () => !cancelled && !lost && !(failed && opts.stopOnFailure !== false) && !opts.shouldStop?.();

  const execute = async (args: MockResourceArgs, inputs: Record<string, unknown>, meta: { createTimeout: string }) => {
    // the stage the program gave the step, as the Command's own environment says it
    const stage = (inputs.environment as Record<string, unknown> | undefined)?.COLDSTART_STAGE;
    const run: StepRun = { name: args.name, stage: typeof stage === "string" ? stage : "", status: "not-started" };
    runs.set(args.name, run);
    const notStarted = () => new Error(`${args.name}: not started (an earlier step failed or the run was cancelled)`);
    if (!clock && !mayStart()) throw notStarted();
    const hashes = hashStep(inputs);
    const stored = state.steps[args.name];
    run.op = diffStep(stored, hashes);
    const op = run.op;
    if (clock) {
      // at quiescence, in catalog order: a failure at this same instant is always seen first
      const order = declared.findIndex((s) => s.name === args.name);
      const admitted = await clock.admit(order < 0 ? declared.length : order, () => {
        if (!mayStart()) return "no";
        if (op === "same") return "go";
        if (active >= limit) return "wait";
        active++;
        return "go";
      });
      if (admitted === "no") throw notStarted();
    }
    if (run.op === "same") {
      run.status = "unchanged";
      return { stdout: stored.stdout, stderr: stored.stderr };
    }
    if (!clock) {
      await slots.acquire();
      if (!mayStart()) {
        slots.release();
        throw notStarted();
      }
    }
    const cmd = inputs as CommandInputs;
    const command = run.op === "update" ? (cmd.update ?? cmd.create ?? "") : (cmd.create ?? "");
    // On update the provider adds the previous outputs when non-empty, unless addPreviousOutputInEnv
    // is false (pulumi-command v1.2.1 commandOutputs.go `run`).
    const previous: Record<string, string> = {};
    const addPrevious = run.op === "update" && cmd.addPreviousOutputInEnv !== false;
    if (addPrevious && stored?.stdout) previous.PULUMI_COMMAND_STDOUT = stored.stdout;
    if (addPrevious && stored?.stderr) previous.PULUMI_COMMAND_STDERR = stored.stderr;
    run.startMs = Date.now() - start;
    if (clock) run.simStart = simSeconds();
    opts.onEvent?.({ kind: "start", step: run, atMs: clock ? simSeconds() * 1000 : run.startMs });
    let shell: ChildProcess | undefined;
    let interrupted = false;
    /** A kill's own token: busy (never connected) until the killed shell closes. */
    let killing: { id: string } | undefined;
    const interrupt = (call?: string) => {
      if (!opts.interrupt || interrupted || !shell) return;
      interrupted = true;
      interruptedAt = { step: args.name, ...(call === undefined ? {} : { call }) };
      if (opts.interrupt.how === "cancel") onCancel();
      else {
        lost = true; // the jumphost is gone: nothing else starts either
        // no cloud time passes until the killed processes are gone: their sockets close after the
        // kill returns, and a wait of theirs must not wake meanwhile (a tool call answered in this
        // process, drill/tool-server.ts, would go on as if its client were alive)
        killing = clock?.spawnToken(`${args.name} (killed: until its shell closes)`);
        killStepGroup(shell);
      }
    };
    // with the clock the call log is read at each quiescence: the interrupt lands at the call's
    // cloud instant, whatever the machine's speed; otherwise every 10 real ms
    const watch =
      opts.interrupt?.step === args.name
        ? watchCalls(opts.env.COLDSTART_SIM_DIR, args.name, opts.interrupt.call, interrupt, clock)
        : undefined;
    const token = clock?.spawnToken(args.name);
    const result = await runCommand(
      command,
      cmd,
      { ...opts.env, ...previous, ...token?.env },
      {
        timeoutMs: parseDurationMs(meta.createTimeout),
        timer: clock?.timer,
        onSpawn: (child) => (shell = child),
        onLine: (stream, line) => {
          opts.onOutput?.(args.name, stream, line);
          if (notableOutput(line))
            opts.onEvent?.({ kind: "output", step: run, atMs: clock ? simSeconds() * 1000 : Date.now() - start, line });
          // no call log to watch (not a drill's sim): the first output line is mid-way enough
          if (opts.interrupt?.step === args.name && !watch) interrupt();
        },
      },
    ).finally(() => {
      watch?.stop();
      if (token) clock?.endToken(token.id);
      if (killing) clock?.endToken(killing.id);
      if (clock) active--;
      else slots.release();
    });
    run.endMs = Date.now() - start;
    if (clock) run.simEnd = simSeconds();
    const endAt = clock ? simSeconds() * 1000 : run.endMs;
    run.exitCode = result.exitCode ?? undefined;
    if (result.exitCode !== 0) {
      run.status = "failed";
      if (result.killedBy) run.killedBy = result.killedBy;
      const output = [result.stdout, result.stderr].filter(Boolean).join("\n");
      run.message = result.signal
        ? `${goExitText(result)}: running ${JSON.stringify(command)}:\n${output}`
        : result.stderr || result.stdout;
      failed ??= run;
      // A failed create is not written to state; a failed update or replace keeps the old state.
      opts.onEvent?.({ kind: "finish", step: run, atMs: endAt });
      throw new Error(`${args.name}: ${goExitText(result)}`);
    }
    run.status = "passed";
    state.steps[args.name] = { ...hashes, stdout: result.stdout, stderr: result.stderr };
    saveState(opts.stateDir, state);
    opts.onEvent?.({ kind: "finish", step: run, atMs: endAt });
    return { stdout: result.stdout, stderr: result.stderr };
  };

  try {
    const result = await runUnderMocks(
      () => {
        declared = restartProgram(opts.env).registered.steps;
        opts.onProgram?.(declared);
      },
      {
        project: opts.project,
        stack: opts.stack,
        preview: false,
        config: opts.config,
        execute,
      },
    );
    // Steps the program declared but that never reached the engine: their dependencies failed.
    const steps = declared.map((s) => runs.get(s.name) ?? { name: s.name, stage: s.stage, status: "skipped" as const });
    return {
      steps,
      failed,
      cancelled,
      ...(inFlightAtCancel ? { inFlightAtCancel } : {}),
      ...(interruptedAt ? { interruptedAt } : {}),
      wallMs: Date.now() - start,
      programError: result.programError,
    };
  } finally {
    opts.cancel?.removeEventListener("abort", onCancel);
  }
}

/**
 * Watch the sim's call log for `step`'s first call (that starts with `prefix`, if given), read as
 * it grows (one line per call, appended whole: sim/call-log.ts). Undefined without a sim dir.
 */
function watchCalls(
  simDir: string | undefined,
  step: string,
  prefix: string | undefined,
  hit: (call: string) => void,
  clock?: SimClockServer,
): { stop(): void } | undefined {
  if (!simDir) return undefined;
  const file = path.join(simDir, CALL_LOG);
  let offset = fileSize(file);
  let partial = "";
  let stopped = false;
  const matches = occurrenceMatcher(prefix);
  /** Read what the log gained; true when the call was seen (and `hit` called). */
  const check = (): boolean => {
    if (stopped) return false;
    const size = fileSize(file);
    if (size <= offset) return false;
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(size - offset);
    try {
      fs.readSync(fd, buf, 0, buf.length, offset);
    } finally {
      fs.closeSync(fd);
    }
    offset = size;
    const lines = (partial + buf.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      let call: { step?: string; tool?: string; argv?: string[] };
      try {
        call = JSON.parse(line) as typeof call;
      } catch {
        continue;
      }
      if (call.step !== step) continue;
      if (!matches(call)) continue; // the prefix's N-th call (drill/at-call.ts), or the step's first
      const text = `${call.tool ?? ""} ${(call.argv ?? []).join(" ")}`;
      stopped = true;
      hit(text);
      return true;
    }
    return false;
  };
  if (clock) {
    clock.onQuiescence(check);
    return { stop: () => (stopped = true) };
  }
  const timer = setInterval(() => check() && clearInterval(timer), 10);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
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
