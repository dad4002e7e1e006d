/**
 * Simulated cloud -- building one: the state file from a scenario, the admin openrc, the operations
 * repo's scripts/cloud-assert.sh, and everything a drill needs to point coldstart at it (PATH with
 * the fake juju / openstack / virsh first, the hosts' power config, the unseal keys to export).
 * Hosts are powered through the fake virsh by default, or through the sim's MAAS API
 * (`power: "maas"`, sim/maas-api.ts startSimMaas) with a generated fake API key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CALL_LOG } from "./call-log";
import { generateMaasApiKey, simSystemIds } from "./maas-api";
import { projectRoot } from "./root";
import { loadScenario, type Mode, type Scale, type Scenario } from "./scenario";
import { buildState, CONTROLLER, MODEL, type SimState } from "./state";
import { readState, saveState } from "./store";
import { CLOCK_FILE, writeClockFileMs, type ClockKind } from "./time";
import { privateSubdir, writePrivateFile } from "../runtime/private-dir";

/** How coldstart powers the sim's hosts: the fake virsh, or the sim's MAAS API. */
export type SimPower = "virsh" | "maas";

/** The variable that holds the sim MAAS's API key (the hosts' apiKeyEnv). */
export const SIM_MAAS_KEY_VAR = "COLDSTART_SIM_MAAS_API_KEY";

export interface SimCloudOptions<P extends SimPower = "virsh"> {
  /** The sim dir (created if missing; an earlier sim in it is replaced). */
  dir: string;
  /** A scenario name (sim/scenarios/<name>.json), a path, or an already loaded scenario. */
  scenario: string | { name: string; scenario: Scenario };
  /** Overrides the scenario's mode hint (planned: hosts on at t=0; unplanned: off). */
  mode?: Mode;
  /**
   * Which clock the sim runs on (sim/time.ts; default scaled). discrete: the drill's discrete-event
   * clock; createSimCloud writes <dir>/clock at 0, and timeScale / realMs do not apply.
   */
  clock?: ClockKind;
  /** Scaled clock: real ms = sim s * 1000 * timeScale (default 1/600: one sim minute = 100 ms). */
  timeScale?: number;
  /** Generated extra hosts / guests / LBs (benches). */
  scale?: Partial<Scale>;
  /** How the hosts are powered (default virsh): only changes hostsConfig and, for maas, env. */
  power?: P;
}

export interface SimVirshPower {
  driver: "virsh";
  uri: string;
  domain: string;
}

export interface SimMaasPower {
  driver: "maas";
  /** Empty until the sim's MAAS listens: set it with withMaasUrl(hostsConfig, maas.url). */
  url: string;
  systemId: string;
  apiKeyEnv: typeof SIM_MAAS_KEY_VAR;
}

export interface SimHostConfig<P extends SimPower = "virsh"> {
  name: string;
  power: P extends "maas" ? SimMaasPower : SimVirshPower;
}

