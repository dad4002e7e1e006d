import {
  classifyMysql,
  hostOf,
  isCompleteOutage,
  mayRunRebootAction,
  mysqlUnits,
  parseActionResult,
  rebootOutcome,
  rebootTaskOutcome,
  unitForAddress,
  type MysqlState,
  type MysqlUnit,
  unitKind,
} from "../../gates/mysql";
import type { JujuRunDoc, JujuStatusDoc } from "../../gates/juju-schemas";
import { parseShowTask } from "../../gates/juju-action";
import { parseAppStatus } from "../../gates/juju-status";
import { mustParse, readFixture } from "../fixtures";

const APP = "mysql-innodb-cluster";
type Recorded =
  | "healthy"
  | "complete-outage"
  | "agents-lost"
  | "partial-outage"
  | "converging-after-reboot-action"
  | "recovering-member"
  | "recovering-member.5-units"
  | "no-quorum.5-units"
  | "status-error";

const statusOf = (name: Recorded): JujuStatusDoc =>
  mustParse(parseAppStatus(readFixture(`juju/${APP}.${name}.juju3.status.json`), APP));
const unitsOf = (name: Recorded): MysqlUnit[] => mysqlUnits(statusOf(name), APP);

/** Recorded units with the workload status of unit i replaced by edits[i] ([workload, message]). */
function edited(name: Recorded, edits: Array<[string, string] | undefined>): MysqlUnit[] {
  return unitsOf(name).map((u, i) => {
    const e = edits[i];
    return e === undefined ? u : { ...u, workload: e[0], message: e[1] };
  });
}
const all = (workload: string, message: string): Array<[string, string]> => [0, 1, 2].map(() => [workload, message]);

const SIGNATURE = "Cluster is inaccessible from this instance. Please check logs for details.";
const OLD_SIGNATURE = "MySQL InnoDB Cluster not healthy: None";
const RW_ONLINE = "Unit is ready: Mode: R/W, Cluster is ONLINE and can tolerate up to ONE failure.";
const RO_ONLINE = "Unit is ready: Mode: R/O, Cluster is ONLINE and can tolerate up to ONE failure.";
const LOST: Partial<MysqlUnit> = {
  workload: "unknown",
  agent: "lost",
  message: "agent lost, see 'juju show-status-log mysql-innodb-cluster/2'",
};

const action = (file: string): JujuRunDoc => mustParse(parseActionResult(readFixture(`juju/${file}`)));

describe("reading juju status mysql-innodb-cluster", () => {
  it("lists the three units in order with leader, machine and addresses", () => {
    const units = unitsOf("healthy");
    expect(units.map((u) => u.unit)).toEqual([`${APP}/0`, `${APP}/1`, `${APP}/2`]);
    expect(units.map((u) => u.leader)).toEqual([false, true, false]);
    expect(units[1]).toMatchObject({
      machine: "1/lxd/2",
      address: "192.168.100.46",
      agent: "idle",
      workload: "active",
    });
    expect(units[1].addresses).toContain("192.168.100.46");
  });

  it("carries agent lost and workload unknown through from the agents-lost fixture", () => {
    expect(unitsOf("agents-lost").map((u) => [u.workload, u.agent])).toEqual([
      ["unknown", "lost"],
      ["unknown", "lost"],
      ["unknown", "lost"],
    ]);
  });

  it("names the missing application when the status has no mysql units (the jubilant reference model)", () => {
    const r = parseAppStatus(readFixture("juju/reference.jubilant.juju-3.6.4.subordinates.status.json"), APP);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^juju status: expected applications\.mysql-innodb-cluster.* found nothing$/);
  });

  it("parses the real Juju 3.6.4 capture when no application is required", () => {
    const doc = mustParse(parseAppStatus(readFixture("juju/reference.jubilant.juju-3.6.4.subordinates.status.json")));
    expect(mysqlUnits(doc, "ubuntu")).toMatchObject([
      { unit: "ubuntu/1", workload: "active", message: "", leader: true, machine: "1" },
    ]);
  });

  it("says when juju printed an error instead of JSON", () => {
    const r = parseAppStatus("ERROR cannot connect to controller\n", APP);
    expect(r).toEqual({
      ok: false,
      error: 'juju status: expected JSON output, found "ERROR cannot connect to controller"',
    });
  });
});

