/**
 * Simulated cloud -- the process behind the shim sim/bin/sim-tool (linked as juju, openstack, virsh): `node dist/sim/tools/entry.js <tool> args…`.
 * Reads stdin (unseal keys arrive here), runs the tool, writes its output, exits with its code.
 * A drill answers its calls in its own process instead (drill/tool-server.ts; the shims choose):
 * this is the fallback, and what the sim's tests and preflight --scenario run. In a drill on the
 * discrete-event clock (COLDSTART_SIM_CLOCK set) every wait of the tool is a wait on that clock
 * (sim/time.ts discreteTime); otherwise the state's scaled clock.
 */
import * as fs from "node:fs";
import type { ToolContext } from "./common";
import { discreteTime, SIM_CLOCK_VAR } from "../time";
import { TOOLS, unknownTool } from "./registry";

function readStdin(): string {
  if (process.stdin.isTTY) return "";
  try {
    return fs.readFileSync(0, "utf8");
  } catch {
    return ""; // closed or not readable
  }
}

async function run(): Promise<number> {
  const [tool, ...argv] = process.argv.slice(2);
  const load = tool === undefined ? undefined : TOOLS[tool];
  if (!load) {
    const unknown = unknownTool(tool);
    process.stderr.write(unknown.stderr);
    return unknown.exitCode;
  }
  const main = await load();
  const ctx: ToolContext = process.env[SIM_CLOCK_VAR] ? { time: discreteTime(process.env) } : {};
  const result = await main(argv, readStdin(), ctx).finally(() => ctx.time?.close?.());
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode;
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`coldstart sim: ${(err as Error).message}\n`);
    process.exitCode = 70;
  },
);
