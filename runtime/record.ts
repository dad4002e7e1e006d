/**
 * The as-executed record: one JSON line per step per window, appended by the step itself (so a
 * real `pulumi up` and a drill write the same record). It holds verdicts only -- what a gate saw,
 * never a secret: nothing that reaches here was ever given a key (the Vault unseal records how
 * MANY keys it used, never one).
 *
 * Every line says who ran what, where and when (drill or real window, stack, mode, coldstart
 * version, user@host, the run it belongs to), so a record handed in needs nothing else. Lines
 * written before those fields existed still read: every field added since is optional here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as z from "zod";
import { ROUTES, type RouteId } from "../gates/routes";
// its own module: the record is read by `kept`, which runs no program (tool-error.ts loads exec.ts)
import { isSystemError } from "./system-error";
import { boundEntry } from "./record-bound";

/** The state of a step cancelled before it began (a stop request): it never ran. */
export const NOT_STARTED = "not-started";

export const OUTCOMES = ["pass", "fail", "blocker", "skipped-by-guard", "usage", "cancelled", "kept"] as const;
/**
 * Outcomes that mean "this step's job is done in this window": a resume keeps the step, the record
 * does not list it as not run, and a hand-back does not hand it back. One list for all three.
 */
export const FINISHED_OUTCOMES: ReadonlySet<(typeof OUTCOMES)[number]> = new Set(["pass", "skipped-by-guard", "kept"]);

// --- Evidence: what a step saw that the record's REVALIDATE / Vault / guests sections need -----
// Typed here (and read back through zod) so the record never parses its own prose.

/**
 * Built at the first line that carries evidence, not when the record is loaded: every step reads
 * the record, most lines carry none, and building these schemas cost each step ~2 ms of its start
 * (issue #14, bench/step-start.ts).
 */
function buildEvidenceSchema() {
  /** steps/vault.ts vault-unseal: how many keys each unit took, and the threshold it reported. */
  const vaultUnsealEvidence = z.object({
    kind: z.literal("vault-unseal"),
    /** Vault's own threshold t, read from `vault status` (the highest any unit reported). */
    threshold: z.number().int().min(0),
    /** How many keys this run had (a count: never a key). */
    keysAvailable: z.number().int().min(0),
    units: z.array(
      z.object({
        unit: z.string(),
        /** Keys submitted to this unit in this run (0 when it was already unsealed). */
        keysUsed: z.number().int().min(0),
        threshold: z.number().int().min(0),
        result: z.enum(["unsealed", "already-unsealed", "still-sealed"]),
        /** A partial unseal found on the unit was reset first. */
        reset: z.boolean().optional(),
      }),
    ),
  });

  /** steps/ovn.ts ovn-tls-sweep: which chassis it restarted, and whether each reconnected. */
  const ovnSweepEvidence = z.object({
    kind: z.literal("ovn-tls-sweep"),
    /** Chassis probed before acting. */
    chassis: z.number().int().min(0),
    restarted: z.array(
      z.object({
        unit: z.string(),
        principal: z.string().optional(),
        /** `systemctl restart ovs-vswitchd ovn-controller` exited 0. */
        restartOk: z.boolean(),
        /** The sweep's own re-probe saw it connected (the gate after it may see it later). */
        reconnected: z.boolean(),
      }),
    ),
  });

  /** steps/ovn.ts ovn-chassis-connected (and the check): every chassis' connection status at the last probe. */
  const ovnChassisEvidence = z.object({
    kind: z.literal("ovn-chassis"),
    connected: z.array(z.string()),
    notConnected: z.array(z.string()),
  });

  /** steps/octavia.ts octavia-grace: every LB seen in ERROR during the grace, and when it recovered. */
  const octaviaGraceEvidence = z.object({
    kind: z.literal("octavia-grace"),
    graceMs: z.number().min(0),
    intervalMs: z.number().min(0),
    lbs: z.array(
      z.object({
        id: z.string(),
        name: z.string().optional(),
        /** Time from the grace's first probe to the first probe that saw it in ERROR. */
        firstErrorAtMs: z.number().min(0),
        /** Time from the grace's first probe to the first probe that saw it ACTIVE again (absent: it did not). */
        recoveredAtMs: z.number().min(0).optional(),
        /** provisioning_status at the grace's last probe. */
        statusAtEnd: z.string(),
      }),
    ),
  });

  /** steps/guests.ts: every guest's status before the window (baseline) and at the step's last listing. */
  const guestsEvidence = z.object({
    kind: z.literal("guests"),
    /** The baseline it went by, in words (or why there was none). */
    baseline: z.string(),
    guests: z.array(
      z.object({
        name: z.string(),
        id: z.string().optional(),
        /** Status in the baseline; absent: not in it, or no baseline. */
        before: z.string().optional(),
        /** Status at the step's last listing; "gone" when it no longer exists. */
        after: z.string(),
        /** What Stage 5 did with it (gates/guests.ts GuestFate). */
        fate: z.string(),
      }),
    ),
  });

  return z.discriminatedUnion("kind", [
    vaultUnsealEvidence,
    ovnSweepEvidence,
    ovnChassisEvidence,
    octaviaGraceEvidence,
    guestsEvidence,
  ]);
}