describe("classifying the recorded cluster states", () => {
  it("calls three ONLINE units with exactly one R/W healthy", () => {
    const v = classifyMysql(unitsOf("healthy"), 3);
    expect(v).toMatchObject({ ok: true, state: "healthy" });
    expect(v.route).toBeUndefined();
    expect(v.details).toHaveLength(3);
  });

  it("confirms a complete outage only when all three units are blocked with the signature", () => {
    const v = classifyMysql(unitsOf("complete-outage"), 3);
    expect(v).toMatchObject({ ok: false, state: "complete-outage", route: "mysql-will-not-reform" });
    expect(mayRunRebootAction(v)).toBe(true);
  });

  it("treats lost agents as Stage 1 not passed, never as an outage", () => {
    const v = classifyMysql(unitsOf("agents-lost"), 3);
    expect(v).toMatchObject({ ok: false, state: "not-ready", route: "machines-not-started" });
    expect(v.summary).toContain("Stage 1");
  });

  it("calls survivors reporting NOT tolerant a partial outage, and names the lost unit", () => {
    const v = classifyMysql(unitsOf("partial-outage"), 3);
    expect(v).toMatchObject({ ok: false, state: "partial-outage", route: "mysql-partial-outage" });
    expect(v.summary).toContain(`${APP}/2`);
    expect(v.summary).toMatch(/do NOT run reboot-cluster-from-complete-outage/);
  });

  it("keeps polling without escalating while the other units still show the stale signature after the action", () => {
    const v = classifyMysql(unitsOf("converging-after-reboot-action"), 3);
    expect(v).toMatchObject({ ok: false, state: "converging" });
    expect(v.route).toBeUndefined();
    expect(v.summary).toContain(`${APP}/0`);
    expect(v.summary).toContain(`${APP}/2`);
  });
});

describe("classifying hand-made edge cases", () => {
  const rows: Array<[string, MysqlUnit[], MysqlState, string | undefined]> = [
    ["two units claiming R/W", edited("healthy", [["active", RW_ONLINE]]), "unknown", "mysql-will-not-reform"],
    [
      "an ACL message the gate does not know on every unit",
      edited(
        "healthy",
        all("blocked", "Units not allowed to replicate with this unit: 10.0.0.1. See update-unit-acls action."),
      ),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "MySQL is down on every unit",
      edited("healthy", all("blocked", "MySQL is down on this instance")),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "mysqld not running on every unit",
      edited("healthy", all("blocked", "Services not running that should be: mysql")),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "units still waiting to cluster",
      edited("healthy", all("waiting", "Instance not yet in the cluster")),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "no quorum on every unit",
      edited(
        "healthy",
        all(
          "blocked",
          "MySQL InnoDB Cluster not healthy: Cluster has no quorum as visible from '10.0.0.1:3306' and cannot process write transactions.",
        ),
      ),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "a signature with different wording",
      edited("complete-outage", all("blocked", "Cluster is inaccessible from this instance.")),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "the signature text on a unit that is not blocked",
      edited("complete-outage", [["waiting", SIGNATURE]]),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "an old charm's bare 'Unit is ready: Mode: R/W' without the cluster status text",
      edited("healthy", [
        ["active", "Unit is ready: Mode: R/O"],
        ["active", "Unit is ready: Mode: R/W"],
        ["active", "Unit is ready: Mode: R/O"],
      ]),
      "unknown",
      "mysql-will-not-reform",
    ],
    [
      "a unit in error",
      edited("healthy", [undefined, undefined, ["error", 'hook failed: "update-status"']]),
      "unknown",
      "units-error",
    ],
    [
      "two ready units and one whose mysqld is down",
      edited("healthy", [undefined, undefined, ["blocked", "MySQL is down on this instance"]]),
      "partial-outage",
      "mysql-partial-outage",
    ],
    [
      "every unit NOT tolerant with none lost",
      edited(
        "healthy",
        all("active", "Unit is ready: Mode: R/O, Cluster is NOT tolerant to any failures. 2 members are not active."),
      ),
      "partial-outage",
      "mysql-partial-outage",
    ],
    [
      // 3 members tolerating ONE failure means all 3 count for quorum (ONLINE or RECOVERING,
      // mysql-shell status.cc check_group_status): the member not active is still in the group
      "an ONLINE cluster (tolerates ONE failure of 3) that still has a member not active",
      edited("healthy", [
        [
          "active",
          "Unit is ready: Mode: R/O, Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.",
        ],
      ]),
      "converging",
      undefined,
    ],
    [
      "the pre-21.04 signature on every unit",
      edited("complete-outage", all("blocked", OLD_SIGNATURE)),
      "complete-outage",
      "mysql-will-not-reform",
    ],
    [
      "a member RECOVERING (Mode: n/a) next to the rebooted R/W unit",
      edited("healthy", [
        ["active", "Unit is ready: Mode: n/a, Cluster is ONLINE and can tolerate up to ONE failure."],
      ]),
      "converging",
      undefined,
    ],
  ];

  const cases = rows.map(([name, units, state, route]) => ({ name, units, state, route }));
  it.each(cases)("classifies $name as $state", ({ units, state, route }) => {
    const v = classifyMysql(units, 3);
    expect(v.state).toBe(state);
    expect(v.ok).toBe(false);
    expect(v.route).toBe(route);
  });

  it("is not ready when only 2 of the 3 units are listed, even if both show the signature", () => {
    const doc = statusOf("complete-outage");
    delete doc.applications[APP].units?.[`${APP}/2`];
    expect(classifyMysql(mysqlUnits(doc, APP), 3)).toMatchObject({ state: "not-ready", route: "machines-not-started" });
  });

  it("is not healthy when every listed unit is healthy but fewer than expected", () => {
    expect(classifyMysql(unitsOf("healthy"), 5).state).toBe("not-ready");
  });

  it("does not accept more units than expected", () => {
    const units = unitsOf("healthy");
    const extra = { ...units[0], unit: `${APP}/3`, message: RO_ONLINE };
    expect(classifyMysql([...units, extra], 3)).toMatchObject({ state: "unknown", route: "mysql-will-not-reform" });
  });
});

