/**
 * Stage 2 steps against the recorded `juju status mysql-innodb-cluster` outputs: the destructive
 * reboot-cluster-from-complete-outage action runs only on the complete-outage signature on every
 * unit, at most once per window, and only on the unit the action's own error names.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mysqlCheck, mysqlClusterOnline, mysqlReboot } from "../../steps/mysql";
import type { StepOutcome } from "../../steps/outcome";
import { readFixture } from "../fixtures";
import { fakeExec, testContext, type FakeExec, type TestContext } from "../support/fake-exec";

const APP = "mysql-innodb-cluster";
const MODEL = "c:openstack";
const ACTION = "reboot-cluster-from-complete-outage";
const FLAGS = { model: MODEL, app: APP, units: 3 };
const GATE_FLAGS = { ...FLAGS, timeout: 600_000, interval: 15_000 };

const STATUS_CALL = new RegExp(`^juju status -m ${MODEL} ${APP} --format=json$`);
const ACTION_CALL = new RegExp(`^juju run -m ${MODEL} (\\S+) ${ACTION} --format=json$`);
const unitOf = (line: string): string | undefined => ACTION_CALL.exec(line)?.[1];

const SIGNATURE = "Cluster is inaccessible from this instance. Please check logs for details.";
const OLD_SIGNATURE = "MySQL InnoDB Cluster not healthy: None";
const RW_ONLINE = "Unit is ready: Mode: R/W, Cluster is ONLINE and can tolerate up to ONE failure.";
const RO_ONLINE = "Unit is ready: Mode: R/O, Cluster is ONLINE and can tolerate up to ONE failure.";

type Recorded = "healthy" | "complete-outage" | "agents-lost" | "partial-outage" | "converging-after-reboot-action";

interface UnitJson {
  "workload-status": { current: string; message?: string };
  "juju-status": { current: string; message?: string };
  leader?: boolean;
  "public-address"?: string;
}
interface StatusJson {
  applications: Record<string, { units: Record<string, UnitJson> }>;
}

const recorded = (name: Recorded): string => readFixture(`juju/${APP}.${name}.juju3.status.json`);
const SUCCESS = readFixture(`juju/${APP}.reboot-action.success.juju3.json`);
const NOT_GTID_SUPERSET = readFixture(`juju/${APP}.reboot-action.not-gtid-superset.juju3.json`);

/** A recorded status with its units edited in place (a hand-made state, built on a real shape). */
function patched(name: Recorded, edit: (units: Record<string, UnitJson>) => void): string {
  const doc = JSON.parse(recorded(name)) as StatusJson;
  edit(doc.applications[APP].units);
  return JSON.stringify(doc, null, 2) + "\n";
}

/** Set [workload, message] per unit index (undefined = leave as recorded). */
function withMessages(name: Recorded, messages: Array<[string, string] | undefined>): string {
  return patched(name, (units) => {
    Object.values(units).forEach((u, i) => {
      const m = messages[i];
      if (m !== undefined) u["workload-status"] = { current: m[0], message: m[1] };
    });
  });
}

function mysqlFake(status: string | ((n: number) => string), action: (n: number) => string = () => SUCCESS): FakeExec {
  return fakeExec()
    .on(STATUS_CALL, (_call, n) => (typeof status === "string" ? status : status(n)))
    .on(ACTION_CALL, (_call, n) => action(n));
}

let recordDir: string;
beforeEach(() => {
  recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-mysql-"));
});
afterEach(() => {
  fs.rmSync(recordDir, { recursive: true, force: true });
});

function windowCtx(fake: FakeExec, window = "2026-12-05-roosevelt"): TestContext {
  return testContext(fake, {
    env: { HOME: "/home/operator", COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir },
  });
}

const actionCalls = (fake: FakeExec): string[] => fake.lines().filter((l) => l.includes(ACTION));

