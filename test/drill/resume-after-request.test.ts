/**
 * Issue #23 (L) item 1, the rest of the state-changing steps: a kill -9 right after a request
 * reached the cloud (--at-call lands when the call has returned, before the step reads the answer),
 * then --resume in the same window: the window finishes (exit 0) and the request was sent once.
 * The resume tells its own earlier request from the cloud's state and its note in the record dir
 * (Vault's unseal progress; systemd's InvocationID; the power state and the soft-off's note).
 */
import { drillDir, runDrillProcess, type DrillResult } from "../support/drill-run";

const SCENARIO = "campaign-planned"; // every recoverable failure at once (sim/scenarios/campaign-planned.json)

function killThenResume(name: string, step: string, call: string) {
  const args = ["--stack", "prior-build", "--scenario", SCENARIO];
  const dir = drillDir(name);
  const killed = runDrillProcess([...args, "--kill-at", step, "--at-call", call], dir);
  const resumed = runDrillProcess([...args, "--resume"], dir);
  return { killed, resumed };
}

const count = (d: DrillResult, re: RegExp) => d.callsMatching(re).length;
const details = (d: DrillResult, step: string) => d.record.find((e) => e.step === step)?.details ?? [];

describe("vault-unseal killed right after its 2nd key (`juju ssh … /v1/sys/unseal#2`), then --resume", () => {
  const { killed, resumed } = killThenResume(
    "unseal",
    "vault-unseal",
    "juju ssh -m maas-controller:openstack vault/0#2",
  );
  const UNSEAL = /^juju ssh .*\/v1\/sys\/unseal$/;

  it("the kill lands after two keys reached Vault", () => {
    expect(killed.report.failed?.step).toBe("vault-unseal");
    expect(count(killed, UNSEAL)).toBe(2);
  });

  it("the resume sends only the third key (no reset, no key again) and the window finishes", () => {
    expect(resumed.status).toBe(0);
    expect(count(resumed, UNSEAL)).toBe(3); // the call log spans both runs
    expect(details(resumed, "vault-unseal")).toEqual(
      expect.arrayContaining([expect.stringContaining("unseal already in progress from this window's earlier run")]),
    );
  });
});

describe("ovn-tls-sweep killed right after its first restart, then --resume", () => {
  const { killed, resumed } = killThenResume(
    "sweep",
    "ovn-tls-sweep",
    "juju exec -m maas-controller:openstack --unit ovn-chassis/2 --format=json -- systemctl restart",
  );
  const CHASSIS = /^juju exec .*ovn-chassis\/2 .*systemctl restart ovs-vswitchd ovn-controller$/;
  const NEUTRON = /^juju exec .*systemctl restart neutron-server$/;

  it("the kill lands after the chassis restart, before neutron-server", () => {
    expect(killed.report.failed?.step).toBe("ovn-tls-sweep");
    expect([count(killed, CHASSIS), count(killed, NEUTRON)]).toEqual([1, 0]);
  });

  it("the resume does not restart the chassis again, restarts neutron-server once, and the window finishes", () => {
    expect(resumed.status).toBe(0);
    expect([count(resumed, CHASSIS), count(resumed, NEUTRON)]).toEqual([1, 1]);
  });
});

describe("power-on killed right after its `virsh start`, then --resume", () => {
  const { killed, resumed } = killThenResume("power-on", "power-on-openstack0", "virsh -c test:///coldstart-sim start");
  const START = /^virsh .* start openstack0$/;

  it("the kill lands after the start reached libvirt; the resume sends none and finishes", () => {
    expect(killed.report.failed?.step).toBe("power-on-openstack0");
    expect(count(killed, START)).toBe(1);
    expect(resumed.status).toBe(0);
    expect(count(resumed, START)).toBe(1);
  });
});

describe("power-off killed while the OS shuts down after its soft-off, then --resume", () => {
  const { killed, resumed } = killThenResume(
    "power-off",
    "power-off-openstack0",
    "virsh -c test:///coldstart-sim domstate --reason openstack0#3",
  );
  const SHUTDOWN = /^virsh .* shutdown openstack0$/;
  const DESTROY = /^virsh .* destroy openstack0$/;

  it("the kill lands after the soft-off, the host still on", () => {
    expect(killed.report.failed?.step).toBe("power-off-openstack0");
    expect(count(killed, SHUTDOWN)).toBe(1);
  });

  it("the resume sends no second soft-off and no hard off: it waits for the OS; the window finishes", () => {
    expect(resumed.status).toBe(0);
    expect([count(resumed, SHUTDOWN), count(resumed, DESTROY)]).toEqual([1, 0]);
    expect(resumed.record.find((e) => e.step === "power-off-openstack0")?.outcome).toBe("pass");
  });
});
