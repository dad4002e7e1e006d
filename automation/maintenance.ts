/**
 * CI-invoked planned maintenance: preflight -> preview -> approval -> up with live progress ->
 * report -> exit code. The preflight (preflight/run.ts, the same checks as `coldstart preflight`)
 * runs first, long before anything is powered off: a window that is not ready is refused (exit 1,
 * or 3 for a blocker), and the unseal keys are judged against the threshold Vault itself reports.
 * Keys come from the environment, a keys file or a hidden prompt, are read once, and reach the
 * run only through a FIFO this process serves (automation/key-fifo.ts): the engine's environment
 * (every step's) holds its path, never a key. A first Ctrl-C /
 * SIGTERM writes the window's stop request (the running step finishes, nothing new starts), a
 * second is the engine's cancel, a third its terminate; each leaves a record line saying where
 * the run stopped, and report.json lists them (`interrupts`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT, type ExitCode } from "../runtime/exit-codes";
import { appendRecord, readRecord, recordFile, type RecordEntry, type RecordRead } from "../runtime/record";
import { interruptFor, readStop, requestStop, stopFile, type Interrupt } from "../runtime/cancel";
import {
  isKeyVariable,
  KEY_VAR_PREFIX,
  KEYS_FILE_VAR,
  malformedKeys,
  readUnsealKeys,
  type UnsealKeys,
} from "../runtime/unseal-keys";
import { serveKeys, type KeyFifo } from "./key-fifo";
import { HANDED_TO_KEYHOLDERS } from "../gates/vault";
import { renderTable, resultLines, verdictOf, vaultKeysCheck, type PreflightReport } from "../preflight/checks";
import { handbackOf, renderHandback, resumeAdvice } from "../runbook/handback";
import { renderRecord } from "../record/render";
import { revalidateItems } from "../record/revalidate";
import { acquireRunLock, WindowLockedError, type RunLock } from "../runtime/run-lock";
import type { Plan } from "../plan/model";
import {
  outputLine,
  StackLockedError,
  type EnginePreview,
  type MaintenanceEngine,
  type StepEvent,
  type UpResult,
} from "./engine";
import { opLabel, resumeLine, summaryLines, type PreviewSummary } from "./preview-summary";

export interface MaintenanceIO {
  out(line: string): void;
  err(line: string): void;
  /** True when a person is at a terminal (prompts allowed). */
  interactive: boolean;
  /** y/N question; anything but y/yes is No. */
  confirm(question: string): Promise<boolean>;
  /** A hidden prompt (no echo), like the runbook's `read -s`. */
  promptSecret(label: string): Promise<string>;
}

/** How the driver hears Ctrl-C / SIGTERM: `handler(n)` is called with n = 1, 2, 3, ... (runtime/cancel.ts interruptFor). */
export type SignalSource = (handler: (count: number) => void) => () => void;

export interface MaintenanceOptions {
  stack: string;
  window: string;
  /** CI: the CI system's own approval (protected environment) stands before the job. */
  yes: boolean;
  engine: MaintenanceEngine;
  reportDir: string;
  io: MaintenanceIO;
  env: NodeJS.ProcessEnv;
  /**
   * The preflight of the window's cloud, with the keys of `env` counted (never sent anywhere):
   * `coldstart preflight`'s checks (preflight/run.ts). `{ skip }`: not run, said why (a resumed
   * window: the cloud is mid-window; Stage 3 still checks the keys before it touches Vault).
   */
  preflight: ((env: NodeJS.ProcessEnv, onLine: (line: string) => void) => Promise<PreflightReport>) | { skip: string };
  signals: SignalSource;
  /** Called to stop at once, after the record note and the report are written (the CLI exits 130). */
  hardStop: () => void;
  now?: () => Date;
}

export interface MaintenanceResult {
  exitCode: ExitCode;
  result: UpResult["result"] | "declined" | "blocked" | "locked";
  reportFiles: string[];
}

