/**
 * The as-executed note of a window, in Markdown: what ran, when, what each gate saw, where a
 * failure routes -- and which runbook [REVALIDATE] markers this window's run can clear.
 */
import type { RecordEntry } from "../runtime/record";

export interface RevalidateNote {
  step: string;
  note: string;
}

const RESULT: Record<RecordEntry["outcome"], string> = {
  pass: "PASS",
  fail: "FAILED",
  blocker: "BLOCKER",
  "skipped-by-guard": "skipped (guard)",
  usage: "usage error",
  cancelled: "CANCELLED",
  kept: "kept (passed earlier)",
};

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderRecord(window: string, entries: RecordEntry[], revalidate: RevalidateNote[] = []): string {
  const lines: string[] = [];
  const stacks = [...new Set(entries.map((e) => e.stack).filter(Boolean))];
  lines.push(`# As-executed record: window ${window}${stacks.length ? ` (stack ${stacks.join(", ")})` : ""}`);
  lines.push("");
  if (entries.length === 0) {
    lines.push("No step has run in this window yet.");
    return lines.join("\n") + "\n";
  }
  const first = entries[0].start;
  const last = entries[entries.length - 1].end;
  const failures = entries.filter((e) => e.outcome === "fail" || e.outcome === "blocker" || e.outcome === "cancelled");
  lines.push(
    `${entries.length} step runs from ${first} to ${last}; ${failures.length ? `${failures.length} failed` : "all passed"}.`,
  );
  lines.push("");
  lines.push("| # | stage | step | start (UTC) | end (UTC) | result | what it saw |");
  lines.push("|---|---|---|---|---|---|---|");
  entries.forEach((e, i) => {
    lines.push(
      `| ${i + 1} | ${cell(e.stage)} | ${cell(e.step)} | ${e.start} | ${e.end} | ${RESULT[e.outcome]} | ${cell(e.summary)} |`,
    );
  });
  if (failures.length) {
    lines.push("", "## Failures", "");
    for (const f of failures) {
      lines.push(`### ${f.step} (${RESULT[f.outcome]}, exit ${f.exitCode})`, "");
      lines.push(`- saw: ${f.summary}`);
      for (const d of f.details) lines.push(`  - ${d}`);
      if (f.fix) lines.push(`- ${f.fix}`);
      lines.push("");
    }
  }
  if (revalidate.length) {
    lines.push("", "## [REVALIDATE] markers", "");
    for (const r of revalidate) {
      const passed = entries.filter(
        (e) => e.step === r.step && (e.outcome === "pass" || e.outcome === "skipped-by-guard"),
      );
      const when = passed.length ? passed[passed.length - 1].end : undefined;
      lines.push(
        when
          ? `- ${r.step} -- "${r.note}": ran to completion at ${when} (${passed[passed.length - 1].summary}). Clear the marker and record this as-executed date in the runbook.`
          : `- ${r.step} -- "${r.note}": not completed in this window; the marker stays.`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
