/**
 * `coldstart drill`: the whole restart, for real, against the simulated cloud. The committed
 * stack's program runs with the cloud's endpoints (fake juju/openstack/virsh on PATH, its openrc,
 * its cloud-assert) and time scaled like the cloud's; the drill engine runs every step's create.
 * A stack whose hosts are powered through MAAS gets the sim's MAAS API (sim/maas-api.ts), served
 * from this process for the whole run, with a fake API key that is never written down.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  createSimCloud,
  exportedKeys,
  SIM_MAAS_KEY_VAR,
  simState,
  withMaasUrl,
  type SimCloud,
  type SimPower,
} from "../sim/setup";
import { generateMaasApiKey, startSimMaas, type SimMaas } from "../sim/maas-api";
import { loadScenario } from "../sim/scenario";
import { KEY_VAR_PREFIX } from "../runtime/unseal-keys";
import { findProjectDir, readStackConfig, type StackConfig } from "../config/stack-files";
import type { Config } from "../config/schema";
import { PREVIEW_WINDOW } from "../plan/plan";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { recordFile } from "../runtime/record";
import { runEngine, type EngineOptions, type StepRun } from "./engine";
import { parseStackValues } from "./scaled-config";
import { drillProgramConfig } from "./program-config";
import { applySets } from "../config/overrides";

export interface DrillOptions {
  stack: string;
  scenario: string;
  mode?: "planned" | "unplanned";
  window?: string;
  /** The drill's folder: the simulated cloud, the modelled Pulumi state, the record. */
  dir: string;
  /** Same dir and window as an earlier drill: continue after its last successful step. */
  resume?: boolean;
  timeScale?: number;
  /** Bound on one fake juju/openstack call (real ms). */
  callTimeoutMs?: number;
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
   * Where the unseal keys come from: by default the scenario's operator; given here, exactly
   * these variables instead (the maintenance driver passes the operator's / CI's environment).
   */
  keysEnv?: Record<string, string>;
}

export interface DrillReport {
  stack: string;
  scenario: string;
  mode: string;
  window: string;
  dir: string;
  exitCode: number;
  wallMs: number;
  steps: StepRun[];
  failed?: { step: string; exitCode: number; message: string; killedBy?: "timeout" | "cancel" };
  /** The engine was cancelled: no step started after that. */
  cancelled: boolean;
  recordFile: string;
  callLog: string;
}

/**
 * What a resume needs, minus the keys: the unseal keys are derived again, the sim MAAS's API key
 * is made afresh (its server is started again, on the same URL), never written down.
 */
interface SavedDrill {
  window: string;
  scenarioRef: string;
  sim: Omit<SimCloud<SimPower>, "realMs" | "unsealKeys">;
}

const DRILL_FILE = "drill.json";
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const dir = path.resolve(opts.dir);
  const projectDir = findProjectDir();
  const committed = readStackConfig(projectDir, opts.stack);
  const stack: StackConfig = { ...committed, values: applySets(committed.values, opts.set ?? []) };
  // The committed stack as a Config (its numbers and drivers; the window is the drill's own).
  const base = parseStackValues(stack.values, PREVIEW_WINDOW);
  const power: SimPower = base.hosts.some((h) => h.power.driver === "maas") ? "maas" : "virsh";
  const { sim, window } = opts.resume ? reattach(dir, opts.window) : create(dir, opts, power);
  const maas = sim.power === "maas" ? await startMaas(sim, opts.resume === true) : undefined;
  try {
    if (maas) sim.hostsConfig = withMaasUrl(sim.hostsConfig, maas.url);
    if (!opts.resume) saveDrill(dir, window, opts.scenario, sim);
    return await runOnSim(opts, dir, projectDir, stack, base, sim, window);
  } finally {
    await maas?.close();
  }
}

