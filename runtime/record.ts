/**
 * The as-executed record: one JSON line per step per window, appended by the step itself (so a
 * real `pulumi up` and a drill write the same record). It holds verdicts only -- what a gate saw,
 * never a secret: nothing that reaches here was ever given a key.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RouteId } from "../gates/routes";

export interface RecordEntry {
  window: string;
  stack: string;
  stage: string;
  step: string;
  command: string;
  start: string;
  end: string;
  exitCode: number;
  /** kept: passed earlier in this window; the engine asked again (changed inputs) and nothing ran. */
  outcome: "pass" | "fail" | "blocker" | "skipped-by-guard" | "usage" | "cancelled" | "kept";
  state?: string;
  summary: string;
  details: string[];
  route?: RouteId;
  fix?: string;
  polls?: number;
}

export function expandHome(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (p === "~") return env.HOME ?? os.homedir();
  if (p.startsWith("~/")) return path.join(env.HOME ?? os.homedir(), p.slice(2));
  return p;
}

export function recordFile(recordDir: string, window: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(expandHome(recordDir, env), `${window}.jsonl`);
}

/** Append one entry; a record that cannot be written is reported on stderr, never fatal to the step. */
export function appendRecord(file: string, entry: RecordEntry): string | undefined {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(file, JSON.stringify(entry) + "\n", { mode: 0o600 });
    return undefined;
  } catch (err) {
    return `could not append to the record ${file}: ${(err as Error).message}`;
  }
}

/** The record's entries; a line that is not JSON (a write cut short by a power loss) is skipped. */
export function readRecord(file: string): RecordEntry[] {
  if (!fs.existsSync(file)) return [];
  const entries: RecordEntry[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      entries.push(JSON.parse(line) as RecordEntry);
    } catch {
      // truncated last line: not an entry
    }
  }
  return entries;
}
