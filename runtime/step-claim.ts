/**
 * One run of a step per window, and never a second run of a step that passed. The engine's state
 * is not enough for that: when pulumi's cancel or customTimeouts kill a step's shell, coldstart
 * (its child) still finishes, but the engine records a failed create and runs the step again on
 * the next `up`. So the step itself asks the window's record first:
 * - passed (or kept) earlier in this window -> kept, nothing runs again;
 * - another live process is running it now (its claim file names the pid) -> wait for it, then
 *   take its verdict;
 * - a claim whose process is gone (killed outright, the jumphost lost; or its pid now names another
 *   process after a reboot: runtime/holder.ts) -> said loudly, and the step runs again: every step
 *   is safe to re-run (README "When a step is killed");
 * - the window is held by another run (`<window>.lock`, runtime/run-lock.ts: a live lock whose
 *   runId is not this step's COLDSTART_RUN_ID) -> refused like a claim held elsewhere (exit 5).
 *   A step with no run id under no lock (by hand, a bare `pulumi up`) runs and leaves its claim,
 *   which a later `maintenance`/`drill` sees and is refused by (README "One run at a time").
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expandHome, FINISHED_OUTCOMES, lastRecordEntry, recordFile, type RecordEntry } from "./record";
import { holderGone, isLive, thisProcess, type HolderProcess } from "./holder";
import { createWhole } from "./whole-file";
import { describeHolder, lockFile, readRunLock, RUN_ID_ENV } from "./run-lock";

export interface StepClaimHolder extends HolderProcess {
  /** When the claim was taken (ISO time, for the operator). */
  start: string;
  step: string;
  /** Why the holder counts as dead, when it was taken over. */
  gone?: string;
}

export type ClaimResult =
  | { kind: "claimed"; release: () => void; stale?: StepClaimHolder }
  | { kind: "done"; entry: RecordEntry }
  | {
      kind: "held-elsewhere";
      holder: StepClaimHolder;
      file: string;
      /** Set when another run's window lock refused the step: one line naming its holder. */
      why?: string;
    };

export function claimDir(recordDir: string, window: string, env: NodeJS.ProcessEnv): string {
  return path.join(expandHome(recordDir, env), `${window}.running`);
}

/** The last entry saying this step finished its job in this window, if any. */
export function passedEarlier(recordDir: string, window: string, step: string, env: NodeJS.ProcessEnv) {
  return lastRecordEntry(recordFile(recordDir, window, env), { step, outcomes: FINISHED_OUTCOMES });
}

/** Times a claim is retried when its folder vanished under it (another step's release). */
const FOLDER_RETRIES = 20;

export interface ClaimOptions {
  recordDir: string;
  window: string;
  step: string;
  env: NodeJS.ProcessEnv;
  /** Wait between looks at a live holder's claim. */
  sleep: (ms: number) => Promise<void>;
  /** Stop waiting for a live holder when the run is cancelled. */
  cancelled?: () => string | undefined;
  /** Said while waiting for a live holder (once). */
  say?: (line: string) => void;
  /** The step's clock (a drill's is the cloud's): the claim's start, which a resume quotes in the record. */
  now?: () => number;
}

export async function claimStep(opts: ClaimOptions): Promise<ClaimResult | { kind: "cancelled"; why: string }> {
  const dir = claimDir(opts.recordDir, opts.window, opts.env);
  const file = path.join(dir, `${opts.step}.json`);
  let told = false;
  let stale: StepClaimHolder | undefined;
  let folderGone = 0;
  for (;;) {
    const locked = heldByAnotherRun(opts);
    if (locked) return locked;
    const earlier = passedEarlier(opts.recordDir, opts.window, opts.step, opts.env);
    if (earlier) return { kind: "done", entry: earlier };
    const me: StepClaimHolder = {
      ...thisProcess(),
      start: new Date(opts.now?.() ?? Date.now()).toISOString(),
      step: opts.step,
    };
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeClaim(file, me);
      // Claim first, then look at the lock (acquireRunLock does the reverse): of a step and a
      // run that start together, at least one sees the other.
      const lockedNow = heldByAnotherRun(opts);
      if (lockedNow) {
        release(file);
        return lockedNow;
      }
      return { kind: "claimed", release: () => release(file), stale };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: a step of this window released the last other claim and removed the (then empty)
      // folder between our mkdir and our write (release() below). Parallel steps (the per-host
      // power steps) do this in a real window too; make the folder again and retry, bounded.
      if (code === "ENOENT" && ++folderGone < FOLDER_RETRIES) continue;
      if (code !== "EEXIST") throw err;
    }
    const holder = readHolder(file);
    if (!holder) continue; // released between our two looks
    if (holder.host !== os.hostname()) return { kind: "held-elsewhere", holder, file };
    const gone = holderGone(holder);
    if (gone !== undefined) {
      stale = { ...holder, gone };
      fs.rmSync(file, { force: true });
      continue;
    }
    const why = opts.cancelled?.();
    if (why) return { kind: "cancelled", why };
    if (!told) {
      opts.say?.(
        `${opts.step}: an earlier run of this step is still running (pid ${holder.pid}, started ${holder.start}); waiting for it to finish instead of running it twice`,
      );
      told = true;
    }
    await opts.sleep(1_000);
  }
}

/** The window's run lock, when a live one belongs to a run other than this step's (COLDSTART_RUN_ID). */
function heldByAnotherRun(opts: ClaimOptions): Extract<ClaimResult, { kind: "held-elsewhere" }> | undefined {
  const file = lockFile(opts.recordDir, opts.window, opts.env);
  const seen = readRunLock(file);
  if (seen.kind === "none") return undefined;
  if (seen.kind === "unreadable") {
    const why = `window ${opts.window}: its lock ${file} cannot be read (${seen.why}); nothing was run. Check that no coldstart run acts on this window, then remove that file`;
    return {
      kind: "held-elsewhere",
      holder: { pid: 0, host: "unknown", start: "unknown", step: opts.step },
      file,
      why,
    };
  }
  const h = seen.holder;
  if (h.runId === opts.env[RUN_ID_ENV] || !isLive(h)) return undefined;
  return {
    kind: "held-elsewhere",
    holder: { pid: h.pid, host: h.host, start: h.start, step: opts.step },
    file,
    why: describeHolder(h, file),
  };
}

/**
 * Create the claim exclusively and whole: its JSON goes to a private temporary file in the claim
 * folder, which is then hard-linked to the claim's name (link(2) fails with EEXIST like
 * open(O_EXCL): of two runs that start together, exactly one gets the step). A `wx` create then
 * write would leave, for a moment, an empty claim that a second run reads as a dead holder and
 * takes over (the run lock's write, runtime/run-lock.ts). The temporary file also keeps a parallel
 * step's release from removing the folder under us. Its name does not end in `.json`: nobody
 * reads it as a claim.
 */
function writeClaim(file: string, me: StepClaimHolder): void {
  createWhole(file, JSON.stringify(me) + "\n");
}

/** Drop our claim, and the window's claim folder once no step holds one. */
function release(file: string): void {
  fs.rmSync(file, { force: true });
  try {
    fs.rmdirSync(path.dirname(file));
  } catch {
    // another step of the window still holds a claim
  }
}

function readHolder(file: string): StepClaimHolder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as StepClaimHolder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Never half-written by this version (writeClaim): damaged (a power loss before the disk had
    // it), hand-edited, or an older coldstart's. Its holder cannot be named: treat it as dead.
    return { pid: 0, host: os.hostname(), start: "unknown", step: path.basename(file, ".json") };
  }
}
