/**
 * Preflight (before a window): what it runs against. The real stack (its committed file, this
 * machine's environment and tools), or the simulated cloud of a scenario built as `coldstart
 * drill` builds it (sim/setup.ts createSimCloud, the sim's MAAS for MAAS-powered stacks, the
 * stack's values pointed at the sim by drill/program-config.ts, the drill's scaled call bound).
 */
import * as path from "node:path";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { loadConfig, NAMESPACE } from "../config/load";
import type { Config } from "../config/schema";
import { PREVIEW_WINDOW } from "../plan/plan";
import { DEFAULT_CALL_TIMEOUT_MS } from "../drill/drill";
import { drillProgramConfig } from "../drill/program-config";
import { createSimCloud, SIM_MAAS_KEY_VAR, withMaasUrl, type SimCloud, type SimPower } from "../sim/setup";
import { startSimMaas } from "../sim/maas-api";
import { loadScenario } from "../sim/scenario";
import { CALL_LOG } from "../sim/call-log";
import { neverInherited } from "../runtime/exec";
import { KEY_VAR_PREFIX } from "../runtime/unseal-keys";
import { makePrivateDir, privateSubdir } from "../runtime/private-dir";
import { isRealSecret } from "../runtime/real-secrets";
import type { PreflightTarget } from "./run";

/**
 * The stack's values as a Config without judging unknown keys (the stack-keys check reports them
 * as a failing check; the window itself refuses them, config/load.ts). The window id is not
 * needed: preflight runs before there is one.
 */
function configOf(values: Record<string, string>, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig((key) => values[`${NAMESPACE}:${key}`], {
    COLDSTART_WINDOW: env.COLDSTART_WINDOW || PREVIEW_WINDOW,
    ...(env.COLDSTART_MODE ? { COLDSTART_MODE: env.COLDSTART_MODE } : {}),
    ...(env.COLDSTART_VAULT_UNSEAL_BY ? { COLDSTART_VAULT_UNSEAL_BY: env.COLDSTART_VAULT_UNSEAL_BY } : {}),
  });
}

/** The real stack: its file, this process's environment, the pulumi CLI if there is one. */
export function stackTarget(stack: string, env: NodeJS.ProcessEnv = process.env): PreflightTarget {
  const projectDir = findProjectDir();
  const file = readStackConfig(projectDir, stack);
  return {
    stack,
    file: file.file,
    config: configOf(file.values, env),
    values: file.values,
    env,
    pulumi: { check: true, projectDir },
    kind: { kind: "stack" },
  };
}

export interface SimTargetOptions {
  stack: string;
  scenario: string;
  /**
   * Folder for the simulated cloud: one the caller made private (a sub-folder of the maintenance
   * drill's), or by default a new private one (runtime/private-dir.ts).
   */
  dir?: string;
  timeScale?: number;
  /**
   * Where this run's unseal keys come from: by default the scenario's operator (as a drill);
   * given, the COLDSTART_UNSEAL_KEY_n of this environment instead (maintenance counts the keys it
   * will hand to the window: its scenario's). A key file is never read: a sim holds no real key.
   */
  keysFrom?: NodeJS.ProcessEnv;
}

export interface SimTarget {
  target: PreflightTarget;
  sim: SimCloud<SimPower>;
  callLog: string;
  close(): Promise<void>;
}

/** Build the scenario's simulated cloud and the stack pointed at it; close() stops the sim MAAS. */
export async function simTarget(opts: SimTargetOptions): Promise<SimTarget> {
  const projectDir = findProjectDir();
  const file = readStackConfig(projectDir, opts.stack);
  const base = configOf(file.values);
  const scenario = loadScenario(opts.scenario); // a bad scenario is a one-line UsageError (exit 2)
  const dir = opts.dir
    ? privateSubdir(path.dirname(path.resolve(opts.dir)), path.basename(opts.dir))
    : makePrivateDir(`coldstart-preflight-${scenario.name.replace(/[^A-Za-z0-9_-]/g, "_")}-`);
  const power: SimPower = base.hosts.some((h) => h.power.driver === "maas") ? "maas" : "virsh";
  const sim = createSimCloud<SimPower>({
    dir: path.join(dir, "cloud"),
    scenario,
    // the cloud days before a window: running (the scenario's unplanned mode describes the window itself)
    mode: "planned",
    timeScale: opts.timeScale,
    power,
  });
  const maas = power === "maas" ? await startSimMaas(sim.dir, { apiKey: sim.env[SIM_MAAS_KEY_VAR]! }) : undefined;
  if (maas) sim.hostsConfig = withMaasUrl(sim.hostsConfig, maas.url);
  const values = drillProgramConfig({
    values: file.values,
    base,
    sim,
    dir,
    window: PREVIEW_WINDOW,
    callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
  });
  // no operator's key or Pulumi credential in a sim's preflight (issue #21)
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_") && !isRealSecret(k)) env[k] = v;
  Object.assign(env, sim.env);
  if (opts.keysFrom) {
    for (const k of Object.keys(env)) if (k.startsWith(KEY_VAR_PREFIX)) delete env[k];
    for (const [k, v] of Object.entries(opts.keysFrom))
      if (/^COLDSTART_UNSEAL_KEY_\d+$/.test(k) && v !== undefined) env[k] = v;
  }
  // children get the sim's PATH and folder, never a secret (exec's own rule: runtime/exec.ts)
  const childEnv = Object.fromEntries(Object.entries(sim.env).filter(([k]) => !neverInherited(k)));
  return {
    sim,
    callLog: path.join(sim.dir, CALL_LOG),
    target: {
      stack: opts.stack,
      file: file.file,
      // the one per-run setting a rehearsal honours as the window will (coldstart:vaultUnsealBy)
      config: configOf(values, { COLDSTART_VAULT_UNSEAL_BY: process.env.COLDSTART_VAULT_UNSEAL_BY }),
      // the committed values (the sim's endpoints are coldstart's own, not the operator's keys)
      values: file.values,
      env,
      childEnv,
      pulumi: { check: false, why: "preflight against the simulated cloud (no Pulumi backend involved)" },
      kind: { kind: "sim", scenario: scenario.name, dir, callLog: path.join(sim.dir, CALL_LOG) },
    },
    close: async () => {
      await maas?.close();
    },
  };
}
