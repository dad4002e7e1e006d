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

export interface ExecRequest {
  file: string;
  args: string[];
  /** Bytes for the child's stdin: the only way a secret may reach a child. Absent: stdin is /dev/null. */
  input?: string;
  /** Variables added to (or, when undefined, removed from) the inherited environment. */
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
}

export type Exec = (req: ExecRequest) => Promise<ExecResult>;

/**
 * Variables no child ever inherits: unseal keys travel on stdin only, and whatever looks like a
 * credential (BMC passwords, MAAS keys, tokens) reaches a child only when a step passes it in
 * `env` on purpose (ipmitool's IPMI_PASSWORD, the openrc's OS_PASSWORD).
 */
export const NEVER_INHERITED = /^COLDSTART_UNSEAL_|PASSWORD|PASSWD|SECRET|API_?KEY|TOKEN|CREDENTIAL/i;
/** Names of the stack's own credential variables (hosts' passwordEnv / apiKeyEnv), comma-separated; set by the graph. */
export const SECRET_VARS = "COLDSTART_SECRET_VARS";

/** Whether `name` must stay out of a child's inherited environment. */
export function neverInherited(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (NEVER_INHERITED.test(name)) return true;
  return (env[SECRET_VARS] ?? "").split(",").some((v) => v.trim() === name);
}

function childEnv(req: ExecRequest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !neverInherited(k)) env[k] = v;
  for (const [k, v] of Object.entries(req.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

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

export function spawnExec(req: ExecRequest, hooks: ExecHooks): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve) => {
    const hooked = hooks.child?.(describeCall(req));
    const child = spawn(req.file, req.args, {
      env: hooked ? { ...childEnv(req), ...hooked.env } : childEnv(req),
      cwd: req.cwd,
      stdio: [req.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));

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
      const acknowledged = hooked?.done();
      const signal = exit?.signal ?? null;
      const result: ExecResult = {
        exitCode: exit?.code ?? null,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        notFound: startError?.code === "ENOENT",
        ...(signal && !timedOut ? { signal } : {}),
        ...(startError ? { startError: `${startError.code ?? "error"}: ${startError.message}` } : {}),
      };
      if (acknowledged) void acknowledged.then(() => resolve(result));
      else resolve(result);
    };
    let drain: NodeJS.Timeout | undefined;
    const cancelTimer = hooks.timer(req.timeoutMs, () => {
      timedOut = true;
      child.kill("SIGKILL");
      // the drain is real time (a grandchild may hold the pipes), held so no sim time passes meanwhile
      void hooks.hold?.(new Promise<void>((r) => (endDrain = r)));
      drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, DRAIN_AFTER_KILL_MS);
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
