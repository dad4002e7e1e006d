/**
 * A window's record as data: what `coldstart record --format json` prints and the Markdown is
 * rendered from (record/render.ts). Who ran it, each run of a resumed window separately (its steps
 * and stages with start, end and duration), the overall verdict against the plan, which steps of
 * the plan did not run and why, the Vault unseal's key count and threshold, every guest's status
 * before and after, and the [REVALIDATE] markers (record/revalidate.ts).
 */
import type { Plan, PlanStep } from "../plan/model";
import {
  FINISHED_OUTCOMES,
  NOT_STARTED,
  type EvidenceOf,
  type RecordEntry,
  type RequestLine,
  type SkippedLine,
} from "../runtime/record";
import { revalidateItems, type RevalidateItem } from "./revalidate";

/** What the summary needs from the plan (plan/plan.ts makePlan gives it; tests may give less). */
export interface PlanLike {
  stages?: readonly Pick<Plan["stages"][number], "name" | "title">[];
  steps: readonly Pick<PlanStep, "name" | "stage" | "dependsOn" | "revalidate">[];
}

export interface StageSpan {
  stage: string;
  title?: string;
  start: string;
  end: string;
  durationMs: number;
  result: string;
}

export interface RunSummary {
  /** 1-based, in the order the runs first wrote to the record. */
  index: number;
  /** COLDSTART_RUN_ID; absent: steps run by hand or under a bare `pulumi up`. */
  runId?: string;
  /** maintenance | drill | step | "by hand". */
  kind: string;
  by: string[];
  versions: string[];
  start: string;
  end: string;
  durationMs: number;
  verdict: string;
  entries: (RecordEntry & { durationMs: number })[];
  stages: StageSpan[];
  /** Every RAN: / FOLLOWED: line of the run's steps, in time order (issue #23). */
  requests: (RequestLine & { step: string })[];
  /** The folder holding each step's whole output (a drill's `<dir>/output/<run id>`), when it exists. */
  output?: string;
}

export interface NotRun {
  step: string;
  stage: string;
  why: string;
}

export interface RecordSummary {
  window: string;
  /** The file read (always named: `record` says which record it is). */
  file?: string;
  /** Lines of the file that were not entries (a write cut short by a power loss). */
  skipped: SkippedLine[];
  windowKind: string;
  stacks: string[];
  modes: string[];
  versions: string[];
  by: string[];
  start?: string;
  end?: string;
  durationMs?: number;
  verdict: string;
  runs: RunSummary[];
  notRun: NotRun[];
  /** Steps in the record that the plan given does not have (another stack's plan?). */
  notInPlan: string[];
  vault?: EvidenceOf<"vault-unseal"> & { step: string; end: string };
  guests?: EvidenceOf<"guests"> & { step: string; end: string };
  revalidate: RevalidateItem[];
}

/** Lines a run writes about itself rather than a step (automation/maintenance.ts's stop notes, a drill's). */
const RUN_NOTES: ReadonlySet<string> = new Set(["maintenance", "drill"]);
const DONE = FINISHED_OUTCOMES;
const PROBLEM_WORD: Partial<Record<RecordEntry["outcome"], string>> = {
  fail: "FAILED",
  blocker: "hit a BLOCKER",
  cancelled: "was CANCELLED",
  usage: "stopped on a usage error",
};
const RANK: Record<RecordEntry["outcome"], number> = {
  blocker: 5,
  fail: 4,
  usage: 4,
  cancelled: 3,
  pass: 0,
  "skipped-by-guard": 0,
  kept: 0,
};

const uniq = (xs: (string | undefined)[]): string[] => [...new Set(xs.filter((x): x is string => !!x))];
const ms = (iso: string): number => Date.parse(iso);
const span = (start: string, end: string): number => Math.max(0, ms(end) - ms(start)) || 0;
const durationOf = (e: RecordEntry): number => e.durationMs ?? span(e.start, e.end);

/** A run's own note (a cancel, a stop at once) is not a step: it is said as the run stopping, never "at drill". */
const stoppedRun = (note: RecordEntry): string => `the ${note.step} run was stopped`;

function resultOf(entries: readonly RecordEntry[]): string {
  const worst = [...entries].sort((a, b) => RANK[b.outcome] - RANK[a.outcome])[0];
  if (!worst || RANK[worst.outcome] === 0) return "passed";
  const word = (PROBLEM_WORD[worst.outcome] ?? worst.outcome).replace(/^(was|hit a) /, "");
  return RUN_NOTES.has(worst.step) ? `${word}: ${stoppedRun(worst)}` : `${word} at ${worst.step}`;
}

/** Runs in the order they first wrote; entries without a run id that follow each other are one run. */
function groupRuns(entries: readonly RecordEntry[]): RecordEntry[][] {
  const groups: { runId?: string; entries: RecordEntry[] }[] = [];
  for (const e of entries) {
    const last = groups.at(-1);
    const same = e.runId ? groups.find((g) => g.runId === e.runId) : last && !last.runId ? last : undefined;
    if (same) same.entries.push(e);
    else groups.push({ runId: e.runId, entries: [e] });
  }
  return groups.map((g) => g.entries);
}

