/**
 * Test harness for the simulated cloud: a sim in a temp dir, a fake real-time clock, and the fake
 * tools called in-process through their main() (the same code the shims run).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createSimCloud, simState, type SimCloud, type SimCloudOptions } from "../../sim/setup";
import { loadState } from "../../sim/store";
import { advance, simNow, type SimState } from "../../sim/state";
import type { ToolResult } from "../../sim/tools/common";
import { main as juju } from "../../sim/tools/juju";
import { main as openstack } from "../../sim/tools/openstack";
import { main as virsh } from "../../sim/tools/virsh";
import { main as cloudAssert } from "../../sim/tools/cloud-assert";
import { readExecResult } from "../../gates/juju-action";
import { mustParse } from "../fixtures";

const TOOLS = { juju, openstack, virsh, "cloud-assert": cloudAssert };
export type ToolName = keyof typeof TOOLS;

export const MODEL = "maas-controller:openstack";

export interface Harness {
  cloud: SimCloud;
  /** Real-time ms of the fake clock. */
  clock: { ms: number };
  call(tool: ToolName, argv: string[], stdin?: string, env?: Record<string, string>): Promise<ToolResult>;
  /** Let `simSeconds` pass. */
  wait(simSeconds: number): void;
  /** The state as of the fake clock. */
  state(): SimState;
  /** Sim seconds since start on the fake clock. */
  now(): number;
  cleanup(): void;
}

const dirs: string[] = [];

export function tempDir(prefix = "coldstart-sim-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function cleanupAll(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function harness(scenario: SimCloudOptions["scenario"], opts: Partial<SimCloudOptions> = {}): Harness {
  const cloud = createSimCloud({ dir: tempDir(), scenario, ...opts });
  const clock = { ms: loadState(cloud.dir).startedAtMs };
  const env = { ...process.env, ...cloud.env, ...cloud.osEnv };
  return {
    cloud,
    clock,
    call: (tool, argv, stdin = "", extra = {}) =>
      // a tool that waits (a hang, juju's --wait) lets that much time pass on the fake clock
      TOOLS[tool](argv, stdin, {
        env: { ...env, ...extra },
        now: () => clock.ms,
        sleep: async (ms) => void (clock.ms += ms),
      }),
    wait: (simSeconds) => {
      clock.ms += cloud.realMs(simSeconds);
    },
    state: () => {
      const s = loadState(cloud.dir);
      advance(s, simNow(s, clock.ms));
      return s;
    },
    now: () => simNow(loadState(cloud.dir), clock.ms),
    cleanup: () => fs.rmSync(cloud.dir, { recursive: true, force: true }),
  };
}

/** `juju exec --format=json` read the way runtime/juju.ts reads it: the remote exit code and stdout. */
export function remoteResult(res: ToolResult, unit: string): { code: number; stdout: string } {
  if (res.stdout.trim() === "") return { code: res.exitCode, stdout: res.stdout };
  const { code, stdout } = mustParse(readExecResult(res.stdout, unit));
  return { code, stdout };
}

export async function exec(h: Harness, unit: string, command: string): Promise<{ code: number; stdout: string }> {
  const res = await h.call("juju", ["exec", "-m", MODEL, "--unit", unit, "--format=json", "--", command]);
  return remoteResult(res, unit);
}

/** Power every host on with `virsh start` and let the agents (and containers) start. */
export async function bootAll(h: Harness, waitSeconds = 200): Promise<void> {
  for (const host of h.cloud.hostsConfig) {
    if (h.state().hosts.find((x) => x.name === host.name)?.power === "on") continue;
    const res = await h.call("virsh", ["-c", host.power.uri, "start", host.power.domain]);
    expect(res.exitCode).toBe(0);
  }
  h.wait(waitSeconds);
}

/** Planned mode: graceful shutdown of every host, then wait until they are off. */
export async function shutdownAll(h: Harness): Promise<void> {
  for (const host of h.cloud.hostsConfig) {
    const res = await h.call("virsh", ["-c", host.power.uri, "shutdown", host.power.domain]);
    expect(res.exitCode).toBe(0);
  }
  h.wait(h.state().shutdownSeconds + 1);
}

export { simState };
