/**
 * Simulated cloud -- where the state lives: <simdir>/state.json. The fake tools run as separate,
 * concurrent processes (coldstart runs steps in parallel), so every change is load-modify-save
 * under a mkdir lock (atomic on every local filesystem), with retry and stale-lock recovery.
 * Saves go through write-file-atomic (npm/write-file-atomic 7.0.1, README: "writes to a temporary
 * file ... then renames it over the target", so a reader sees the old file or the new one, never
 * half of either): readers never need the lock.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sync as writeFileAtomicSync } from "write-file-atomic";
import { advance, type SimState } from "./state";
import { stateTime, type SimTime } from "./time";

export const STATE_FILE = "state.json";
const LOCK_DIR = "state.lock";
const OWNER_FILE = "owner";

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this (ms) whose owner is gone, or older than 4x this, is broken. */
  staleMs?: number;
}

export class SimStoreError extends Error {
  override readonly name = "SimStoreError";
}

export function statePath(dir: string): string {
  return path.join(dir, STATE_FILE);
}

export function loadState(dir: string): SimState {
  let text: string;
  try {
    text = fs.readFileSync(statePath(dir), "utf8");
  } catch {
    throw new SimStoreError(
      `coldstart sim: no simulated cloud in ${dir} (no ${STATE_FILE}; create one with createSimCloud)`,
    );
  }
  return JSON.parse(text) as SimState;
}

export function saveState(dir: string, s: SimState): void {
  // fsync off: a simulation needs atomicity (the rename), not durability across a power loss, and
  // every fake-tool call saves (write-file-atomic README, option `fsync`, default true)
  writeFileAtomicSync(statePath(dir), JSON.stringify(s), { fsync: false });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Break a lock that is stale: rename it away first, so two breakers cannot both delete a fresh lock. */
function breakIfStale(lock: string, staleMs: number): void {
  let owner = "";
  let age: number;
  try {
    owner = fs.readFileSync(path.join(lock, OWNER_FILE), "utf8");
  } catch {
    // created but owner not written yet (or just removed): judge by the directory's age
  }
  try {
    age = Date.now() - fs.statSync(lock).mtimeMs;
  } catch {
    return; // released meanwhile
  }
  const pid = Number(owner.split(" ")[0]);
  const ownerGone = owner !== "" && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
  if (!((ownerGone && age > staleMs) || age > staleMs * 4)) return;
  const aside = `${lock}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    fs.renameSync(lock, aside);
  } catch {
    return; // someone else broke or released it
  }
  let asideOwner = "";
  try {
    asideOwner = fs.readFileSync(path.join(aside, OWNER_FILE), "utf8");
  } catch {
    // empty
  }
  if (asideOwner !== owner) {
    // Took a lock created after our look: give it back if nobody holds the name yet.
    try {
      fs.renameSync(aside, lock);
      return;
    } catch {
      // a third process already took the lock: the one we moved is lost to its owner; its save still renames atomically
    }
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

/** Locks this process holds now: a second take would wait on itself (below). */
const held = new Set<string>();

/**
 * Run `fn` holding the sim's lock. Synchronous on purpose: a fake tool holds it for a few ms, and
 * in the drill process (drill/tool-server.ts answers tool calls there, issue #14) no other call's
 * handler can run while `fn` does, so two calls never interleave under the lock. A take from
 * inside `fn` would wait for itself with the event loop blocked: it is refused at once instead.
 */
export function withLock<T>(dir: string, fn: () => T, opts: LockOptions = {}): T {
  const lock = path.join(dir, LOCK_DIR);
  if (held.has(lock)) throw new SimStoreError(`coldstart sim: ${lock} is held by this very call (a nested update)`);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const staleMs = opts.staleMs ?? 2_000;
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (Date.now() - start > timeoutMs) {
      throw new SimStoreError(`coldstart sim: could not take the lock ${lock} within ${timeoutMs} ms`);
    }
    breakIfStale(lock, staleMs);
    sleepSync(Math.min(2 + attempt, 20) * (0.5 + Math.random()));
  }
  const token = `${process.pid} ${Date.now()} ${Math.random().toString(36).slice(2)}`;
  held.add(lock);
  try {
    fs.writeFileSync(path.join(lock, OWNER_FILE), token);
    return fn();
  } finally {
    held.delete(lock);
    release(lock, token);
  }
}

/** Remove the lock only if it is still ours (a breaker may have moved it and another taken it). */
function release(lock: string, token: string): void {
  let owner = "";
  try {
    owner = fs.readFileSync(path.join(lock, OWNER_FILE), "utf8");
  } catch {
    return;
  }
  if (owner === token) fs.rmSync(lock, { recursive: true, force: true });
}

/** The state as of the caller's sim time (timers applied in memory only): for read-only answers, no lock. */
export function readState(dir: string, time?: Pick<SimTime, "nowS">): SimState {
  const s = loadState(dir);
  advance(s, (time ?? stateTime(dir, s)).nowS());
  return s;
}

/**
 * Load, bring up to the caller's sim time (read under the lock), change, save -- all under the
 * lock. Returns what `fn` returns. Without a time: the state's own clock (sim/time.ts stateTime).
 */
export function updateState<T>(dir: string, fn: (s: SimState, now: number) => T, time?: Pick<SimTime, "nowS">): T {
  return withLock(dir, () => {
    const s = loadState(dir);
    const now = (time ?? stateTime(dir, s)).nowS();
    advance(s, now);
    const result = fn(s, now);
    saveState(dir, s);
    return result;
  });
}
