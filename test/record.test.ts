import { renderRecord } from "../record/render";
import type { RecordEntry } from "../runtime/record";

const entry = (step: string, outcome: RecordEntry["outcome"], extra: Partial<RecordEntry> = {}): RecordEntry => ({
  window: "w1",
  stack: "roosevelt",
  stage: "stage-4-ovn",
  step,
  command: `gate ${step}`,
  start: "2026-12-05T06:00:00.000Z",
  end: "2026-12-05T06:01:00.000Z",
  exitCode: outcome === "pass" ? 0 : 1,
  outcome,
  summary: `${step} saw something`,
  details: [],
  ...extra,
});

describe("the as-executed record in Markdown", () => {
  it("lists every step run with its result, and each failure with what it saw and the fix", () => {
    const md = renderRecord("w1", [
      entry("ovn-tls-sweep", "pass"),
      entry("ovn-chassis-connected", "fail", {
        details: ["ovn-chassis/1: not connected"],
        fix: "fix: Stage 4 TLS sweep",
      }),
    ]);
    expect(md).toMatch(/^# As-executed record: window w1 \(stack roosevelt\)/);
    expect(md).toMatch(/\| 1 \| stage-4-ovn \| ovn-tls-sweep \| .* \| PASS \|/);
    expect(md).toMatch(/\| 2 \| stage-4-ovn \| ovn-chassis-connected \| .* \| FAILED \|/);
    expect(md).toMatch(
      /### ovn-chassis-connected \(FAILED, exit 1\)\n\n- saw: ovn-chassis-connected saw something\n {2}- ovn-chassis\/1: not connected\n- fix: Stage 4 TLS sweep/,
    );
  });

  it("says which [REVALIDATE] markers this window can clear, and which stay", () => {
    const md = renderRecord(
      "w1",
      [entry("ovn-tls-sweep", "skipped-by-guard", { end: "2026-12-05T06:02:00.000Z" })],
      [
        { step: "ovn-tls-sweep", note: "sweep unit list against current topology" },
        { step: "octavia-grace", note: "timing budget on current build" },
      ],
    );
    expect(md).toContain(
      '- ovn-tls-sweep -- "sweep unit list against current topology": ran to completion at 2026-12-05T06:02:00.000Z',
    );
    expect(md).toContain(
      '- octavia-grace -- "timing budget on current build": not completed in this window; the marker stays.',
    );
  });

  it("escapes table cells so a message cannot break the table", () => {
    const md = renderRecord("w1", [entry("x", "pass", { summary: "a | b\nc" })]);
    expect(md).toContain("a \\| b c");
  });

  it("says so when nothing ran yet", () => {
    expect(renderRecord("w9", [])).toContain("No step has run in this window yet.");
  });
});