describe("the destructive reboot action is allowed for a confirmed complete outage only", () => {
  const withLost = (name: Recorded, i: number): MysqlUnit[] =>
    unitsOf(name).map((u, j) => (j === i ? { ...u, ...LOST } : u));
  const twoOfThree = (): MysqlUnit[] => unitsOf("complete-outage").slice(0, 2);

  const rows: Array<[string, MysqlUnit[], number, MysqlState, boolean]> = [
    ["healthy (recorded)", unitsOf("healthy"), 3, "healthy", false],
    ["converging after the action (recorded)", unitsOf("converging-after-reboot-action"), 3, "converging", false],
    ["partial outage (recorded)", unitsOf("partial-outage"), 3, "partial-outage", false],
    ["agents lost (recorded)", unitsOf("agents-lost"), 3, "not-ready", false],
    ["two R/W units", edited("healthy", [["active", RW_ONLINE]]), 3, "unknown", false],
    [
      "one unit with a message the gate does not know, two ready",
      edited("healthy", [["blocked", "Something the charm never said"]]),
      3,
      "partial-outage",
      false,
    ],
    [
      "a message the gate does not know on every unit",
      edited("healthy", all("blocked", "Something the charm never said")),
      3,
      "unknown",
      false,
    ],
    ["2 of 3 with the signature, third agent lost", withLost("complete-outage", 2), 3, "not-ready", false],
    ["2 of 3 with the signature, third not listed", twoOfThree(), 3, "not-ready", false],
    [
      "2 of 3 with the signature, third MySQL down",
      edited("complete-outage", [undefined, undefined, ["blocked", "MySQL is down on this instance"]]),
      3,
      "unknown",
      false,
    ],
    [
      "2 of 3 with the signature, third paused",
      edited("complete-outage", [["maintenance", "Paused. Use 'resume' action to resume normal service."]]),
      3,
      "unknown",
      false,
    ],
    [
      "2 of 3 with the signature, third already R/W",
      edited("complete-outage", [undefined, ["active", RW_ONLINE]]),
      3,
      "converging",
      false,
    ],
    [
      "2 of 3 with the signature, third in error",
      edited("complete-outage", [["error", 'hook failed: "update-status"']]),
      3,
      "unknown",
      false,
    ],
    ["3 with the signature but 4 expected", unitsOf("complete-outage"), 4, "not-ready", false],
    ["no units at all", [], 3, "not-ready", false],
    ["all 3 with the signature (recorded)", unitsOf("complete-outage"), 3, "complete-outage", true],
    [
      "all 3 with the pre-21.04 signature",
      edited("complete-outage", all("blocked", OLD_SIGNATURE)),
      3,
      "complete-outage",
      true,
    ],
    [
      "all 3 with the signature, old and new wording mixed",
      edited("complete-outage", [["blocked", OLD_SIGNATURE]]),
      3,
      "complete-outage",
      true,
    ],
  ];

  const table = rows.map(([name, units, expected, state, allowed]) => ({ name, units, expected, state, allowed }));
  it.each(table)(
    "$name is $state, so running the action is allowed: $allowed",
    ({ units, expected, state, allowed }) => {
      const v = classifyMysql(units, expected);
      expect(v.state).toBe(state);
      expect(isCompleteOutage(units, expected)).toBe(allowed);
      expect(mayRunRebootAction(v)).toBe(allowed);
    },
  );
});

