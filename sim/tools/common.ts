/**
 * Simulated cloud -- what every fake tool shares: finding the sim (COLDSTART_SIM_DIR), the call
 * log line, scenario hangs (a call that answers late or never, to exceed coldstart's call timeout),
 * and a session giving the tool the state at "now" (read-only) or under the lock (to change it).
 */
import { appendCall } from "../call-log";
import type { LatencyTool, SimState } from "../state";
import { loadState, readState, updateState } from "../store";
import { callLogAt, clockFilePath, clockFileTime, scaledTime, SIM_CLOCK_VAR, type SimTime } from "../time";

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ToolContext {
  /** Default: process.env (COLDSTART_SIM_DIR, OS_* ...). */
  env?: NodeJS.ProcessEnv;
  /** Default: process.cwd(). */
  cwd?: string;
  /**
   * The sim's clock (sim/time.ts). entry.ts passes the discrete one in a drill that runs on the
   * discrete-event clock. Default: the state's scaled clock, with `now` / `sleep` below.
   */
  time?: SimTime;
  /** Scaled clock only: the real clock (epoch ms); tests inject a fake one. */
  now?: () => number;
  /** Scaled clock only: how a wait passes (real ms); tests inject an instant one. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Session {
  dir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The sim's clock: every wait of a tool (hang, latency, juju --wait) goes through time.sleepS. */
  time: SimTime;
  /** The state as of now (timers applied in memory), and the sim time. */
  read(): { s: SimState; now: number };
  /** Change the state under the lock; `fn` gets the state as of now. */
  update<T>(fn: (s: SimState, now: number) => T): T;
}

export type ToolImpl = (argv: string[], stdin: string, session: Session) => ToolResult | Promise<ToolResult>;

export const ok = (stdout = "", stderr = ""): ToolResult => ({ stdout, stderr, exitCode: 0 });
export const fail = (stderr: string, exitCode = 1, stdout = ""): ToolResult => ({ stdout, stderr, exitCode });

/** Does a scenario hang apply to this call? Counts down `times` under the lock. Sim seconds (Infinity: forever). */
function takeHang(dir: string, base: SimState, tool: string, argv: string[], time: SimTime): number | null {
  const matches = (h: SimState["hangs"][number]) => h.tool === tool && h.args.every((a) => argv.includes(a));
  const hang = base.hangs.find(matches);
  if (!hang) return null;
  const seconds =
    hang.remaining === null
      ? hang.seconds
      : updateState(
          dir,
          (s) => {
            const h = s.hangs.find(matches);
            if (!h || h.remaining === null || h.remaining <= 0) return null;
            h.remaining--;
            return h.seconds;
          },
          time,
        );
  if (seconds === null) return null;
  return seconds === "forever" ? Infinity : seconds;
}

/**
 * The clock this call runs on. A discrete sim called outside a drill (no clock server) can still
 * answer from the clock file, but cannot wait; a scaled sim called with a discrete clock is a
 * wiring mistake that would mix two time domains, so it is refused.
 */
function toolTime(dir: string, base: SimState, ctx: ToolContext): SimTime {
  const discrete = base.clock === "discrete";
  if (ctx.time) {
    if (ctx.time.kind === "discrete" && !discrete) {
      throw new Error(
        `${SIM_CLOCK_VAR} is set but the sim in ${dir} runs on the scaled clock (create it with clock "discrete")`,
      );
    }
    return ctx.time;
  }
  return discrete ? clockFileTime(clockFilePath(dir)) : scaledTime(base, { now: ctx.now, sleep: ctx.sleep });
}

/** Run one tool call: sim lookup, hang, latency, the tool itself, one call-log line. Never throws. */
export async function runTool(
  tool: LatencyTool,
  argv: string[],
  stdin: string,
  ctx: ToolContext,
  impl: ToolImpl,
): Promise<ToolResult> {
  const env = ctx.env ?? process.env;
  const cwd = ctx.cwd ?? process.cwd();
  const dir = env.COLDSTART_SIM_DIR;
  if (!dir) {
    return fail(`coldstart sim ${tool}: COLDSTART_SIM_DIR is not set (use the env that createSimCloud returns)\n`, 127);
  }
  let base: SimState;
  let time: SimTime;
  try {
    base = loadState(dir);
    time = toolTime(dir, base, ctx);
  } catch (err) {
    return fail(`coldstart sim ${tool}: ${(err as Error).message}\n`, 127);
  }
  const log = (exitCode: number | null) =>
    appendCall(dir, {
      tool,
      argv,
      stdinBytes: Buffer.byteLength(stdin),
      cwd,
      at: callLogAt(time, base),
      exitCode,
      step: env.COLDSTART_STEP,
    });

  const session: Session = {
    dir,
    env,
    cwd,
    time,
    read: () => {
      const now = time.nowS(); // one instant for the state and the time it is given with
      return { s: readState(dir, { nowS: () => now }), now };
    },
    update: (fn) => updateState(dir, fn, time),
  };
  let result: ToolResult;
  let hung = false;
  try {
    const hangS = takeHang(dir, base, tool, argv, time);
    if (hangS !== null) {
      hung = true;
      log(null);
      await time.sleepS(hangS);
    }
    // the call's own duration (scenario latency), before it looks at the cloud
    await time.sleepS(base.latency?.[tool] ?? 0);
    result = await impl(argv, stdin, session);
    if (hung) return result;
  } catch (err) {
    result = fail(`coldstart sim ${tool}: ${(err as Error).message}\n`, 70);
  }
  log(result.exitCode);
  return result;
}

export interface ParsedArgs {
  positional: string[];
  /** Last value of each option ("--format=json" and "--format json" alike); flags without a value map to "". */
  options: Map<string, string>;
  /** Repeatable options, in order (e.g. -c Name -c Status). */
  repeated: Map<string, string[]>;
  /** Everything after "--". */
  rest: string[];
}

/** A small getopt: `valued` names the options that take a value ("-m", "--format", ...). */
export function parseArgs(argv: string[], valued: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: new Map(), repeated: new Map(), rest: [] };
  const set = (k: string, v: string) => {
    out.options.set(k, v);
    out.repeated.set(k, [...(out.repeated.get(k) ?? []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out.rest = argv.slice(i + 1);
      break;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    if (eq > 0) set(a.slice(0, eq), a.slice(eq + 1));
    else if (valued.includes(a)) set(a, argv[++i] ?? "");
    else if (a.startsWith("-") && a.length > 1) set(a, "");
    else out.positional.push(a);
  }
  return out;
}