export async function runMaintenance(opts: MaintenanceOptions): Promise<MaintenanceResult> {
  const { io, window, engine } = opts;
  // 0. One run at a time: the window's lock before anything looks at or acts on the cloud. Its
  //    run id reaches every step through the environment (runtime/run-lock.ts), so this run's own
  //    steps pass it and anyone else's (a drill, a step by hand) is refused with exit 5.
  let lock: RunLock;
  try {
    lock = acquireRunLock({
      recordDir: engine.recordDir(),
      window,
      stack: opts.stack,
      kind: "maintenance",
      env: opts.env,
    });
  } catch (err) {
    if (err instanceof WindowLockedError) {
      io.err(`coldstart: maintenance: ${err.message}`);
      return { exitCode: EXIT.locked, result: "locked", reportFiles: [] };
    }
    throw err;
  }
  if (lock.note) io.out(lock.note);
  try {
    return await underLock(opts, lock, () => lock.release());
  } finally {
    lock.release();
  }
}

async function underLock(opts: MaintenanceOptions, lock: RunLock, release: () => void): Promise<MaintenanceResult> {
  const { io, window, engine } = opts;
  // the clock the steps write the record by (a drill's is the cloud's): one clock per record
  const now = opts.now ?? (engine.now ? () => engine.now!() : () => new Date());

  // 1. Preflight first: a planned window that shuts the cloud down must not discover at Stage 3
  //    that nobody can unseal Vault, nor at power-off that a BMC does not answer. The keys are
  //    judged against the threshold Vault reports (not a fixed count). Escalate, never improvise.
  const gate = await preflightAndKeys(opts);
  if ("refused" in gate) return gate.refused;

  // 2. Preview: the engine's own, per step (create / update / replace / same), in the mode in
  //    force, resuming or not; in plan order, with the destructive-if-matched steps marked.
  let previewed: EnginePreview;
  try {
    previewed = await engine.preview(window);
  } catch (err) {
    if (err instanceof StackLockedError) return locked(io, err);
    throw err;
  }
  const { plan, preview } = previewed;
  io.out(`maintenance window ${window} on stack ${opts.stack} (${engine.name}): ${plan.steps.length} steps`);
  for (const line of previewLines(plan, preview)) io.out(line);
  // Last before the question (and in a --yes log): what this run will do.
  for (const line of summaryLines(preview)) io.out(line);

  // 3. Approval of that preview: defaults to No.
  if (!opts.yes) {
    if (!io.interactive) {
      io.err(
        "no approval: run it at a terminal to answer y/N, or pass --yes where CI's own approval (protected environment) stands before the job",
      );
      return { exitCode: EXIT.usage, result: "declined", reportFiles: [] };
    }
    const what = `${preview.mode.mode}; ${resumeLine(preview)}`;
    if (!(await io.confirm(`Run maintenance window ${window} on stack ${opts.stack} (${what})? [y/N] `))) {
      io.out("declined: nothing was run");
      return { exitCode: EXIT.declined, result: "declined", reportFiles: [] };
    }
  }

  // 4. Up, with live progress and safe cancel, escalating one step per signal (runtime/cancel.ts
  //    interruptFor). The first never reaches the engine: it writes the window's stop request, so
  //    no step starts after it, a gate stops between polls and an action in progress finishes.
  //    The second is the engine's cancel (one SIGINT to the pulumi CLI, which runs in a process
  //    group of its own so the terminal's Ctrl-C never reaches it: automation/pulumi-cli.ts; the
  //    drill engine's cancel). The third is the engine's terminate (pulumi's second SIGINT); a
  //    fourth, or an engine that runs in this process, stops at once.
  const controller = new AbortController();
  const terminator = new AbortController();
  const running = new Set<string>();
  const finished: string[] = [];
  const file = recordFile(engine.recordDir(), window, opts.env);
  const stop = stopFile(engine.recordDir(), window, opts.env);
  const earlierStop = readStop(stop);
  if (earlierStop) {
    io.out(
      `an earlier run of window ${window} was cancelled (${earlierStop.by} at ${earlierStop.at}); its stop request is cleared for this run`,
    );
    fs.rmSync(stop, { force: true });
  }
  let stopRequested: { at: string; running: string[] } | undefined;
  const interrupts: InterruptSeen[] = [];
  /** Set once a terminate or stop-at-once note is in the record (the end's graceful note is then not written). */
  let stoppedNote = false;
  let graceTimer: NodeJS.Timeout | undefined;
  /** The FIFO serving the keys while up() runs (closed after it, or before a hard stop exits). */
  let fifo: KeyFifo | undefined;
  const stopNote = (how: string): RecordEntry => ({
    window,
    stack: opts.stack,
    stage: "maintenance",
    step: "maintenance",
    command: "maintenance",
    start: now().toISOString(),
    end: now().toISOString(),
    exitCode: EXIT.cancelled,
    outcome: "cancelled",
    runId: lock.runId,
    runKind: "maintenance",
    summary: `${how}; last step finished: ${finished[finished.length - 1] ?? "(none)"}; running then: ${[...running].join(", ") || "(none)"}`,
    details: [],
  });
  /** Exit now (hardStop): a record line, the report with what is known, the lock and the keys released. */
  const stopAtOnce = (how: string) => {
    clearTimeout(graceTimer);
    if (!stoppedNote) appendRecord(file, stopNote(how));
    stoppedNote = true;
    const reportFiles = writeReport(
      opts,
      { result: "cancelled", unchanged: [] },
      EXIT.cancelled,
      readRecord(file),
      plan,
      interrupts,
    );
    io.err(`stopped at once; record: ${file}; report: ${reportFiles.join(", ")}`);
    release(); // hardStop exits the process: no finally runs after it
    fifo?.close();
    opts.hardStop();
  };
  const unsubscribe = opts.signals((count) => {
    const what = interruptFor(count);
    const at = now().toISOString();
    interrupts.push({ signal: count, what, at });
    if (what === "stop-request") {
      stopRequested = { at, running: [...running] };
      requestStop(stop, {
        by: `${os.userInfo().username}@${os.hostname()} (maintenance)`,
        at,
        why: "Ctrl-C / SIGTERM",
      });
      io.err(
        `cancel requested: ${running.size ? `${[...running].join(", ")} finish${running.size === 1 ? "es" : ""}` : "nothing is running"}, no new step starts (signal again for the engine's cancel)`,
      );
    } else if (what === "engine-cancel") {
      controller.abort();
      io.err(
        `engine cancel sent to ${engine.name}: running steps' shells are killed (coldstart under them finishes its action or stops a gate between polls); signal again to terminate`,
      );
    } else if (what === "terminate") {
      terminator.abort();
      appendRecord(file, stopNote(`terminated by a third signal at ${at}`));
      stoppedNote = true;
      const grace = engine.terminateGraceMs;
      if (!grace) return stopAtOnce(`terminated by a third signal at ${at}`);
      io.err(
        `terminate sent to ${engine.name}: it stops its steps and ends (waiting up to ${Math.round(grace / 1000)} s; signal again to exit at once)`,
      );
      graceTimer = setTimeout(
        () => stopAtOnce(`the engine did not end within ${Math.round(grace / 1000)} s of its terminate`),
        grace,
      );
    } else {
      stopAtOnce(`exited at once by signal ${count} at ${at}`);
    }
  });
  let up: UpResult;
  try {
    // the keys, served to the vault-unseal step from now until up() returns
    const keys = keysForUp(gate, opts.env, (f) => (fifo = f));
    up = await engine.up(window, {
      env: { ...keys, ...lock.env },
      signal: controller.signal,
      terminate: terminator.signal,
      onEvent: (e) => {
        progress(io, e);
        if (e.kind === "output") return; // a RAN:/SKIPPED:/WARNING: line, not a finish
        if (e.kind === "start") running.add(e.step);
        else {
          running.delete(e.step);
          finished.push(e.step);
        }
      },
    });
  } catch (err) {
    clearTimeout(graceTimer);
    unsubscribe();
    if (err instanceof StackLockedError) return locked(io, err);
    throw err;
  } finally {
    fifo?.close();
  }
  clearTimeout(graceTimer);
  unsubscribe();
  // A step that refused to start because of our stop request (exit 130) is the cancel taking effect.
  if (
    stopRequested &&
    (up.result === "cancelled" || up.failedExitCode === EXIT.cancelled || up.failedExitCode === undefined)
  )
    up = { ...up, result: "cancelled" };
  if (up.result === "cancelled" && !stoppedNote) {
    const inFlight = stopRequested?.running ?? [];
    const outcomes = readRecord(file);
    const ended = inFlight.map((step) => {
      const last = outcomes.filter((e) => e.step === step).pop();
      return `${step}: ${last ? `completed (${last.outcome}) at ${last.end}` : "no verdict recorded"}`;
    });
    const cancelAt = interrupts.find((i) => i.what === "engine-cancel")?.at;
    appendRecord(
      file,
      stopNote(
        `cancelled by the operator (${cancelAt ? `engine cancel at ${cancelAt}` : "graceful"}) at ${stopRequested?.at ?? now().toISOString()}; in flight then: ${ended.join("; ") || "(none)"}`,
      ),
    );
  }

  // 5. Report and exit code.
  const exitCode = exitCodeFor(up);
  const reportFiles = writeReport(opts, up, exitCode, readRecord(file), plan, interrupts);
  io.out(summaryLine(up, exitCode));
  if (up.message) io.err(up.message);
  // every stop hands the rest back (issue #24): the same section the CI report ends with
  const left = exitCode === EXIT.ok ? undefined : handbackOf(plan, readRecord(file));
  if (left) io.err(["", ...renderHandback(left), ""].join("\n"));
  io.out(`report: ${reportFiles.join(", ")}`);
  return { exitCode, result: up.result, reportFiles };
}

