/** A gate's poll line: what runGate prints is what the bench reads back (steps/poll-line.ts). */
import { formatPollLine, pollKey, readPollLine, type PollLine } from "../../steps/poll-line";

const line = (over: Partial<PollLine>): PollLine => ({
  elapsedMs: 75_400,
  attempt: 7,
  head: { ok: false, flappedAfter: 0 },
  summary: "3 of 4 machines started -- 2 (openstack2): down",
  ...over,
});

describe("poll lines", () => {
  it.each<[string, PollLine, ReturnType<typeof readPollLine>]>([
    [
      "[01:15] poll 7: waiting -- 3 of 4 machines started -- 2 (openstack2): down",
      line({}),
      { elapsedS: 75, attempt: 7, ok: false },
    ],
    [
      "[01:15] poll 7: waiting (it held for 2 poll(s) in a row, then flapped: the count starts again) -- 3 of 4 machines started -- 2 (openstack2): down",
      line({ head: { ok: false, flappedAfter: 2 } }),
      { elapsedS: 75, attempt: 7, ok: false },
    ],
    [
      "[01:15] poll 7: OK, 1 of 3 in a row -- all 4 started",
      line({ head: { ok: true, held: 1, successes: 3 }, summary: "all 4 started" }),
      { elapsedS: 75, attempt: 7, ok: true, held: 1, successes: 3 },
    ],
    [
      "[01:15] poll 7: OK -- all 4 started",
      line({ head: { ok: true, held: 3, successes: 3 }, summary: "all 4 started" }),
      { elapsedS: 75, attempt: 7, ok: true },
    ],
    [
      "[75:00] poll 90: waiting -- still down (unchanged since poll 60)",
      line({ elapsedMs: 4_500_000, attempt: 90, summary: "still down", unchangedSince: 60 }),
      { elapsedS: 4_500, attempt: 90, ok: false },
    ],
  ])("%s", (text, written, read) => {
    expect(formatPollLine(written)).toBe(text);
    expect(readPollLine(text)).toEqual(read);
  });

  it("any other line is not a poll line", () => {
    for (const other of [
      "PASS machines-started: all 4 started",
      "only 2 poll(s) fit in 20s at 10s: the condition must hold for 2 in a row (not 3)",
      "[01:15] poll seven: waiting -- x",
      " [01:15] poll 7: OK -- x",
    ])
      expect(readPollLine(other)).toBeUndefined();
  });

  it("the key tells a changed poll from the same one (head, state and summary)", () => {
    const waiting = { ok: false, flappedAfter: 0 } as const;
    expect(pollKey(waiting, "down", "x")).toBe(pollKey(waiting, "down", "x"));
    expect(pollKey(waiting, "down", "x")).not.toBe(pollKey(waiting, "down", "y"));
    expect(pollKey(waiting, "down", "x")).not.toBe(pollKey(waiting, "error", "x"));
    expect(pollKey({ ok: true, held: 1, successes: 3 }, "ok", "x")).not.toBe(
      pollKey({ ok: true, held: 2, successes: 3 }, "ok", "x"),
    );
  });
});
