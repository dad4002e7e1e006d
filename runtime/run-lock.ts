/**
 * One run at a time per stack and window (issue #12 "One run at a time"): whatever acts on the
 * cloud (`maintenance`, `drill`, a step run by hand) holds `<recordDir>/<window>.lock`. A second
 * run is refused (exit 5) naming the holder and how to clear a stale lock.
 *
 * - The lock is created exclusively and complete: its JSON is written to a private temporary file
 *   which is then hard-linked to the lock's name (link(2) fails with EEXIST like open(O_EXCL), so
 *   this is the `wx` create; unlike `wx` + write, nobody ever reads a half-written lock, which two
 *   runs started together would otherwise take for a dead holder).
 * - A holder on this host whose process is gone is stale: taken over, said in `note`. "Gone"
 *   includes a pid that now names another process (a reboot, a reused pid): the holder's process
 *   start time and boot id tell them apart (runtime/holder.ts). A holder on another host is never
 *   presumed dead (we cannot see its processes): refused.
 * - A live per-step claim in `<window>.running/` (a step run by hand, or under a bare `pulumi up`)
 *   also refuses the run: that step acts on the cloud now and no lock names it.
 * - The run's steps inherit COLDSTART_RUN_ID / COLDSTART_RUN_KIND (see `env`), so a step of this
 *   run passes the lock, and a step of anything else is refused (runtime/step-claim.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as z from "zod";
import { holderGone, isLive, thisProcess } from "./holder";
import { expandHome } from "./record";

// steps and tests ask these of the lock's module, as before the holder had its own
export { isLive, pidAlive } from "./holder";

export type RunKind = "maintenance" | "drill" | "step";

export const RUN_ID_ENV = "COLDSTART_RUN_ID";

const holderSchema = z.object({
  runId: z.string(),
  kind: z.enum(["maintenance", "drill", "step"]),
  stack: z.string(),
  window: z.string(),
  host: z.string(),
  pid: z.number().int(),
  user: z.string(),
  start: z.string(),
  // absent in locks written before #21: judged by the pid alone
  procStart: z.number().int().optional(),
  bootId: z.string().optional(),
});
export type RunLockHolder = z.infer<typeof holderSchema>;

export interface RunLock {
  runId: string;
  file: string;
  /** Give these to every step of the run (the engine passes its environment on to each command). */
  env: { COLDSTART_RUN_ID: string; COLDSTART_RUN_KIND: string };
  /** Remove the lock if it is still ours; safe to call twice. */
  release(): void;
  /** Said once: an earlier run's lock was stale (its process gone) and was taken over. */
  note?: string;
}

/** The window is held by another run (or a live step): nothing was done. Exit 5. */
export class WindowLockedError extends Error {
  override readonly name = "WindowLockedError";
  constructor(
    /** Undefined when the lock file cannot be read. */
    readonly holder: RunLockHolder | StepClaimSeen | undefined,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** A live step claim seen in `<window>.running/` (its shape: runtime/step-claim.ts StepClaimHolder). */
export interface StepClaimSeen {
  kind: "step-claim";
  step: string;
  host: string;
  pid: number;
  start: string;
  procStart?: number;
  bootId?: string;
}

const stepClaimSchema = z.object({
  step: z.string(),
  host: z.string(),
  pid: z.number().int(),
  start: z.string(),
  procStart: z.number().int().optional(),
  bootId: z.string().optional(),
});

export function lockFile(recordDir: string, window: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(expandHome(recordDir, env), `${window}.lock`);
}

export type LockRead = { kind: "none" } | { kind: "held"; holder: RunLockHolder } | { kind: "unreadable"; why: string };

/** The window's lock as it is now (read-only: steps look at it, `record` may show it). */
export function readRunLock(file: string): LockRead {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
    return { kind: "unreadable", why: (err as Error).message };
  }
  try {
    const parsed = holderSchema.safeParse(JSON.parse(text));
    return parsed.success ? { kind: "held", holder: parsed.data } : { kind: "unreadable", why: "not a coldstart lock" };
  } catch {
    return { kind: "unreadable", why: "not JSON" };
  }
}

/** One line: who holds the window, and how to clear the lock if that run is gone for good. */
export function describeHolder(h: RunLockHolder, file: string): string {
  const where = h.host === os.hostname() ? `pid ${h.pid} on this host` : `pid ${h.pid} on ${h.host}`;
  return (
    `window ${h.window} of stack ${h.stack} is held by a ${h.kind} run of ${h.user}@${h.host} (${where}, started ${h.start}, run ${h.runId}); ` +
    `nothing was done. If that run is gone for good (check on ${h.host}: ps -p ${h.pid}), remove ${file} and start again`
  );
}

function describeClaim(c: StepClaimSeen, file: string): string {
  return (
    `step ${c.step} is running in this window by hand or under a bare pulumi up (pid ${c.pid} on ${c.host}, started ${c.start}); nothing was done. ` +
    `Wait for it to end; if it is gone for good (check on ${c.host}: ps -p ${c.pid}), remove ${file}`
  );
}

function whoAmI(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? "unknown";
  }
}

