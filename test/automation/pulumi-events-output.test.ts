/**
 * Issue #12 "Operator-facing truths": a step's RAN:/SKIPPED:/WARNING:/BLOCKER: line reaches the
 * console as it happens. Under `pulumi up` it arrives as the command provider's per-line
 * InfoStatus diagnostic for the step's URN (pulumi-command v1.2.1 util.LogOutput; the engine's
 * status sink makes it ephemeral and appends a newline): shapes as automation's DiagnosticEvent.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { eventMapper } from "../../automation/pulumi-events";
import { notableOutput, outputLine } from "../../automation/engine";

const PREFIX = "urn:pulumi:roosevelt::coldstart::";
const stepUrn = (step: string) => `${PREFIX}coldstart:runbook:Stage$command:local:Command::${step}`;
const T0 = 1_796_450_400;

let seq = 0;
const diag = (at: number, message: string, over: Partial<NonNullable<EngineEvent["diagnosticEvent"]>> = {}) =>
  ({
    sequence: ++seq,
    timestamp: T0 + at,
    diagnosticEvent: {
      urn: stepUrn("mysql-reboot-cluster"),
      message,
      color: "never",
      severity: "info",
      ephemeral: true,
      ...over,
    },
  }) as EngineEvent;

describe("output events from the engine's diagnostics", () => {
  it("a RAN: line of a step becomes an output event with the step, the line and the time", () => {
    const m = eventMapper(T0 * 1000);
    const e = m.map(
      diag(7.5, "RAN: reboot-cluster-from-complete-outage on mysql-innodb-cluster/1 (complete outage)\n"),
    );
    expect(e).toEqual({
      kind: "output",
      step: "mysql-reboot-cluster",
      line: "RAN: reboot-cluster-from-complete-outage on mysql-innodb-cluster/1 (complete outage)",
      atMs: 7500,
    });
    expect(outputLine(e!)).toBe(
      "mysql-reboot-cluster: RAN: reboot-cluster-from-complete-outage on mysql-innodb-cluster/1 (complete outage)",
    );
  });

  it("SKIPPED:, WARNING: and the older `warning: ...` are shown, in any case; colour tags are stripped", () => {
    const m = eventMapper(T0 * 1000);
    const lines = [
      "SKIPPED: reboot-cluster-from-complete-outage (guard: already attempted in window w)",
      "<{%fg 3%}>WARNING: resume flag regressed<{%reset%}>",
      "warning: nova-compute resume flag is False",
      "BLOCKER: escalate",
    ].map((l) => m.map(diag(1, `${l}\n`))?.line);
    expect(lines).toEqual([
      "SKIPPED: reboot-cluster-from-complete-outage (guard: already attempted in window w)",
      "WARNING: resume flag regressed",
      "warning: nova-compute resume flag is False",
      "BLOCKER: escalate",
    ]);
  });

  it("ordinary output, other resources' diagnostics and error diagnostics are not output events", () => {
    const m = eventMapper(T0 * 1000);
    expect(m.map(diag(1, "PASS mysql-reboot-cluster\n"))).toBeUndefined();
    expect(m.map(diag(1, "an earlier run ... RAN: inside a sentence\n"))).toBeUndefined();
    expect(m.map(diag(1, "RAN: x\n", { urn: `${PREFIX}pulumi:pulumi:Stack::coldstart-roosevelt` }))).toBeUndefined();
    expect(m.map(diag(1, "BLOCKER: x\n", { severity: "error" }))).toBeUndefined();
    // the error diagnostic still counts as the step's failure text
    expect(m.errorOf("mysql-reboot-cluster")).toBe("BLOCKER: x\n");
  });

  it("notableOutput matches only at the start of a line", () => {
    expect(notableOutput("  ran: x")).toBe(true);
    expect(notableOutput("RANDOM: x")).toBe(false);
    expect(notableOutput("the action RAN: x")).toBe(false);
  });
});
