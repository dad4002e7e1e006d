/**
 * When a gate polls next (runtime/poll-schedule.ts): soon at first and soon after the cloud
 * moved, longer while it stays still, never longer than the gate's interval; confirming polls at
 * jubilant's 1 s. Through a gate on the test clock, the poll instants themselves.
 */
import type { Verdict } from "../../gates/verdict";
import { firstWaitMs, nextWaitMs, STILL_FRACTION } from "../../runtime/poll-schedule";
import { runGate } from "../../steps/outcome";
import { fakeExec, testContext } from "../support/fake-exec";

const base = { intervalMs: 10_000, floorMs: 1_000, confirmMs: 1_000, held: 0, stillMs: 0 };

describe("the wait before the next poll", () => {
  it("starts at a tenth of the interval, never under the 1 s floor nor over the interval", () => {
    expect(firstWaitMs(10_000, 1_000)).toBe(1_000);
    expect(firstWaitMs(60_000, 1_000)).toBe(6_000);
    expect(firstWaitMs(5_000, 1_000)).toBe(1_000);
    expect(firstWaitMs(500, 1_000)).toBe(500);
    expect(nextWaitMs(base)).toBe(1_000);
  });

  it("grows with the time the verdict stayed the same (a quarter of it), up to the interval", () => {
    expect(STILL_FRACTION).toBe(4);
    expect(nextWaitMs({ ...base, stillMs: 8_000 })).toBe(2_000);
    expect(nextWaitMs({ ...base, stillMs: 22_000 })).toBe(6_000); // 5.5 s, in whole seconds
    expect(nextWaitMs({ ...base, stillMs: 40_000 })).toBe(10_000);
    expect(nextWaitMs({ ...base, stillMs: 3_600_000 })).toBe(10_000);
  });

  it("confirms a condition that held after the confirm wait, whatever the still time", () => {
    expect(nextWaitMs({ ...base, held: 1, stillMs: 3_600_000 })).toBe(1_000);
    expect(nextWaitMs({ ...base, held: 2, intervalMs: 500 })).toBe(500);
  });

  it("keeps an interval under a second as every wait (the scaled clock, tests)", () => {
    expect(nextWaitMs({ ...base, intervalMs: 300, stillMs: 60_000 })).toBe(300);
  });
});

describe("a gate on the adaptive schedule", () => {
  const summary = (n: number): Verdict => ({ ok: false, state: "waiting", summary: `${n} not started`, details: [] });
  const OK: Verdict = { ok: true, state: "ready", summary: "all started", details: [] };

  it("polls sooner at first, backs off while nothing changes, and comes back soon after a change", async () => {
    const ctx = testContext(fakeExec());
    const t0 = ctx.clock.now();
    const at: number[] = [];
    // the cloud: 4 not started until 55 s, 1 not started from 55 s, all started from 66 s
    const probe = async (): Promise<Verdict> => {
      const t = (ctx.clock.now() - t0) / 1000;
      at.push(t);
      return t >= 66 ? OK : t >= 55 ? summary(1) : summary(4);
    };
    const outcome = await runGate(ctx, { expected: "started", timeoutMs: 600_000, intervalMs: 10_000, probe });

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    // 1 s waits while still young, growing to the 10 s interval; the change seen at 59 s starts the
    // waits short again, so the end (66 s) is seen 1 s late, at 67 s (at a fixed 10 s: 69 s); then
    // 2 confirming polls 1 s apart
    expect(at).toEqual([
      0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 31, 39, 49, 59, 60, 61, 62, 63, 64, 65, 67, 68, 69,
    ]);
  });

  it("polls no more often than a fixed interval would, once the cloud has been still long enough", async () => {
    const ctx = testContext(fakeExec());
    const t0 = ctx.clock.now();
    const at: number[] = [];
    const probe = async (): Promise<Verdict> => {
      at.push((ctx.clock.now() - t0) / 1000);
      return summary(4);
    };
    const outcome = await runGate(ctx, { expected: "started", timeoutMs: 300_000, intervalMs: 10_000, probe });

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(Math.max(...gaps)).toBe(10);
    expect(gaps.filter((g) => g === 10).length).toBeGreaterThanOrEqual(25); // 40 s .. 300 s at the interval
    expect(at.length).toBeLessThanOrEqual(300 / 10 + 15); // the interval's polls + the short ones at first
  });
});
