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
