/**
 * `coldstart drill`: the whole restart, for real, against the simulated cloud. The committed
 * stack's program runs with the cloud's endpoints (fake juju/openstack/virsh on PATH, its openrc,
 * its cloud-assert) and the stack's own timing; the drill engine runs every step's create.
 * Time is the cloud's (issue #14): one discrete-event clock (drill/sim-clock.ts) shared by the
 * engine, the step processes and the fake tools moves only when every one of them waits, so the
 * timeline is the same on an idle or a loaded machine, and a drill's wall time is its CPU work.
 * A stack whose hosts are powered through MAAS gets the sim's MAAS API (sim/maas-api.ts), served
 * from this process for the whole run, with a fake API key that is never written down.
 *
 * One run at a time (issue #12): the drill holds its window's lock (`<dir>/records/<window>.lock`,
 * runtime/run-lock.ts, kind "drill") from before it clears anything of an earlier run until it
 * ends, cancelled or not; its steps inherit the run's id, so a step of anything else is refused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  createSimCloud,
  exportedKeys,
  osEnvOf,
  SIM_MAAS_KEY_VAR,
  simLayout,
  simState,
  withMaasUrl,
  type SimCloud,
  type SimPower,
} from "../sim/setup";
import { generateMaasApiKey, startSimMaas, type SimMaas } from "../sim/maas-api";
import { loadScenario } from "../sim/scenario";
import { criticalPath } from "../sim/critical-path";
import { KEY_VAR_PREFIX } from "../runtime/unseal-keys";
import { findProjectDir, readStackConfig, type StackConfig } from "../config/stack-files";
import type { Config } from "../config/schema";
import { makePlan, PREVIEW_WINDOW } from "../plan/plan";
import { handbackOf, renderHandback, type Handback } from "../runbook/handback";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { appendRecord, readRecord, recordFile, type RecordEntry } from "../runtime/record";
import { onCloudClock } from "../record/meta";
import { keepStepOutput } from "../record/step-output";
import { acquireRunLock, readRunLock, lockFile, type RunLock } from "../runtime/run-lock";
import type { StepInfo } from "../stages/step-def";
import { runEngine, type EngineOptions, type EngineRun, type StepRun } from "./engine";
import { EXIT } from "../runtime/exit-codes";
import { outputLine } from "../automation/engine";
import { parseStackValues } from "../config/load";
import { drillProgramConfig } from "./program-config";
import { applySets } from "../config/overrides";
import { startSimClock, type SimClockServer, type SimClockStats } from "./sim-clock";
import { startToolServer, type ToolServer } from "./tool-server";
import { stopRunningSteps } from "./executor";
import { writePrivateFile } from "../runtime/private-dir";
import { isRealSecret } from "../runtime/real-secrets";

export interface DrillOptions {
  stack: string;
  scenario: string;
  mode?: "planned" | "unplanned";
  window?: string;
  /** The drill's folder: the simulated cloud, the modelled Pulumi state, the record. */
  dir: string;
  /** Same dir and window as an earlier drill: continue after its last successful step. */
  resume?: boolean;
  /**
   * Pacing only (`--time-scale`, a demo): at least this many real seconds per cloud second. The
   * timeline is the same as without it, only slower to watch.
   */
  timeScale?: number;
  scale?: Parameters<typeof createSimCloud>[0]["scale"];
  /** One progress line per step start/finish. */
  progress?: (line: string) => void;
  /** Per-step events (the maintenance driver's live progress). */
  onEvent?: EngineOptions["onEvent"];
  /** Start no new step from now on (running ones are left alone). */
  shouldStop?: () => boolean;
  /** The engine's cancel, as pulumi's first Ctrl-C: running steps' shells are killed, nothing new starts. */
  cancel?: AbortSignal;
  /** `--set key=value` overrides of the stack's values (config/overrides.ts). */
  set?: string[];
  /** `--cancel-at <step>` / `--kill-at <step>`: interrupt that step mid-way (drill/engine.ts). */
  interrupt?: EngineOptions["interrupt"];
  /**
   * The caller (maintenance over the drill engine) holds this window's lock already, with this
   * run id: the drill does not take it again, its steps carry this id.
   */
  runId?: string;
  /** Given the run's stop-at-once (the second Ctrl-C) while it runs, undefined once it ended. */
  control?: (c: DrillControl | undefined) => void;
}