describe("mysqlReboot never runs reboot-cluster-from-complete-outage without the signature on every unit", () => {
  const cases: {
    state: string;
    status: () => string;
    outcome: "skipped-by-guard" | "blocker";
  }[] = [
    { state: "the healthy fixture", status: () => recorded("healthy"), outcome: "skipped-by-guard" },
    {
      state: "the converging-after-reboot-action fixture",
      status: () => recorded("converging-after-reboot-action"),
      outcome: "skipped-by-guard",
    },
    { state: "the partial-outage fixture", status: () => recorded("partial-outage"), outcome: "blocker" },
    { state: "the agents-lost fixture", status: () => recorded("agents-lost"), outcome: "blocker" },
    {
      state: "an unknown message on all units",
      status: () =>
        withMessages("complete-outage", [
          ["blocked", "Something no charm version ever said"],
          ["blocked", "Something no charm version ever said"],
          ["blocked", "Something no charm version ever said"],
        ]),
      outcome: "blocker",
    },
    {
      state: "the signature on 2 of 3 units and one healthy R/O unit",
      status: () =>
        withMessages("complete-outage", [
          ["blocked", SIGNATURE],
          ["active", RO_ONLINE],
          ["blocked", SIGNATURE],
        ]),
      outcome: "blocker",
    },
    {
      state: "the signature on 2 of 3 units and one healthy R/W unit (the converging shape)",
      status: () =>
        withMessages("complete-outage", [
          ["blocked", SIGNATURE],
          ["active", RW_ONLINE],
          ["blocked", SIGNATURE],
        ]),
      outcome: "skipped-by-guard",
    },
    {
      state: "only 2 units listed, both with the signature",
      status: () => patched("complete-outage", (units) => delete units[`${APP}/2`]),
      outcome: "blocker",
    },
    {
      state: "the signature on every listed unit but 4 units where 3 are expected",
      status: () =>
        patched("complete-outage", (units) => {
          units[`${APP}/3`] = { ...units[`${APP}/2`], "public-address": "192.168.100.99" };
        }),
      outcome: "blocker",
    },
    {
      state: "the signature on every unit but one unit agent lost",
      status: () =>
        patched("complete-outage", (units) => {
          units[`${APP}/2`]["juju-status"] = { current: "lost", message: "agent is not communicating with the server" };
        }),
      outcome: "blocker",
    },
    {
      state: 'pre-21.04 "MySQL InnoDB Cluster not healthy: None" on only some units (others pre-21.04 ready)',
      status: () =>
        withMessages("complete-outage", [
          ["blocked", OLD_SIGNATURE],
          ["active", "Unit is ready: Mode: R/W"],
          ["blocked", OLD_SIGNATURE],
        ]),
      outcome: "blocker",
    },
    {
      state: 'pre-21.04 "MySQL InnoDB Cluster not healthy: None" on only some units (one MySQL down)',
      status: () =>
        withMessages("complete-outage", [
          ["blocked", OLD_SIGNATURE],
          ["blocked", OLD_SIGNATURE],
          ["blocked", "MySQL is down on this instance"],
        ]),
      outcome: "blocker",
    },
  ];

  it.each(cases)("does not run the action on $state (outcome $outcome)", async ({ status, outcome }) => {
    const fake = mysqlFake(status());
    const result = await mysqlReboot(FLAGS, windowCtx(fake));

    expect(actionCalls(fake)).toEqual([]);
    expect(fake.calls.every((c) => !c.line.includes(ACTION) && !(c.input ?? "").includes(ACTION))).toBe(true);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
    expect(result.outcome).toBe(outcome);
    expect(result.exitCode).toBe(outcome === "blocker" ? 3 : 0);
    expect(result.verdict.summary).toContain(`${ACTION} NOT run`);
    if (outcome === "blocker") expect(result.verdict.route).toBeDefined();
    // No attempt was recorded either: the window is still free for a real outage.
    expect(fs.readdirSync(recordDir)).toEqual([]);
  });

  it("reports a juju status that fails as a failure and runs nothing", async () => {
    const fake = fakeExec()
      .on(STATUS_CALL, { exitCode: 1, stderr: "ERROR model c:openstack not found" })
      .on(ACTION_CALL, SUCCESS);
    const result = await mysqlReboot(FLAGS, windowCtx(fake));
    expect(actionCalls(fake)).toEqual([]);
    expect(result.exitCode).toBe(1);
    expect(result.verdict.route).toBe("tool-unavailable");
  });
});

