import { flattenMachines, machinesVerdict, parseMachines } from "../../gates/machines";
import { parseAppStatus } from "../../gates/juju-status";
import { mustParse, readFixture } from "../fixtures";

const allStarted = () => mustParse(parseMachines(readFixture("juju/juju-machines.all-started.juju3.json")));
const oneDown = () => mustParse(parseMachines(readFixture("juju/juju-machines.one-down.juju3.json")));

describe("Stage 1 gate: every juju machine agent started", () => {
  it("lists hosts and their nested LXD containers, each host followed by its containers", () => {
    expect(flattenMachines(allStarted()).map((m) => m.id)).toEqual([
      "0",
      "0/lxd/3",
      "1",
      "1/lxd/2",
      "2",
      "2/lxd/2",
      "3",
    ]);
  });

  it("passes when all four hosts and three containers are started", () => {
    const v = machinesVerdict(allStarted());
    expect(v).toMatchObject({ ok: true, state: "all-started" });
    expect(v.route).toBeUndefined();
    expect(v.summary).toContain("7");
  });

  it("fails on a down host AND its down container, naming status and message of each", () => {
    const v = machinesVerdict(oneDown());
    expect(v).toMatchObject({ ok: false, state: "not-started", route: "machines-not-started" });
    expect(v.details).toHaveLength(2);
    expect(v.details[0]).toMatch(/^2 \(openstack2\): down -- agent is not communicating with the server$/);
    expect(v.details[1]).toMatch(/^2\/lxd\/2 .*: down -- agent is not communicating with the server$/);
  });

  it("catches a down container even when every top-level host is started (the runbook jq misses this)", () => {
    const doc = allStarted();
    const container = doc.machines["1"].containers?.["1/lxd/2"];
    if (container === undefined) throw new Error("fixture changed: 1/lxd/2 missing");
    container["juju-status"] = { current: "pending" };
    const v = machinesVerdict(doc);
    expect(v.ok).toBe(false);
    expect(v.details).toEqual(["1/lxd/2 (juju-3da275-1-lxd-2): pending"]);
  });

  it("descends into containers nested more than one level deep", () => {
    const doc = allStarted();
    const container = doc.machines["0"].containers?.["0/lxd/3"];
    if (container === undefined) throw new Error("fixture changed: 0/lxd/3 missing");
    container.containers = {
      "0/lxd/3/lxd/0": { "juju-status": { current: "down", message: "agent is not communicating with the server" } },
    };
    expect(machinesVerdict(doc).details).toEqual(["0/lxd/3/lxd/0: down -- agent is not communicating with the server"]);
  });

  it("does not pass an empty machine list (wrong model)", () => {
    expect(machinesVerdict({ machines: {} })).toMatchObject({ ok: false, route: "machines-not-started" });
  });

  it("reads the machines of a juju status document the same way", () => {
    const status = mustParse(parseAppStatus(readFixture("juju/mysql-innodb-cluster.agents-lost.juju3.status.json")));
    const v = machinesVerdict(status);
    expect(v).toMatchObject({ ok: false, state: "not-started" });
    expect(v.details).toHaveLength(6);
  });

  it("names the missing key instead of crashing when the output has no machines", () => {
    const r = parseMachines(JSON.stringify({ model: "openstack" }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^juju machines: expected machines .*found nothing$/);
  });

  it("names a machine without juju-status", () => {
    const r = parseMachines(JSON.stringify({ model: "openstack", machines: { "0": { hostname: "openstack0" } } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("machines.0.juju-status");
  });

  it("says when juju printed an error instead of JSON", () => {
    const r = parseMachines('ERROR model "openstack" not found\n');
    expect(r).toEqual({
      ok: false,
      error: 'juju machines: expected JSON output, found "ERROR model \\"openstack\\" not found"',
    });
  });
});
