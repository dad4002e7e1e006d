/** A minimal record line of one step (runtime/record.ts), as the claim and cancel tests append it. */
import type { RecordEntry } from "../../runtime/record";

export function recordEntry(window: string, step: string, outcome: RecordEntry["outcome"]): RecordEntry {
  const at = "2026-12-05T06:00:00.000Z";
  return {
    window,
    stack: "s",
    stage: "x",
    step,
    command: "c",
    start: at,
    end: at,
    exitCode: 0,
    outcome,
    summary: "",
    details: [],
  };
}