export interface DrillControl {
  /**
   * Stop at once: write report.json with what is known and a record line saying so, release the
   * window's lock. The caller then kills the steps and exits.
   */
  stopNow(why: string): void;
}

export interface DrillReport {
  stack: string;
  scenario: string;
  mode: string;
  window: string;
  dir: string;
  exitCode: number;
  wallMs: number;
  /** Every step; on the cloud's clock each has simStart/simEnd (cloud seconds since this run began). */
  steps: StepRun[];
  /** Cloud time (s since the simulated cloud began) when this run began: a resume continues the clock. */
  simStartS?: number;
  /** The restart in cloud time: in total and per stage (first start to last end of its steps). */
  recovery?: {
    cloudS: number;
    /** The scenario's own critical path (sim/critical-path.ts): what the cloud itself needs. */
    criticalPathS?: number;
    stages: { stage: string; cloudS: number; fromS: number; toS: number }[];
  };
  /** The clock's own work: advances of cloud time, wakes sent, quiescences, most tokens busy at once. */
  clock?: SimClockStats;
  failed?: { step: string; exitCode: number; message: string; killedBy?: "timeout" | "cancel" };
  /** The engine was cancelled: no step started after that. */
  cancelled: boolean;
  /** The steps running when the engine's cancel came (their shells killed). */
  inFlightAtCancel?: string[];
  /** Where --cancel-at/--kill-at fired: the step and the call (as the call log has it). */
  interruptedAt?: { step: string; call?: string };
  /** --cancel-at/--kill-at was asked for and never fired: why (the drill then never exits 0). */
  interruptNotReached?: string;
  /** Stopped at once (the second Ctrl-C): steps still running then were killed; this report is what was known. */
  stoppedAtOnce?: boolean;
  /**
   * A run that did not finish the window: the steps left, each with its manual procedure
   * (runbook/handback.ts), as the console's `continue by hand from <step>:` section says them.
   */
  handback?: Handback;
  recordFile: string;
  callLog: string;
}

/**
 * drill.json: what a resume needs that is data. Never a secret (the unseal keys are derived
 * again, the sim MAAS's API key is made afresh, its server started again on the same URL), and
 * never what decides what runs (issue #21): the sim's folder, its openrc and cloud-assert script,
 * PATH and the steps' environment are derived again from the run's folder and this checkout.
 */
interface SavedDrill {
  window: string;
  scenarioRef: string;
  sim: SavedSim;
}

const SAVED_SIM = [
  "scenario",
  "mode",
  "power",
  "hostsConfig",
  "jujuModel",
  "holdGuests",
  "clock",
  "timeScale",
] as const;
type SavedSim = Pick<SimCloud<SimPower>, (typeof SAVED_SIM)[number]>;

