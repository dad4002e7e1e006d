/**
 * A REAL BMC for the IPMI driver tests: `ipmi_sim` (package openipmi) on 127.0.0.1 with a free
 * UDP port, configured from test/support/ipmi-sim/ (lan.conf + sim.emu, trimmed from the openipmi
 * examples as fixtures/README.md I-cap describes) and a temp state dir. The host's power lives in
 * a file that the BMC reads and writes through chassis-control.sh, so the tests can see and set
 * it, and choose what the "OS" does on a soft power-off.
 *
 * ipmi_sim and ipmitool must be installed (CI: apt-get install openipmi ipmitool): when they are
 * not, startIpmiSim throws, so the tests FAIL with that message instead of being skipped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realExec, type Exec, type ExecResult } from "../../runtime/exec";
import { realClock, type Clock } from "../../runtime/clock";
import type { StepContext } from "../../runtime/step-context";
import { captureReporter, type CapturingReporter } from "./fake-exec";

const CONFIG_DIR = path.join(__dirname, "ipmi-sim");

export const SIM_USER = "ipmiusr";
export const SIM_PASSWORD = "test";
export const CANARY_USER = "canary";
/** 16 bytes, unique enough that finding it anywhere means it leaked. */
export const CANARY_PASSWORD = "Kx7canaryQ2wPz9m";

/** `fail`: the chassis-control program fails the soft-off, so ipmi_sim answers 0xFF (Unspecified error). */
export type SoftMode = "off" | "ignore" | "fail" | { afterReads: number };

export interface IpmiSim {
  readonly host: string;
  readonly port: number;
  /** The temp dir holding the rendered config, the state dir and the power files. */
  readonly dir: string;
  /** The simulated host's power, as the BMC keeps it. */
  power(): "on" | "off";
  setPower(state: "on" | "off"): void;
  /** What the host's OS does on `chassis power soft`. */
  setSoftMode(mode: SoftMode): void;
  /** Chassis-control calls the BMC made: "get power", "set power 0", "set shutdown 1", ... */
  calls(): string[];
  clearCalls(): void;
  /** ipmi_sim's own stdout+stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throw (failing the test, never skipping it) when a program the real-tool tests need is missing. */
export function requirePrograms(programs: Record<string, string>): void {
  const missing = Object.entries(programs).filter(([program]) => onPath(program) === undefined);
  if (missing.length > 0)
    throw new Error(
      `these tests run the real tools, and ${missing.map(([p]) => p).join(", ")} ` +
        `${missing.length === 1 ? "is" : "are"} not installed: apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(" ")}`,
    );
}

export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Is something bound to 127.0.0.1:<port>/udp? (/proc/net/udp lists local addresses in hex.) */
function udpBound(port: number): boolean {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  try {
    return fs
      .readFileSync("/proc/net/udp", "utf8")
      .split("\n")
      .some((line) => line.trim().split(/\s+/)[1] === want);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function render(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => values[name] ?? whole);
}

async function startOnce(dir: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const stateDir = path.join(dir, "state");
  fs.mkdirSync(stateDir, { recursive: true });
  const chassis = path.join(dir, "chassis-control.sh");
  fs.copyFileSync(path.join(CONFIG_DIR, "chassis-control.sh"), chassis);
  const conf = path.join(dir, "lan.conf");
  fs.writeFileSync(
    conf,
    render(fs.readFileSync(path.join(CONFIG_DIR, "lan.conf"), "utf8"), {
      PORT: String(port),
      CHASSIS_CONTROL: `sh ${chassis} ${dir}`,
      CANARY_PASSWORD,
    }),
  );
  const emu = path.join(CONFIG_DIR, "sim.emu");
  let out = "";
  const child = spawn("ipmi_sim", ["-c", conf, "-f", emu, "-s", stateDir, "-n"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", (err) => {
    exited = true;
    out += String(err);
  });
  const deadline = Date.now() + 5_000;
  while (!udpBound(port)) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`ipmi_sim did not start listening on 127.0.0.1:${port}/udp: ${out.trim() || "(no output)"}`);
    }
    await sleep(20);
  }
  return { child, output: () => out };
}

export async function startIpmiSim(): Promise<IpmiSim> {
  requirePrograms({ ipmi_sim: "openipmi", ipmitool: "ipmitool" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-ipmi-sim-"));
  const file = (name: string) => path.join(dir, name);
  fs.writeFileSync(file("power"), "1\n");
  fs.writeFileSync(file("soft-mode"), "off\n");
  fs.writeFileSync(file("calls.log"), "");

  let started: { child: ChildProcess; output: () => string; port: number } | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && started === undefined; attempt++) {
    const port = await freeUdpPort();
    try {
      started = { ...(await startOnce(dir, port)), port };
    } catch (err) {
      lastError = err;
    }
  }
  if (started === undefined) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { child, output, port } = started;

  return {
    host: "127.0.0.1",
    port,
    dir,
    power: () => (fs.readFileSync(file("power"), "utf8").trim() === "0" ? "off" : "on"),
    setPower: (state) => {
      fs.writeFileSync(file("power"), state === "on" ? "1\n" : "0\n");
      fs.rmSync(file("pending"), { force: true });
    },
    setSoftMode: (mode) =>
      fs.writeFileSync(file("soft-mode"), typeof mode === "string" ? `${mode}\n` : `after ${mode.afterReads}\n`),
    calls: () =>
      fs
        .readFileSync(file("calls.log"), "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    clearCalls: () => fs.writeFileSync(file("calls.log"), ""),
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const killed = await Promise.race([
          gone.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 2_000))),
        ]);
        clearTimeout(timer);
        if (killed) {
          child.kill("SIGKILL");
          await gone;
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- a StepContext over the REAL exec, recording every call --------------------------------

export interface ExecRecord {
  file: string;
  args: string[];
  env: Record<string, string | undefined> | undefined;
  input: string | undefined;
  result?: ExecResult;
}

export interface RealTestContext extends StepContext {
  out: CapturingReporter;
  /** Every call that went through ctx.exec, with what it answered. */
  readonly records: ExecRecord[];
}

/** realExec (so the real programs run) plus a record of each request; a real or fake clock. */
export function realContext(
  opts: { env?: NodeJS.ProcessEnv; callTimeoutMs?: number; clock?: Clock } = {},
): RealTestContext {
  const records: ExecRecord[] = [];
  const exec: Exec = async (req) => {
    const record: ExecRecord = {
      file: req.file,
      args: [...req.args],
      env: req.env === undefined ? undefined : { ...req.env },
      input: req.input,
    };
    records.push(record);
    record.result = await realExec(req);
    return record.result;
  };
  return {
    exec,
    clock: opts.clock ?? realClock,
    env: opts.env ?? { ...process.env },
    out: captureReporter(),
    callTimeoutMs: opts.callTimeoutMs ?? 20_000,
    records,
  };
}
