/**
 * `coldstart drill`: the whole restart, for real, against the simulated cloud. The committed
 * stack's program runs with the cloud's endpoints (fake juju/openstack/virsh on PATH, its openrc,
 * its cloud-assert) and time scaled like the cloud's; the drill engine runs every step's create.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createSimCloud, exportedKeys, simState, type SimCloud } from "../sim/setup";
import { loadScenario } from "../sim/scenario";
import { KEY_VAR_PREFIX } from "../runtime/unseal-keys";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { NAMESPACE } from "../config/load";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { recordFile } from "../runtime/record";
import { runEngine, type StepRun } from "./engine";
import { parseStackValues, scaledGates, scaledGrace } from "./scaled-config";

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
  failed?: { step: string; exitCode: number; message: string };
  recordFile: string;
  callLog: string;
}

/** What a resume needs, minus the keys: they are derived again, never written down. */
interface SavedDrill {
  window: string;
  scenarioRef: string;
  sim: Omit<SimCloud, "realMs" | "unsealKeys">;
}

const DRILL_FILE = "drill.json";
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const dir = path.resolve(opts.dir);
  const projectDir = findProjectDir();
  const stack = readStackConfig(projectDir, opts.stack);
  const { sim, window } = opts.resume ? reattach(dir, opts.window) : create(dir, opts);
  const base = parseStackValues(stack.values, window);
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const config: Record<string, string> = {
    ...stack.values,
    [`${NAMESPACE}:window`]: window,
    [`${NAMESPACE}:mode`]: sim.mode,
    [`${NAMESPACE}:jujuModel`]: sim.jujuModel,
    [`${NAMESPACE}:openrc`]: sim.openrcPath,
    [`${NAMESPACE}:cloudAssertScript`]: sim.cloudAssertScript,
    [`${NAMESPACE}:baselineDir`]: path.join(dir, "baseline"),
    [`${NAMESPACE}:recordDir`]: path.join(dir, "records"),
    [`${NAMESPACE}:hosts`]: JSON.stringify(sim.hostsConfig),
    [`${NAMESPACE}:holdGuests`]: JSON.stringify(sim.holdGuests),
    [`${NAMESPACE}:gates`]: JSON.stringify(scaledGates(base, sim.timeScale, callTimeoutMs)),
    [`${NAMESPACE}:octaviaErrorGrace`]: scaledGrace(base, sim.timeScale),
  };
  // The environment `pulumi up` would have: coldstart and the cloud's tools on PATH, the
  // scenario's unseal keys (and no key inherited from whoever started the drill).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^COLDSTART_/.test(k)) env[k] = v;
  Object.assign(env, sim.env, { PATH: `${path.join(projectDir, "bin")}${path.delimiter}${sim.env.PATH}` });

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
    onEvent: ({ kind, step, atMs }) => {
      const at = `[+${(atMs / 1000).toFixed(3)}s]`;
      if (kind === "start") say(`${at} start  ${step.stage}/${step.name}`);
      else
        say(
          `${at} ${step.status === "passed" ? "done  " : "FAILED"} ${step.stage}/${step.name} (${formatDuration((step.endMs ?? 0) - (step.startMs ?? 0))})`,
        );
    },
  });
  if (run.programError) throw new UsageError(String((run.programError as Error).message ?? run.programError));
  const failed = run.failed && {
    step: run.failed.name,
    exitCode: run.failed.exitCode ?? 1,
    message: run.failed.message ?? "",
  };
  const report: DrillReport = {
    stack: stack.stack,
    scenario: sim.scenario,
    mode: sim.mode,
    window,
    dir,
    exitCode: failed ? failed.exitCode : 0,
    wallMs: run.wallMs,
    steps: run.steps,
    failed,
    recordFile: recordFile(path.join(dir, "records"), window),
    callLog: path.join(sim.dir, "calls.jsonl"),
  };
  fs.writeFileSync(path.join(dir, "report.json"), JSON.stringify(report, null, 2));
  const ran = run.steps.filter((s) => s.status === "passed" || s.status === "failed").length;
  const unchanged = run.steps.filter((s) => s.status === "unchanged").length;
  const notRun = run.steps.length - ran - unchanged;
  say(
    `${failed ? `drill STOPPED at ${failed.step} (exit ${failed.exitCode})` : "drill PASSED"}: ${ran} steps ran, ${unchanged} unchanged from an earlier run, ${notRun} not run; ${(run.wallMs / 1000).toFixed(2)}s`,
  );
  if (failed) say(failed.message);
  return report;
}

function create(dir: string, opts: DrillOptions): { sim: SimCloud; window: string } {
  fs.rmSync(path.join(dir, "pulumi-state.json"), { force: true });
  const sim = createSimCloud({
    dir: path.join(dir, "cloud"),
    scenario: opts.scenario,
    mode: opts.mode,
    timeScale: opts.timeScale,
    scale: opts.scale,
  });
  const window = opts.window ?? `drill-${sim.scenario}`;
  const { realMs: _realMs, unsealKeys: _keys, ...saved } = sim;
  const env = Object.fromEntries(Object.entries(saved.env).filter(([k]) => !k.startsWith(KEY_VAR_PREFIX)));
  const record: SavedDrill = { window, scenarioRef: opts.scenario, sim: { ...saved, env } };
  fs.writeFileSync(path.join(dir, DRILL_FILE), JSON.stringify(record, null, 2));
  return { sim, window };
}

function reattach(dir: string, window?: string): { sim: SimCloud; window: string } {
  const file = path.join(dir, DRILL_FILE);
  if (!fs.existsSync(file)) throw new UsageError(`--resume: no earlier drill in ${dir} (run it once without --resume)`);
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as SavedDrill;
  const unsealKeys = exportedKeys(loadScenario(saved.scenarioRef).scenario, simState(saved.sim.dir));
  const env = { ...saved.sim.env };
  unsealKeys.forEach((k, i) => (env[`${KEY_VAR_PREFIX}${i + 1}`] = k));
  const sim: SimCloud = { ...saved.sim, env, unsealKeys, realMs: (s: number) => s * 1000 * saved.sim.timeScale };
  return { sim, window: window ?? saved.window };
}
