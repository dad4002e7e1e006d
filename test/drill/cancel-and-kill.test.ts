/**
 * Issue #10 part 2: the engine's cancel kills a running step's shell (as the command provider
 * does), never the coldstart action under it; a kill -9 mid-step is survivable; the resume then
 * finishes the window without running a passed step twice.
 */
import { drillDir, runDrillProcess, type DrillResult } from "../support/drill-run";

const ARGS = ["--stack", "prior-build", "--scenario", "healthy-planned"];
const HOSTS = ["openstack0", "openstack1", "openstack2", "openstack3"];
const count = (d: DrillResult, verb: string, host: string) =>
  d.callsMatching(new RegExp(`^virsh -c \\S+ ${verb} ${host}$`)).length;

describe("the engine's cancel while power-off-openstack0 is mid-way", () => {
  const dir = drillDir("cancel-at");
  const cancelled = runDrillProcess([...ARGS, "--cancel-at", "power-off-openstack0"], dir);
  const resumed = runDrillProcess([...ARGS, "--resume"], dir);

  it("ends the run cancelled (130) and starts no step after the cancel", () => {
    expect(cancelled.status).toBe(130);
    expect(cancelled.report.cancelled).toBe(true);
    const started = cancelled.report.steps.filter((s) => s.startMs !== undefined).map((s) => s.name);
    expect(started).toContain("power-off-openstack0");
    expect(started.some((s) => s.startsWith("powered-off-") || s.startsWith("power-on-"))).toBe(false);
  });

  it("kills the step's shell only: the power-off under it finished and is in the record as passed", () => {
    const step = cancelled.report.steps.find((s) => s.name === "power-off-openstack0");
    expect(step).toMatchObject({ status: "failed", killedBy: "cancel" });
    expect(step?.message).toMatch(/^signal: killed: running /);
    const entry = cancelled.record.find((e) => e.step === "power-off-openstack0");
    expect(entry?.outcome).toBe("pass");
    expect(count(cancelled, "shutdown", "openstack0")).toBe(1);
  });

  it("the resume keeps what finished and completes the window; each host went down and up once", () => {
    expect(resumed.status).toBe(0);
    const kept = resumed.record.filter((e) => e.outcome === "kept").map((e) => e.step);
    expect(kept).toContain("power-off-openstack0");
    for (const host of HOSTS) {
      expect({ host, shutdown: count(resumed, "shutdown", host) }).toEqual({ host, shutdown: 1 });
      expect({ host, start: count(resumed, "start", host) }).toEqual({ host, start: 1 });
    }
  });
});

describe("kill -9 of power-off-openstack0 mid-way (a lost jumphost)", () => {
  const dir = drillDir("kill-at");
  const killed = runDrillProcess([...ARGS, "--kill-at", "power-off-openstack0"], dir);
  const resumed = runDrillProcess([...ARGS, "--resume"], dir);

  it("stops the run with the step failed and no verdict in the record", () => {
    expect(killed.status).not.toBe(0);
    expect(killed.report.failed?.step).toBe("power-off-openstack0");
    expect(killed.record.some((e) => e.step === "power-off-openstack0")).toBe(false);
  });

  it("the resume says the earlier run was killed, runs the step again safely and finishes the window", () => {
    expect(resumed.status).toBe(0);
    const entry = resumed.record.find((e) => e.step === "power-off-openstack0");
    expect(entry?.details[0]).toMatch(
      /^an earlier run of power-off-openstack0 \(pid (\d+), started [^)]+\) ended without a verdict \(its process \(pid \1\) is gone\)/,
    );
    for (const host of HOSTS) expect({ host, start: count(resumed, "start", host) }).toEqual({ host, start: 1 });
    // never a hard power-off of a host that was already going down gracefully
    expect(count(resumed, "destroy", "openstack0")).toBe(0);
  });
});
