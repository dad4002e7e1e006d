/**
 * Execute one Command the way the command provider does (pulumi-command v1.2.1
 * provider/pkg/provider/local/commandOutputs.go, run): the command under `interpreter` (default
 * /bin/sh -c), the provider's environment plus the step's `environment`, in `dir`, `stdin` if
 * non-empty, trailing newline trimmed from stdout/stderr. And the way it is stopped:
 * - the context (customTimeouts.create, or the provider's Cancel) kills the direct child only:
 *   `exec.CommandContext` sends SIGKILL to the process it started, not to its process group;
 * - Wait then returns only when the output pipes close (no WaitDelay is set), i.e. when every
 *   process holding them -- an orphaned coldstart under the killed shell -- has exited;
 * - the error is Go's `signal: killed` plus the command and its combined output.
 * The timeout is whole seconds: pulumi-go-provider middleware/cancel/cancel.go turns the
 * engine's float seconds into `time.Second*time.Duration(timeout)`, which truncates (0 = none).
 *
 * One deliberate difference: the unseal keys (COLDSTART_UNSEAL_KEY_n, COLDSTART_UNSEAL_KEYS_FILE)
 * reach only the vault-unseal step's shell. The provider gives every step `os.Environ()`, so under
 * a plain `pulumi up` every step holds them; the drill rehearses what `coldstart maintenance`
 * arranges (only a FIFO's path in the CLI's environment, read by the unseal step alone), so a
 * test that watches every step's environment fails if any other step is given a key
 * (test/security/unseal-keys-reach.test.ts; README "Unseal key custody").
 */
import { spawn, type ChildProcess } from "node:child_process";
import { isKeyVariable, UNSEAL_STEP } from "../runtime/unseal-keys";
import { killTree } from "./process-tree";

/** Steps running now (each leads its own process group). */
const running = new Set<ChildProcess>();
/** Why the provider's context killed a step's shell. */
const killedBy = new WeakMap<ChildProcess, "timeout" | "cancel">();

function contextDone(child: ChildProcess, why: "timeout" | "cancel"): void {
  if (!killedBy.has(child)) killedBy.set(child, why);
  child.kill("SIGKILL");
}

/**
 * The engine's cancel (pulumi up's first Ctrl-C -> provider Cancel): SIGKILL each running
 * step's direct child, the shell. What runs under it is not signalled.
 */
export function cancelRunningSteps(): void {
  for (const child of running) contextDone(child, "cancel");
}

/**
 * A lost jumphost or `kill -9` mid-step, for drills: SIGKILL the step's process group and every
 * process under it, the tool calls too (each runs in a group of its own: drill/process-tree.ts).
 */
export function killStepGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  killTree(child.pid);
}

/**
 * Stop at once (a second Ctrl-C): SIGKILL every running step's process group -- a step treats a
 * first SIGINT/SIGTERM as "stop at the next safe point" (runtime/cancel.ts), which is not what a
 * second Ctrl-C asks for. Each step is safe to kill (README "When a step is killed outright").
 * Steps run in their own group, as the provider's children are shielded from the terminal's Ctrl-C.
 */
export function stopRunningSteps(): void {
  for (const child of running) killStepGroup(child);
}

export interface CommandInputs {
  create?: string;
  update?: string;
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
  /** On an update, the previous stdout/stderr in PULUMI_COMMAND_STDOUT/STDERR unless false (default true). */
  addPreviousOutputInEnv?: boolean;
}

export interface CommandResult {
  /** The shell's exit code; null when it was killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The provider's context ended it: at customTimeouts.create, or by the engine's cancel. */
  killedBy?: "timeout" | "cancel";
  /** The shell could not be started at all (Go's cmd.Start error text). */
  startError?: string;
  stdout: string;
  stderr: string;
}

/** The provider's timeout as it really applies: whole seconds, 0 = no timeout. */
export function providerTimeoutMs(createTimeoutMs: number | undefined): number | undefined {
  if (createTimeoutMs === undefined) return undefined;
  const seconds = Math.trunc(createTimeoutMs / 1000);
  return seconds > 0 ? seconds * 1000 : undefined;
}

const realTimer = (ms: number, fn: () => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export function runCommand(
  command: string,
  inputs: CommandInputs,
  env: NodeJS.ProcessEnv,
  opts: {
    timeoutMs?: number;
    onLine?: (stream: "stdout" | "stderr", line: string) => void;
    /** The shell just started (a drill may interrupt it). */
    onSpawn?: (child: ChildProcess) => void;
    /** The clock of customTimeouts (default real setTimeout; a drill's is cloud time: drill/sim-clock.ts). */
    timer?: (ms: number, fn: () => void) => () => void;
  } = {},
): Promise<CommandResult> {
  const [file, ...args] = inputs.interpreter ?? ["/bin/sh", "-c"];
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args, command], {
      cwd: inputs.dir || undefined,
      env: stepEnv(env, inputs.environment),
      stdio: [inputs.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    opts.onSpawn?.(child);
    const timeoutMs = providerTimeoutMs(opts.timeoutMs);
    const onTimeout = () => contextDone(child, "timeout");
    const cancelTimer = timeoutMs === undefined ? () => undefined : (opts.timer ?? realTimer)(timeoutMs, onTimeout);
    const out: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      const pipe = child[stream];
      if (!pipe) continue;
      pipe.setEncoding("utf8");
      pipe.on("data", (chunk: string) => {
        out[stream] += chunk;
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) opts.onLine?.(stream, line);
      });
      pipe.on("end", () => partial && opts.onLine?.(stream, partial));
    }
    child.on("error", (err) => {
      cancelTimer();
      running.delete(child);
      // The shell never started (E2BIG: an environment string past MAX_ARG_STRLEN, ENOENT, ...): the
      // provider's cmd.Start fails and the step fails with Go's text (commandOutputs.go `run`:
      // "%w: running %q:\n%s"), e.g. "fork/exec /bin/sh: argument list too long". A failed step,
      // never a step that silently did not run.
      if (child.pid === undefined) {
        const why = (err as NodeJS.ErrnoException).code === "E2BIG" ? "argument list too long" : err.message;
        const startError = `fork/exec ${file}: ${why}`;
        resolve({
          exitCode: null,
          signal: null,
          startError,
          stdout: "",
          stderr: `${startError}: running ${JSON.stringify(command)}:`,
        });
        return;
      }
      reject(err);
    });
    // 'close' waits for the pipes, like Go's Wait without WaitDelay: an orphan keeps it open.
    child.on("close", (code, signal) => {
      cancelTimer();
      running.delete(child);
      const why = killedBy.get(child);
      resolve({
        exitCode: code,
        signal,
        ...(signal && why ? { killedBy: why } : {}),
        stdout: out.stdout.replace(/\n$/, ""),
        stderr: out.stderr.replace(/\n$/, ""),
      });
    });
    if (inputs.stdin && child.stdin) {
      child.stdin.on("error", () => undefined); // a shell that exits first: its verdict counts
      child.stdin.end(inputs.stdin);
    }
  });
}

/** The step's environment: the engine's plus its own, the unseal keys only for the unseal step (see the top). */
export function stepEnv(env: NodeJS.ProcessEnv, own: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, ...own };
  if (own.COLDSTART_STEP !== UNSEAL_STEP) for (const k of Object.keys(out)) if (isKeyVariable(k)) delete out[k];
  return out;
}
