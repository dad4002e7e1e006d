/**
 * The one place coldstart starts external programs. Every call has a timeout (a hung juju is a
 * named failure, not a hang), never throws for a non-zero exit, and takes secrets only on stdin.
 *
 * Built on node:child_process rather than execa: execa 5 rejects the whole call on any error of
 * the child's stdin (node_modules/execa/lib/promise.js, getSpawnedPromise: `spawned.stdin.on('error',
 * reject)`), so a child that exits before reading its input (EPIPE) lost its exit code and output
 * and read as "exited -1" (issue #15). Here stdin is /dev/null when nothing is sent, and an EPIPE
 * on an input is noted, never the verdict: the child's own exit code, stdout and stderr are.
 */
import { spawn } from "node:child_process";
import { toolEnv } from "./tool-env";
import { formatBytes } from "./excerpt";

export interface ExecRequest {
  file: string;
  args: string[];
  /** Bytes for the child's stdin: the only way a secret may reach a child. Absent: stdin is /dev/null. */
  input?: string;
  /**
   * Variables passed on purpose (or, when undefined, removed) on top of the allow-listed part of
   * coldstart's environment (runtime/tool-env.ts); what is passed here is not filtered.
   */
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** Working directory (default: the current one). */
  cwd?: string;
}

export interface ExecResult {
  /** The child's own exit code; null when it has none (killed by a signal, timed out, never started). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** coldstart killed it at `timeoutMs`. */
  timedOut: boolean;
  /** The program could not be started at all (e.g. not on PATH). */
  notFound: boolean;
  /** The signal that ended the child when it was not our timeout (e.g. "SIGSEGV", "SIGTERM"). */
  signal?: string;
  /** Why the program could not be started: the errno code and text (e.g. "EACCES: permission denied"). */
  startError?: string;
  /** The timeout that applied, when it was cut below the one asked for (runtime/deadline.ts). */
  cutToMs?: number;
  /**
   * The stream that passed MAX_OUTPUT_BYTES: its text is cut there and the tool's whole process
   * group was killed (a failure, whatever the exit code; describeExit names it).
   */
  overflow?: "stdout" | "stderr";
}

export type Exec = (req: ExecRequest) => Promise<ExecResult>;

// What a tool inherits is runtime/tool-env.ts's allow-list; these names stay importable from here.
export { NEVER_INHERITED, SECRET_VARS, neverInherited } from "./tool-env";

/**
 * The most a call keeps of each of stdout and stderr: 16 MiB, as power/http-exchange.ts caps a
 * MAAS answer. The largest output a step reads is `juju status --format=json` of the whole model:
 * a few MB for a 500-machine model, so this leaves several times that; past it the tool is not
 * answering the question asked (a `yes`, a debug flood) and, uncapped, one call could take the
 * step's memory (560 MB crashed node's string conversion: ERR_STRING_TOO_LONG, no record line).
 */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** After a timeout kill, how long to wait for the pipes to close (a grandchild may hold them open). */
export const DRAIN_AFTER_KILL_MS = 1_000;

/**
 * What a caller may swap in `spawnExec`: the clock of the call timeout, and a hook around each
 * child (a drill's discrete-event clock registers the child before it starts and drops it when
 * its pipes close: runtime/sim-clock.ts). `realExec` passes real setTimeout and no hook.
 */
export interface ExecHooks {
  /** Run `fn` after `ms` of this caller's time; returns a cancel. Only the call timeout uses it. */
  timer(ms: number, fn: () => void): () => void;
  /** Around the real drain after a timeout kill (pipes, not cloud time): a sim clock stays busy. */
  hold?<T>(p: Promise<T>): Promise<T>;
  /**
   * Before spawn: extra env for the child; `done` once it is gone (close, or never started). The
   * call's result is given only after `done`'s promise settles (a drill's clock acknowledges it:
   * an interrupt "at this call" lands there, before the caller reads the answer).
   */
  child?(label: string): { env: Record<string, string>; done(): void | Promise<void> };
}

const realTimer: ExecHooks["timer"] = (ms, fn) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/**
 * Tools' process groups not yet closed. A step that exits while one runs (a second Ctrl-C:
 * runtime/cancel.ts calls process.exit) kills them on its way out: a tool in its own group no
 * longer dies with the terminal's Ctrl-C, so coldstart takes it down itself.
 */
const liveGroups = new Set<number>();
let exitHookSet = false;

