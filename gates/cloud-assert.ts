/**
 * Runbook Stage 7 -- end-to-end behavioral gate: `bash scripts/cloud-assert.sh`.
 * GATE: CLOUD-ASSERT: PASS. Any FAIL routes to appendix-A by its message.
 */
import type { Verdict } from "./verdict";
import { excerpt } from "../runtime/excerpt";

const PASS = "CLOUD-ASSERT: PASS";
const FAIL = "CLOUD-ASSERT: FAIL";

/**
 * Pass only when the script exited 0, a line is exactly "CLOUD-ASSERT: PASS" (trimmed) and no line
 * says "CLOUD-ASSERT: FAIL" -- nor contains "FAIL" at all: a PASS line next to a FAIL line is a
 * contradiction, and the safe reading is fail. Every line containing "FAIL" becomes a detail
 * (route cloud-assert-fail).
 * No verdict line at all (the script died, or exited non-zero after a PASS line) is "unknown".
 */
/** FAIL lines quoted in a verdict: a real cloud-assert prints a few dozen checks at most. */
export const MAX_FAIL_LINES = 50;

export function cloudAssertVerdict(exitCode: number | null, stdout: string): Verdict<"pass" | "fail" | "unknown"> {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim());
  const passLine = lines.some((l) => l === PASS);
  const failLines = lines.filter((l) => l.includes("FAIL"));
  const exit = exitCode === null ? "no exit status (killed or timed out)" : `exit ${exitCode}`;

  // A "CLOUD-ASSERT: FAIL" line contains "FAIL", so it lands here too.
  if (failLines.length > 0) {
    const headline = lines.some((l) => l.includes(FAIL))
      ? FAIL
      : passLine
        ? `"${PASS}" contradicted by FAIL lines`
        : "FAIL lines without a verdict line";
    return {
      ok: false,
      state: "fail",
      summary: `cloud-assert: ${headline} (${failLines.length} FAIL line(s), ${exit})`,
      // each quoted line cut to a few KB, and at most MAX_FAIL_LINES of them (the count says the rest)
      details: [
        ...failLines.slice(0, MAX_FAIL_LINES).map((l) => excerpt(l)),
        ...(failLines.length > MAX_FAIL_LINES ? [`… and ${failLines.length - MAX_FAIL_LINES} more FAIL line(s)`] : []),
      ],
      route: "cloud-assert-fail",
    };
  }
  if (passLine && exitCode === 0) {
    return { ok: true, state: "pass", summary: `cloud-assert: ${PASS}`, details: [] };
  }
  const last = [...lines].reverse().find((l) => l !== "");
  const why = passLine ? `a "${PASS}" line but ${exit}: not a pass` : `no "${PASS}" line, ${exit}`;
  return {
    ok: false,
    state: "unknown",
    summary: `cloud-assert: ${why}`,
    details: last === undefined ? ["no output"] : [`last output line: ${excerpt(last)}`],
    route: "tool-unavailable",
  };
}