function locked(io: MaintenanceIO, err: StackLockedError): MaintenanceResult {
  io.err(`${err.message}: another maintenance run holds the stack; nothing was run by this one`);
  return { exitCode: EXIT.locked, result: "locked", reportFiles: [] };
}

/**
 * Run the preflight; at a terminal with fewer keys than Vault's threshold, ask for the missing
 * ones hidden (up to t) and judge the keys again. Returns the keys this run holds, or the refusal
 * (nothing was run). The keys are read here once: a FIFO of the operator's gives them to its first
 * reader only, so the preflight counts the keys read here (in this process's memory), not the file.
 */
async function preflightAndKeys(opts: MaintenanceOptions): Promise<HeldKeys | { refused: MaintenanceResult }> {
  const { io } = opts;
  const found = readUnsealKeys(opts.env, { openPipes: true });
  const keys = found.ok ? found.keys : [];
  const held = (): HeldKeys => ({ keys, found });
  if ("skip" in opts.preflight) {
    io.out(`preflight: not run (${opts.preflight.skip})`);
    return held();
  }
  io.out(`preflight of stack ${opts.stack} before window ${opts.window} (read-only):`);
  // a keys file that could not be read stays named: the preflight says why, as the unseal step would
  const report = await opts.preflight(found.ok ? withKeys(opts.env, keys) : opts.env, (line) => io.out(line));
  const t = report.vault.threshold;
  let checks = report.checks;
  if (t !== undefined && found.ok && keys.length < t && io.interactive) {
    io.out(`Vault needs ${t} unseal key(s); ${keys.length} found (${found.source}): type the others (hidden)`);
    for (let i = keys.length; i < t; i++) {
      const key = (await io.promptSecret(`Unseal key ${i + 1} of ${t}: `)).trim();
      if (key === "") break;
      keys.push(key);
    }
    // the same decision, with the keys typed counted (preflight's own check, no second read of Vault)
    // only a shortage of keys is re-judged (an uninitialized or auto-unseal Vault stays a blocker)
    const before = report.checks.find((c) => c.id === "vault-keys");
    if (before && before.details.every((d) => /unseal key\(s\) available/.test(d))) {
      const again = vaultKeysCheck(
        {
          ok: true,
          value: [{ unit: "vault", status: { ok: true, value: thresholdStatus(t, report.vault.shares ?? t) } }],
        },
        {
          ok: true,
          count: keys.length,
          source: `${keys.length} key(s) (environment and typed at the prompt)`,
          malformed: malformedKeys(keys),
        },
      );
      checks = checks.map((c) => (c.id === "vault-keys" ? { ...c, ...again } : c));
    }
  }
  const { verdict, exitCode } = verdictOf(checks);
  const judged: PreflightReport = { ...report, checks, verdict, exitCode };
  for (const line of renderTable(judged)) io.out(line);
  if (verdict === "ready") return held();
  const failing = checks.filter((c) => c.status === "fail" || c.status === "blocker");
  for (const c of failing) for (const line of resultLines(c)) io.err(line);
  io.err(
    verdict === "blocker"
      ? `BLOCKER: preflight found what no one may improvise around; nothing was run. Recovery BLOCKER: escalate, never improvise (re-init wipes the TLS plane); key custody per D-069 (${KEY_VAR_PREFIX}1..n or ${KEYS_FILE_VAR}).`
      : `window ${opts.window} refused: preflight NOT READY (${failing.length} failing check(s)); nothing was run. Fix them and run again (coldstart preflight --stack ${opts.stack} shows the same checks).`,
  );
  return { refused: { exitCode: exitCode as ExitCode, result: "blocked", reportFiles: [] } };
}

