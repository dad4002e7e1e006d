/**
 * The bench names what limits the ratio from what a drill left behind (bench/limits.ts): the
 * chain of steps, each gate's confirmation and poll lag from its poll lines and call instants,
 * and the power stages' rounds. A small made-up drill, so every figure is checked by hand.
 */
import type { StepRun } from "../../drill/engine";
import type { CallRecord } from "../../sim/call-log";
import { chainOf, describeLimits, gateTiming, limitsOf, rounds } from "../../bench/limits";

const step = (name: string, stage: string, simStart: number, simEnd: number): StepRun => ({
  name,
  stage,
  status: "passed",
  simStart,
  simEnd,
});
const call = (stepName: string, atS: number): CallRecord => ({
  tool: "virsh",
  argv: [],
  stdinBytes: 0,
  at: atS * 1000,
  exitCode: 0,
  step: stepName,
});

// two hosts at parallelism 1: the second power-off waits for the first's slot
const STEPS = [
  step("power-off-a", "shutdown", 0, 30),
  step("power-off-b", "shutdown", 30, 60),
  step("powered-off-a", "shutdown", 30, 32),
  step("powered-off-b", "shutdown", 60, 62),
  step("machines-started", "stage-1-foundation", 62, 200),
];
const STDOUT: Record<string, string> = {
  "power-off-a": "[00:00] poll 1: waiting -- on\n[00:30] poll 5: OK -- off\nPASS",
  "power-off-b": "[00:00] poll 1: waiting -- on\n[00:30] poll 5: OK -- off\nPASS",
  "powered-off-a":
    "[00:00] poll 1: OK, 1 of 3 in a row -- off\n[00:01] poll 2: OK, 2 of 3 in a row -- off\n[00:02] poll 3: OK -- off",
  "powered-off-b":
    "[00:00] poll 1: OK, 1 of 3 in a row -- off\n[00:01] poll 2: OK, 2 of 3 in a row -- off\n[00:02] poll 3: OK -- off",
  "machines-started":
    "[00:00] poll 1: waiting -- 4 of 4 not started\n[01:50] poll 12: waiting -- 1 of 4 not started\n" +
    "[02:16] poll 20: OK, 1 of 3 in a row -- all started\n[02:17] poll 21: OK, 2 of 3 in a row -- all started\n[02:18] poll 22: OK -- all started",
};
const CALLS = [
  ...[0, 1, 5, 15, 25, 30].map((t) => call("power-off-a", t)),
  ...[30, 31, 35, 45, 55, 60].map((t) => call("power-off-b", t)),
  ...[30, 31, 32].map((t) => call("powered-off-a", t)),
  ...[60, 61, 62].map((t) => call("powered-off-b", t)),
  ...[62, 100, 172, 190, 198, 199, 200].map((t) => call("machines-started", t)),
];

describe("what limits a drill's ratio, from its report, calls and output", () => {
  it("follows the chain back from the last step through the step that ended when it started", () => {
    expect(chainOf(STEPS).map((s) => s.name)).toEqual([
      "power-off-a",
      "power-off-b",
      "powered-off-b",
      "machines-started",
    ]);
  });

  it("reads a gate's confirmation and the upper bound of its poll lag", () => {
    const t = gateTiming("machines-started", STDOUT["machines-started"], 62, [62, 100, 172, 190, 198, 199, 200]);
    // its first ok poll at 62 + 02:16 = 198 s, the poll before it at 190 s: ready within those 8 s
    expect(t).toEqual({ step: "machines-started", successes: 3, confirmS: 2, lagS: 8 });
  });

  it("takes a wait inside an action as one poll in a row, with no confirmation", () => {
    const t = gateTiming("power-off-a", STDOUT["power-off-a"], 0, [0, 1, 5, 15, 25, 30]);
    expect(t).toEqual({ step: "power-off-a", successes: 1, confirmS: 0, lagS: 5 });
  });

  it("sees a gate whose first poll was already ok as lagging 0 s", () => {
    expect(gateTiming("powered-off-a", STDOUT["powered-off-a"], 30, [30, 31, 32])).toEqual({
      step: "powered-off-a",
      successes: 3,
      confirmS: 2,
      lagS: 0,
    });
  });

  it("counts the power stages' rounds as distinct start instants", () => {
    expect(rounds(STEPS, "power-off-")).toEqual({ steps: 2, rounds: 2 });
  });

  it("sums the chain's figures and names them in the bench's lines", () => {
    const l = limitsOf({
      steps: STEPS,
      cloudS: 200,
      criticalPathS: 165,
      calls: CALLS,
      runStartS: 0,
      stdout: (s) => STDOUT[s] ?? "",
    });
    // the chain: power-off-a (lag 5), power-off-b (lag 5), powered-off-b (confirm 2), machines-started (confirm 2, lag 8)
    expect(l).toMatchObject({ overS: 35, chainS: 200, confirmS: 4, lagS: 18, powerOff: { steps: 2, rounds: 2 } });
    const text = describeLimits(l, 1).join("\n");
    expect(text).toContain("+35 s over the critical path");
    expect(text).toContain("gate confirmation 4 s (2 gates, 3 polls in a row)");
    expect(text).toContain("poll lag <= 18 s (machines-started 8 s, power-off-a 5 s, power-off-b 5 s)");
    expect(text).toContain("parallelism 1: 2 power-offs in 2 round(s)");
  });
});
