/**
 * A gate's poll line, written by runGate (steps/outcome.ts) and read back by the bench's limits
 * (bench/limits.ts): one module owns the format both ways, so the reader cannot drift from it.
 *
 *   [mm:ss] poll N: waiting -- <summary>
 *   [mm:ss] poll N: waiting (it held for K poll(s) in a row, then flapped: the count starts again) -- <summary>
 *   [mm:ss] poll N: OK, H of S in a row -- <summary>
 *   [mm:ss] poll N: OK -- <summary>[ (unchanged since poll M)]
 *
 * mm is minutes since the gate began (more than 59 stays minutes), ss seconds.
 */

/** What one poll saw: not held (and how long it held before it flapped), or held H of S times. */
export type PollHead = { ok: false; flappedAfter: number } | { ok: true; held: number; successes: number };

export interface PollLine {
  elapsedMs: number;
  attempt: number;
  head: PollHead;
  summary: string;
  /** A heartbeat line (nothing changed): the first poll that saw the same. */
  unchangedSince?: number;
}

function headText(h: PollHead): string {
  if (!h.ok)
    return `waiting${h.flappedAfter > 0 ? ` (it held for ${h.flappedAfter} poll(s) in a row, then flapped: the count starts again)` : ""}`;
  return h.held >= h.successes ? "OK" : `OK, ${h.held} of ${h.successes} in a row`;
}

function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function formatPollLine(p: PollLine): string {
  const since = p.unchangedSince !== undefined ? ` (unchanged since poll ${p.unchangedSince})` : "";
  return `[${elapsedText(p.elapsedMs)}] poll ${p.attempt}: ${headText(p.head)} -- ${p.summary}${since}`;
}

/** The line's key: a poll whose key equals the previous poll's prints only as a heartbeat. */
export function pollKey(head: PollHead, state: string, summary: string): string {
  return `${headText(head)}\n${state}\n${summary}`;
}

const LINE = /^\[(\d+):(\d\d)\] poll (\d+): (?:(waiting)\b.*?|OK(?:, (\d+) of (\d+) in a row)?) -- /;

/**
 * A poll line back (whole seconds: the line has no more); undefined for any other line. `held` and
 * `successes` are what an "OK, H of S" line says; a bare "OK" line is the streak's last.
 */
export function readPollLine(
  line: string,
): { elapsedS: number; attempt: number; ok: boolean; held?: number; successes?: number } | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const elapsedS = 60 * Number(m[1]) + Number(m[2]);
  const attempt = Number(m[3]);
  if (m[4]) return { elapsedS, attempt, ok: false };
  return m[5] === undefined
    ? { elapsedS, attempt, ok: true }
    : { elapsedS, attempt, ok: true, held: Number(m[5]), successes: Number(m[6]) };
}
