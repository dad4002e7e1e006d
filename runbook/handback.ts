/**
 * Every stop hands the window back (issue #24 item 3): the steps of the plan the window has not
 * finished, in runbook order, each with its manual procedure, after `continue by hand from <step>:`.
 * A BLOCKER's escalation comes first and the rest is "once the blocker is resolved". The drill,
 * maintenance (console and CI report), report.json and `coldstart record` all print this one
 * section. Pure: the plan and the window's record in, data and lines out.
 */
import type { Plan } from "../plan/model";
import { FINISHED_OUTCOMES, type RecordEntry } from "../runtime/record";
import type { ManualProcedure } from "../stages/manual";
import { forConsole, forMarkdown } from "../runtime/safe-text";
import { renderProcedure, type RunbookFormat } from "./render-procedure";
import { runbookOrder } from "./render-runbook";

export interface HandbackStep {
  step: string;
  stage: string;
  summary: string;
  guard?: string;
  destructive?: boolean;
  revalidate?: string;
  /** How the window's record left it: no line at all, or its last line's outcome. */
  left: "not run" | RecordEntry["outcome"];
  manual: ManualProcedure;
}

export interface Handback {
  /** The first step not finished, in runbook order. */
  from: string;
  /** The BLOCKER that stopped the window, when one did: escalate first. */
  blocker?: { step: string; summary: string; fix?: string };
  /** Every step not finished, in runbook order, `from` first. */
  steps: HandbackStep[];
}

/** The window's hand-back, or undefined when every step of the plan finished. */
export function handbackOf(plan: Plan, entries: readonly RecordEntry[]): Handback | undefined {
  const last = new Map<string, RecordEntry>();
  for (const e of entries) last.set(e.step, e);
  const left = runbookOrder(plan).filter((s) => {
    const e = last.get(s.name);
    return !e || !FINISHED_OUTCOMES.has(e.outcome);
  });
  if (left.length === 0) return undefined;
  const blocked = left.map((s) => last.get(s.name)).find((e) => e?.outcome === "blocker");
  return {
    from: left[0].name,
    ...(blocked
      ? { blocker: { step: blocked.step, summary: blocked.summary, ...(blocked.fix ? { fix: blocked.fix } : {}) } }
      : {}),
    steps: left.map((s) => ({
      step: s.name,
      stage: s.stage,
      summary: s.summary,
      ...(s.guard ? { guard: s.guard } : {}),
      ...(s.destructive ? { destructive: true } : {}),
      ...(s.revalidate ? { revalidate: s.revalidate } : {}),
      left: last.get(s.name)?.outcome ?? "not run",
      manual: s.manual,
    })),
  };
}

/** The hand-back as lines: the escalation first after a BLOCKER, then `continue by hand from <step>:` and each step's procedure. */
export function renderHandback(h: Handback, format: RunbookFormat = "text"): string[] {
  // the blocker's words come from the record (a step's verdict, which may quote the cloud): made safe to show
  const safe = format === "md" ? forMarkdown : forConsole;
  const md = format === "md";
  // in Markdown each line is its own paragraph (a single newline would join them)
  const head: string[] = [];
  if (h.blocker) {
    head.push(
      `ESCALATE FIRST: BLOCKER at ${h.blocker.step}: ${safe(h.blocker.summary)}`,
      ...(h.blocker.fix ? [`${md ? "" : "  "}fix: ${safe(h.blocker.fix.replace(/^fix: /, ""))}`] : []),
      `${md ? "" : "  "}escalate, never improvise: nothing below is to be run until the blocker is resolved.`,
      "",
      `Once the blocker is resolved, continue by hand from ${h.from}:`,
    );
  } else {
    head.push(`continue by hand from ${h.from}:`);
  }
  head.push(
    `${md ? "" : "  "}(${h.steps.length} step(s) of the plan not finished, in runbook order: ${h.steps.map((s) => s.step).join(", ")})`,
  );
  const out = md ? head.filter((l) => l !== "").flatMap((l, i) => (i === 0 ? [l] : ["", l])) : head;
  for (const s of h.steps) {
    out.push("", ...renderProcedure({ name: s.step, ...s }, format));
    if (s.left !== "not run")
      out.push(md ? `> left by the window as: ${s.left}` : `  (left by the window as: ${s.left})`);
  }
  return out;
}

/** Where the window's record came from, for the resume line: the kind of the last run, and a drill's folder. */
export interface ResumeContext {
  stack: string;
  window: string;
  /** The last run's kind (record's runKind): drill, maintenance, step; undefined for steps run by hand or a bare `pulumi up`. */
  runKind?: string;
  /** A drill's folder (the record's file is <dir>/records/<window>.jsonl); with runKind maintenance: `--engine drill`'s. */
  drillDir?: string;
  /** Where the stack keeps its records (the MySQL marker lives there). */
  recordDir: string;
  /** How many steps of the plan the record shows finished. */
  finished: number;
}

/** How to go on with coldstart instead of by hand, and when that is safe: what the record shows. */
export function resumeAdvice(h: Handback, c: ResumeContext): string[] {
  const how =
    c.runKind === "drill" && c.drillDir
      ? `coldstart drill --dir ${c.drillDir} --resume (with the same --stack and --scenario)`
      : c.runKind === "maintenance"
        ? `coldstart maintenance --stack ${c.stack} --window ${c.window}${c.drillDir ? ` --engine drill --dir ${c.drillDir} --resume` : ""} (the same window: what passed is kept)`
        : `pulumi up --stack ${c.stack} with coldstart:window ${c.window} (the same window: what passed is kept)`;
  const out = [`Or resume with coldstart instead: ${how}.`];
  if (h.blocker) {
    out.push(
      `  Not before the blocker is resolved: a resume runs ${h.blocker.step} again, and it stops at the same BLOCKER while the cloud is as it was.`,
    );
  }
  out.push(
    `  Safe when nothing left above was done by hand since the stop: the record shows ${c.finished} step(s) finished, which a resume keeps without running them again; ` +
      `each step left re-reads the cloud before it changes anything (a host already on is left alone, only sealed Vault units are unsealed, ` +
      `reboot-cluster-from-complete-outage runs at most once per window: its marker ${c.recordDir}/${c.window}.mysql-reboot.json).`,
  );
  return out;
}
