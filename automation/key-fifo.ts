/**
 * How `coldstart maintenance` hands the unseal keys it holds to the vault-unseal step and to no
 * other process: a FIFO in a private folder (0700, under $XDG_RUNTIME_DIR or the temp folder),
 * named to the run by COLDSTART_UNSEAL_KEYS_FILE only. The keys never sit in the engine's
 * environment (which the command provider passes to every step: README "Unseal key custody") nor
 * in any file at rest: a FIFO holds nothing on disk, a reader gets the keys only while this
 * process writes them.
 *
 * The server writes the keys each time a reader opens the FIFO (a retried unseal step reads them
 * again), until close(), which removes the folder. It polls with O_NONBLOCK, which opening a FIFO
 * for writing turns into ENXIO while no reader has it open (fifo(7)), instead of a blocking open
 * that would hold a libuv thread and keep the process alive after the run. A reader blocks in its
 * open until the next poll (at most POLL_MS).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { privateDirProblem } from "../runtime/private-dir";

/** Debian's coreutils puts it here; Node has no mkfifo (nodejs/node#2350). */
export const MKFIFO = "/usr/bin/mkfifo";
export const POLL_MS = 20;

export interface KeyFifo {
  /** The FIFO's path: the value of COLDSTART_UNSEAL_KEYS_FILE for the run. */
  path: string;
  /** The private folder holding it. */
  dir: string;
  /** How many times a reader was served (for tests and the log; never the keys). */
  served(): number;
  /** Stop serving and remove the folder (safe to call twice; synchronous, as the second Ctrl-C exits at once). */
  close(): void;
}

/**
 * Where the private folder goes: the user's runtime folder (tmpfs, 0700, per user) when it is set
 * and really ours alone (runtime/private-dir.ts), else the temp folder.
 */
export function fifoParent(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime) && privateDirProblem(runtime) === undefined) return runtime;
  return os.tmpdir();
}

export function serveKeys(keys: readonly string[], env: NodeJS.ProcessEnv): KeyFifo {
  // mkdtemp creates the folder 0700 (mkdtemp(3)); chmod again in case of an odd umask-less platform
  const dir = fs.mkdtempSync(path.join(fifoParent(env), "coldstart-keys-"));
  fs.chmodSync(dir, 0o700);
  const fifo = path.join(dir, "unseal-keys");
  const made = spawnSync(MKFIFO, ["-m", "600", fifo], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (made.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    const why = made.error ? (made.error as NodeJS.ErrnoException).code : made.stderr.trim().split("\n")[0];
    throw new Error(`cannot make the unseal keys FIFO with ${MKFIFO} (${why ?? `exit ${made.status}`})`);
  }
  const body = Buffer.from(keys.map((k) => `${k}\n`).join(""), "utf8");
  let count = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  // Every open that finds a reader is served. A reader still draining an earlier serving may get
  // the keys twice (the unseal step counts a key once: runtime/unseal-keys.ts); skipping it
  // instead could hand a new reader an empty EOF, which the step would take for "no keys".
  const tick = () => {
    timer = undefined;
    if (closed) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // removed under us: nothing left to serve
      // ENXIO: no reader yet
    }
    if (fd !== undefined) {
      try {
        // a few hundred bytes into a pipe of 64 KiB (pipe(7)): never a short write
        fs.writeSync(fd, body);
        count++;
      } catch {
        // EAGAIN (a reader that does not read) or EPIPE (gone mid-write): it opens again if it needs them
      } finally {
        fs.closeSync(fd);
      }
    }
    timer = setTimeout(tick, POLL_MS);
    timer.unref(); // the run's end, not this loop, decides when the process exits
  };
  tick();

  return {
    path: fifo,
    dir,
    served: () => count,
    close: () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
