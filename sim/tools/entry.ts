/**
 * Simulated cloud -- the process behind the shims in sim/bin: `node dist/sim/tools/entry.js <tool> args…`.
 * Reads stdin (unseal keys arrive here), runs the tool, writes its output, exits with its code.
 * Each tool is loaded on demand so a call pays only for what it uses. In a drill on the
 * discrete-event clock (COLDSTART_SIM_CLOCK set) every wait of the tool is a wait on that clock
 * (sim/time.ts discreteTime); otherwise the state's scaled clock.
 */
import * as fs from "node:fs";
import type { ToolContext, ToolResult } from "./common";
import { discreteTime, SIM_CLOCK_VAR } from "../time";

type Main = (argv: string[], stdin: string, ctx?: ToolContext) => Promise<ToolResult>;

const TOOLS: Record<string, () => Promise<Main>> = {
  juju: async () => (await import("./juju")).main,
  openstack: async () => (await import("./openstack")).main,
  virsh: async () => (await import("./virsh")).main,
  "cloud-assert": async () => (await import("./cloud-assert")).main,
};

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
    process.stderr.write(`coldstart sim: unknown tool "${tool ?? ""}" (one of ${Object.keys(TOOLS).join(", ")})\n`);
    return 64;
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
