/**
 * Drills in cloud time are deterministic (issue #14): the same scenario, stack, mode and flags
 * give the same timeline -- every step's simulated start and end, its verdict, its number of
 * polls -- on an idle machine and beside a CPU hog. The cloud's clock (drill/sim-clock.ts) moves
 * only while every step and tool waits, so how fast the machine computes cannot change it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { drillDir, runDrillProcess, type DrillResult } from "../support/drill-run";
import { criticalPath } from "../../sim/critical-path";
import { loadScenario } from "../../sim/scenario";

const ARGS = ["--stack", "prior-build", "--scenario", "healthy-planned"];

/** name, simStart, simEnd, status, polls of every step, in the report's order. */
function timeline(d: DrillResult): string[] {
  const polls = new Map(d.record.map((e) => [e.step, (e as { polls?: number }).polls]));
  return d.report.steps.map((s) => `${s.name} ${s.simStart} ${s.simEnd} ${s.status} polls=${polls.get(s.name) ?? "-"}`);
}

it("gives the same timeline on an idle machine and beside two busy CPU loops", () => {
  const idle = runDrillProcess(ARGS, drillDir("determinism-idle"));
  expect(idle.status).toBe(0);
  const hogs: ChildProcess[] = [0, 1].map(() =>
    spawn(process.execPath, ["-e", "for(;;);"], { stdio: "ignore", detached: false }),
  );
  let loaded: DrillResult;
  try {
    loaded = runDrillProcess(ARGS, drillDir("determinism-hog"));
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
  }
  expect(loaded.status).toBe(0);
  const a = timeline(idle);
  const b = timeline(loaded);
  // a real timeline: every step ran, on cloud time, and the gates polled
  expect(a).toHaveLength(34);
  expect(a.every((line) => / \d+(\.\d+)? \d+(\.\d+)? passed /.test(line))).toBe(true);
  // beside the cloud's own critical path (sim/critical-path.ts), which the restart can never beat
  const path = criticalPath(loadScenario("healthy-planned").scenario, "planned").seconds;
  expect(idle.report.recovery?.criticalPathS).toBe(path);
  expect(idle.report.recovery?.cloudS).toBeGreaterThan(path);
  expect(b).toEqual(a);
  expect(loaded.report.recovery).toEqual(idle.report.recovery);
}, 300_000);