export function acquireRunLock(o: {
  recordDir: string;
  window: string;
  stack: string;
  kind: RunKind;
  env: NodeJS.ProcessEnv;
}): RunLock {
  const dir = expandHome(o.recordDir, o.env);
  const file = path.join(dir, `${o.window}.lock`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const me: RunLockHolder = {
    // the Web Crypto global, not node:crypto: every step loads this file (to read the lock), and
    // loading node:crypto would cost each one a few ms of its start (issue #14); only a run takes the lock
    runId: crypto.randomUUID(),
    kind: o.kind,
    stack: o.stack,
    window: o.window,
    ...thisProcess(),
    user: whoAmI(o.env),
    start: new Date().toISOString(),
  };
  const tmp = path.join(dir, `.${o.window}.lock.${process.pid}.${me.runId}`);
  fs.writeFileSync(tmp, JSON.stringify(me) + "\n", { flag: "wx", mode: 0o600 });
  let note: string | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, file); // exclusive: EEXIST when any lock is there
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 5) throw err;
      }
      const seen = readRunLock(file);
      if (seen.kind === "none") continue; // released between our two looks
      if (seen.kind === "unreadable")
        throw new WindowLockedError(
          undefined,
          file,
          `window ${o.window}: its lock ${file} cannot be read (${seen.why}); nothing was done. Check that no coldstart run acts on this window, then remove that file`,
        );
      const gone = holderGone(seen.holder);
      if (gone === undefined) throw new WindowLockedError(seen.holder, file, describeHolder(seen.holder, file));
      if (takeOverStale(file, seen.holder))
        note = `an earlier ${seen.holder.kind} run of window ${o.window} (pid ${seen.holder.pid}, started ${seen.holder.start}, run ${seen.holder.runId}) ended without releasing its lock (killed outright?); ${gone}, so this run took the lock over`;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const now = readRunLock(file);
    if (now.kind === "held" && now.holder.runId === me.runId) fs.rmSync(file, { force: true });
  };
  // Write ours, then look at theirs: a step claims, then looks at the lock (step-claim.ts), so of
  // a step and a run that start together at least one sees the other.
  const claim = liveStepClaim(dir, o.window);
  if (claim) {
    release();
    throw new WindowLockedError(claim.holder, claim.file, describeClaim(claim.holder, claim.file));
  }
  return {
    runId: me.runId,
    file,
    env: { COLDSTART_RUN_ID: me.runId, COLDSTART_RUN_KIND: o.kind },
    release,
    ...(note ? { note } : {}),
  };
}

/**
 * Remove a stale lock without removing a fresh one another run took a moment ago: move it
 * aside (rename is atomic), and check that what we moved is the stale holder; if it is not,
 * put it back.
 */
function takeOverStale(file: string, stale: RunLockHolder): boolean {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const moved = readRunLock(aside);
  // Only the holder we judged stale is removed: anything else (a fresh run's lock, a file we
  // cannot read) goes back, and the loop reads it again and refuses it.
  if (moved.kind !== "held" || moved.holder.runId !== stale.runId) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // yet another run took the window meanwhile: the loop reads and refuses it
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/** A live step claim of this window (`<window>.running/<step>.json`, runtime/step-claim.ts). */
function liveStepClaim(dir: string, window: string): { holder: StepClaimSeen; file: string } | undefined {
  const claims = path.join(dir, `${window}.running`);
  let names: string[];
  try {
    names = fs.readdirSync(claims).filter((n) => n.endsWith(".json"));
  } catch {
    return undefined;
  }
  for (const name of names) {
    const file = path.join(claims, name);
    let parsed;
    try {
      parsed = stepClaimSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
    } catch {
      continue; // gone meanwhile, or damaged (step-claim.ts writes it whole, and treats a damaged one as dead)
    }
    if (parsed.success && isLive(parsed.data)) return { holder: { kind: "step-claim", ...parsed.data }, file };
  }
  return undefined;
}
