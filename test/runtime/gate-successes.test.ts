/**
 * A gate passes only after its condition held for N polls in a row (steps/outcome.ts runGate,
 * runtime/poll.ts), N = 3 by default as in jubilant's `wait(successes=3)`; a wait inside an action
 * (`cancellable: false`) takes the first ok. The gate's deadline and cancel still apply.
 */
import type { Verdict } from "../../gates/verdict";
import { CONFIRM_INTERVAL_MS, GATE_SUCCESSES, runGate, type GateSpec } from "../../steps/outcome";
import { ToolError } from "../../runtime/tool-error";
import { fakeExec, testContext, type TestContext } from "../support/fake-exec";

const OK: Verdict = { ok: true, state: "ready", summary: "ready", details: [] };
const WAIT: Verdict = { ok: false, state: "waiting", summary: "not yet", details: [] };

/** A probe that answers the scripted verdicts in order (the last one repeats), counting its calls. */
function scripted(seq: (Verdict | "cut")[]): { probe: GateSpec["probe"]; calls: () => number; at: number[] } {
  let n = 0;
  const at: number[] = [];
  return {
    at,
    calls: () => n,
    probe: async () => {
      const v = seq[Math.min(n, seq.length - 1)];
      n++;
      if (v === "cut") throw new ToolError("juju status: cut at the gate's deadline", "tool-unavailable", false, true);
      return v;
    },
  };
}

function gate(ctx: TestContext, probe: GateSpec["probe"], extra: Partial<GateSpec> = {}) {
  return runGate(ctx, { expected: "ready", timeoutMs: 300_000, intervalMs: 15_000, probe, ...extra });
}

describe("a gate passes only after its condition held for 3 polls in a row", () => {
  it("defaults to 3 (jubilant's successes=3)", () => {
    expect(GATE_SUCCESSES).toBe(3);
  });

  it("keeps polling after the first ok and passes on the third ok in a row", async () => {
    const ctx = testContext(fakeExec());
    const p = scripted([WAIT, OK, OK, OK]);
    const started = ctx.clock.now();
    const outcome = await gate(ctx, p.probe);

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 4 });
    expect(p.calls()).toBe(4);
    // the first wait (a tenth of the 15 s interval, in whole seconds: runtime/poll-schedule.ts) to
    // the first ok, then the confirming polls CONFIRM_INTERVAL_MS (1 s) apart
    expect(ctx.clock.now() - started).toBe(2_000 + 2 * CONFIRM_INTERVAL_MS);
    expect(ctx.out.lines.map((l) => l.replace(/^\[\d\d:\d\d\] /, ""))).toEqual([
      "poll 1: waiting -- not yet",
      "poll 2: OK, 1 of 3 in a row -- ready",
      "poll 3: OK, 2 of 3 in a row -- ready",
      "poll 4: OK -- ready",
    ]);
    expect(ctx.out.data[3]).toMatchObject({ poll: 4, held: 3, successes: 3, ok: true });
  });

  it("starts the count again when the status flaps back, and says so", async () => {
    const ctx = testContext(fakeExec());
    const p = scripted([OK, OK, WAIT, OK, OK, OK]);
    const outcome = await gate(ctx, p.probe);

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 6 });
    expect(ctx.out.lines[2]).toContain("poll 3: waiting (it held for 2 poll(s) in a row, then flapped");
  });

  it("fails at the timeout when the condition held, but not 3 polls in a row, by then", async () => {
    const ctx = testContext(fakeExec());
    // polls at 0, 2, 4 and 6 s (ok from here on), then a confirming one at 7 s = the timeout
    const p = scripted([WAIT, WAIT, WAIT, OK]);
    const outcome = await gate(ctx, p.probe, { timeoutMs: 6_000 + CONFIRM_INTERVAL_MS });

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: 5 });
    expect(outcome.verdict).toMatchObject({ ok: false, state: "not-held" });
    expect(outcome.verdict.summary).toBe(
      "still not there after 7s (5 polls): held for only 2 of 3 polls in a row: ready",
    );
  });

  it("never counts a probe cut at the deadline as one more ok poll", async () => {
    const ctx = testContext(fakeExec());
    // polls at 0 and 1 s (confirming) are ok; the one at 2 s is cut at the gate's deadline
    const p = scripted([OK, OK, "cut"]);
    const outcome = await gate(ctx, p.probe, { timeoutMs: 2 * CONFIRM_INTERVAL_MS });

    expect(p.calls()).toBe(3);
    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: 3 });
    expect(outcome.verdict.summary).toContain("held for only 2 of 3 polls in a row");
  });

  it("takes the first ok inside an action (cancellable: false), e.g. power-off's wait for the host to go down", async () => {
    const ctx = testContext(fakeExec());
    const p = scripted([WAIT, OK]);
    const outcome = await gate(ctx, p.probe, { cancellable: false });
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 2 });
    expect(ctx.out.lines[1]).toMatch(/poll 2: OK -- ready$/);
  });

  it("takes an explicit number of successes", async () => {
    const ctx = testContext(fakeExec());
    const outcome = await gate(ctx, scripted([OK]).probe, { successes: 5 });
    expect(outcome).toMatchObject({ exitCode: 0, polls: 5 });
  });

  it("asks for no more polls in a row than fit in the timeout, and says so", async () => {
    const ctx = testContext(fakeExec());
    // 1 s at 1 s (no longer than the 1 s confirming pace): polls at 0 and 1 s only
    const outcome = await gate(ctx, scripted([OK]).probe, { timeoutMs: 1_000, intervalMs: 1_000 });
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 2 });
    expect(ctx.out.lines[0]).toBe("only 2 poll(s) fit in 1s at 1s: the condition must hold for 2 in a row (not 3)");
  });

  it("still stops between polls on a cancel, in the middle of a streak", async () => {
    const ctx = testContext(fakeExec());
    const p = scripted([OK]);
    ctx.cancelled = () => (p.calls() >= 2 ? "stop requested" : undefined);
    const outcome = await gate(ctx, p.probe);
    expect(outcome).toMatchObject({ exitCode: 130, outcome: "cancelled", polls: 2 });
    expect(p.calls()).toBe(2);
  });

  it("still narrows the deadline to the gate's while it polls, and restores it after", async () => {
    const ctx = testContext(fakeExec());
    const outer = ctx.clock.now() + 3_600_000;
    ctx.deadline = outer;
    const seen: (number | undefined)[] = [];
    const start = ctx.clock.now();
    await gate(ctx, async () => {
      seen.push(ctx.deadline);
      return OK;
    });
    expect(seen).toEqual([start + 300_000, start + 300_000, start + 300_000]);
    expect(ctx.deadline).toBe(outer);
  });

  it("stops at once on an escalation, whatever the streak", async () => {
    const ctx = testContext(fakeExec());
    const bad: Verdict = { ok: false, state: "partial-outage", summary: "escalate", details: [] };
    const p = scripted([OK, bad]);
    const outcome = await gate(ctx, p.probe, { escalate: (v) => v.state === "partial-outage" });
    expect(outcome).toMatchObject({ exitCode: 3, outcome: "blocker", polls: 2 });
  });
});