describe("reading the reboot-cluster-from-complete-outage result", () => {
  it("reports success from status completed and outcome Success", () => {
    expect(rebootOutcome(action("mysql-innodb-cluster.reboot-action.success.juju3.json"))).toEqual({
      state: "success",
    });
  });

  it("extracts the most up-to-date instance's address, not the session instance's", () => {
    expect(rebootOutcome(action("mysql-innodb-cluster.reboot-action.not-gtid-superset.juju3.json"))).toEqual({
      state: "not-most-updated",
      address: "10.0.0.218",
    });
  });

  it("ignores return-code: 0 on a failed task and 1 on a successful one", () => {
    const failed = action("mysql-innodb-cluster.reboot-action.not-gtid-superset.juju3.json");
    expect(failed[`${APP}/1`].results?.["return-code"]).toBe(0);
    expect(rebootOutcome(failed).state).not.toBe("success");
    const ok = action("mysql-innodb-cluster.reboot-action.success.juju3.json");
    const task = ok[`${APP}/2`];
    expect(rebootOutcome({ [`${APP}/2`]: { ...task, results: { ...task.results, "return-code": 1 } } })).toEqual({
      state: "success",
    });
  });

  it("reports any other failure with the charm's message and the first output line", () => {
    const doc = action("mysql-innodb-cluster.reboot-action.not-gtid-superset.juju3.json");
    const task = doc[`${APP}/1`];
    const r = rebootOutcome({
      [`${APP}/1`]: { ...task, results: { output: "Dba.rebootClusterFromCompleteOutage: Access denied\nmore\n" } },
    });
    expect(r).toEqual({
      state: "failed",
      message: `${APP}/1: action failed: Reboot cluster from complete outage failed. -- Dba.rebootClusterFromCompleteOutage: Access denied`,
    });
  });

  it("does not call a completed task without outcome Success a success", () => {
    const task = action("mysql-innodb-cluster.reboot-action.success.juju3.json")[`${APP}/2`];
    const r = rebootOutcome({ [`${APP}/2`]: { ...task, results: { output: "" } } });
    expect(r.state).toBe("failed");
  });

  it("does not call a task that is still running a success", () => {
    const task = action("mysql-innodb-cluster.reboot-action.success.juju3.json")[`${APP}/2`];
    expect(rebootOutcome({ [`${APP}/2`]: { ...task, status: "running", results: undefined } })).toEqual({
      state: "failed",
      message: `${APP}/2: action running`,
    });
  });

  it("fails when the output holds no task", () => {
    expect(rebootOutcome({}).state).toBe("failed");
  });

  it("names the problem when juju run printed plain text instead of JSON", () => {
    const r = parseActionResult("Running operation 14 with 1 task\n  - task 15 on unit-mysql-innodb-cluster-2\n");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^juju run: expected JSON output/);
  });
});

