/**
 * Who holds the window's run lock (runtime/run-lock.ts) or a step's claim (runtime/step-claim.ts),
 * and whether that process still runs: the one answer both use.
 *
 * A pid alone does not name a process for long: after a reboot (the cold start this program drives
 * reboots hosts; the jumphost may lose power too) or a wrap of the pid counter, the pid a dead
 * holder wrote can belong to an unrelated live process, which would keep the window locked for
 * good. So a holder also carries its process's start time (proc(5) /proc/<pid>/stat field 22,
 * `starttime`, clock ticks since boot) and the kernel's boot id (/proc/sys/kernel/random/boot_id).
 * A holder written before these fields existed (or without /proc) is judged by its pid alone, as
 * before.
 */
import * as fs from "node:fs";
import * as os from "node:os";

/** What a lock or claim file says about the process that wrote it. */
export interface HolderProcess {
  host: string;
  pid: number;
  /** /proc/<pid>/stat starttime of the holder (clock ticks since boot); absent: not known. */
  procStart?: number;
  /** /proc/sys/kernel/random/boot_id when the holder wrote the file; absent: not known. */
  bootId?: string;
}

/** /proc/<pid>/stat, or undefined when the process is gone or there is no /proc. */
export function statOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The fields after `(comm)` (comm may hold spaces and parentheses, so cut at the last ")"):
 * [0] is field 3 (state), [1] field 4 (ppid), [2] field 5 (pgrp), [19] field 22 (starttime).
 */
export function fieldsAfterComm(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** A process's start time (clock ticks since boot), or undefined when it cannot be read. */
export function procStartOf(pid: number): number | undefined {
  const stat = statOf(pid);
  if (stat === undefined) return undefined;
  const ticks = Number(fieldsAfterComm(stat)[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** This boot of this host's kernel, or undefined without /proc. */
export function bootId(): string | undefined {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

let self: HolderProcess | undefined;

/** This process, as it writes itself into a lock or a claim (read once: it does not change). */
export function thisProcess(): HolderProcess {
  if (!self) {
    const procStart = procStartOf(process.pid);
    const boot = bootId();
    self = {
      host: os.hostname(),
      pid: process.pid,
      ...(procStart === undefined ? {} : { procStart }),
      ...(boot === undefined ? {} : { bootId: boot }),
    };
  }
  return self;
}

/**
 * Whether a process of this host is alive (EPERM: alive, another user's). A zombie is dead: a
 * step killed with its shell stays one until something reaps it (for ever, under a PID 1 that
 * does not reap), and kill(pid, 0) still succeeds on it. Its state is field 3 of
 * /proc/<pid>/stat; without /proc, kill(0) alone decides.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0) would signal our own group
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = statOf(pid);
  return stat === undefined || fieldsAfterComm(stat)[0] !== "Z";
}

/**
 * Why a holder is dead, in words for the operator, or undefined when it is alive or cannot be
 * presumed dead (another host: we cannot see its processes, so it is never taken over).
 */
export function holderGone(h: HolderProcess): string | undefined {
  if (h.host !== os.hostname()) return undefined;
  const boot = h.bootId === undefined ? undefined : bootId();
  if (boot !== undefined && boot !== h.bootId) return `this host rebooted since pid ${h.pid} took it (boot id differs)`;
  if (!pidAlive(h.pid)) return `its process (pid ${h.pid}) is gone`;
  if (h.procStart === undefined) return undefined; // an older coldstart's file: the pid decides, as before
  const now = procStartOf(h.pid);
  if (now !== undefined && now !== h.procStart)
    return `pid ${h.pid} now belongs to another process (started at tick ${now}, not ${h.procStart}: a reused pid)`;
  return undefined;
}

/** A holder that is alive, or cannot be presumed dead (another host). */
export function isLive(h: HolderProcess): boolean {
  return holderGone(h) === undefined;
}