export interface SimCloud<P extends SimPower = "virsh"> {
  dir: string;
  scenario: string;
  mode: Mode;
  /** How hostsConfig powers the hosts. */
  power: P;
  /** sim/bin: the fake tools' one shim (sim-tool) and its links juju, openstack, virsh. */
  binDir: string;
  /** Variables to add to the drill's environment (PATH already includes the current PATH; with
   *  power maas also COLDSTART_SIM_MAAS_API_KEY, a fresh fake key the sim's MAAS is started with). */
  env: Record<string, string>;
  /** The variables the openrc exports (handy for calling the fake openstack in-process). */
  osEnv: Record<string, string>;
  openrcPath: string;
  cloudAssertScript: string;
  /** coldstart:hosts for the stack config (virsh: domain = host name; maas: url still empty). */
  hostsConfig: SimHostConfig<P>[];
  /** coldstart:jujuModel. */
  jujuModel: string;
  /** coldstart:holdGuests: the guests the scenario marks as held. */
  holdGuests: string[];
  /** What the drill exports as COLDSTART_UNSEAL_KEY_1..N (also in `env`). */
  unsealKeys: string[];
  /** The sim's clock (SimCloudOptions.clock). */
  clock: ClockKind;
  /** Scaled clock: real ms per sim ms. */
  timeScale: number;
  /** Scaled clock: real ms for a span of sim seconds. */
  realMs(simSeconds: number): number;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The variables the sim's admin openrc exports. */
export function osEnvOf(s: SimState): Record<string, string> {
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

/**
 * Where a sim in `dir` keeps what the steps run or source, and the variables that point the steps
 * at it: derived from `dir` and this checkout (sim/bin beside this module), never read back from a
 * run's folder (issue #21: a drill.json must not decide what runs).
 */
export function simLayout(dir: string): Pick<
  SimCloud<SimPower>,
  "dir" | "binDir" | "openrcPath" | "cloudAssertScript"
> & {
  env: Record<string, string>;
} {
  const root = projectRoot();
  const binDir = path.join(root, "sim", "bin");
  return {
    dir,
    binDir,
    openrcPath: path.join(dir, "admin-openrc"),
    cloudAssertScript: path.join(dir, "ops-repo", "scripts", "cloud-assert.sh"),
    env: {
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
      COLDSTART_SIM_DIR: dir,
      COLDSTART_SIM_ROOT: root,
      COLDSTART_SIM_NODE: process.execPath,
    },
  };
}

export function createSimCloud<P extends SimPower = "virsh">(opts: SimCloudOptions<P>): SimCloud<P> {
  const loaded = typeof opts.scenario === "string" ? loadScenario(opts.scenario) : opts.scenario;
  const sc = loaded.scenario;
  const dir = path.resolve(opts.dir);
  const root = projectRoot();
  const entry = path.join(root, "dist", "sim", "tools", "entry.js");
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  privateSubdir(path.dirname(dir), path.basename(dir)); // a symlink here is refused, not followed
  // removed, not written through: rm unlinks a symlink of these names, never its target
  for (const stale of [CALL_LOG, "state.lock", CLOCK_FILE]) {
    fs.rmSync(path.join(dir, stale), { recursive: true, force: true });
  }

  const clock = opts.clock ?? "scaled";
  const state = buildState(sc, {
    name: loaded.name,
    mode: opts.mode,
    clock,
    timeScale: opts.timeScale,
    scale: opts.scale,
  });
  saveState(dir, state);
  // a new cloud begins at sim 0; the drill's clock server continues from this file (a resume too)
  if (clock === "discrete") writeClockFileMs(dir, 0);

  const osEnv = osEnvOf(state);
  const layout = simLayout(dir);
  const { openrcPath, cloudAssertScript, binDir } = layout;
  // bash sources it before every openstack call: a new file renamed over the name, never a symlink's target
  writePrivateFile(
    openrcPath,
    `# admin openrc of the simulated cloud (${loaded.name})\n` +
      Object.entries(osEnv)
        .map(([k, v]) => `export ${k}=${shQuote(v)}`)
        .join("\n") +
      "\n",
    0o600,
  );

  privateSubdir(dir, "ops-repo", "scripts");
  // scenario cloudAssert.scriptMissing: the repo has no script (an earlier sim's is removed too)
  if (sc.cloudAssert.scriptMissing) fs.rmSync(cloudAssertScript, { force: true });
  // executable, as a script checked out of the operations repo is (preflight checks the mode);
  // Stage 7 runs it: written as the openrc is, never through a symlink
  else {
    writePrivateFile(
      cloudAssertScript,
      [
        "#!/usr/bin/env bash",
        `# cloud-assert of the simulated cloud (${loaded.name}): per-check lines, then CLOUD-ASSERT: PASS or FAIL.`,
        `export COLDSTART_SIM_DIR="\${COLDSTART_SIM_DIR:-${dir.replace(/["$`\\]/g, "\\$&")}}"`,
        // run by hand too (outside a drill's env): this sim's root and node unless the env says otherwise
        `export COLDSTART_SIM_ROOT="\${COLDSTART_SIM_ROOT:-${root.replace(/["$`\\]/g, "\\$&")}}"`,
        `export COLDSTART_SIM_NODE="\${COLDSTART_SIM_NODE:-${process.execPath.replace(/["$`\\]/g, "\\$&")}}"`,
        // the one shim of every fake tool (in a drill the drill process answers it: drill/tool-server.ts)
        `exec "$COLDSTART_SIM_ROOT/sim/bin/sim-tool" cloud-assert "$@"`,
        "",
      ].join("\n"),
      0o755,
    );
  }

  const unsealKeys = exportedKeys(sc, state);
  const env: Record<string, string> = { ...layout.env };
  unsealKeys.forEach((k, i) => (env[`COLDSTART_UNSEAL_KEY_${i + 1}`] = k));
  const power = (opts.power ?? "virsh") as P;
  if (power === "maas") env[SIM_MAAS_KEY_VAR] = generateMaasApiKey();
  if (!fs.existsSync(entry)) {
    process.emitWarning(`coldstart sim: ${entry} is missing; build first (npx tsc -p .) or the shims cannot run`);
  }
  return {
    dir,
    scenario: loaded.name,
    mode: state.mode,
    power,
    binDir,
    env,
    osEnv,
    openrcPath,
    cloudAssertScript,
    hostsConfig: simHostsConfig(state, power),
    jujuModel: `${CONTROLLER}:${MODEL}`,
    holdGuests: state.guests.filter((g) => g.held).map((g) => g.name),
    unsealKeys,
    clock,
    timeScale: state.timeScale,
    realMs: (simSeconds) => simSeconds * 1000 * state.timeScale,
  };
}

function simHostsConfig<P extends SimPower>(state: SimState, power: P): SimHostConfig<P>[] {
  const systemIds = power === "maas" ? simSystemIds(state.hosts.map((h) => h.name)) : {};
  const hosts = state.hosts.map((h): SimHostConfig<SimPower> => ({
    name: h.name,
    power:
      power === "maas"
        ? { driver: "maas", url: "", systemId: systemIds[h.name]!, apiKeyEnv: SIM_MAAS_KEY_VAR }
        : { driver: "virsh", uri: state.virshUri, domain: h.name },
  }));
  return hosts as SimHostConfig<P>[];
}

/** The hosts' power config pointed at a running sim MAAS (virsh hosts unchanged). */
export function withMaasUrl<P extends SimPower>(hosts: SimHostConfig<P>[], url: string): SimHostConfig<P>[] {
  return hosts.map((h) => (h.power.driver === "maas" ? { ...h, power: { ...h.power, url } } : h));
}

/**
 * The unseal keys the operator holds in this scenario (exported as COLDSTART_UNSEAL_KEY_n):
 * derived from the scenario and the sim's Vault, so no one needs to write them to a file.
 */
export function exportedKeys(sc: Scenario, state: SimState): string[] {
  const exported = sc.vault.exportKeys ?? sc.vault.threshold;
  return typeof exported === "number" ? state.vault.keys.slice(0, exported) : exported;
}

/** The sim's state as of now on its own clock (timers applied), for assertions. */
export function simState(dir: string): SimState {
  return readState(dir);
}
