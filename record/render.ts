/**
 * The as-executed record of a window, in Markdown, fit to hand in: what it is a record of (drill
 * or real window, stack, mode, coldstart version, who ran it), the overall verdict, each run of a
 * resumed window separately with start / end / duration per stage and per step, which steps of
 * the plan did not run and why, the Vault unseal's key count and threshold, every guest's status
 * before and after, the failures with their fix, and the [REVALIDATE] markers this window can
 * clear (record/revalidate.ts). The data comes from record/summary.ts.
 */
import type { RecordEntry, SkippedLine } from "../runtime/record";
import { forMarkdown } from "../runtime/safe-text";
import { humanDuration } from "./format";
import { summarizeRecord, type PlanLike, type RecordSummary } from "./summary";
import { renderRevalidate } from "./revalidate";
import { renderHandback, resumeAdvice, type Handback, type ResumeContext } from "../runbook/handback";

const RESULT: Record<RecordEntry["outcome"], string> = {
  pass: "PASS",
  fail: "FAILED",
  blocker: "BLOCKER",
  "skipped-by-guard": "skipped (guard)",
  usage: "usage error",
  cancelled: "CANCELLED",
  kept: "kept (passed earlier)",
};

/** What Stage 5 did with a guest (gates/guests.ts GuestFate), in words. */
const FATE: Record<string, string> = {
  expected: "ran before: started if SHUTOFF, waited for",
  held: "held down (holdGuests): never started",
  "not-running-before": "not ACTIVE before: left as it was",
  "not-in-baseline": "not in the baseline: left as it is",
  unknown: "no baseline, not named: left as it is",
};

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/**
 * Text that may carry what a tenant chose (a step's "what it saw" and details name servers and
 * LBs): no terminal control, no HTML, no Markdown of its own (runtime/safe-text.ts). Our own
 * words around it (stage titles, fixes, verdicts) are written as Markdown on purpose.
 */
function seen(text: string): string {
  return forMarkdown(text.replace(/\r?\n/g, " "));
}

const list = (xs: string[], none = "not recorded"): string => (xs.length ? xs.join(", ") : none);

/** One line naming the file read and the lines skipped in it (`record` prints it first). */
export function skippedNotice(file: string, skipped: readonly SkippedLine[]): string[] {
  return skipped.map((s) => `notice: ${file} line ${s.line} skipped: ${s.reason}`);
}