describe("mapping the most up-to-date instance's address to its unit", () => {
  it("strips the mysql port and IPv6 brackets", () => {
    expect(hostOf("10.0.0.218:3306")).toBe("10.0.0.218");
    expect(hostOf("[fd42::1]:3306")).toBe("fd42::1");
    expect(hostOf("10.0.0.218")).toBe("10.0.0.218");
  });

  it("finds the unit by public-address, with or without the port", () => {
    const units = unitsOf("complete-outage");
    expect(unitForAddress(units, "192.168.100.54:3306")?.unit).toBe(`${APP}/0`);
    expect(unitForAddress(units, "192.168.100.52")?.unit).toBe(`${APP}/2`);
  });

  it("finds nothing for the recorded action's 10.0.0.218 in the recorded status (different networks)", () => {
    expect(unitForAddress(unitsOf("complete-outage"), "10.0.0.218:3306")).toBeUndefined();
  });

  it("finds the unit through its machine's other ip-addresses", () => {
    const doc = statusOf("complete-outage");
    const container = doc.machines?.["2"].containers?.["2/lxd/2"];
    if (container === undefined) throw new Error("fixture changed: 2/lxd/2 missing");
    container["ip-addresses"] = ["192.168.100.52", "10.0.0.218"];
    const { address } = rebootOutcome(action("mysql-innodb-cluster.reboot-action.not-gtid-superset.juju3.json")) as {
      address: string;
    };
    expect(unitForAddress(mysqlUnits(doc, APP), address)?.unit).toBe(`${APP}/2`);
  });
});

describe("a member RECOVERING after the reboot action (MySQL Shell counts it for quorum, not as ONLINE)", () => {
  it("3 units: the ONLINE members say ONE failure / 1 member not active, the recovering one Mode n/a -> converging", () => {
    const units = unitsOf("recovering-member");
    expect(units.map((u) => unitKind(u))).toEqual([
      { kind: "ready", mode: "R/O", text: { online: true, tolerates: 1, inactive: 1, noQuorum: false } },
      { kind: "ready", mode: "R/W", text: { online: true, tolerates: 1, inactive: 1, noQuorum: false } },
      { kind: "ready", mode: "n/a", text: { online: true, tolerates: 1, inactive: 1, noQuorum: false } },
    ]);
    const v = classifyMysql(units, 3);
    expect(v).toMatchObject({ ok: false, state: "converging" });
    expect(v.route).toBeUndefined();
    expect(v.summary).toContain(`RECOVERING (Mode: n/a): ${APP}/2`);
    expect(isCompleteOutage(units, 3)).toBe(false);
  });

  it("5 units (mysqlUnits 5): 'can tolerate up to 2 failures. 1 member is not active.' -> converging", () => {
    const units = unitsOf("recovering-member.5-units");
    expect(units.map((u) => u.unit)).toEqual([0, 1, 2, 3, 4].map((n) => `${APP}/${n}`));
    const v = classifyMysql(units, 5);
    expect(v.state).toBe("converging");
    expect(v.summary).toContain("tolerates 2 failure(s) of 5");
    expect(v.summary).toContain(`${APP}/4`);
  });

  it("the same 5 units against mysqlUnits 3 are more units than expected", () => {
    expect(classifyMysql(unitsOf("recovering-member.5-units"), 3)).toMatchObject({
      state: "unknown",
      route: "mysql-will-not-reform",
    });
  });

  it("a recovering cluster with one unit's agent lost is a partial outage, naming the lost unit", () => {
    const units = unitsOf("recovering-member.5-units").map((u, i) => (i === 3 ? { ...u, ...LOST, unit: u.unit } : u));
    const v = classifyMysql(units, 5);
    expect(v).toMatchObject({ state: "partial-outage", route: "mysql-partial-outage" });
    expect(v.summary).toContain(`agent lost on ${APP}/3`);
  });

  it("5 units whose R/W tolerates only ONE failure have a member OUT of the group: partial outage, not converging", () => {
    // quorum_size 3 or 4 of 5 (tolerates (q-1)/2 = 1): at least one member is not in the group at all
    const text = "Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.";
    const units = unitsOf("recovering-member.5-units").map((u, i) => ({
      ...u,
      message: `Unit is ready: Mode: ${["R/O", "R/W", "R/O", "R/O", "n/a"][i]}, ${text}`,
    }));
    expect(classifyMysql(units, 5)).toMatchObject({ state: "partial-outage", route: "mysql-partial-outage" });
  });

  it("an even-sized cluster cannot be told apart from one with a member out of the group: it escalates", () => {
    const text = "Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.";
    const units = unitsOf("recovering-member.5-units")
      .slice(0, 4)
      .map((u, i) => ({ ...u, message: `Unit is ready: Mode: ${["R/O", "R/W", "R/O", "n/a"][i]}, ${text}` }));
    expect(classifyMysql(units, 4).state).toBe("partial-outage");
  });
});