let evidenceSchemaBuilt: ReturnType<typeof buildEvidenceSchema> | undefined;

/** Every kind of evidence, by `kind`. */
export function evidenceSchema(): ReturnType<typeof buildEvidenceSchema> {
  return (evidenceSchemaBuilt ??= buildEvidenceSchema());
}

export type Evidence = z.infer<ReturnType<typeof evidenceSchema>>;
export type EvidenceOf<K extends Evidence["kind"]> = Extract<Evidence, { kind: K }>;

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
  outcome: (typeof OUTCOMES)[number];
  state?: string;
  summary: string;
  details: string[];
  route?: RouteId;
  fix?: string;
  polls?: number;
  // --- who / where / which run (absent in records written before #12) ---
  /** end - start. */
  durationMs?: number;
  /** drill: COLDSTART_RUN_KIND=drill or a simulated cloud (COLDSTART_SIM_DIR); real otherwise. */
  windowKind?: "drill" | "real";
  /** planned | unplanned, when the step knows it (COLDSTART_MODE, or the step's --mode). */
  mode?: string;
  /** package.json's version of the coldstart that ran the step. */
  version?: string;
  /** user@host that ran the step. */
  by?: string;
  /** The run (maintenance, drill) this step belongs to: COLDSTART_RUN_ID; absent = run by hand. */
  runId?: string;
  /** COLDSTART_RUN_KIND: maintenance | drill | step. */
  runKind?: string;
  /**
   * Every state-changing request the step sent, and every earlier request of its own it found
   * still in progress and waited for instead of sending again: its `RAN:` and `FOLLOWED:` lines,
   * as the console showed them, with the time each was said (the step's clock: a drill's is the
   * cloud's). Absent in lines written before #23 and when the step sent nothing.
   */
  requests?: RequestLine[];
  evidence?: Evidence;
}

/** A `RAN:` / `FOLLOWED:` line of a step (cli/step-record.ts requestRecorder collects them). */
export interface RequestLine {
  at: string;
  line: string;
}

/** The lines a step says about the requests it sent or followed (cli/step-record.ts keeps them for the record). */
export const REQUEST_LINE = /^\s*(RAN|FOLLOWED):/;

/**
 * How a line of the record is read back: the fields every version wrote are required, the rest
 * optional. Built when the first line is checked: a step's first run in a window finds no line of
 * its own to check (lastRecordEntry), and builds none of it.
 */
function buildRecordEntrySchema() {
  return z.object({
    window: z.string(),
    stack: z.string().default(""),
    stage: z.string().default(""),
    step: z.string(),
    command: z.string().default(""),
    start: z.string(),
    end: z.string(),
    exitCode: z.number().int(),
    outcome: z.enum(OUTCOMES),
    state: z.string().optional(),
    summary: z.string().default(""),
    details: z.array(z.string()).default([]),
    // an unknown route id (a newer coldstart's) is not a reason to drop the line
    route: z
      .string()
      .optional()
      .transform((r) => (r !== undefined && r in ROUTES ? (r as RouteId) : undefined)),
    fix: z.string().optional(),
    polls: z.number().optional(),
    durationMs: z.number().optional(),
    windowKind: z.enum(["drill", "real"]).optional(),
    mode: z.string().optional(),
    version: z.string().optional(),
    by: z.string().optional(),
    runId: z.string().optional(),
    runKind: z.string().optional(),
    requests: z.array(z.object({ at: z.string(), line: z.string() })).optional(),
    // evidence of a shape this version does not know is dropped, never the whole line
    evidence: z
      .unknown()
      .optional()
      .transform((e) => {
        const parsed = evidenceSchema().safeParse(e);
        return parsed.success ? parsed.data : undefined;
      }),
  });
}

let recordEntrySchemaBuilt: ReturnType<typeof buildRecordEntrySchema> | undefined;

function recordEntrySchema(): ReturnType<typeof buildRecordEntrySchema> {
  return (recordEntrySchemaBuilt ??= buildRecordEntrySchema());
}

export function expandHome(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (p === "~") return env.HOME ?? os.homedir();
  if (p.startsWith("~/")) return path.join(env.HOME ?? os.homedir(), p.slice(2));
  return p;
}

export function recordFile(recordDir: string, window: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(expandHome(recordDir, env), `${window}.jsonl`);
}

/**
 * Append one entry. Returns the problem (one line naming the file and the OS error) when the line
 * could not be written; the step turns that into a failure (cli/step-command.ts): a run whose
 * record is lost is not a passed run.
 *
 * The line is bounded first (runtime/record-bound.ts). When the file does not end with a newline
 * (the last append was cut short: its step killed mid-write, a full disk, a power loss), the line
 * starts with one: glued onto the torn fragment it would be one unreadable line, and the entry it
 * carries (a PASS) lost, so the step would run again. Fixed here rather than in the reader: the
 * file itself stays one entry a line for every reader (jq, grep, an older coldstart), and the
 * reader needs no guessing where one entry ends and the next begins. The torn fragment stays a
 * line of its own, which readRecord reports.
 */
