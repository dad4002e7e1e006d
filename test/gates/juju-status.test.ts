/**
 * `status-error` in `juju status --format=json` (juju/juju cmd/juju/status/formatted.go
 * errorStatus): a unit, a status object or a machine Juju could not read is a named state, never a
 * parse failure that hides the other units.
 */
import { normaliseStatusErrors, parseAppStatus, STATUS_ERROR } from "../../gates/juju-status";
import { mysqlUnits } from "../../gates/mysql";
import { chassisUnits } from "../../gates/ovn";
import { mustParse, readFixture } from "../fixtures";

const APP = "mysql-innodb-cluster";
const raw = (name: string) => JSON.parse(readFixture(`juju/${name}`)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("status-error in juju status", () => {
  it("reads the recorded status-error unit as workload and agent status-error, with Juju's message", () => {
    const doc = mustParse(parseAppStatus(readFixture(`juju/${APP}.status-error.juju3.status.json`), APP));
    const unit = doc.applications[APP].units?.[`${APP}/2`];
    expect(unit?.["workload-status"]).toEqual({ current: STATUS_ERROR, message: "status not found" });
    expect(unit?.["juju-status"]).toEqual({ current: STATUS_ERROR, message: "status not found" });
    expect(mysqlUnits(doc, APP).map((u) => u.workload)).toEqual(["active", "active", STATUS_ERROR]);
  });

  it("keeps a readable workload when only the agent status could not be read", () => {
    const doc = raw(`${APP}.healthy.juju3.status.json`);
    doc.applications[APP].units[`${APP}/0`]["juju-status"] = { "status-error": "agent status not found" };
    const units = mysqlUnits(mustParse(parseAppStatus(JSON.stringify(doc), APP)), APP);
    expect(units[0]).toMatchObject({ workload: "active", agent: STATUS_ERROR });
  });

  it("reads a subordinate in status-error without losing the other subordinates", () => {
    const doc = raw("nova-compute.ovn-chassis.healthy.juju3.status.json");
    doc.applications["nova-compute"].units["nova-compute/1"].subordinates["ovn-chassis/1"] = {
      "status-error": "status not found",
    };
    const parsed = mustParse(parseAppStatus(JSON.stringify(doc), "nova-compute"));
    expect(chassisUnits(parsed, "nova-compute", "ovn-chassis").map((c) => c.chassis)).toEqual([
      "ovn-chassis/0",
      "ovn-chassis/1",
      "ovn-chassis/2",
      "ovn-chassis/3",
    ]);
    expect(
      parsed.applications["nova-compute"].units?.["nova-compute/1"].subordinates?.["ovn-chassis/1"]["workload-status"],
    ).toEqual({ current: STATUS_ERROR, message: "status not found" });
  });

  it("reads a machine (and a container) in status-error", () => {
    const doc = raw(`${APP}.healthy.juju3.status.json`);
    doc.machines["2"].containers["2/lxd/2"] = { "status-error": "instance not found" };
    const out = normaliseStatusErrors(doc) as typeof doc;
    expect(out.machines["2"].containers["2/lxd/2"]["juju-status"]).toEqual({
      current: STATUS_ERROR,
      message: "instance not found",
    });
    expect(parseAppStatus(JSON.stringify(doc), APP).ok).toBe(true);
  });

  it("says Juju could not read the application itself when the one asked for is status-error", () => {
    const doc = raw(`${APP}.healthy.juju3.status.json`);
    doc.applications[APP] = { "status-error": "charm not found" };
    expect(parseAppStatus(JSON.stringify(doc), APP)).toEqual({
      ok: false,
      error: `juju status: juju could not read application ${APP}: charm not found`,
    });
  });

  it("still names the problem when juju printed an error instead of JSON", () => {
    expect(parseAppStatus("ERROR cannot connect to controller\n", APP)).toEqual({
      ok: false,
      error: 'juju status: expected JSON output, found "ERROR cannot connect to controller"',
    });
  });

  it("leaves a document without status-error as it was", () => {
    const doc = raw(`${APP}.healthy.juju3.status.json`);
    expect(normaliseStatusErrors(doc)).toEqual(doc);
  });
});