describe("no quorum", () => {
  it("5 units, 3 lost, the 2 survivors blocked 'not healthy: Cluster has no quorum ...' -> partial outage", () => {
    const units = unitsOf("no-quorum.5-units");
    expect(unitKind(units[0])).toEqual({
      kind: "not-healthy",
      text: { online: false, tolerates: undefined, inactive: 3, noQuorum: true },
    });
    const v = classifyMysql(units, 5);
    expect(v).toMatchObject({ ok: false, state: "partial-outage", route: "mysql-partial-outage" });
    expect(v.summary).toContain(`${APP}/0, ${APP}/1 report the cluster has no quorum`);
    expect(v.summary).toContain(`agent lost on ${APP}/2, ${APP}/3, ${APP}/4`);
    expect(v.summary).toMatch(/do NOT run reboot-cluster-from-complete-outage/);
    expect(mayRunRebootAction(v)).toBe(false);
  });
});

describe("a unit whose status Juju cannot read (status-error)", () => {
  it("keeps the readable units and names the unreadable one with Juju's message", () => {
    const units = unitsOf("status-error");
    expect(units.map((u) => [u.unit, u.workload, u.agent, u.message])).toEqual([
      [`${APP}/0`, "active", "idle", RO_ONLINE],
      [`${APP}/1`, "active", "idle", RW_ONLINE],
      [`${APP}/2`, "status-error", "status-error", "status not found"],
    ]);
    expect(unitKind(units[2])).toEqual({ kind: "status-error" });
  });

  it("waits (converging) when the readable units report every member ONLINE", () => {
    const v = classifyMysql(unitsOf("status-error"), 3);
    expect(v).toMatchObject({ ok: false, state: "converging" });
    expect(v.summary).toContain(`juju cannot read the status of ${APP}/2 (status not found)`);
  });

  it("is never a complete-outage signature: the others blocked with it is not-ready, routed to juju", () => {
    const units = unitsOf("status-error").map((u, i) =>
      i < 2 ? { ...u, workload: "blocked", message: SIGNATURE } : u,
    );
    const v = classifyMysql(units, 3);
    expect(v).toMatchObject({ ok: false, state: "not-ready", route: "tool-unavailable" });
    expect(isCompleteOutage(units, 3)).toBe(false);
    expect(mayRunRebootAction(v)).toBe(false);
  });

  it("does not hide survivors that run the cluster without a member", () => {
    const degraded = "Cluster is NOT tolerant to any failures. 1 member is not active.";
    const units = unitsOf("status-error").map((u, i) =>
      i < 2 ? { ...u, message: `Unit is ready: Mode: ${i === 1 ? "R/W" : "R/O"}, ${degraded}` } : u,
    );
    const v = classifyMysql(units, 3);
    expect(v).toMatchObject({ state: "partial-outage", route: "mysql-partial-outage" });
    expect(v.summary).toContain(`juju cannot read the status of ${APP}/2`);
  });

  it("a unit whose agent status alone is unreadable is status-error too", () => {
    const units = unitsOf("healthy").map((u, i) => (i === 2 ? { ...u, agent: "status-error" } : u));
    expect(unitKind(units[2])).toEqual({ kind: "status-error" });
  });
});

describe("reading the action's task as `juju show-task --format=json` prints it (#11)", () => {
  it("the completed task is the action's success; a failed one names the up-to-date instance", () => {
    const done = mustParse(parseShowTask(readFixture("juju/show-task.reboot-action.completed.assembled.json")));
    expect(rebootTaskOutcome(`${APP}/2`, done)).toEqual({ state: "success" });
    const refusal = Object.values(action("mysql-innodb-cluster.reboot-action.not-gtid-superset.juju3.json"))[0];
    expect(rebootTaskOutcome(`${APP}/1`, refusal)).toEqual({ state: "not-most-updated", address: "10.0.0.218" });
  });

  it("a task that has not finished is never read as a success", () => {
    const running = mustParse(parseShowTask(readFixture("juju/show-task.reboot-action.running.assembled.json")));
    expect(rebootTaskOutcome(`${APP}/2`, running).state).toBe("failed");
  });
});