const DRILL_FILE = "drill.json";
/** Scaled clock only (preflight --scenario): the real floor of one fake juju/openstack call. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const dir = path.resolve(opts.dir);
  const projectDir = findProjectDir();
  const committed = readStackConfig(projectDir, opts.stack);
  const stack: StackConfig = { ...committed, values: applySets(committed.values, opts.set ?? []) };
  // The committed stack as a Config (its numbers and drivers; the window is the drill's own).
  const base = parseStackValues(stack.values, PREVIEW_WINDOW);
  const power: SimPower = base.hosts.some((h) => h.power.driver === "maas") ? "maas" : "virsh";
  const saved = opts.resume ? readSavedDrill(dir) : undefined;
  const window = opts.window ?? saved?.window ?? `drill-${loadScenario(opts.scenario).name}`;
  // The window's lock first: nothing of an earlier run is cleared or reattached without it.
  const lock = takeLock(dir, window, stack.stack, opts);
  try {
    if (lock.note) opts.progress?.(`note: ${lock.note}`);
    const sim = saved ? reattach(dir, saved) : create(dir, opts, power);
    // the clock before MAAS: MAAS answers on its time
    let fatal: string | undefined;
    const clock = await startSimClock({
      clockFile: path.join(sim.dir, "clock"),
      pace: opts.timeScale,
      onFatal: (message) => {
        fatal ??= message;
        opts.progress?.(message);
        stopRunningSteps(); // every step ends; the engine returns; the drill fails with the message
      },
    });
    // the fake tools' calls are answered in this process, on this clock (drill/tool-server.ts)
    let tools: ToolServer | undefined;
    let maas: SimMaas | undefined;
    try {
      tools = await startToolServer({ clock });
      if (sim.power === "maas") maas = await startMaas(sim, opts.resume === true, clock);
    } catch (err) {
      await tools?.close();
      await clock.close();
      throw err;
    }
    try {
      if (maas) sim.hostsConfig = withMaasUrl(sim.hostsConfig, maas.url);
      if (!opts.resume) saveDrill(dir, window, opts.scenario, sim);
      // stop-at-once ends the process: the lock is released there too, after the report
      const control: DrillOptions["control"] = (c) =>
        opts.control?.(
          c && {
            stopNow: (why) => {
              try {
                c.stopNow(why);
              } finally {
                lock.release();
              }
            },
          },
        );
      const report = await runOnSim(
        { ...opts, control },
        dir,
        projectDir,
        stack,
        base,
        sim,
        window,
        lock,
        clock,
        tools,
      );
      if (fatal) throw new Error(`${fatal}\n(report of what ran: ${path.join(dir, "report.json")})`);
      return report;
    } finally {
      await maas?.close();
      await tools.close();
      await clock.close();
    }
  } finally {
    opts.control?.(undefined);
    lock.release();
  }
}

/** The drill's own lock, or the caller's (maintenance) when it holds this window with opts.runId. */
function takeLock(
  dir: string,
  window: string,
  stack: string,
  opts: DrillOptions,
): Pick<RunLock, "env" | "release" | "note" | "file"> {
  const recordDir = path.join(dir, "records");
  if (opts.runId) {
    const file = lockFile(recordDir, window);
    const held = readRunLock(file);
    if (held.kind === "held" && held.holder.runId === opts.runId)
      return {
        file,
        env: { COLDSTART_RUN_ID: opts.runId, COLDSTART_RUN_KIND: held.holder.kind },
        release: () => undefined,
      };
  }
  return acquireRunLock({ recordDir, window, stack, kind: "drill", env: process.env });
}

