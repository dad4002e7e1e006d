/**
 * Simulated cloud -- the call log: one JSON line per fake-tool call in <simdir>/calls.jsonl, so a
 * drill can assert what the runbook ran, in which order, and what it never ran. stdin is logged
 * as its LENGTH only: unseal keys travel on stdin and must never reach a file.
 * One write of one short line per call: O_APPEND keeps concurrent writers' lines whole.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const CALL_LOG = "calls.jsonl";

export interface CallRecord {
  tool: string;
  argv: string[];
  /** Byte length of stdin; the content is never recorded. */
  stdinBytes: number;
  cwd?: string;
  /** Real ms since the sim started. */
  at: number;
  /** null: the call hung (logged when it started hanging; it may have been killed). */
  exitCode: number | null;
  /** The runbook step that made the call (COLDSTART_STEP, which every step's environment sets). */
  step?: string;
}

export function appendCall(dir: string, record: CallRecord): void {
  // never through a symlink at its name (issue #21)
  const { O_APPEND, O_CREAT, O_WRONLY, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(path.join(dir, CALL_LOG), O_APPEND | O_CREAT | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(record) + "\n");
  } finally {
    fs.closeSync(fd);
  }
}

export function readCallLog(dir: string): CallRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, CALL_LOG), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CallRecord);
}