function stageSpans(entries: readonly RecordEntry[], plan?: PlanLike): StageSpan[] {
  // a run's own note is no stage of the runbook (it was a "drill" pseudo-stage)
  const order = uniq(entries.filter((e) => !RUN_NOTES.has(e.step)).map((e) => e.stage));
  return order.map((stage) => {
    const own = entries.filter((e) => e.stage === stage);
    const start = own.map((e) => e.start).sort()[0]!;
    const end = own
      .map((e) => e.end)
      .sort()
      .at(-1)!;
    return {
      stage,
      title: plan?.stages?.find((s) => s.name === stage)?.title,
      start,
      end,
      durationMs: span(start, end),
      result: resultOf(own),
    };
  });
}

function summarizeRun(
  index: number,
  entries: RecordEntry[],
  plan?: PlanLike,
  outputOf?: (runId: string) => string | undefined,
): RunSummary {
  const start = entries.map((e) => e.start).sort()[0]!;
  const end = entries
    .map((e) => e.end)
    .sort()
    .at(-1)!;
  const first = entries[0]!;
  return {
    index,
    runId: first.runId,
    kind: first.runKind ?? (first.runId ? "unknown" : "by hand"),
    by: uniq(entries.map((e) => e.by)),
    versions: uniq(entries.map((e) => e.version)),
    start,
    end,
    durationMs: span(start, end),
    verdict: resultOf(entries),
    entries: entries.map((e) => ({ ...e, durationMs: durationOf(e) })),
    stages: stageSpans(entries, plan),
    requests: entries
      .flatMap((e) => (e.requests ?? []).map((r) => ({ ...r, step: e.step })))
      .sort((a, b) => ms(a.at) - ms(b.at)),
    ...(first.runId && outputOf?.(first.runId) ? { output: outputOf(first.runId) } : {}),
  };
}

/** The last entry of each step, in file order. */
function finalByStep(entries: readonly RecordEntry[]): Map<string, RecordEntry> {
  const out = new Map<string, RecordEntry>();
  for (const e of entries) out.set(e.step, e);
  return out;
}

function notRunReasons(runs: RunSummary[], entries: readonly RecordEntry[], plan: PlanLike): NotRun[] {
  const lastRun = runs.at(-1);
  const final = finalByStep(entries);
  const runOf = (e: RecordEntry) => runs.find((r) => r.entries.some((x) => x.start === e.start && x.step === e.step));
  const deps = new Map(plan.steps.map((s) => [s.name, s.dependsOn]));
  const problem = (step: string): RecordEntry | undefined => {
    const e = final.get(step);
    return e && !DONE.has(e.outcome) && e.state !== NOT_STARTED ? e : undefined;
  };
  /** The first step upstream of `step` that did not pass: what it waited for. */
  const blockedBy = (step: string): { step: string; entry?: RecordEntry } | undefined => {
    const seen = new Set<string>();
    const queue = [...(deps.get(step) ?? [])];
    let notDone: string | undefined;
    while (queue.length) {
      const d = queue.shift()!;
      if (seen.has(d)) continue;
      seen.add(d);
      const p = problem(d);
      if (p) return { step: d, entry: p };
      const e = final.get(d);
      if (!e || !DONE.has(e.outcome)) notDone ??= d;
      queue.push(...(deps.get(d) ?? []));
    }
    return notDone ? { step: notDone } : undefined;
  };
  const anyProblem = [...final.values()].find((e) => problem(e.step));
  const out: NotRun[] = [];
  for (const s of plan.steps) {
    const mine = entries.filter((e) => e.step === s.name);
    const inLast = lastRun?.entries.filter((e) => e.step === s.name) ?? [];
    const ranInLast = inLast.filter((e) => e.outcome !== "kept" && e.state !== NOT_STARTED);
    if (ranInLast.length) continue;
    const passed = mine.filter((e) => e.outcome === "pass" || e.outcome === "skipped-by-guard").at(-1);
    const why = (): string => {
      if (inLast.some((e) => e.outcome === "kept") && passed)
        return `kept: passed in run ${runOf(passed)?.index ?? "?"} at ${passed.end}; nothing ran again`;
      if (passed) return `kept from run ${runOf(passed)?.index ?? "?"}: passed at ${passed.end}`;
      const stop = inLast.find((e) => e.state === NOT_STARTED) ?? mine.find((e) => e.state === NOT_STARTED);
      if (stop) return `cancelled before it started (${stop.summary.replace(/^cancelled at a safe point: /, "")})`;
      const up = blockedBy(s.name);
      if (up?.entry)
        return `not reached: it waits for ${up.step}, which ${PROBLEM_WORD[up.entry.outcome] ?? up.entry.outcome} (run ${runOf(up.entry)?.index ?? "?"}, ${up.entry.end})`;
      if (anyProblem && RUN_NOTES.has(anyProblem.step)) return `not reached: ${stoppedRun(anyProblem)} before it`;
      if (anyProblem)
        return `not reached: the run stopped after ${anyProblem.step} ${PROBLEM_WORD[anyProblem.outcome] ?? anyProblem.outcome}`;
      if (up)
        return `not reached: ${up.step}, which it waits for, did not run either (the run was stopped, or is still going)`;
      return "not run: the run ended before it (stopped, or still going)";
    };
    out.push({ step: s.name, stage: s.stage, why: why() });
  }
  return out;
}