interface HeldKeys {
  keys: string[];
  found: UnsealKeys;
}

/** `env` with the keys in COLDSTART_UNSEAL_KEY_1..n and no keys file: for in-process readers only. */
function withKeys(env: NodeJS.ProcessEnv, keys: readonly string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!isKeyVariable(k)) out[k] = v;
  keys.forEach((key, i) => (out[`${KEY_VAR_PREFIX}${i + 1}`] = key));
  return out;
}

/**
 * What up() gets about the keys: the path of a FIFO serving the held keys; nothing when there are
 * none (the unseal step then says no keys are set); a keys file that could not be read, named as
 * it was (the unseal step refuses it with the same line).
 */
function keysForUp(held: HeldKeys, env: NodeJS.ProcessEnv, opened: (fifo: KeyFifo) => void): Record<string, string> {
  if (!held.found.ok) return env[KEYS_FILE_VAR] ? { [KEYS_FILE_VAR]: env[KEYS_FILE_VAR] } : {};
  if (held.keys.length === 0) return {};
  const fifo = serveKeys(held.keys, env);
  opened(fifo);
  return { [KEYS_FILE_VAR]: fifo.path };
}

/** A sealed-from-scratch shamir status with Vault's threshold: what Stage 3 will face. */
function thresholdStatus(t: number, n: number) {
  return { type: "shamir", initialized: true, sealed: true, t, n, progress: 0 };
}