async function runOnSim(
  opts: DrillOptions,
  dir: string,
  projectDir: string,
  stack: StackConfig,
  base: Config,
  sim: SimCloud<SimPower>,
  window: string,
): Promise<DrillReport> {
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const config = drillProgramConfig({ values: stack.values, base, sim, dir, window, callTimeoutMs });
  // The environment `pulumi up` would have: coldstart and the cloud's tools on PATH, the
  // scenario's unseal keys (and no key inherited from whoever started the drill).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COLDSTART_/.test(k)) env[k] = v;
  Object.assign(env, sim.env, { PATH: `${path.join(projectDir, "bin")}${path.delimiter}${sim.env.PATH}` });
  if (opts.keysEnv) {
    for (const k of Object.keys(env)) if (k.startsWith(KEY_VAR_PREFIX)) delete env[k];
    Object.assign(env, opts.keysEnv);
  }

  const say = opts.progress ?? (() => undefined);
  say(
    `drill ${sim.scenario} on stack ${stack.stack} (${sim.mode}), window ${window}, time x${(1 / sim.timeScale).toFixed(0)} faster; in ${dir}`,
  );
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
    onEvent: (event) => {
      opts.onEvent?.(event);
      const { kind, step, atMs } = event;
      const at = `[+${(atMs / 1000).toFixed(3)}s]`;
      if (kind === "start") say(`${at} start  ${step.stage}/${step.name}`);
      else
        say(
          `${at} ${step.status === "passed" ? "done  " : "FAILED"} ${step.stage}/${step.name} (${formatDuration((step.endMs ?? 0) - (step.startMs ?? 0))})`,
        );
    },
  });
  if (run.programError) throw new UsageError(String((run.programError as Error).message ?? run.programError));
  if (opts.interrupt && !run.steps.some((s) => s.name === opts.interrupt?.step))
    throw new UsageError(
      `drill: --${opts.interrupt.how}-at ${opts.interrupt.step}: no such step (known: ${run.steps.map((s) => s.name).join(", ")})`,
    );
  const failed = run.failed && {
    step: run.failed.name,
    // a shell killed by the provider has no exit code: Go reports `signal: killed`
    exitCode: run.failed.exitCode ?? (run.failed.killedBy === "cancel" ? 130 : 1),
    message: run.failed.message ?? "",
    ...(run.failed.killedBy ? { killedBy: run.failed.killedBy } : {}),
  };
  const report: DrillReport = {
    stack: stack.stack,
    scenario: sim.scenario,
    mode: sim.mode,
    window,
    dir,
    exitCode: failed ? failed.exitCode : run.cancelled ? 130 : 0,
    wallMs: run.wallMs,
    steps: run.steps,
    failed,
    cancelled: run.cancelled,
    recordFile: recordFile(path.join(dir, "records"), window),
    callLog: path.join(sim.dir, "calls.jsonl"),
  };
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
  const ran = run.steps.filter((s) => s.status === "passed" || s.status === "failed").length;
  const unchanged = run.steps.filter((s) => s.status === "unchanged").length;
  const notRun = run.steps.length - ran - unchanged;
  const updated = run.steps.filter((s) => s.op === "update" && s.status === "passed").length;
  const verdict = run.cancelled
    ? `drill CANCELLED${failed ? ` (in flight: ${failed.step})` : ""}`
    : failed
      ? `drill STOPPED at ${failed.step} (exit ${failed.exitCode}${failed.killedBy === "timeout" ? ", killed at its customTimeouts" : ""})`
      : "drill PASSED";
  say(
    `${verdict}: ${ran} steps ran (${updated} as an update: kept), ${unchanged} unchanged from an earlier run, ${notRun} not run; ${(run.wallMs / 1000).toFixed(2)}s`,
  );
  if (failed) say(failed.message);
  return report;
}

/**
 * The sim's MAAS for this run. A resume listens on the URL of the first run again: the power
 * steps' inputs (their --maas-url) must not change, or they would all run again.
 */
async function startMaas(sim: SimCloud<SimPower>, resume: boolean): Promise<SimMaas> {
  const apiKey = sim.env[SIM_MAAS_KEY_VAR];
  if (!apiKey) throw new Error(`drill: the sim cloud has no ${SIM_MAAS_KEY_VAR}`);
  const earlier = sim.hostsConfig.find((h) => h.power.driver === "maas" && h.power.url !== "")?.power;
  const port = resume && earlier?.driver === "maas" ? Number(new URL(earlier.url).port) : 0;
  try {
    return await startSimMaas(sim.dir, { apiKey, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(
        `--resume: the simulated MAAS cannot listen on 127.0.0.1:${port} again (in use); the earlier run's power steps were registered with that URL. Free the port, or run the drill again without --resume`,
      );
    throw err;
  }
}

function create(dir: string, opts: DrillOptions, power: SimPower): { sim: SimCloud<SimPower>; window: string } {
  // A fresh drill starts from nothing: no modelled state, and no earlier run's record (a step
  // that passed in the record would be kept instead of run).
  fs.rmSync(path.join(dir, "pulumi-state.json"), { force: true });
  fs.rmSync(path.join(dir, "records"), { recursive: true, force: true });
  const sim = createSimCloud({
    dir: path.join(dir, "cloud"),
    scenario: opts.scenario,
    mode: opts.mode,
    timeScale: opts.timeScale,
    scale: opts.scale,
    power,
  });
  return { sim, window: opts.window ?? `drill-${sim.scenario}` };
}

/** drill.json: everything a resume needs except the secrets (unseal keys, the sim MAAS's API key). */
function saveDrill(dir: string, window: string, scenarioRef: string, sim: SimCloud<SimPower>): void {
  const { realMs: _realMs, unsealKeys: _keys, ...saved } = sim;
  const env = Object.fromEntries(
    Object.entries(saved.env).filter(([k]) => !k.startsWith(KEY_VAR_PREFIX) && k !== SIM_MAAS_KEY_VAR),
  );
  const record: SavedDrill = { window, scenarioRef, sim: { ...saved, env } };
  fs.writeFileSync(path.join(dir, DRILL_FILE), JSON.stringify(record, null, 2));
}

function reattach(dir: string, window?: string): { sim: SimCloud<SimPower>; window: string } {
  const file = path.join(dir, DRILL_FILE);
  if (!fs.existsSync(file)) throw new UsageError(`--resume: no earlier drill in ${dir} (run it once without --resume)`);
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as SavedDrill;
  const power: SimPower = saved.sim.power ?? "virsh"; // drill.json of a build before MAAS drills
  const unsealKeys = exportedKeys(loadScenario(saved.scenarioRef).scenario, simState(saved.sim.dir));
  const env = { ...saved.sim.env };
  unsealKeys.forEach((k, i) => (env[`${KEY_VAR_PREFIX}${i + 1}`] = k));
  if (power === "maas") env[SIM_MAAS_KEY_VAR] = generateMaasApiKey();
  const sim: SimCloud<SimPower> = {
    ...saved.sim,
    power,
    env,
    unsealKeys,
    realMs: (s: number) => s * 1000 * saved.sim.timeScale,
  };
  return { sim, window: window ?? saved.window };
}
