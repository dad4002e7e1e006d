/**
 * The record's own bound on a line (issue #21): a tool that printed one 20 MB stderr line made a
 * 20 MB record line, which every later step of the window then read at its start (each step reads
 * the record, issue #14) and which no terminal, `jq` or ticket shows. exec.ts caps what a tool's
 * output may hold; this caps what a line may hold, whoever built the entry.
 *
 * Why these numbers: the text an operator reads (summary, fix, details) fits a screen or two, so a
 * line's text is held under 64 KiB: summary and fix 8 KiB each, each detail 2 KiB and the details
 * 32 KiB together, every other string 1 KiB (ids, times, names: short by construction). Evidence
 * (runtime/record.ts) grows with the cloud (one item per guest, chassis, LB), not with a tool's
 * output: each of its strings is held to 1 KiB, and a line whose evidence still makes it larger
 * than 1 MiB drops the evidence, saying so in its details. Sizes are of the JSON as written
 * (escapes included: a control character costs 6 bytes there).
 *
 * A cut string keeps its head (which names the call) and its tail (where tools print the error),
 * with a marker between them that says it was cut and how long it was.
 */
import type { Evidence, RecordEntry, RequestLine } from "./record";

const KiB = 1024;
export const RECORD_BOUNDS = {
  summary: 8 * KiB,
  fix: 8 * KiB,
  detail: 2 * KiB,
  details: 32 * KiB,
  /** Any other string of the entry, or of its evidence. */
  field: 1 * KiB,
  /** A line with its evidence. */
  line: 1024 * KiB,
} as const;

/** Bytes `s` takes inside a JSON line (without its quotes). */
function encodedBytes(s: string): number {
  return Buffer.byteLength(JSON.stringify(s)) - 2;
}

/** The longest head of `s` whose JSON takes at most `budget` bytes. */
function head(s: string, budget: number): string {
  let x = s.slice(0, budget);
  for (let size = encodedBytes(x); size > budget; size = encodedBytes(x)) {
    const shorter = Math.min(x.length - 1, Math.floor((x.length * budget) / size));
    x = x.slice(0, Math.max(0, shorter));
  }
  // never end on half a surrogate pair (it would be written as U+FFFD)
  return /[\uD800-\uDBFF]$/.test(x) ? x.slice(0, -1) : x;
}

/** The longest tail of `s` whose JSON takes at most `budget` bytes. */
function tail(s: string, budget: number): string {
  let x = s.slice(-budget);
  for (let size = encodedBytes(x); size > budget; size = encodedBytes(x)) {
    const shorter = Math.min(x.length - 1, Math.floor((x.length * budget) / size));
    x = shorter > 0 ? x.slice(-shorter) : "";
  }
  return /^[\uDC00-\uDFFF]/.test(x) ? x.slice(1) : x;
}

/** `s` as it is when its JSON fits `max` bytes; else its head and tail around a visible marker. */
export function fitString(s: string, max: number): string {
  // cheap test first: a string fits when even all-escaped (6 bytes a char) it would
  if (s.length * 6 <= max || (s.length <= max && encodedBytes(s) <= max)) return s;
  const mark = ` …[cut by the record: ${Buffer.byteLength(s)} bytes in all]… `;
  const room = Math.max(0, max - encodedBytes(mark));
  const h = head(s, Math.floor((room * 3) / 4));
  return h + mark + tail(s, room - encodedBytes(h));
}

/** Every string inside `v` fitted to `max` (the shape, numbers and booleans kept). */
function fitDeep(v: unknown, max: number): unknown {
  if (typeof v === "string") return fitString(v, max);
  if (Array.isArray(v)) return v.map((x) => fitDeep(x, max));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fitDeep(x, max)]));
  return v;
}

/** The details, each line fitted, the list cut (with one line saying so) where it passes its bound. */
function fitDetails(details: readonly string[]): string[] {
  const kept: string[] = [];
  let total = 0;
  for (let i = 0; i < details.length; i++) {
    const line = fitString(details[i], RECORD_BOUNDS.detail);
    total += encodedBytes(line) + 3; // its quotes and comma
    if (total > RECORD_BOUNDS.details - 2 * RECORD_BOUNDS.field) {
      const rest = details.slice(i);
      const bytes = rest.reduce((n, d) => n + Buffer.byteLength(d), 0);
      kept.push(`…[cut by the record: ${rest.length} more detail lines, ${bytes} bytes]`);
      break;
    }
    kept.push(line);
  }
  return kept;
}

/** The requests' lines, bounded as the details are (each 2 KiB, all 32 KiB, a last one saying what was cut). */
function fitRequests(requests: readonly RequestLine[]): RequestLine[] {
  const lines = fitDetails(requests.map((r) => r.line));
  return lines.map((line, i) => ({ at: requests[i]?.at ?? requests.at(-1)?.at ?? "", line }));
}

/** The entry as the record writes it: within RECORD_BOUNDS. An entry already within them is returned as it is. */
export function boundEntry(entry: RecordEntry): RecordEntry {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (key === "details") out[key] = fitDetails(value as string[]);
    else if (key === "requests") out[key] = fitRequests(value as RequestLine[]);
    else if (key === "summary") out[key] = fitString(value as string, RECORD_BOUNDS.summary);
    else if (key === "fix" && typeof value === "string") out[key] = fitString(value, RECORD_BOUNDS.fix);
    else out[key] = fitDeep(value, RECORD_BOUNDS.field);
  }
  const bounded = out as unknown as RecordEntry;
  if (bounded.evidence !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(bounded));
    if (size > RECORD_BOUNDS.line) {
      const evidence: Evidence = bounded.evidence;
      delete bounded.evidence;
      bounded.details = [
        ...bounded.details,
        `…[cut by the record: the ${evidence.kind} evidence (${size} bytes with it, over ${RECORD_BOUNDS.line})]`,
      ];
    }
  }
  return bounded;
}
