/**
 * The drill engine's preview, spawned as CI runs `coldstart maintenance --engine drill`: a first
 * window that stops at a failed gate, then the approval of a resume (shown, not approved: no
 * --yes and no terminal, so nothing runs) and of another window over the same state. The
 * preview must say what the drill engine will do: the steps that passed are done, the window
 * resumes from the first step in plan order that is not, another window runs every step again.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import {
  callLog,
  COLDSTART,
  rehearsalEnv,
  maintenanceArgs,
  plantedKeys,
  previewSteps,
  progressLines,
  tempDir,
  writeScenario,
  type Finished,
  type MaintenanceRun,
} from "../support/maintenance-run";

/** The scenario's Vault holds five shares; its operator exports three of them (the drill's keys are the scenario's). */
const planted = plantedKeys();

function run(r: MaintenanceRun, extra: string[] = []): Finished {
  const p = spawnSync(COLDSTART, [...maintenanceArgs(r), ...extra], {
    encoding: "utf8",
    env: rehearsalEnv(),
    timeout: 50_000,
    stdio: "pipe",
  });
  return { status: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** `  3. stage / step  [op, marks]` -> step -> op label */
function opsOf(stdout: string): Map<string, string> {
  return new Map([...stdout.matchAll(/^\s*\d+\. \S+ \/ (\S+)\s+\[([^\],]+)/gm)].map((m) => [m[1], m[2]]));
}

describe("the drill engine's preview of a fresh window, a resumed one and another window over its state", () => {
  const root = tempDir("drill-preview");
  const first: MaintenanceRun = {
    window: "maint-preview-1",
    scenario: writeScenario("chassis-stays-disconnected", planted, root),
    dir: path.join(root, "drill"),
    reportDir: path.join(root, "reports"),
  };
  let ran: Finished;
  let passed: string[];
  beforeAll(() => {
    ran = run(first);
    passed = progressLines(ran.stdout)
      .filter((l) => l.kind === "done")
      .map((l) => l.step);
  }, 60_000);

  it("a fresh drill previews a new window in which every step is a create", () => {
    expect(ran.status).toBe(1); // stopped at the gate the scenario fails
    expect(ran.stdout).toContain("mode: planned (a maintenance drill runs a planned window)");
    expect(ran.stdout).toContain("new window: every step will run");
    const planned = previewSteps(ran.stdout);
    expect(planned).toHaveLength(34);
    expect(ran.stdout).toContain("create 34");
    expect(new Set(opsOf(ran.stdout).values())).toEqual(new Set(["create"]));
  });

  it("a resume of that window: the steps that passed are same, it resumes from the first one in plan order that is not, and nothing runs unapproved", () => {
    expect(passed.length).toBeGreaterThan(0);
    const calls = callLog(first.dir).length;
    const r = run({ ...first, yes: false }, ["--resume"]);
    expect(r.status).toBe(2); // shown, not approved
    const planned = previewSteps(r.stdout);
    const ops = opsOf(r.stdout);
    const same = planned.filter((s) => ops.get(s) === "same: done in this window");
    expect(new Set(same)).toEqual(new Set(passed));
    const from = planned.find((s) => !passed.includes(s))!;
    expect(ops.get("ovn-chassis-connected")).toBe("create");
    expect(r.stdout).toContain(`this window resumes from ${from}: ${passed.length} steps already done`);
    expect(r.stdout).toContain(`create ${34 - passed.length}, same ${passed.length}`);
    expect(progressLines(r.stdout)).toEqual([]);
    expect(callLog(first.dir)).toHaveLength(calls);
  }, 30_000);

  it("another window over the same state: every step that passed is replaced (its triggers changed), the rest created", () => {
    const r = run({ ...first, window: "maint-preview-2", yes: false }, ["--resume"]);
    expect(r.status).toBe(2);
    const ops = opsOf(r.stdout);
    expect(passed.every((s) => ops.get(s) === "replace")).toBe(true);
    expect(r.stdout).toContain("new window: every step will run");
    expect(r.stdout).toMatch(new RegExp(`^create ${34 - passed.length}, replace ${passed.length} \\(`, "m"));
  }, 30_000);
});
