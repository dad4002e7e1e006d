/**
 * Drills of the charm behaviours of issue #11 against the simulated cloud: Vault's TLS listener,
 * a MySQL member RECOVERING after the reboot action (5 units), a unit whose status Juju cannot
 * read, and the octavia-ovn-chassis application.
 */
import * as path from "node:path";
import { simState } from "../../sim/setup";
import { drillDir, runDrillProcess } from "../support/drill-run";

const drill = (scenario: string, ...extra: string[]) =>
  runDrillProcess(["--stack", "prior-build", "--scenario", scenario, ...extra], drillDir(scenario));

describe("Vault with TLS on its public listener [::]:8200", () => {
  it("reads the status and unseals on the charm's loopback listener 127.0.0.1:8220, then passes", () => {
    const d = drill("vault-tls");
    expect(d.status).toBe(0);
    const status = d.callsMatching(/vault status/);
    expect(status.length).toBeGreaterThan(0);
    for (const c of status) expect(c.argv.join(" ")).toContain("VAULT_ADDR=http://127.0.0.1:8220 vault status");
    const unseals = d.callsMatching(/^juju ssh .*\/v1\/sys\/unseal/);
    expect(unseals).toHaveLength(3);
    for (const c of unseals) expect(c.argv[c.argv.length - 1]).toBe("http://127.0.0.1:8220/v1/sys/unseal");
    expect(d.callsMatching(/127\.0\.0\.1:8200/)).toHaveLength(0);
    const state = simState(path.join(d.dir, "cloud"));
    expect(state.vault.tls).toBe(true);
    expect(state.vault.units.every((v) => !v.sealed)).toBe(true);
  });
});

const REBOOT = /juju run .*reboot-cluster-from-complete-outage/;

describe("MySQL, 5 units: a member RECOVERING after the reboot action is converging, not a partial outage", () => {
  it("runs the action once, waits through /4 in Mode n/a, and passes (mysqlUnits=5)", () => {
    const d = drill("mysql-recovering-5-units", "--set", "mysqlUnits=5");
    expect(d.status).toBe(0);
    expect(d.callsMatching(REBOOT)).toHaveLength(1);
    expect(d.callsMatching(REBOOT)[0].argv).toContain("mysql-innodb-cluster/1");
    expect(d.record.find((e) => e.step === "mysql-check")?.state).toBe("complete-outage");
    const gate = d.record.find((e) => e.step === "mysql-cluster-online");
    expect(gate).toMatchObject({ outcome: "pass", state: "healthy" });
    expect(gate?.summary).toBe("MySQL cluster ONLINE: all 5 units ready, exactly one R/W");
    const state = simState(path.join(d.dir, "cloud"));
    expect(state.mysql.units).toHaveLength(5);
    expect(state.mysql.recovering).toEqual({ unit: "mysql-innodb-cluster/4", seconds: 180 });
    expect(state.damage).toEqual([]);
  });

  it("against the stack's 3 expected units the 5 are 'more units than expected': a BLOCKER before any action", () => {
    const d = drill("mysql-recovering-5-units");
    expect(d.status).toBe(3);
    expect(d.report.failed?.step).toBe("mysql-check");
    expect(d.report.failed?.message).toContain("more units than expected (5 of 3 expected units)");
    expect(d.callsMatching(REBOOT)).toHaveLength(0);
  });
});

describe("a unit whose status Juju cannot read (status-error)", () => {
  it("does not hide the other units: Vault unsealed and every chassis probed by name, MySQL never acted on, and it passes", () => {
    const d = drill("juju-status-error");
    expect(d.status).toBe(0);
    // vault/0 is status-error in every juju status: still found, still unsealed
    expect(d.callsMatching(/^juju ssh .*vault\/0 .*\/v1\/sys\/unseal/)).toHaveLength(3);
    expect(d.callsMatching(/--unit ovn-chassis\/1 .*connection-status/).length).toBeGreaterThan(0);
    expect(d.callsMatching(REBOOT)).toHaveLength(0);
    expect(d.record.find((e) => e.step === "mysql-reboot-cluster")?.outcome).toBe("skipped-by-guard");
    // how far the window of /2 reached depends on the drill's real time: if the check saw it, it waited (converging)
    const check = d.record.find((e) => e.step === "mysql-check");
    if (check?.state === "converging")
      expect(check.summary).toContain("juju cannot read the status of mysql-innodb-cluster/2 (status not found)");
    else expect(check?.state).toBe("healthy");
    expect(d.record.find((e) => e.step === "mysql-cluster-online")).toMatchObject({
      outcome: "pass",
      state: "healthy",
    });
    const state = simState(path.join(d.dir, "cloud"));
    expect(state.vault.units.every((v) => !v.sealed)).toBe(true);
  });
});

describe("Octavia with OVN: octavia-ovn-chassis", () => {
  it("finds the octavia chassis by charm, sweeps only octavia-ovn-chassis/1, and passes", () => {
    const d = drill("octavia-chassis-not-connected");
    expect(d.status).toBe(0);
    const check = d.record.find((e) => e.step === "ovn-chassis-check");
    expect(check?.state).toBe("not-connected");
    expect(check?.summary).toContain("1 of 7 chassis not connected to the OVN SB DB: octavia-ovn-chassis/1");
    const probed = new Set(d.callsMatching(/connection-status/).map((c) => c.argv[c.argv.indexOf("--unit") + 1]));
    expect([...probed].sort()).toEqual([
      "octavia-ovn-chassis/0",
      "octavia-ovn-chassis/1",
      "octavia-ovn-chassis/2",
      "ovn-chassis/0",
      "ovn-chassis/1",
      "ovn-chassis/2",
      "ovn-chassis/3",
    ]);
    const restarts = d.callsMatching(/systemctl restart ovs-vswitchd ovn-controller/);
    expect(restarts.map((c) => c.argv[c.argv.indexOf("--unit") + 1])).toEqual(["octavia-ovn-chassis/1"]);
    const state = simState(path.join(d.dir, "cloud"));
    expect(state.ovn.chassis.filter((c) => c.restarts > 0).map((c) => c.name)).toEqual(["octavia-ovn-chassis/1"]);
    expect(state.ovn.chassis.every((c) => c.connected)).toBe(true);
  });
});