async function runOnSim(
  opts: DrillOptions,
  dir: string,
  projectDir: string,
  stack: StackConfig,
  base: Config,
  sim: SimCloud<SimPower>,
  window: string,
  lock: Pick<RunLock, "env">,
  clock: SimClockServer,
  tools: ToolServer,
): Promise<DrillReport> {
  const config = drillProgramConfig({
    values: stack.values,
    base,
    sim,
    dir,
    window,
    callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
  });
  const simStartMs = clock.nowMs();
  // The environment `pulumi up` would have: coldstart and the cloud's tools on PATH, the
  // scenario's unseal keys, and none of the operator's (no key, no Pulumi credential: a
  // rehearsal never holds real secrets, issue #21).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COLDSTART_/.test(k) && !isRealSecret(k)) env[k] = v;
  Object.assign(env, sim.env, { PATH: `${path.join(projectDir, "bin")}${path.delimiter}${sim.env.PATH}` });
  // The run's id: this run's steps pass the window's lock, anything else's are refused.
  Object.assign(env, lock.env);
  // Where the fake tools' calls go (the shims' thin client): set on every step shell, as the clock's vars are.
  Object.assign(env, tools.env);
  const recordPath = recordFile(path.join(dir, "records"), window);
  const callLog = path.join(sim.dir, "calls.jsonl");
  // what every report.json of this run says, however the run ends
  const about = {
    stack: stack.stack,
    scenario: sim.scenario,
    mode: sim.mode,
    window,
    dir,
    recordFile: recordPath,
    callLog,
  };
  const runStart = new Date();
  /** Every step the engine reached, as it goes (the stop-at-once report is built from these). */
  const seen = new Map<string, StepRun>();
  /** Every step this run's program declared (the engine says so once it has built the graph). */
  let declared: readonly StepInfo[] = [];
  const runLine = (exitCode: number, summary: string): void => {
    const entry: RecordEntry & { runId?: string; runKind?: string } = {
      window,
      stack: stack.stack,
      stage: "drill",
      step: "drill",
      command: "drill",
      ...onCloudClock(simStartMs, clock.nowMs()), // the cloud's clock, as every step's line
      exitCode,
      outcome: "cancelled",
      summary,
      details: [],
      runId: lock.env.COLDSTART_RUN_ID,
      runKind: lock.env.COLDSTART_RUN_KIND,
    };
    const problem = appendRecord(recordPath, entry);
    if (problem) process.stderr.write(`${problem}\n`);
  };
  opts.control?.({
    stopNow: (why) => {
      const steps = declared.map(
        (s) => seen.get(s.name) ?? { name: s.name, stage: s.stage, status: "not-started" as const },
      );
      const running = steps.filter((s) => s.startMs !== undefined && s.endMs === undefined).map((s) => s.name);
      const report: DrillReport = {
        ...about,
        exitCode: 130,
        wallMs: Date.now() - runStart.getTime(),
        steps,
        cancelled: true,
        stoppedAtOnce: true,
      };
      writePrivateFile(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
      runLine(
        130,
        `drill ${why}: running then (killed): ${running.join(", ") || "(none)"}; what each step did is in its own line`,
      );
    },
  });

  const say = opts.progress ?? (() => undefined);
  say(
    `drill ${sim.scenario} on stack ${stack.stack} (${sim.mode}), window ${window}, on the cloud's clock (from +${formatClock(simStartMs)})${opts.timeScale ? `, paced at ${opts.timeScale} real s per cloud s` : ""}; in ${dir}`,
  );
  // every step's whole output, a file per step run (record/step-output.ts)
  const output = keepStepOutput(dir, lock.env.COLDSTART_RUN_ID ?? "run", !opts.resume);
  say(`step output: ${output.dir}/<step>.log (everything each step prints)`);
  const run = await runEngine({
    project: stack.project,
    stack: stack.stack,
    config,
    env,
    stateDir: dir,
    // like `pulumi up --parallel <parallelism>`: functional peers run together, with a bound
    parallel: base.parallelism,
    shouldStop: opts.shouldStop,
    cancel: opts.cancel,
    interrupt: opts.interrupt,
    clock,
    onProgram: (steps) => (declared = steps),
    onOutput: (step, stream, line) => output.onOutput(step, stream, line),
    onEvent: (event) => {
      opts.onEvent?.(event);
      const { kind, step, atMs } = event;
      seen.set(step.name, step);
      const at = `[+${formatClock(atMs)} cloud]`;
      if (kind === "start") say(`${at} start  ${step.stage}/${step.name}`);
      else if (kind === "output") say(`${at} ${outputLine({ step: step.name, line: event.line })}`);
      else {
        const took = `(${formatDuration(Math.round(1000 * ((step.simEnd ?? 0) - (step.simStart ?? 0))))})`;
        const { word, note } = finishWord(step, recordPath, lock.env.COLDSTART_RUN_ID, opts.interrupt);
        say(`${at} ${word} ${step.stage}/${step.name} ${took}${note ? `: ${note}` : ""}`);
      }
    },
  });
  output.close();
  if (run.programError) throw new UsageError(String((run.programError as Error).message ?? run.programError));
  // a requested interruption that never came: said, and never a pass (issue #23)
  const notReached = opts.interrupt && !run.interruptedAt ? notReachedLine(opts.interrupt, run) : undefined;
  const failed = run.failed && {
    step: run.failed.name,
    // a shell killed by the provider has no exit code: Go reports `signal: killed`
    exitCode: run.failed.exitCode ?? (run.failed.killedBy === "cancel" ? 130 : 1),
    message: run.failed.message ?? "",
    ...(run.failed.killedBy ? { killedBy: run.failed.killedBy } : {}),
  };
  const exitCode = failed ? failed.exitCode : run.cancelled ? 130 : 0;
  const report: DrillReport = {
    ...about,
    exitCode: notReached && exitCode === 0 ? EXIT.notReached : exitCode,
    wallMs: run.wallMs,
    steps: run.steps,
    simStartS: simStartMs / 1000,
    recovery: { ...recovery(run.steps), criticalPathS: criticalPathOf(opts.scenario, sim.mode) },
    clock: { ...clock.stats },
    failed,
    cancelled: run.cancelled,
    ...(run.inFlightAtCancel ? { inFlightAtCancel: run.inFlightAtCancel } : {}),
    ...(run.interruptedAt ? { interruptedAt: run.interruptedAt } : {}),
    ...(notReached ? { interruptNotReached: notReached } : {}),
  };
  writePrivateFile(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
  const ran = run.steps.filter((s) => s.status === "passed" || s.status === "failed").length;
  const unchanged = run.steps.filter((s) => s.status === "unchanged").length;
  const notRun = run.steps.length - ran - unchanged;
  const updated = run.steps.filter((s) => s.op === "update" && s.status === "passed").length;
  const inFlight = run.inFlightAtCancel?.length ? run.inFlightAtCancel.join(", ") : "none";
  const killedAt = opts.interrupt?.how === "kill" && run.interruptedAt ? run.interruptedAt : undefined;
  const verdict = run.cancelled
    ? `drill CANCELLED (in flight at the cancel: ${inFlight})`
    : killedAt
      ? `drill KILLED at ${killedAt.step} (--kill-at: every process of that step killed${killedAt.call ? ` after ${JSON.stringify(killedAt.call)} returned` : ""}, as a lost jumphost)`
      : failed
        ? `drill STOPPED at ${failed.step} (exit ${failed.exitCode}${failed.killedBy === "timeout" ? ", killed at its customTimeouts" : ""})`
        : notReached
          ? "drill NOT INTERRUPTED"
          : "drill PASSED";
  if (run.cancelled)
    runLine(
      130,
      `${verdict}: cancelled by the operator; no step started after the cancel; ${ran} steps ran, ${notRun} not run`,
    );
  say(
    `${verdict}: ${ran} steps ran (${updated} as an update: kept), ${unchanged} unchanged from an earlier run, ${notRun} not run; cloud time ${formatDuration(Math.round((report.recovery?.cloudS ?? 0) * 1000))}${report.recovery?.criticalPathS ? ` (the cloud's own critical path ${formatDuration(report.recovery.criticalPathS * 1000)})` : ""}, wall ${(run.wallMs / 1000).toFixed(2)}s`,
  );
  if (failed && !run.cancelled && !killedAt) say(failed.message);
  if (notReached) say(notReached);
  if (report.exitCode !== 0) {
    // every stop hands the rest of the window back, from what the record shows finished (issue #24);
    // a hand-back that cannot be built never costs the run its verdict or exit code
    let handback;
    try {
      handback = handbackOf(
        await makePlan({ stack: stack.stack, projectDir, overrides: config }),
        readRecord(recordPath),
      );
    } catch (err) {
      say(
        `the steps left could not be listed here (${err instanceof Error ? err.message : String(err)}): \`coldstart record --window ${window} --record-dir ${path.dirname(recordPath)}\` lists them with their manual commands`,
      );
    }
    if (handback) {
      report.handback = handback;
      writePrivateFile(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
      say(["", ...renderHandback(handback)].join("\n"));
    }
  }
  return report;
}

/**
 * How a finished step reads on the console. A shell the engine killed (the cancel) may sit over a
 * coldstart that finished its action and wrote its verdict (README "Ctrl-C"): that verdict, from
 * this run's record, is what the console says, never FAILED for a step the record shows passed.
 */
function finishWord(
  step: StepRun,
  recordPath: string,
  runId: string | undefined,
  interrupt?: DrillOptions["interrupt"],
): { word: string; note?: string } {
  if (step.status === "passed") return { word: "done  " };
  if (step.killedBy === "cancel") {
    const entry = lastEntryOf(recordPath, step.name, runId);
    const killed = "its shell was killed by the cancel";
    return entry
      ? { word: "ended ", note: `${killed}; the coldstart under it finished: ${entry.outcome} (in the record)` }
      : { word: "ended ", note: `${killed}; no verdict in the record (stopped before its end)` };
  }
  if (interrupt?.how === "kill" && interrupt.step === step.name && step.exitCode === undefined)
    return { word: "KILLED", note: "--kill-at: the step and every call under it killed; no verdict in the record" };
  return { word: "FAILED" };
}

/** This run's last record line for `step` (undefined when none, or the record cannot be read). */
function lastEntryOf(recordPath: string, step: string, runId: string | undefined): RecordEntry | undefined {
  const entries = readRecord(recordPath).filter((e) => e.step === step && (runId === undefined || e.runId === runId));
  return entries[entries.length - 1];
}

/** The end-of-run line for an interruption that never came, and why. */
function notReachedLine(interrupt: NonNullable<DrillOptions["interrupt"]>, run: EngineRun): string {
  const asked = `--${interrupt.how}-at ${interrupt.step}${interrupt.call !== undefined ? ` --at-call ${JSON.stringify(interrupt.call)}` : ""}`;
  const step = run.steps.find((s) => s.name === interrupt.step);
  const why =
    step?.status === "unchanged"
      ? `${interrupt.step} passed in an earlier run of this window: nothing of it ran in this one`
      : step?.status === "passed" || step?.status === "failed"
        ? `${interrupt.step} ran (${step.status}) ${interrupt.call !== undefined ? `without a call that starts with ${JSON.stringify(interrupt.call)}` : "without a cloud call"}`
        : `${interrupt.step} never started (${run.failed ? `the run stopped at ${run.failed.name} first` : run.cancelled ? "the run was cancelled first" : "an earlier step did not pass"})`;
  return `${asked} was never reached: ${why}; nothing was interrupted, so this rehearsal did not happen (exit ${EXIT.notReached} unless the run failed otherwise)`;
}

/**
 * The sim's MAAS for this run. A resume listens on the URL of the first run again: the power
 * steps' inputs (their --maas-url) must not change, or they would all run again.
 */
async function startMaas(sim: SimCloud<SimPower>, resume: boolean, clock: SimClockServer): Promise<SimMaas> {
  const apiKey = sim.env[SIM_MAAS_KEY_VAR];
  if (!apiKey) throw new Error(`drill: the sim cloud has no ${SIM_MAAS_KEY_VAR}`);
  const earlier = sim.hostsConfig.find((h) => h.power.driver === "maas" && h.power.url !== "")?.power;
  const port = resume && earlier?.driver === "maas" ? Number(new URL(earlier.url).port) : 0;
  try {
    return await startSimMaas(sim.dir, { apiKey, port, time: clock.time });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(
        `--resume: the simulated MAAS cannot listen on 127.0.0.1:${port} again (in use); the earlier run's power steps were registered with that URL. Free the port, or run the drill again without --resume`,
      );
    throw err;
  }
}

function create(dir: string, opts: DrillOptions, power: SimPower): SimCloud<SimPower> {
  // A fresh drill starts from nothing: no modelled state, and no earlier run's record (a step
  // that passed in the record would be kept instead of run) -- except the window locks, ours
  // (taken before this) and any other run's.
  fs.rmSync(path.join(dir, "pulumi-state.json"), { force: true });
  fs.rmSync(path.join(dir, "report.json"), { force: true });
  const records = path.join(dir, "records");
  for (const name of fs.existsSync(records) ? fs.readdirSync(records) : [])
    if (!name.endsWith(".lock")) fs.rmSync(path.join(records, name), { recursive: true, force: true });
  const sim = createSimCloud({
    dir: path.join(dir, "cloud"),
    scenario: opts.scenario,
    mode: opts.mode,
    clock: "discrete",
    scale: opts.scale,
    power,
  });
  return sim;
}

/** drill.json: the data a resume needs (SavedDrill), no secret, no path or PATH. */
function saveDrill(dir: string, window: string, scenarioRef: string, sim: SimCloud<SimPower>): void {
  const data = Object.fromEntries(SAVED_SIM.map((k) => [k, sim[k]])) as SavedSim;
  const record: SavedDrill = { window, scenarioRef, sim: data };
  writePrivateFile(path.join(dir, DRILL_FILE), JSON.stringify(record, null, 2));
}

/** drill.json of `dir` (a folder the caller checked is ours): its data only, whatever else it holds. */
export function readSavedDrill(dir: string): SavedDrill {
  const file = path.join(dir, DRILL_FILE);
  if (!fs.existsSync(file)) throw new UsageError(`--resume: no earlier drill in ${dir} (run it once without --resume)`);
  let raw: { window?: unknown; scenarioRef?: unknown; sim?: Partial<Record<string, unknown>> };
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8")) as typeof raw;
  } catch (err) {
    throw new UsageError(
      `--resume: ${file} cannot be read (${(err as Error).message.split("\n")[0]}); run the drill again without --resume`,
    );
  }
  if (typeof raw.window !== "string" || typeof raw.scenarioRef !== "string" || typeof raw.sim !== "object")
    throw new UsageError(
      `--resume: ${file} is not a drill's (no window, scenarioRef or sim); run the drill again without --resume`,
    );
  const sim = Object.fromEntries(SAVED_SIM.map((k) => [k, raw.sim?.[k]])) as unknown as SavedSim;
  sim.power ??= "virsh"; // drill.json of a build before MAAS drills
  return { window: raw.window, scenarioRef: raw.scenarioRef, sim };
}

/** The sim of an earlier run in `dir`: its data from drill.json, everything that runs derived again. */
function reattach(dir: string, saved: SavedDrill): SimCloud<SimPower> {
  const layout = simLayout(path.join(dir, "cloud"));
  const state = simState(layout.dir);
  const unsealKeys = exportedKeys(loadScenario(saved.scenarioRef).scenario, state);
  const env = { ...layout.env };
  unsealKeys.forEach((k, i) => (env[`${KEY_VAR_PREFIX}${i + 1}`] = k));
  if (saved.sim.power === "maas") env[SIM_MAAS_KEY_VAR] = generateMaasApiKey();
  return {
    ...saved.sim,
    ...layout,
    env,
    osEnv: osEnvOf(state),
    unsealKeys,
    realMs: (s: number) => s * 1000 * saved.sim.timeScale,
  };
}

/** Cloud ms as "mm:ss" (or "h:mm:ss"), for progress lines. */
function formatClock(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
}

/** The scenario's critical path in cloud seconds, or undefined when the scenario cannot be read again. */
function criticalPathOf(scenarioRef: string, mode: string): number | undefined {
  try {
    return criticalPath(loadScenario(scenarioRef).scenario, mode === "unplanned" ? "unplanned" : "planned").seconds;
  } catch (err) {
    if (err instanceof UsageError) return undefined; // a scenario file moved since: no figure
    throw err;
  }
}

/** The restart's cloud time, in total and per stage: from a stage's first step start to its last step end. */
function recovery(steps: readonly StepRun[]): NonNullable<DrillReport["recovery"]> {
  const ran = steps.filter((s) => s.simStart !== undefined && s.simEnd !== undefined);
  const stages = new Map<string, { stage: string; fromS: number; toS: number; cloudS: number }>();
  for (const s of ran) {
    const st = stages.get(s.stage) ?? { stage: s.stage, fromS: Infinity, toS: -Infinity, cloudS: 0 };
    st.fromS = Math.min(st.fromS, s.simStart ?? 0);
    st.toS = Math.max(st.toS, s.simEnd ?? 0);
    st.cloudS = st.toS - st.fromS;
    stages.set(s.stage, st);
  }
  const cloudS = ran.length ? Math.max(...ran.map((s) => s.simEnd ?? 0)) : 0;
  return { cloudS, stages: [...stages.values()] };
}
