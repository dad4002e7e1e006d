/**
 * Simulated cloud -- building one: the state file from a scenario, the admin openrc, the operations
 * repo's scripts/cloud-assert.sh, and everything a drill needs to point coldstart at it (PATH with
 * the fake juju / openstack / virsh first, the hosts' power config, the unseal keys to export).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CALL_LOG } from "./call-log";
import { projectRoot } from "./root";
import { loadScenario, type Mode, type Scale, type Scenario } from "./scenario";
import { buildState, CONTROLLER, MODEL, simNow, type SimState } from "./state";
import { readState, saveState } from "./store";

export interface SimCloudOptions {
  /** The sim dir (created if missing; an earlier sim in it is replaced). */
  dir: string;
  /** A scenario name (sim/scenarios/<name>.json), a path, or an already loaded scenario. */
  scenario: string | { name: string; scenario: Scenario };
  /** Overrides the scenario's mode hint (planned: hosts on at t=0; unplanned: off). */
  mode?: Mode;
  /** real ms = sim s * 1000 * timeScale (default 1/600: one sim minute = 100 ms). */
  timeScale?: number;
  /** Generated extra hosts / guests / LBs (benches). */
  scale?: Partial<Scale>;
}

export interface SimHostConfig {
  name: string;
  power: { driver: "virsh"; uri: string; domain: string };
}

export interface SimCloud {
  dir: string;
  scenario: string;
  mode: Mode;
  /** sim/bin: the shims juju, openstack, virsh. */
  binDir: string;
  /** Variables to add to the drill's environment (PATH already includes the current PATH). */
  env: Record<string, string>;
  /** The variables the openrc exports (handy for calling the fake openstack in-process). */
  osEnv: Record<string, string>;
  openrcPath: string;
  cloudAssertScript: string;
  /** coldstart:hosts for the stack config (driver virsh; domain = host name). */
  hostsConfig: SimHostConfig[];
  /** coldstart:jujuModel. */
  jujuModel: string;
  /** coldstart:holdGuests: the guests the scenario marks as held. */
  holdGuests: string[];
  /** What the drill exports as COLDSTART_UNSEAL_KEY_1..N (also in `env`). */
  unsealKeys: string[];
  timeScale: number;
  /** Real ms for a span of sim seconds. */
  realMs(simSeconds: number): number;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function osEnvOf(s: SimState): Record<string, string> {
  return {
    OS_AUTH_URL: s.openstack.authUrl,
    OS_USERNAME: s.openstack.username,
    OS_PASSWORD: s.openstack.password,
    OS_PROJECT_NAME: s.openstack.projectName,
    OS_USER_DOMAIN_NAME: "admin_domain",
    OS_PROJECT_DOMAIN_NAME: "admin_domain",
    OS_REGION_NAME: s.openstack.region,
    OS_IDENTITY_API_VERSION: "3",
    OS_AUTH_VERSION: "3",
  };
}

export function createSimCloud(opts: SimCloudOptions): SimCloud {
  const loaded = typeof opts.scenario === "string" ? loadScenario(opts.scenario) : opts.scenario;
  const sc = loaded.scenario;
  const dir = path.resolve(opts.dir);
  const root = projectRoot();
  const entry = path.join(root, "dist", "sim", "tools", "entry.js");
  fs.mkdirSync(dir, { recursive: true });
  for (const stale of [CALL_LOG, "state.lock"]) fs.rmSync(path.join(dir, stale), { recursive: true, force: true });

  const state = buildState(sc, { name: loaded.name, mode: opts.mode, timeScale: opts.timeScale, scale: opts.scale });
  saveState(dir, state);

  const osEnv = osEnvOf(state);
  const openrcPath = path.join(dir, "admin-openrc");
  fs.writeFileSync(
    openrcPath,
    `# admin openrc of the simulated cloud (${loaded.name})\n` +
      Object.entries(osEnv)
        .map(([k, v]) => `export ${k}=${shQuote(v)}`)
        .join("\n") +
      "\n",
    { mode: 0o600 },
  );

  const cloudAssertScript = path.join(dir, "ops-repo", "scripts", "cloud-assert.sh");
  fs.mkdirSync(path.dirname(cloudAssertScript), { recursive: true });
  fs.writeFileSync(
    cloudAssertScript,
    [
      "#!/usr/bin/env bash",
      `# cloud-assert of the simulated cloud (${loaded.name}): per-check lines, then CLOUD-ASSERT: PASS or FAIL.`,
      `export COLDSTART_SIM_DIR="\${COLDSTART_SIM_DIR:-${dir.replace(/["$`\\]/g, "\\$&")}}"`,
      `exec "\${COLDSTART_SIM_NODE:-${process.execPath.replace(/["$`\\]/g, "\\$&")}}" "\${COLDSTART_SIM_ROOT:-${root.replace(/["$`\\]/g, "\\$&")}}/dist/sim/tools/entry.js" cloud-assert "$@"`,
      "",
    ].join("\n"),
  );

  const unsealKeys = exportedKeys(sc, state);
  const binDir = path.join(root, "sim", "bin");
  const env: Record<string, string> = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    COLDSTART_SIM_DIR: dir,
    COLDSTART_SIM_ROOT: root,
    COLDSTART_SIM_NODE: process.execPath,
  };
  unsealKeys.forEach((k, i) => (env[`COLDSTART_UNSEAL_KEY_${i + 1}`] = k));
  if (!fs.existsSync(entry)) {
    process.emitWarning(`coldstart sim: ${entry} is missing; build first (npx tsc -p .) or the shims cannot run`);
  }
  return {
    dir,
    scenario: loaded.name,
    mode: state.mode,
    binDir,
    env,
    osEnv,
    openrcPath,
    cloudAssertScript,
    hostsConfig: state.hosts.map((h) => ({
      name: h.name,
      power: { driver: "virsh", uri: state.virshUri, domain: h.name },
    })),
    jujuModel: `${CONTROLLER}:${MODEL}`,
    holdGuests: state.guests.filter((g) => g.held).map((g) => g.name),
    unsealKeys,
    timeScale: state.timeScale,
    realMs: (simSeconds) => simSeconds * 1000 * state.timeScale,
  };
}

/**
 * The unseal keys the operator holds in this scenario (exported as COLDSTART_UNSEAL_KEY_n):
 * derived from the scenario and the sim's Vault, so no one needs to write them to a file.
 */
export function exportedKeys(sc: Scenario, state: SimState): string[] {
  const exported = sc.vault.exportKeys ?? sc.vault.threshold;
  return typeof exported === "number" ? state.vault.keys.slice(0, exported) : exported;
}

/** The sim's state as of now (timers applied), for assertions. */
export function simState(dir: string): SimState {
  return readState(dir);
}

/** Sim seconds elapsed in the sim in `dir`. */
export function simTime(dir: string): number {
  return simNow(readState(dir));
}
