/** Drills of Stages 1 and 4-7 and the power stages: only what the runbook allows is touched. */
import { drillDir, ranAfter, runDrillProcess } from "../support/drill-run";
import { simState } from "../../sim/setup";
import * as path from "node:path";

const drill = (scenario: string) =>
  runDrillProcess(["--stack", "prior-build", "--scenario", scenario], drillDir(scenario));

describe("power and Stage 1", () => {
  it("a machine agent that never starts fails Stage 1 and nothing of Stage 2 runs", () => {
    const d = drill("machine-agent-never-starts");
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("machines-started");
    expect(d.report.failed?.message).toMatch(/\b2 \(openstack2\): down/);
    expect(d.callsMatching(/juju status .*mysql-innodb-cluster/)).toHaveLength(0);
  });

  it("a hung juju call is a named timeout, not a hang", () => {
    const d = drill("juju-hangs");
    expect(d.status).toBe(1);
    expect(d.report.failed?.message).toMatch(
      /juju status -m maas-controller:openstack mysql-innodb-cluster --format=json: no answer within 120s/,
    );
    // the stack's own commandTimeout (2 m), waited in cloud time: exactly 120 s, in a moment of real time
    const check = d.report.steps.find((s) => s.name === "mysql-check");
    expect((check?.simEnd ?? 0) - (check?.simStart ?? 0)).toBe(120);
    expect(d.report.wallMs).toBeLessThan(30_000);
  });
});

describe("Stage 4 -- OVN chassis", () => {
  it("sweeps only the chassis that are not connected, then passes", () => {
    const d = drill("chassis-not-connected");
    expect(d.status).toBe(0);
    const restarts = d.callsMatching(/systemctl restart ovs-vswitchd ovn-controller/);
    const swept = restarts.map((c) => c.argv[c.argv.indexOf("--unit") + 1]).sort();
    const state = simState(path.join(d.dir, "cloud"));
    const restartedInSim = state.ovn.chassis
      .filter((c) => c.restarts > 0)
      .map((c) => c.name)
      .sort();
    expect(swept.length).toBeGreaterThan(0);
    expect(swept).toEqual(restartedInSim);
    expect(swept.length).toBeLessThan(state.ovn.chassis.length);
  });

  it("a chassis that stays disconnected fails the gate with the quick-reference fix, and Stage 5 never runs", () => {
    const d = drill("chassis-stays-disconnected");
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("ovn-chassis-connected");
    expect(d.report.failed?.message).toMatch(/Stage 4 TLS sweep/);
    expect(d.callsMatching(/^openstack server|^juju config/)).toHaveLength(0);
    expect(ranAfter(d.report, "ovn-chassis-connected")).toEqual([]);
  });
});

describe("Stage 5 -- guests", () => {
  it("starts the unexpectedly SHUTOFF guests and never the held one", () => {
    const d = drill("guests-shutoff");
    expect(d.report.failed).toBeUndefined();
    expect(d.status).toBe(0);
    const started = d.callsMatching(/^openstack server start/).map((c) => c.argv[2]);
    const state = simState(path.join(d.dir, "cloud"));
    const held = state.guests.filter((g) => g.held);
    expect(held.length).toBeGreaterThan(0);
    for (const g of held) {
      expect(started).not.toContain(g.id);
      expect(started).not.toContain(g.name);
    }
    const mustStart = state.guests.filter((g) => !g.held && g.resumes === false).map((g) => g.id);
    for (const id of mustStart) expect(started).toContain(id);
  });

  it("a regressed resume flag is recorded as a warning and the run goes on", () => {
    const d = drill("resume-flag-regressed");
    expect(d.status).toBe(0);
    expect(d.record.find((e) => e.step === "nova-resume-flag")?.state).toBe("regressed");
  });
});

describe("Stage 6 -- Octavia", () => {
  it("fails over only the LBs in ERROR and polls them to ACTIVE", () => {
    const d = drill("lb-error");
    expect(d.status).toBe(0);
    const state = simState(path.join(d.dir, "cloud"));
    const failedOver = d.callsMatching(/^openstack loadbalancer failover/).map((c) => c.argv[2]);
    const errorAfterBoot = state.lbs.filter((l) => l.failovers > 0).map((l) => l.id);
    expect(failedOver.length).toBeGreaterThan(0);
    expect(failedOver.sort()).toEqual(errorAfterBoot.sort());
    expect(failedOver.length).toBeLessThan(state.lbs.length);
  });

  it("an LB that failover does not fix fails the gate with the LB route", () => {
    const d = drill("lb-stuck");
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("lbs-active");
    expect(d.report.failed?.message).toMatch(/loadbalancer failover/);
    expect(d.stepStatus("cloud-assert")).not.toBe("passed");
  });
});

describe("Stage 7 -- cloud-assert", () => {
  it("a FAIL line fails the last gate and shows the FAIL message", () => {
    const d = drill("cloud-assert-fail");
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("cloud-assert");
    expect(d.report.failed?.message).toMatch(/FAIL/);
    expect(d.report.failed?.message).toMatch(/appendix-A/);
  });
});
