/**
 * A step's whole process tree, for the drill's `kill -9` / lost jumphost. A step runs each tool
 * call in a process group of its own (runtime/exec.ts: a terminal's Ctrl-C to the step's group
 * must not cut a call in flight), so killing the step's group no longer reaches its tools; a lost
 * jumphost kills them all the same. Linux only: the tree is read from /proc/<pid>/stat.
 */
import * as fs from "node:fs";
import { fieldsAfterComm, statOf } from "../runtime/holder";

interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Fields 4 (ppid) and 5 (pgrp) of a /proc/<pid>/stat line. */
export function parseStat(text: string): ProcStat | undefined {
  const pid = Number.parseInt(text, 10);
  const [, ppid, pgid] = fieldsAfterComm(text).map(Number);
  return [pid, ppid, pgid].every(Number.isInteger) ? { pid, ppid: ppid!, pgid: pgid! } : undefined;
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const text = statOf(Number(name)); // undefined: gone between readdir and read
    const st = text === undefined ? undefined : parseStat(text);
    if (st) out.push(st);
  }
  return out;
}

/** Every live descendant of `root` (children, their children, ...), with its process group. */
export function descendants(root: number): ProcStat[] {
  const all = allProcesses();
  const found: ProcStat[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
  }
  return found;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

/**
 * SIGKILL the group `leader` leads and every process descended from it, in whatever group.
 * The tree is frozen first (SIGSTOP, read again until nothing new appears, at most 5 rounds) so
 * a process cannot start a child between the read and the kill and leave it behind.
 */
export function killTree(leader: number): void {
  const seen = new Map<number, ProcStat>();
  signal(-leader, "SIGSTOP");
  for (let round = 0; round < 5; round++) {
    const fresh = descendants(leader).filter((p) => !seen.has(p.pid));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      seen.set(p.pid, p);
      signal(p.pid, "SIGSTOP");
    }
  }
  signal(-leader, "SIGKILL");
  // only groups a process of this tree leads: never a group that holds processes outside it
  for (const pgid of new Set([...seen.values()].map((p) => p.pgid)))
    if (pgid !== leader && seen.has(pgid)) signal(-pgid, "SIGKILL");
  for (const pid of seen.keys()) signal(pid, "SIGKILL");
}