// Mutation survivors (#22): each condition of "converging" (keep polling) against "partial outage"
// (escalate) on its own, from the recorded RECOVERING cluster.
describe("converging needs every condition at once (recorded RECOVERING member, one thing changed)", () => {
  const RW_DEGRADED =
    "Unit is ready: Mode: R/W, Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.";

  it("a unit missing from juju status: partial outage, the missing unit named", () => {
    const units = unitsOf("recovering-member").slice(0, 2);
    const v = classifyMysql(units, 3);
    expect(v).toMatchObject({ ok: false, state: "partial-outage", route: "mysql-partial-outage" });
    expect(v.summary).toContain("1 expected unit(s) not in juju status (2 of 3 expected units)");
    expect(v.summary).toContain("do NOT run reboot-cluster-from-complete-outage");
  });

  it("two units saying R/W: partial outage, not converging", () => {
    const units = edited("recovering-member", [["active", RW_DEGRADED]]);
    expect(classifyMysql(units, 3)).toMatchObject({ state: "partial-outage", route: "mysql-partial-outage" });
  });

  it("no unit saying R/W: partial outage (no primary's tolerance to read)", () => {
    const units = edited("recovering-member", [undefined, ["active", RW_DEGRADED.replace("R/W", "R/O")]]);
    expect(classifyMysql(units, 3)).toMatchObject({ state: "partial-outage" });
  });

  it("a unit with a message the gate does not know: partial outage", () => {
    const units = edited("recovering-member", [undefined, undefined, ["blocked", "MySQL is down on this instance"]]);
    expect(classifyMysql(units, 3)).toMatchObject({ state: "partial-outage", route: "mysql-partial-outage" });
  });

  it("a unit still showing the signature is named as not yet re-assessed; a status-error unit is named too", () => {
    const stale = classifyMysql(edited("recovering-member", [undefined, undefined, ["blocked", SIGNATURE]]), 3);
    expect(stale).toMatchObject({ state: "converging" });
    expect(stale.summary).toContain(`not yet re-assessed: ${APP}/2`);
    expect(stale.summary).not.toContain("RECOVERING (Mode: n/a)");
    expect(stale.summary).toContain("1 member(s) not yet ONLINE but still in the group");
    const unreadable = classifyMysql(
      edited("recovering-member", [undefined, undefined, ["status-error", "connection refused"]]),
      3,
    );
    expect(unreadable).toMatchObject({ state: "converging" });
    expect(unreadable.summary).toContain(`juju cannot read the status of ${APP}/2`);
    expect(unreadable.summary).not.toContain("not yet re-assessed");
  });

  it("the R/W unit says NOT tolerant: partial outage even with nothing counted inactive", () => {
    const units = edited("recovering-member", [
      ["active", RO_ONLINE],
      ["active", "Unit is ready: Mode: R/W, Cluster is NOT tolerant to any failures."],
      ["active", RO_ONLINE],
    ]);
    expect(classifyMysql(units, 3)).toMatchObject({ state: "partial-outage" });
  });
});

describe("a unit Juju cannot read, the others ONLINE (mutation survivors, #22)", () => {
  const unreadableLast = (edits: Array<[string, string] | undefined>) =>
    edited("healthy", [...edits.slice(0, 2), ["status-error", "connection refused"]]);

  it("the readable units all ONLINE with one R/W: converging, keep polling", () => {
    const v = classifyMysql(unreadableLast([undefined, undefined]), 3);
    expect(v).toMatchObject({ ok: false, state: "converging" });
    expect(v.summary).toContain("the readable units report every member ONLINE");
  });

  it("one readable unit not ONLINE, or no R/W among them: not-ready, tool-unavailable", () => {
    for (const edits of [
      [["blocked", SIGNATURE], undefined],
      [
        ["active", RO_ONLINE],
        ["active", RO_ONLINE],
      ],
    ] as Array<Array<[string, string] | undefined>>) {
      const units = unreadableLast(edits);
      expect(units.filter((u) => u.workload === "status-error")).toHaveLength(1);
      expect(classifyMysql(units, 3)).toMatchObject({ state: "not-ready", route: "tool-unavailable" });
    }
  });

  it("every unit unreadable: not-ready, never converging", () => {
    const units = edited("healthy", all("status-error", "connection refused"));
    expect(classifyMysql(units, 3)).toMatchObject({ state: "not-ready", route: "tool-unavailable" });
  });
});