/** SIGKILL the process group `pid` leads: the tool and whatever it started (the ssh under `juju ssh`). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: the group is gone already
  }
}

function trackGroup(pid: number): void {
  if (!exitHookSet) {
    exitHookSet = true;
    process.on("exit", () => liveGroups.forEach(killGroup));
  }
  liveGroups.add(pid);
}

export function spawnExec(req: ExecRequest, hooks: ExecHooks): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve) => {
    const hooked = hooks.child?.(describeCall(req));
    const child = spawn(req.file, req.args, {
      env: { ...toolEnv(process.env, req.env), ...hooked?.env },
      cwd: req.cwd,
      stdio: [req.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // The tool leads its own process group (and session: setsid), so a timeout, an overflow or
      // coldstart's exit kills it with everything it started; and a terminal's Ctrl-C reaches the
      // step only, which decides (runtime/cancel.ts: an action in progress finishes).
      detached: true,
    });
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);
    const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const size = { stdout: 0, stderr: 0 };
    let overflow: ExecResult["overflow"];
    const take = (stream: "stdout" | "stderr") => (b: Buffer) => {
      if (overflow) return; // killed for the other stream: nothing more is kept
      const room = MAX_OUTPUT_BYTES - size[stream];
      if (b.length <= room) {
        kept[stream].push(b);
        size[stream] += b.length;
        return;
      }
      // the last bytes that fit; nothing is kept after this (above), so the size is not counted on
      kept[stream].push(b.subarray(0, room));
      overflow = stream;
      stop();
    };
    child.stdout?.on("data", take("stdout"));
    child.stderr?.on("data", take("stderr"));

    let timedOut = false;
    let startError: NodeJS.ErrnoException | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let endDrain: (() => void) | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      cancelTimer();
      clearTimeout(drain);
      endDrain?.();
      if (pid !== undefined) liveGroups.delete(pid);
      const acknowledged = hooked?.done();
      const signal = exit?.signal ?? null;
      const result: ExecResult = {
        exitCode: exit?.code ?? null,
        stdout: Buffer.concat(kept.stdout).toString("utf8"),
        stderr: Buffer.concat(kept.stderr).toString("utf8"),
        timedOut,
        notFound: startError?.code === "ENOENT",
        ...(signal && !timedOut && !overflow ? { signal } : {}),
        ...(startError ? { startError: `${startError.code ?? "error"}: ${startError.message}` } : {}),
        ...(overflow ? { overflow } : {}),
      };
      if (acknowledged) void acknowledged.then(() => resolve(result));
      else resolve(result);
    };
    let drain: NodeJS.Timeout | undefined;
    let stopping = false;
    /** Kill the tool's whole group, then give the pipes DRAIN_AFTER_KILL_MS to close. */
    const stop = () => {
      if (stopping || settled) return;
      stopping = true;
      if (pid !== undefined) killGroup(pid);
      else child.kill("SIGKILL");
      // the drain is real time (a process that left the group may hold the pipes), held so no sim time passes meanwhile
      void hooks.hold?.(new Promise<void>((r) => (endDrain = r)));
      drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, DRAIN_AFTER_KILL_MS);
    };
    const cancelTimer = hooks.timer(req.timeoutMs, () => {
      if (stopping) return; // already killed for its output
      timedOut = true;
      stop();
    });

    child.on("error", (e: NodeJS.ErrnoException) => {
      // 'error' without a pid: the program never started (ENOENT, EACCES); no 'close' may follow.
      startError = e;
      if (child.pid === undefined) finish();
    });
    child.on("exit", (code, signal) => (exit = { code, signal }));
    child.on("close", finish);

    if (req.input !== undefined && child.stdin) {
      // The child may exit without reading its input (a juju that cannot reach its controller):
      // the write then fails with EPIPE, which says nothing about the child's verdict.
      child.stdin.on("error", () => undefined);
      child.stdin.end(req.input);
    }
  });
}

export const realExec: Exec = (req) => spawnExec(req, { timer: realTimer });

/** "exited 3", "killed by SIGSEGV", "could not start (EACCES: …)", "timed out": never a made-up -1. */
export function describeExit(res: ExecResult, timeoutMs?: number): string {
  if (res.startError) return `could not start (${res.startError})`;
  if (res.overflow) return `printed more than ${formatBytes(MAX_OUTPUT_BYTES)} on ${res.overflow} (cut, killed)`;
  const applied = res.cutToMs ?? timeoutMs;
  if (res.timedOut)
    return `no answer within ${applied === undefined ? "its timeout" : `${Math.round(applied / 1000)}s`} (timed out, killed${res.cutToMs !== undefined ? "; cut to what was left of the step's budget" : ""})`;
  if (res.signal) return `killed by ${res.signal}`;
  return res.exitCode === null ? "ended without an exit status" : `exited ${res.exitCode}`;
}

/** "juju machines -m x --format=json" -- for messages (never contains stdin, so never a secret). */
export function describeCall(req: ExecRequest): string {
  return [req.file, ...req.args].join(" ");
}