export function renderSummary(s: RecordSummary): string {
  const lines: string[] = [];
  lines.push(`# As-executed record: window ${s.window}${s.stacks.length ? ` (stack ${s.stacks.join(", ")})` : ""}`);
  lines.push("");
  if (s.file) lines.push(`Read from \`${s.file}\`.`, "");
  for (const n of s.skipped) lines.push(`> line ${n.line} of the file was skipped: ${n.reason}`);
  if (s.skipped.length) lines.push("");
  if (s.runs.length === 0) {
    lines.push("No step has run in this window yet.");
    return lines.join("\n") + "\n";
  }
  lines.push("| | |", "|---|---|");
  lines.push(
    `| window | ${cell(s.window)} (${s.windowKind === "drill" ? "DRILL: simulated cloud" : s.windowKind === "real" ? "REAL window" : s.windowKind}) |`,
  );
  lines.push(`| stack | ${cell(list(s.stacks))} |`);
  lines.push(`| mode | ${cell(list(s.modes))} |`);
  lines.push(`| coldstart version | ${cell(list(s.versions))} |`);
  lines.push(`| run by | ${cell(list(s.by))} |`);
  lines.push(`| from / to | ${s.start} / ${s.end} (${humanDuration(s.durationMs ?? NaN)}) |`);
  lines.push(`| runs | ${s.runs.length}${s.runs.length > 1 ? " (a resumed window: each below)" : ""} |`);
  lines.push(`| verdict | **${cell(s.verdict)}** |`);
  lines.push("");

  for (const run of s.runs) {
    const id = run.runId ? `${run.kind} ${run.runId}` : "no run id (steps run by hand, or a bare `pulumi up`)";
    lines.push(`## Run ${run.index}: ${id}`, "");
    lines.push(
      `${run.start} to ${run.end} (${humanDuration(run.durationMs)}), by ${list(run.by)}, coldstart ${list(run.versions)}: ${run.verdict}.`,
      "",
    );
    lines.push("| stage | start (UTC) | end (UTC) | duration | result |", "|---|---|---|---|---|");
    for (const st of run.stages)
      lines.push(
        `| ${cell(st.title ?? st.stage)} | ${st.start} | ${st.end} | ${humanDuration(st.durationMs)} | ${st.result} |`,
      );
    lines.push("");
    lines.push("| # | stage | step | start (UTC) | end (UTC) | duration | result | what it saw |");
    lines.push("|---|---|---|---|---|---|---|---|");
    run.entries.forEach((e, i) => {
      lines.push(
        `| ${i + 1} | ${cell(e.stage)} | ${cell(e.step)} | ${e.start} | ${e.end} | ${humanDuration(e.durationMs)} | ${RESULT[e.outcome]} | ${seen(e.summary)} |`,
      );
    });
    lines.push("");
    if (run.requests.length) {
      lines.push(
        `Requests the steps sent to the cloud (\`RAN:\`) and earlier ones they found in progress and followed (\`FOLLOWED:\`), as the console showed them:`,
        "",
      );
      for (const r of run.requests) lines.push(`- ${r.at} ${cell(r.step)}: ${seen(r.line)}`);
      lines.push("");
    }
    if (run.output) lines.push(`Each step's whole output in this run: \`${run.output}/<step>.log\`.`, "");
  }

  if (s.notRun.length || s.notInPlan.length) {
    lines.push("## Steps of the plan that did not run (in the last run)", "");
    for (const n of s.notRun) lines.push(`- ${n.step} (${n.stage}): ${n.why}`);
    if (s.notInPlan.length)
      lines.push(
        `- in the record but not in this plan: ${s.notInPlan.join(", ")} (a plan of another stack or version?)`,
      );
    lines.push("");
  }

  if (s.vault) {
    const sealed = s.vault.units.filter((u) => u.keysUsed > 0);
    lines.push("## Vault unseal", "");
    lines.push(
      `Unsealed by ${s.vault.step} at ${s.vault.end}: threshold ${s.vault.threshold} (Vault's own, from its status); ` +
        `${s.vault.keysAvailable} key(s) held by the run; counts only, never a key.`,
      "",
    );
    for (const u of s.vault.units)
      lines.push(
        `- ${u.unit}: ${u.result === "already-unsealed" ? "already unsealed, no key used" : `${u.keysUsed} key(s) used of threshold ${u.threshold}${u.reset ? " (a partial unseal was reset first)" : ""}: ${u.result}`}`,
      );
    if (sealed.length === 0) lines.push("- no unit needed a key");
    lines.push("");
  }

  if (s.guests) {
    lines.push("## Guests: before the window and after", "");
    lines.push(`From ${s.guests.step} at ${s.guests.end}; before = ${s.guests.baseline}.`, "");
    lines.push("| guest | ID | before | after | Stage 5 |", "|---|---|---|---|---|");
    for (const g of s.guests.guests)
      lines.push(
        `| ${seen(g.name)} | ${seen(g.id ?? "-")} | ${seen(g.before ?? "-")} | ${seen(g.after)} | ${cell(FATE[g.fate] ?? g.fate)} |`,
      );
    lines.push("");
  }

  const failures = s.runs.flatMap((r) =>
    r.entries
      .filter((e) => e.outcome === "fail" || e.outcome === "blocker" || e.outcome === "cancelled")
      .map((e) => ({ run: r.index, e })),
  );
  if (failures.length) {
    lines.push("## Failures", "");
    for (const { run, e: f } of failures) {
      lines.push(`### ${f.step} (${RESULT[f.outcome]}, exit ${f.exitCode}, run ${run})`, "");
      lines.push(`- saw: ${seen(f.summary)}`);
      for (const d of f.details) lines.push(`  - ${seen(d)}`);
      if (f.fix) lines.push(`- ${f.fix}`);
      lines.push("");
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The whole record in Markdown. `plan` (plan/plan.ts for the record's stack) adds the steps that
 * did not run and the [REVALIDATE] markers; without it only what ran is shown.
 */
export function renderRecord(
  window: string,
  entries: readonly RecordEntry[],
  opts: {
    plan?: PlanLike;
    file?: string;
    skipped?: readonly SkippedLine[];
    outputOf?: (runId: string) => string | undefined;
    /** The steps left, with their manual procedures, and how to resume instead (runbook/handback.ts). */
    handback?: { handback: Handback; resume: ResumeContext };
  } = {},
): string {
  const summary = summarizeRecord({ window, entries, ...opts });
  const body = renderSummary(summary);
  if (!opts.plan || entries.length === 0) return body;
  const rest = opts.handback
    ? [
        "",
        "## Continue by hand",
        "",
        ...renderHandback(opts.handback.handback, "md"),
        "",
        ...resumeAdvice(opts.handback.handback, opts.handback.resume),
        "",
      ].join("\n")
    : "";
  return `${body}\n${renderRevalidate(entries, opts.plan.steps)}${rest}`;
}
