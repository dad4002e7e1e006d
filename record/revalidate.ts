/**
 * The runbook's [REVALIDATE] markers (stages/ovn-chassis.ts ovn-tls-sweep, stages/octavia.ts
 * octavia-grace): offered for clearing only when this window actually exercised the situation the
 * marker is about, from the typed evidence the steps recorded (runtime/record.ts), never from prose:
 * - ovn-tls-sweep "sweep unit list against current topology": the sweep restarted at least one
 *   chassis, every restart succeeded, and every restarted chassis reconnected (the sweep's own
 *   re-probe, or a passing ovn-chassis-connected gate after it that saw it connected);
 * - octavia-grace "timing budget on current build": at least one LB was in ERROR during the grace
 *   and every LB seen in ERROR was ACTIVE again within it (the time it took is given).
 * Otherwise the marker stays open, and the record says why.
 *
 * `renderRevalidate` is what `maintenance` puts in its report (automation/maintenance.ts).
 */
import { forMarkdown } from "../runtime/safe-text";
import type { EvidenceOf, RecordEntry } from "../runtime/record";
import { formatDuration } from "../config/duration";
import { humanDuration } from "./format";

/** What a plan step needs to carry for this module (plan/model.ts PlanStep has it). */
export interface MarkedStep {
  name: string;
  revalidate?: string;
}

export interface RevalidateItem {
  step: string;
  /** The runbook's note on the marker. */
  note: string;
  clear: boolean;
  /** Why it can be cleared (what happened, when), or why it stays open. */
  why: string;
  /** When the exercising step ended (clear only). */
  at?: string;
}

const RAN: ReadonlySet<RecordEntry["outcome"]> = new Set(["pass", "skipped-by-guard", "fail"]);

function lastWith<K extends EvidenceOf<"ovn-tls-sweep">["kind"] | EvidenceOf<"octavia-grace">["kind"]>(
  entries: readonly RecordEntry[],
  step: string,
  kind: K,
): { entry: RecordEntry; evidence: Extract<RecordEntry["evidence"], { kind: K }> } | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.step === step && RAN.has(e.outcome) && e.evidence?.kind === kind)
      return { entry: e, evidence: e.evidence as Extract<RecordEntry["evidence"], { kind: K }> };
  }
  return undefined;
}

function ranWithoutEvidence(entries: readonly RecordEntry[], step: string): boolean {
  return entries.some((e) => e.step === step && RAN.has(e.outcome));
}

function sweepItem(entries: readonly RecordEntry[], step: string, note: string): RevalidateItem {
  const open = (why: string): RevalidateItem => ({ step, note, clear: false, why });
  const found = lastWith(entries, step, "ovn-tls-sweep");
  if (!found)
    return open(
      ranWithoutEvidence(entries, step)
        ? "the sweep ran, but its record line has no evidence of what it restarted (written by an older coldstart)"
        : "the sweep did not run to a verdict in this window",
    );
  const { entry, evidence } = found;
  if (evidence.restarted.length === 0)
    return open(`the sweep restarted nothing: every chassis (${evidence.chassis}) was connected`);
  const failed = evidence.restarted.filter((r) => !r.restartOk).map((r) => r.unit);
  if (failed.length) return open(`the restart failed on ${failed.join(", ")}`);
  // the sweep's re-probe runs right after the restarts; a chassis may reconnect a little later,
  // which the gate after the sweep sees
  const gate = entries
    .slice(entries.indexOf(entry) + 1)
    .filter((e) => e.outcome === "pass" && e.evidence?.kind === "ovn-chassis")
    .at(-1);
  const gateSaw = new Set(gate?.evidence?.kind === "ovn-chassis" ? gate.evidence.connected : []);
  const notBack = evidence.restarted.filter((r) => !r.reconnected && !gateSaw.has(r.unit)).map((r) => r.unit);
  if (notBack.length)
    return open(
      `the sweep restarted ${notBack.join(", ")}, which did not reconnect (no passing chassis gate after it)`,
    );
  const units = evidence.restarted.map((r) => r.unit).join(", ");
  const how = evidence.restarted.every((r) => r.reconnected)
    ? "the sweep's re-probe saw them connected"
    : `the chassis gate saw them connected at ${gate!.end} (${gate!.step})`;
  return {
    step,
    note,
    clear: true,
    why: `the sweep restarted ${units} (of ${evidence.chassis} chassis) at ${entry.end} and they reconnected: ${how}`,
    at: entry.end,
  };
}

function graceItem(entries: readonly RecordEntry[], step: string, note: string): RevalidateItem {
  const open = (why: string): RevalidateItem => ({ step, note, clear: false, why });
  const found = lastWith(entries, step, "octavia-grace");
  if (!found)
    return open(
      ranWithoutEvidence(entries, step)
        ? "the grace ran, but its record line has no evidence of the LBs it saw (written by an older coldstart)"
        : "the Octavia grace did not run to a verdict in this window",
    );
  const { entry, evidence } = found;
  const grace = formatDuration(evidence.graceMs);
  if (evidence.lbs.length === 0) return open(`no LB was in ERROR during the ${grace} grace`);
  const name = (lb: (typeof evidence.lbs)[number]) => lb.name ?? lb.id;
  const recovered = evidence.lbs.filter((lb) => lb.recoveredAtMs !== undefined);
  const stuck = evidence.lbs.filter((lb) => lb.recoveredAtMs === undefined);
  const took = recovered
    .map((lb) => `${name(lb)} in ERROR, ACTIVE again ${humanDuration(lb.recoveredAtMs!)} into the grace`)
    .join("; ");
  const pace = `to within one poll (${formatDuration(evidence.intervalMs)})`;
  if (stuck.length)
    return open(
      `${stuck.map(name).join(", ")} stayed out of ACTIVE through the ${grace} grace (${stuck.map((lb) => lb.statusAtEnd).join(", ")} at its end)` +
        (recovered.length ? `; ${took}` : "") +
        ": the budget was not shown to hold for every LB in ERROR",
    );
  return {
    step,
    note,
    clear: true,
    why: `${took}, within the ${grace} grace (${pace}), at ${entry.end}`,
    at: entry.end,
  };
}

/** One item per step of the plan that carries a [REVALIDATE] marker, in plan order. */
export function revalidateItems(entries: readonly RecordEntry[], steps: readonly MarkedStep[]): RevalidateItem[] {
  return steps
    .filter((s): s is MarkedStep & { revalidate: string } => s.revalidate !== undefined)
    .map((s) => {
      if (s.name === "ovn-tls-sweep") return sweepItem(entries, s.name, s.revalidate);
      if (s.name === "octavia-grace") return graceItem(entries, s.name, s.revalidate);
      return {
        step: s.name,
        note: s.revalidate,
        clear: false,
        why: "coldstart records no evidence for this marker: clear it by hand if the window exercised it",
      };
    });
}

/** The REVALIDATE section in Markdown (its own heading), for `record` and `maintenance`'s report. */
export function renderRevalidate(entries: readonly RecordEntry[], steps: readonly MarkedStep[]): string {
  const items = revalidateItems(entries, steps);
  const lines = ["## [REVALIDATE] markers", ""];
  if (items.length === 0) lines.push("The plan carries no [REVALIDATE] marker.");
  for (const r of items)
    lines.push(
      r.clear
        ? `- ${r.step} -- "${r.note}": CAN BE CLEARED: ${forMarkdown(r.why)}. Record this window against the marker in the runbook.`
        : `- ${r.step} -- "${r.note}": STAYS OPEN: ${forMarkdown(r.why)}.`,
    );
  return lines.join("\n") + "\n";
}
