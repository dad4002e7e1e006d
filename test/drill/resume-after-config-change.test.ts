/**
 * Issue #10 part 1: within one window a step that passed never runs again, whatever changed in
 * config. The drill's state model does what pulumi-command v1.2.1 does (inputs changed -> the
 * update command runs; without one, create would run again), so a program without a no-op
 * update would power the cloud off a second time here.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { drillDir, runDrillProcess, type DrillResult } from "../support/drill-run";

const ARGS = ["--stack", "prior-build", "--scenario", "cloud-assert-fail", "--mode", "planned"];
const HOSTS = ["openstack0", "openstack1", "openstack2", "openstack3"];

function powerCalls(d: DrillResult, verb: "shutdown" | "start" | "destroy", host: string): number {
  return d.callsMatching(new RegExp(`^virsh -c \\S+ ${verb} ${host}$`)).length;
}

describe("resume after a config change in the same window", () => {
  const dir = drillDir("resume-set");
  const first = runDrillProcess(ARGS, dir);
  const second = runDrillProcess([...ARGS, "--resume", "--set", "gates.commandTimeout=3m"], dir);

  it("stops at Stage 7 both times", () => {
    expect(first.status).toBe(1);
    expect(first.report.failed?.step).toBe("cloud-assert");
    expect(second.status).toBe(1);
    expect(second.report.failed?.step).toBe("cloud-assert");
  });

  it("the config change reaches every passed step as an update, and each update only keeps it", () => {
    const passed = second.report.steps.filter((s) => s.name !== "cloud-assert");
    expect(passed.length).toBe(33);
    for (const s of passed)
      expect({ step: s.name, op: s.op, status: s.status }).toEqual({ step: s.name, op: "update", status: "passed" });
    // the failed step was never in state: it runs its create again
    expect(second.report.steps.find((s) => s.name === "cloud-assert")?.op).toBe("create");
    const kept = second.record.filter((e) => e.outcome === "kept");
    expect(kept.map((e) => e.step).sort()).toEqual(passed.map((s) => s.name).sort());
    // it was the update command (`coldstart kept <step>`) that ran, not the create line again
    for (const e of kept) expect(e.command).toBe(`kept ${e.step}`);
  });

  it("across both runs each host got exactly one graceful power-off and one power-on", () => {
    // the call log lives in the drill dir and spans both runs
    for (const host of HOSTS) {
      expect({ host, shutdown: powerCalls(second, "shutdown", host) }).toEqual({ host, shutdown: 1 });
      expect({ host, start: powerCalls(second, "start", host) }).toEqual({ host, start: 1 });
      expect({ host, destroy: powerCalls(second, "destroy", host) }).toEqual({ host, destroy: 0 });
    }
  });

  it("the destructive MySQL action did not run in the second run", () => {
    const firstRuns = first.callsMatching(/reboot-cluster-from-complete-outage/).length;
    expect(second.callsMatching(/reboot-cluster-from-complete-outage/).length).toBe(firstRuns);
  });
});

describe("--set input errors", () => {
  const dir = drillDir("set-errors");
  it.each([
    ["gates.powerStat.timeout=20m", /gates/],
    ["holdGuest=web-1", /--set holdGuest=web-1: unknown key "holdGuest"/],
    ["gates.powerState.timeout", /expected <key>=<value>/],
  ])("--set %s is a one-line usage error (exit 2)", (set, message) => {
    const r = spawnSync(
      path.resolve(__dirname, "../../bin/coldstart"),
      ["drill", "--dir", dir, ...ARGS, "--set", set],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