function lastEvidence<K extends "vault-unseal" | "guests">(
  entries: readonly RecordEntry[],
  kind: K,
  ok: (e: RecordEntry) => boolean,
): (EvidenceOf<K> & { step: string; end: string }) | undefined {
  const e = [...entries].reverse().find((x) => x.evidence?.kind === kind && ok(x));
  return e ? { ...(e.evidence as EvidenceOf<K>), step: e.step, end: e.end } : undefined;
}

function overallVerdict(
  entries: readonly RecordEntry[],
  plan: PlanLike | undefined,
  notRun: NotRun[],
  lastRun: readonly RecordEntry[],
): string {
  const final = finalByStep(entries);
  const planned = plan && plan.steps.length ? plan.steps.map((s) => s.name) : [...final.keys()];
  // run-level notes (maintenance's own lines: a cancel, a stop at once) count for the last run
  const notes = lastRun.filter((e) => !planned.includes(e.step));
  const worst = [...planned.map((n) => final.get(n)), ...notes]
    .filter((e): e is RecordEntry => e !== undefined && !DONE.has(e.outcome))
    .sort((a, b) => RANK[b.outcome] - RANK[a.outcome])[0];
  if (worst) {
    const word = { blocker: "BLOCKER", fail: "FAILED", usage: "FAILED", cancelled: "CANCELLED" }[
      worst.outcome as "blocker" | "fail" | "usage" | "cancelled"
    ];
    return `${word}${RUN_NOTES.has(worst.step) ? `: ${stoppedRun(worst)}` : ` at ${worst.step}`}${notRun.length ? `; ${notRun.filter((n) => !n.why.startsWith("kept")).length} step(s) of the plan did not run` : ""}`;
  }
  const missing = notRun.filter((n) => !n.why.startsWith("kept"));
  if (plan && missing.length)
    return `INCOMPLETE: ${missing.length} of ${plan.steps.length} step(s) of the plan did not run`;
  const kept = notRun.length;
  return `PASSED: every step ${plan ? `of the plan (${plan.steps.length})` : "in the record"} passed${kept ? `, ${kept} kept from an earlier run` : ""}`;
}

export function summarizeRecord(input: {
  window: string;
  entries: readonly RecordEntry[];
  file?: string;
  skipped?: readonly SkippedLine[];
  plan?: PlanLike;
  /** Where a run kept its steps' whole output, if anywhere (cli/record-command.ts looks; this stays pure). */
  outputOf?: (runId: string) => string | undefined;
}): RecordSummary {
  const { entries, plan } = input;
  const runs = groupRuns(entries).map((g, i) => summarizeRun(i + 1, g, plan, input.outputOf));
  const notRun = plan ? notRunReasons(runs, entries, plan) : [];
  const kinds = uniq(entries.map((e) => e.windowKind));
  const starts = entries.map((e) => e.start).sort();
  const ends = entries.map((e) => e.end).sort();
  return {
    window: input.window,
    file: input.file,
    skipped: [...(input.skipped ?? [])],
    windowKind:
      kinds.length === 0 ? "not recorded" : kinds.includes("real") ? (kinds.length > 1 ? "MIXED" : "real") : "drill",
    stacks: uniq(entries.map((e) => e.stack)),
    modes: uniq(entries.map((e) => e.mode)),
    versions: uniq(entries.map((e) => e.version)),
    by: uniq(entries.map((e) => e.by)),
    start: starts[0],
    end: ends.at(-1),
    durationMs: starts[0] && ends.at(-1) ? span(starts[0], ends.at(-1)!) : undefined,
    verdict: entries.length
      ? overallVerdict(entries, plan, notRun, runs.at(-1)?.entries ?? [])
      : "NOT STARTED: no step has run in this window yet",
    runs,
    notRun,
    notInPlan: plan
      ? uniq(entries.filter((e) => !RUN_NOTES.has(e.step)).map((e) => e.step)).filter(
          (s) => !plan.steps.some((p) => p.name === s),
        )
      : [],
    vault: lastEvidence(entries, "vault-unseal", (e) => e.outcome === "pass"),
    guests: lastEvidence(entries, "guests", () => true),
    revalidate: revalidateItems(entries, plan?.steps ?? []),
  };
}
