/**
 * A scripted stand-in for runtime/exec.ts: every external program a step would start is answered
 * from a route table, and every call is recorded (file, args, stdin, env, timeout, cwd) so a test
 * can assert what ran, in which order, and what did NOT run.
 *
 * - Routes match `file + " " + args.join(" ")` (the "call line") by a RegExp or a predicate.
 *   The LAST registered route that matches wins, so a test can register defaults first and
 *   override one call later.
 * - A reply is stdout text, a partial ExecResult, or a function of (call, n) where n is how many
 *   times that route has answered (1-based), so state can change across polls.
 * - A call no route matches fails the test loudly: it throws at the call site AND is reported by
 *   an afterEach hook, because some steps swallow exceptions of single probes on purpose.
 */
import type { Exec, ExecRequest, ExecResult } from "../../runtime/exec";
import { fakeClock, type Clock } from "../../runtime/clock";
import type { Reporter, StepContext } from "../../runtime/step-context";

export interface RecordedCall {
  file: string;
  args: string[];
  input: string | undefined;
  env: Record<string, string | undefined> | undefined;
  timeoutMs: number;
  cwd: string | undefined;
  /** `file + " " + args.join(" ")`: what routes match on (never contains stdin). */
  line: string;
}

export type Reply = Partial<ExecResult>;

export type Answer = Reply | string;
export type Responder = Answer | ((call: RecordedCall, n: number) => Answer);
export type Matcher = RegExp | ((line: string, call: RecordedCall) => boolean);

interface Route {
  matcher: Matcher;
  responder: Responder;
  served: number;
}

export class UnexpectedCallError extends Error {
  override readonly name = "UnexpectedCallError";
}

/** Fakes created in the current test; checked for unexpected calls after it. */
const live: FakeExec[] = [];

export class FakeExec {
  readonly calls: RecordedCall[] = [];
  readonly unexpected: RecordedCall[] = [];
  private readonly routes: Route[] = [];

  constructor() {
    live.push(this);
  }

  /** Answer calls whose line matches `matcher` (the last matching registration wins). */
  on(matcher: Matcher, responder: Responder): this {
    this.routes.push({ matcher, responder, served: 0 });
    return this;
  }

  /** The Exec to put in a StepContext. */
  readonly exec: Exec = async (req: ExecRequest): Promise<ExecResult> => {
    const call: RecordedCall = {
      file: req.file,
      args: [...req.args],
      input: req.input,
      env: req.env === undefined ? undefined : { ...req.env },
      timeoutMs: req.timeoutMs,
      cwd: req.cwd,
      line: [req.file, ...req.args].join(" "),
    };
    this.calls.push(call);
    const route = [...this.routes].reverse().find((r) => matches(r.matcher, call));
    if (route === undefined) {
      this.unexpected.push(call);
      throw new UnexpectedCallError(`fake exec: no route for the call: ${call.line}`);
    }
    route.served += 1;
    const answer = typeof route.responder === "function" ? route.responder(call, route.served) : route.responder;
    return toResult(answer);
  };

  /** Recorded calls whose line matches (all calls without a matcher). */
  callsTo(matcher?: Matcher): RecordedCall[] {
    return matcher === undefined ? [...this.calls] : this.calls.filter((c) => matches(matcher, c));
  }

  /** Recorded call lines, in order. */
  lines(matcher?: Matcher): string[] {
    return this.callsTo(matcher).map((c) => c.line);
  }

  count(matcher: Matcher): number {
    return this.callsTo(matcher).length;
  }
}

function matches(matcher: Matcher, call: RecordedCall): boolean {
  if (matcher instanceof RegExp) {
    matcher.lastIndex = 0;
    return matcher.test(call.line);
  }
  return matcher(call.line, call);
}

function toResult(answer: Answer): ExecResult {
  const reply: Reply = typeof answer === "string" ? { stdout: answer } : answer;
  return {
    exitCode: reply.exitCode !== undefined ? reply.exitCode : reply.timedOut || reply.notFound ? null : 0,
    stdout: reply.stdout ?? "",
    stderr: reply.stderr ?? "",
    timedOut: reply.timedOut ?? false,
    notFound: reply.notFound ?? false,
    ...(reply.signal ? { signal: reply.signal } : {}),
    ...(reply.startError ? { startError: reply.startError } : {}),
    ...(reply.overflow ? { overflow: reply.overflow } : {}),
  };
}