export function appendRecord(file: string, entry: RecordEntry): string | undefined {
  let fd: number | undefined;
  try {
    const line = Buffer.from(JSON.stringify(boundEntry(entry)) + "\n");
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, "a+", 0o600); // O_APPEND: each write lands at the end, whoever else appends
    const size = fs.fstatSync(fd).size;
    const last = Buffer.alloc(1);
    const torn = size > 0 && fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    const data = torn ? Buffer.concat([Buffer.from("\n"), line]) : line;
    for (let done = 0; done < data.length;) done += fs.writeSync(fd, data, done);
    return undefined;
  } catch (err) {
    if (!isSystemError(err)) throw err; // only the OS's answer is a lost record; a bug is exit 70
    return `could not append to the record ${file}: ${err.message}`;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Whether a line can be appended to the record, asked before a step acts: open for append (the
 * file is created when missing, empty -- readRecord skips nothing for it) and close again.
 */
export function recordWritable(file: string): string | undefined {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, "a", 0o600));
    return undefined;
  } catch (err) {
    if (!isSystemError(err)) throw err;
    return `cannot write the record ${file}: ${err.message}`;
  }
}

/** A line of the record that is not an entry (a write cut short by a kill or a power loss, a hand edit). */
export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
  /** Not whole JSON: an append cut short (or, as the file's unfinished last line, still being written). */
  torn?: boolean;
  /** The step whose entry a torn line began, when its fragment names it. */
  step?: string;
}

/** The entries, plus the file read and the lines skipped (an array still: every caller filters it). */
export type RecordRead = RecordEntry[] & { file: string; skipped: SkippedLine[] };

/** Which lines a reader wants: one step's, and of those only the given outcomes (when set). */
export interface RecordFilter {
  step: string;
  outcomes?: ReadonlySet<string>;
}

/** The record file's lines (none when it does not exist yet). */
function recordLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : [];
}

/** The step a torn fragment's entry was for (entries are written with `step` near their start). */
function tornStep(fragment: string): string | undefined {
  const m = /"step":"((?:[^"\\]|\\.)*)"/.exec(fragment);
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return undefined;
  }
}

/** What an operator needs about a torn line: that it is one, whose entry it was, what that means. */
function tornLine(line: string, index: number, lines: string[]): SkippedLine {
  const step = tornStep(line);
  // split("\n") leaves "" after a final newline: a last element that is not "" was never ended
  const unended = index === lines.length - 1;
  const who = step ? `step ${step}` : "its step";
  return {
    line: index + 1,
    torn: true,
    ...(step ? { step } : {}),
    reason:
      `torn line (${Buffer.byteLength(line)} bytes of an entry${step ? ` of step ${step}` : ""}, not whole JSON): an append cut short ` +
      `(its step killed mid-write, a full disk, a power loss${unended ? "; or being written right now" : ""}); ` +
      `that run's outcome is not in the record, so a resume runs ${who} again unless a later line of it counts`,
  };
}

const NOT_JSON = Symbol("not JSON");

/** A line's JSON, or NOT_JSON (a line cut short by a crash). */
function jsonOf(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/**
 * The record's entries. A line that is not JSON (torn: an append cut short), or not an entry, is
 * skipped and listed in `skipped` with its line number and, for a torn one, the step it was for;
 * it never throws for the content of the file.
 */
export function readRecord(file: string): RecordRead {
  const entries: RecordEntry[] = [];
  const skipped: SkippedLine[] = [];
  const lines = recordLines(file);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const json = jsonOf(line);
    if (json === NOT_JSON) {
      skipped.push(tornLine(line, i, lines));
      return;
    }
    const parsed = recordEntrySchema().safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skipped.push({
        line: i + 1,
        reason: `not a record entry (${issue?.path.join(".") || "line"}: ${issue?.message})`,
      });
      return;
    }
    entries.push(parsed.data as RecordEntry);
  });
  return Object.assign(entries, { file, skipped });
}

/**
 * The last entry that matches `only`, read from the end: a step asking whether it passed earlier
 * checks its own last matching line, not the whole window's record. Checking every line against
 * the schema cost each step about 0.15 ms per line (12 ms at 75 lines, bench/step-start.ts; issue
 * #14), growing with the window. Lines that are not JSON, or not an entry, are passed over as
 * readRecord skips them.
 */
export function lastRecordEntry(file: string, only: RecordFilter): RecordEntry | undefined {
  const lines = recordLines(file);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].trim() === "") continue;
    const json = jsonOf(lines[i]);
    if (json === NOT_JSON || !matches(only, json)) continue;
    const parsed = recordEntrySchema().safeParse(json);
    if (parsed.success) return parsed.data as RecordEntry;
  }
  return undefined;
}

function matches(only: RecordFilter, json: unknown): boolean {
  const line = json as { step?: unknown; outcome?: unknown } | null;
  return line?.step === only.step && (!only.outcomes || only.outcomes.has(String(line.outcome)));
}