describe("mysqlReboot on a confirmed complete outage", () => {
  it("runs the action exactly once, on the leader, with -m <model>, and passes on the success result", async () => {
    const fake = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, windowCtx(fake));

    expect(actionCalls(fake)).toEqual([`juju run -m ${MODEL} ${APP}/1 ${ACTION} --format=json`]);
    // Check first, act second: the status was read before the action.
    expect(fake.lines()[0]).toMatch(STATUS_CALL);
    expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(result.verdict.summary).toContain(`${APP}/1`);
  });

  it("also runs on the pre-21.04 wording of the signature on every unit", async () => {
    const fake = mysqlFake(
      withMessages(
        "complete-outage",
        [0, 1, 2].map(() => ["blocked", OLD_SIGNATURE]),
      ),
    );
    const result = await mysqlReboot(FLAGS, windowCtx(fake));
    expect(actionCalls(fake)).toHaveLength(1);
    expect(result.exitCode).toBe(0);
  });

  it("records the attempt before acting, so the window remembers it", async () => {
    const fake = mysqlFake(recorded("complete-outage"));
    await mysqlReboot(FLAGS, windowCtx(fake, "w1"));
    const marker = JSON.parse(fs.readFileSync(path.join(recordDir, "w1.mysql-reboot.json"), "utf8")) as {
      attempts: { unit: string; outcome?: string }[];
    };
    expect(marker.attempts).toEqual([expect.objectContaining({ unit: `${APP}/1`, outcome: "success" })]);
  });

  describe("when the leader is not the most up-to-date member (not-gtid-superset)", () => {
    const with218On2 = () =>
      patched("complete-outage", (units) => (units[`${APP}/2`]["public-address"] = "10.0.0.218"));

    it("runs it a second time on the unit whose address the error names, and no third time", async () => {
      const fake = mysqlFake(with218On2(), (n) => (n === 1 ? NOT_GTID_SUPERSET : SUCCESS));
      const ctx = windowCtx(fake);
      const result = await mysqlReboot(FLAGS, ctx);

      expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/1`, `${APP}/2`]);
      expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
      expect(ctx.out.lines.join("\n")).toContain("10.0.0.218");
    });

    it("stops as a blocker after the second attempt when that one fails too (no third call)", async () => {
      const fake = mysqlFake(with218On2(), () => NOT_GTID_SUPERSET);
      const result = await mysqlReboot(FLAGS, windowCtx(fake));

      expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/1`, `${APP}/2`]);
      expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
      expect(result.verdict.route).toBe("mysql-will-not-reform");
    });

    it("is a blocker with no second call when the address matches no unit", async () => {
      const fake = mysqlFake(recorded("complete-outage"), (n) => (n === 1 ? NOT_GTID_SUPERSET : SUCCESS));
      const result = await mysqlReboot(FLAGS, windowCtx(fake));

      expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/1`]);
      expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
      expect(result.verdict.summary).toContain("matches no unit");
    });

    it("is a blocker with no second call when the address is the leader's own", async () => {
      const status = patched("complete-outage", (units) => (units[`${APP}/1`]["public-address"] = "10.0.0.218"));
      const fake = mysqlFake(status, (n) => (n === 1 ? NOT_GTID_SUPERSET : SUCCESS));
      const result = await mysqlReboot(FLAGS, windowCtx(fake));

      expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/1`]);
      expect(result.exitCode).toBe(3);
    });
  });

  it("refuses a second run in the same window: blocker 'already ran', no action call", async () => {
    const first = mysqlFake(recorded("complete-outage"));
    await mysqlReboot(FLAGS, windowCtx(first, "w2"));
    expect(actionCalls(first)).toHaveLength(1);

    const second = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, windowCtx(second, "w2"));

    expect(actionCalls(second)).toEqual([]);
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict.summary).toContain("already ran");
    expect(result.verdict.details.join("\n")).toContain(`${APP}/1`);
  });

  it("counts an action that timed out as the window's one attempt", async () => {
    const first = fakeExec().on(STATUS_CALL, recorded("complete-outage")).on(ACTION_CALL, { timedOut: true });
    const r1 = await mysqlReboot(FLAGS, windowCtx(first, "w3"));
    expect(r1.exitCode).toBe(3);
    expect(r1.verdict.summary).toContain("timed out");

    const second = mysqlFake(recorded("complete-outage"));
    const r2 = await mysqlReboot(FLAGS, windowCtx(second, "w3"));
    expect(actionCalls(second)).toEqual([]);
    expect(r2.verdict.summary).toContain("already ran");
  });

  it("allows the action again in a new window", async () => {
    await mysqlReboot(FLAGS, windowCtx(mysqlFake(recorded("complete-outage")), "old-window"));
    const fake = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "new-window"));
    expect(actionCalls(fake)).toHaveLength(1);
    expect(result.exitCode).toBe(0);
  });

  it.each([
    ["without COLDSTART_WINDOW", { COLDSTART_RECORD_DIR: "/tmp/unused" }],
    ["without COLDSTART_RECORD_DIR", { COLDSTART_WINDOW: "w4" }],
  ])("is a blocker with no action call %s", async (_name, env) => {
    const fake = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, testContext(fake, { env: { HOME: "/home/operator", ...env } }));

    expect(actionCalls(fake)).toEqual([]);
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict.state).toBe("no-window");
  });
});

