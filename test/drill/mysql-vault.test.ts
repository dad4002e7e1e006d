/**
 * Drills of Stages 2-3 against the simulated cloud: the destructive MySQL action runs only on
 * a confirmed complete outage, exactly once; blockers stop before anything after them runs.
 */
import { drillDir, ranAfter, runDrillProcess } from "../support/drill-run";

const REBOOT = /juju run .*reboot-cluster-from-complete-outage/;
const drill = (scenario: string) =>
  runDrillProcess(["--stack", "prior-build", "--scenario", scenario], drillDir(scenario));

describe("MySQL drills", () => {
  it("runs reboot-cluster-from-complete-outage exactly once on a complete outage, then passes", () => {
    const d = drill("mysql-complete-outage");
    expect(d.status).toBe(0);
    expect(d.callsMatching(REBOOT)).toHaveLength(1);
    expect(d.callsMatching(REBOOT)[0].argv).toEqual(expect.arrayContaining(["-m", "maas-controller:openstack"]));
    expect(d.stepStatus("mysql-cluster-online")).toBe("passed");
    expect(d.stepStatus("cloud-assert")).toBe("passed");
  });

  it("re-runs the action once on the unit the refusal names when the leader is not the GTID superset", () => {
    const d = drill("mysql-complete-outage-wrong-leader");
    expect(d.status).toBe(0);
    const calls = d.callsMatching(REBOOT);
    expect(calls).toHaveLength(2);
    expect(calls[0].argv[3]).not.toBe(calls[1].argv[3]);
  });

  it.each(["mysql-partial-outage", "mysql-unknown-message"])(
    "%s: stops at the check with a BLOCKER and never reboots the cluster",
    (scenario) => {
      const d = drill(scenario);
      expect(d.status).toBe(3);
      expect(d.report.failed?.step).toBe("mysql-check");
      expect(d.callsMatching(REBOOT)).toHaveLength(0);
      expect(d.callsMatching(/vault status|^juju ssh|ovn-appctl|^openstack /)).toHaveLength(0);
      expect(ranAfter(d.report, "mysql-check")).toEqual([]);
      expect(d.stderr + d.report.failed?.message).toMatch(/escalate, never improvise/);
    },
  );

  it("healthy clusters never see the action either", () => {
    const d = drill("healthy-unplanned");
    expect(d.status).toBe(0);
    expect(d.callsMatching(REBOOT)).toHaveLength(0);
    expect(d.record.find((e) => e.step === "mysql-reboot-cluster")?.outcome).toBe("skipped-by-guard");
  });
});

describe("Vault drills", () => {
  it("a sealed vault without keys is a BLOCKER that leaves Vault untouched and stops the run", () => {
    const d = drill("vault-sealed-no-keys");
    expect(d.status).toBe(3);
    expect(d.report.failed?.step).toBe("vault-unseal");
    expect(d.callsMatching(/^juju ssh/)).toHaveLength(0);
    expect(d.callsMatching(/ovn-appctl|^openstack (server|loadbalancer)/)).toHaveLength(0);
    expect(ranAfter(d.report, "vault-unseal")).toEqual([]);
    expect(d.report.failed?.message).toMatch(/escalate, never improvise \(re-init wipes the TLS plane\)/);
  });

  it("unseals with the threshold the status reports (2 of 3): exactly two keys sent", () => {
    const d = drill("vault-threshold-2-of-3");
    expect(d.status).toBe(0);
    const unseals = d.callsMatching(/^juju ssh .*\/v1\/sys\/unseal/);
    expect(unseals).toHaveLength(2);
    for (const c of unseals) expect(c.stdinBytes).toBeGreaterThan(0);
  });
});