/** One line per step in plan order: what the engine will do with it, and its marks. */
function previewLines(plan: Plan, preview: PreviewSummary): string[] {
  const ops = new Map(preview.steps.map((s) => [s.step, s.op]));
  return plan.steps.map((s, i) => {
    const marks = [
      opLabel(ops.get(s.name)),
      s.destructive ? "DESTRUCTIVE if matched" : "",
      s.guard && !s.destructive ? "guarded" : "",
    ].filter(Boolean);
    return `${String(i + 1).padStart(3)}. ${s.stage} / ${s.name}  [${marks.join(", ")}]`;
  });
}

function progress(io: MaintenanceIO, e: StepEvent): void {
  const at = `[+${(e.atMs / 1000).toFixed(1)}s]`;
  if (e.kind === "output") io.out(`${at} ${outputLine(e)}`);
  else if (e.kind === "start") io.out(`${at} start  ${e.step}`);
  else io.out(`${at} ${e.status === "failed" ? "FAILED" : "done  "} ${e.step}`);
}

function exitCodeFor(up: UpResult): ExitCode {
  if (up.result === "succeeded") return EXIT.ok;
  if (up.result === "cancelled") return EXIT.cancelled;
  if (up.failedExitCode === EXIT.blocker) return EXIT.blocker;
  return EXIT.gateFailed;
}