export function fakeExec(): FakeExec {
  return new FakeExec();
}

if (typeof afterEach === "function") {
  afterEach(() => {
    const fakes = live.splice(0);
    const stray = fakes.flatMap((f) => f.unexpected.map((c) => c.line));
    if (stray.length > 0) throw new UnexpectedCallError(`fake exec: unexpected call(s):\n  ${stray.join("\n  ")}`);
  });
}

// --- replies the runtime expects -----------------------------------------------------------

/**
 * A `juju exec --format=json` answer (Juju.execOnUnit): the task's results carry the remote
 * `return-code` and, when not empty, `stdout` / `stderr`; a code of 1 or more makes juju exit 1
 * with "the following task failed" on stderr, the JSON still on stdout (gates/juju-action.ts).
 */
export function jujuExecReply(remoteStdout: string, remoteExitCode = 0, remoteStderr = ""): Reply {
  const results: Record<string, unknown> = { "return-code": remoteExitCode };
  if (remoteStderr !== "") results.stderr = remoteStderr;
  if (remoteStdout !== "") results.stdout = remoteStdout;
  const at = "2026-12-05 06:10:00 +0000 UTC";
  const task = {
    id: "2",
    results,
    status: "completed",
    timing: { completed: at, enqueued: at, started: at },
    unit: "unit/0",
  };
  const failed = remoteExitCode >= 1;
  return {
    stdout: JSON.stringify({ "unit/0": task }) + "\n",
    stderr: failed
      ? `ERROR the following task failed:\n - id "2" with return code ${remoteExitCode}\n\nuse 'juju show-task' to inspect the failure\n`
      : "",
    exitCode: failed ? 1 : 0,
  };
}

/** The variables the openrc sets, as `bash -c <source openrc> coldstart <openrc>` prints them (`env -0`: each ended by a NUL). */
export const OPENRC_VARS: Readonly<Record<string, string>> = {
  OS_AUTH_URL: "http://keystone:5000/v3",
  OS_USERNAME: "admin",
  OS_PASSWORD: "pw",
};

export function openrcReply(vars: Readonly<Record<string, string>> = OPENRC_VARS): Reply {
  return {
    stdout: Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\0`)
      .join(""),
  };
}

/** The openrc-sourcing call of runtime/openstack.ts. */
export const OPENRC_CALL = /^bash -c .* coldstart \S+$/s;

// --- a capturing Reporter and a context --------------------------------------------------------

export interface CapturingReporter extends Reporter {
  readonly lines: string[];
  readonly warnings: string[];
  readonly data: (Record<string, unknown> | undefined)[];
  /** Every line and warning, for "this never appears anywhere" assertions. */
  all(): string;
}

export function captureReporter(): CapturingReporter {
  const lines: string[] = [];
  const warnings: string[] = [];
  const data: (Record<string, unknown> | undefined)[] = [];
  return {
    lines,
    warnings,
    data,
    line: (text, d) => {
      lines.push(text);
      data.push(d);
    },
    warn: (text) => {
      warnings.push(text);
    },
    all: () => [...lines, ...warnings, ...data.map((d) => (d === undefined ? "" : JSON.stringify(d)))].join("\n"),
  };
}

export interface TestContext extends StepContext {
  out: CapturingReporter;
  clock: Clock & { advance(ms: number): void };
}

/** A StepContext over a fake exec, a fake clock (starting at `start`) and a capturing reporter. */
export function testContext(
  fake: FakeExec,
  opts: { env?: NodeJS.ProcessEnv; start?: number; callTimeoutMs?: number } = {},
): TestContext {
  return {
    exec: fake.exec,
    clock: fakeClock(opts.start ?? Date.UTC(2026, 11, 5, 6, 0, 0)),
    env: opts.env ?? { HOME: "/home/operator" },
    out: captureReporter(),
    callTimeoutMs: opts.callTimeoutMs ?? 120_000,
  };
}