describe("mysqlCheck (read-only)", () => {
  const cases: { state: string; status: () => string; outcome: StepOutcome["outcome"]; exitCode: number }[] = [
    { state: "healthy", status: () => recorded("healthy"), outcome: "pass", exitCode: 0 },
    { state: "converging", status: () => recorded("converging-after-reboot-action"), outcome: "pass", exitCode: 0 },
    { state: "complete-outage", status: () => recorded("complete-outage"), outcome: "pass", exitCode: 0 },
    { state: "partial-outage", status: () => recorded("partial-outage"), outcome: "blocker", exitCode: 3 },
    {
      state: "unknown",
      status: () =>
        withMessages(
          "complete-outage",
          [0, 1, 2].map(() => ["blocked", "Something unheard of"]),
        ),
      outcome: "blocker",
      exitCode: 3,
    },
    { state: "not-ready", status: () => recorded("agents-lost"), outcome: "fail", exitCode: 1 },
  ];

  it.each(cases)("ends as $outcome on the $state state and only reads juju status", async (c) => {
    const fake = mysqlFake(c.status());
    const result = await mysqlCheck(FLAGS, testContext(fake));

    expect(result.outcome).toBe(c.outcome);
    expect(result.exitCode).toBe(c.exitCode);
    expect(result.verdict.state).toBe(c.state);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
  });
});

describe("the mysql-cluster-online gate", () => {
  it("passes once the cluster, converging at first, reported healthy for 3 polls in a row", async () => {
    const fake = mysqlFake((n) => (n === 1 ? recorded("converging-after-reboot-action") : recorded("healthy")));
    const ctx = testContext(fake);
    const result = await mysqlClusterOnline(GATE_FLAGS, ctx);

    // one converging poll, then 3 healthy in a row (GATE_SUCCESSES, steps/outcome.ts)
    expect(result).toMatchObject({ exitCode: 0, outcome: "pass", polls: 4 });
    expect(fake.count(STATUS_CALL)).toBe(4);
    expect(ctx.out.lines.filter((l) => / poll \d+: /.test(l))).toHaveLength(4);
  });

  it("fails at the timeout with route mysql-will-not-reform when it stays converging", async () => {
    const fake = mysqlFake(recorded("converging-after-reboot-action"));
    const ctx = testContext(fake);
    const started = ctx.clock.now();
    const result = await mysqlClusterOnline(GATE_FLAGS, ctx);

    const polls = GATE_FLAGS.timeout / GATE_FLAGS.interval + 1;
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail", polls });
    expect(result.verdict.route).toBe("mysql-will-not-reform");
    expect(fake.count(STATUS_CALL)).toBe(polls);
    expect(ctx.clock.now() - started).toBe(GATE_FLAGS.timeout);
    expect(actionCalls(fake)).toEqual([]);
  });

  it("stops at the first poll on a partial outage (an escalation, not a wait)", async () => {
    const fake = mysqlFake(recorded("partial-outage"));
    const result = await mysqlClusterOnline(GATE_FLAGS, testContext(fake));

    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker", polls: 1 });
    expect(result.verdict.route).toBe("mysql-partial-outage");
    expect(fake.count(STATUS_CALL)).toBe(1);
  });
});