function summaryLine(up: UpResult, code: ExitCode): string {
  if (up.result === "succeeded")
    return `maintenance PASSED (exit 0)${up.unchanged.length ? `; ${up.unchanged.length} steps were already done in this window` : ""}`;
  if (up.result === "cancelled") return `maintenance CANCELLED by the operator (exit ${code})`;
  return `maintenance STOPPED at ${up.failedStep ?? "an unknown step"} (exit ${code}${code === EXIT.blocker ? ": BLOCKER, escalate" : ""})`;
}

/**
 * Stage 3 handed to the keyholders (coldstart:vaultUnsealBy keyholders): the manual unseal
 * procedure the step printed, as its record line keeps it (counts and commands: never a key).
 */
function keyholderSection(entries: RecordRead): string {
  const handed = entries.filter((e) => e.step === "vault-unseal" && e.state === HANDED_TO_KEYHOLDERS).pop();
  if (!handed) return "";
  return [
    "",
    "## Stage 3: Vault unseal handed to the keyholders",
    "",
    `At ${handed.end}: ${handed.summary}`,
    "",
    "```",
    ...handed.details,
    "```",
    "",
  ].join("\n");
}

/** One Ctrl-C / SIGTERM maintenance received during up(), and what it did (report.json `interrupts`). */
export interface InterruptSeen {
  signal: number;
  what: Interrupt;
  at: string;
}

function writeReport(
  opts: MaintenanceOptions,
  up: UpResult,
  exitCode: number,
  entries: RecordRead,
  plan: Plan,
  interrupts: readonly InterruptSeen[],
): string[] {
  fs.mkdirSync(opts.reportDir, { recursive: true });
  const base = path.join(opts.reportDir, `maintenance-${opts.window}`);
  const summary = {
    stack: opts.stack,
    window: opts.window,
    engine: opts.engine.name,
    result: up.result,
    exitCode,
    failedStep: up.failedStep,
    unchanged: up.unchanged,
    interrupts,
  };
  // The [REVALIDATE] markers this window exercised (clearable) and those it did not (stay open, why).
  const revalidate = revalidateItems(entries, plan.steps);
  // the steps left, each with its manual procedure, and how to resume instead (issue #24)
  const left = exitCode === EXIT.ok ? undefined : handbackOf(plan, entries);
  const handback = left && {
    handback: left,
    resume: {
      stack: opts.stack,
      window: opts.window,
      runKind: "maintenance",
      ...(opts.engine.name.startsWith("drill") ? { drillDir: path.dirname(opts.engine.recordDir()) } : {}),
      recordDir: opts.engine.recordDir(),
      finished: plan.steps.length - left.steps.length,
    },
  };
  const more = handback ? { handback: left, resume: resumeAdvice(handback.handback, handback.resume) } : {};
  fs.writeFileSync(
    `${base}.json`,
    JSON.stringify({ summary, revalidate, ...more, record: [...entries] }, null, 2) + "\n",
  );
  const record = renderRecord(opts.window, entries, {
    plan,
    file: entries.file,
    skipped: entries.skipped,
    handback,
  });
  fs.writeFileSync(`${base}.md`, `${summaryLine(up, exitCode as ExitCode)}\n\n${record}${keyholderSection(entries)}`);
  return [`${base}.json`, `${base}.md`];
}
