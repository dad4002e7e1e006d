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
import { mustParse, readFixture } from "../fixtures";
import { parseShowTask } from "../../gates/juju-action";
import { rebootTaskOutcome } from "../../gates/mysql";
import { stillPollTimes } from "../support/poll-times";
import { fakeExec, testContext, type Answer, type FakeExec, type Reply, type TestContext } from "../support/fake-exec";

const APP = "mysql-innodb-cluster";
const MODEL = "c:openstack";
const ACTION = "reboot-cluster-from-complete-outage";
const FLAGS = { model: MODEL, app: APP, units: 3 };
const GATE_FLAGS = { ...FLAGS, timeout: 600_000, interval: 15_000 };

const STATUS_CALL = new RegExp(`^juju status -m ${MODEL} ${APP} --format=json$`);
const ACTION_CALL = new RegExp(`^juju run -m ${MODEL} (\\S+) ${ACTION} --format=json --wait=(\\d+)s$`);
const OPERATIONS_CALL = new RegExp(`^juju operations -m ${MODEL} --format=json --apps ${APP} --actions ${ACTION}$`);
const SHOW_TASK_CALL = new RegExp(`^juju show-task -m ${MODEL} (\\d+) --format=json$`);
const unitOf = (line: string): string | undefined => ACTION_CALL.exec(line)?.[1];
/** `juju operations` with nothing to list (cmd/juju/action/listoperations.go). */
const NO_OPERATIONS: Reply = { stdout: "", stderr: "no matching operations\n" };

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
/** juju prints the failed task's JSON, then fails the command (common.go waitForTasks): exit 1 with JSON. */
const NOT_GTID_SUPERSET: Reply = {
  stdout: readFixture(`juju/${APP}.reboot-action.not-gtid-superset.juju3.json`),
  stderr: `ERROR the following task failed:\n - id "12" with return code 1\n\nuse 'juju show-task' to inspect the failure\n`,
  exitCode: 1,
};
/** `juju run` whose wait ran out (no JSON, exit 1): the recorded shape, for task 14 on the leader. */
const TIMED_OUT: Reply = {
  stdout: "",
  stderr: readFixture("juju/mysql-innodb-cluster.reboot-action.timed-out.assembled.stderr")
    .replaceAll("cluster-2", "cluster-1")
    .replace(`${APP}/2`, `${APP}/1`),
  exitCode: 1,
};
const RUNNING_TASK = readFixture("juju/show-task.reboot-action.running.assembled.json").replace(`${APP}/2`, `${APP}/1`);
const COMPLETED_TASK = readFixture("juju/show-task.reboot-action.completed.assembled.json").replace(
  `${APP}/2`,
  `${APP}/1`,
);

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

function mysqlFake(status: string | ((n: number) => string), action: (n: number) => Answer = () => SUCCESS): FakeExec {
  return fakeExec()
    .on(STATUS_CALL, (_call, n) => (typeof status === "string" ? status : status(n)))
    .on(OPERATIONS_CALL, NO_OPERATIONS)
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

const actionCalls = (fake: FakeExec): string[] => fake.lines(ACTION_CALL);

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
    const ctx = windowCtx(fake);
    const result = await mysqlReboot(FLAGS, ctx);

    expect(actionCalls(fake)).toEqual([]);
    expect(fake.calls.every((c) => !c.line.includes(ACTION) && !(c.input ?? "").includes(ACTION))).toBe(true);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
    expect(result.outcome).toBe(outcome);
    expect(result.exitCode).toBe(outcome === "blocker" ? 3 : 0);
    expect(result.verdict.summary).toContain(`${ACTION} NOT run`);
    if (outcome === "blocker") expect(result.verdict.route).toBeDefined();
    // The console says at once that the guard skipped it; never that it ran.
    expect(ctx.out.lines.some((l) => l.startsWith("RAN:"))).toBe(false);
    if (outcome === "skipped-by-guard")
      expect(ctx.out.lines).toContain(
        `SKIPPED: ${ACTION} (guard: not a complete outage, healthy)`.replace("healthy", result.verdict.state),
      );
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
  it("runs the action exactly once, on the leader, with -m <model> and an explicit --wait, and passes on the success result", async () => {
    let linesAtAction: string[] = [];
    const fake = mysqlFake(recorded("complete-outage")).on(ACTION_CALL, () => {
      linesAtAction = [...ctx.out.lines];
      return SUCCESS;
    });
    const ctx = windowCtx(fake);
    const result = await mysqlReboot(FLAGS, ctx);
    // The console said RAN before juju run started (drills and maintenance show it at that moment).
    expect(linesAtAction.filter((l) => /^(RAN|SKIPPED):/.test(l))).toEqual([
      `RAN: ${ACTION} on ${APP}/1 (complete outage on all 3 units; window 2026-12-05-roosevelt)`,
    ]);

    // no step budget in this context: 10 calls' worth (20 min), less 30 s for juju itself
    expect(actionCalls(fake)).toEqual([`juju run -m ${MODEL} ${APP}/1 ${ACTION} --format=json --wait=1170s`]);
    // Check first, list the action's operations (the baseline a resume finds its task by), act last.
    expect(fake.lines()).toEqual([
      `juju status -m ${MODEL} ${APP} --format=json`,
      `juju operations -m ${MODEL} --format=json --apps ${APP} --actions ${ACTION}`,
      `juju run -m ${MODEL} ${APP}/1 ${ACTION} --format=json --wait=1170s`,
    ]);
    expect(fake.callsTo(ACTION_CALL)[0].timeoutMs).toBe(1_200_000);
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

  it("takes the window's marker before acting (the attempt and its operations baseline), and records the outcome", async () => {
    const file = path.join(recordDir, "w1.mysql-reboot.json");
    let atRun: unknown;
    const fake = mysqlFake(recorded("complete-outage"), () => {
      atRun = JSON.parse(fs.readFileSync(file, "utf8"));
      return SUCCESS;
    });
    await mysqlReboot(FLAGS, windowCtx(fake, "w1"));
    expect(atRun).toEqual({ window: "w1", attempts: [{ unit: `${APP}/1`, at: expect.any(String), after: 0 }] });
    const marker = JSON.parse(fs.readFileSync(file, "utf8")) as {
      attempts: { unit: string; outcome?: string }[];
    };
    expect(marker.attempts).toEqual([expect.objectContaining({ unit: `${APP}/1`, taskId: "14", outcome: "success" })]);
  });

  it("takes the marker exclusively: one created meanwhile by another run stops this one before the action", async () => {
    const file = path.join(recordDir, "w5.mysql-reboot.json");
    const fake = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, () => {
      fs.writeFileSync(
        file,
        JSON.stringify({ window: "w5", attempts: [{ unit: `${APP}/1`, at: "x", outcome: "success" }] }),
      );
      return NO_OPERATIONS;
    });
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "w5"));
    expect(actionCalls(fake)).toEqual([]);
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict.state).toBe("already-attempted");
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
    const ctx = windowCtx(second, "w2");
    const result = await mysqlReboot(FLAGS, ctx);

    expect(actionCalls(second)).toEqual([]);
    expect(ctx.out.lines).toContain(`SKIPPED: ${ACTION} (guard: already attempted in window w2)`);
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict.summary).toContain("already ran");
    expect(result.verdict.details.join("\n")).toContain(`${APP}/1`);
  });

  it("a juju run killed without an answer whose task cannot be found is a blocker naming the marker; never run again", async () => {
    const first = mysqlFake(recorded("complete-outage"), () => ({ timedOut: true }));
    const r1 = await mysqlReboot(FLAGS, windowCtx(first, "w3"));
    const file = path.join(recordDir, "w3.mysql-reboot.json");
    expect(r1).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(r1.verdict.state).toBe("attempt-not-found");
    expect(r1.verdict.summary).toContain(file);
    // looked for it: the baseline listing, then the listing after the kill
    expect(first.count(OPERATIONS_CALL)).toBe(2);

    const second = mysqlFake(recorded("complete-outage"));
    const r2 = await mysqlReboot(FLAGS, windowCtx(second, "w3"));
    expect(actionCalls(second)).toEqual([]);
    expect(r2.verdict.state).toBe("attempt-not-found");
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
    expect(result.verdict.summary).toBe(
      `${ACTION} NOT run: it must run inside a maintenance window (COLDSTART_WINDOW and COLDSTART_RECORD_DIR), so that it runs at most once per window`,
    );
    expect(result.verdict.route).toBe("mysql-will-not-reform");
  });
});

describe("mysqlReboot when the action outlives juju's wait (it keeps running on the unit agent)", () => {
  const markerOf = (window: string) =>
    JSON.parse(fs.readFileSync(path.join(recordDir, `${window}.mysql-reboot.json`), "utf8")) as {
      attempts: { unit: string; taskId?: string; outcome?: string; after?: number }[];
    };
  const withTasks = (fake: FakeExec, task: (n: number) => string) =>
    fake.on(SHOW_TASK_CALL, (call, n) =>
      SHOW_TASK_CALL.exec(call.line)?.[1] === "14" ? task(n) : { exitCode: 1, stderr: "ERROR id not found\n" },
    );

  it("follows the task juju named (juju show-task) to its end and never runs the action twice", async () => {
    const fake = withTasks(
      mysqlFake(recorded("complete-outage"), () => TIMED_OUT),
      (n) => (n < 3 ? RUNNING_TASK : COMPLETED_TASK),
    );
    const ctx = windowCtx(fake, "slow-1");
    const started = ctx.clock.now();
    const result = await mysqlReboot(FLAGS, ctx);

    expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(result.verdict.summary).toContain("task 14");
    expect(actionCalls(fake)).toHaveLength(1);
    expect(fake.lines(SHOW_TASK_CALL)).toEqual(Array(3).fill(`juju show-task -m ${MODEL} 14 --format=json`));
    // polled every commandTimeout / 8, not in a tight loop
    expect(ctx.clock.now() - started).toBe(2 * 15_000);
    expect(ctx.out.lines.join("\n")).toMatch(
      /juju stopped waiting for unit mysql-innodb-cluster\/1.*following task 14/,
    );
    expect(markerOf("slow-1").attempts).toEqual([expect.objectContaining({ taskId: "14", outcome: "success" })]);
  });

  it("reads the verdict from the task, not from juju's exit code", async () => {
    const completedExit1 = mysqlFake(recorded("complete-outage"), () => ({ stdout: SUCCESS, exitCode: 1 }));
    expect(await mysqlReboot(FLAGS, windowCtx(completedExit1, "e1"))).toMatchObject({ exitCode: 0, outcome: "pass" });

    const failedExit0 = JSON.stringify({
      [`${APP}/1`]: {
        id: "14",
        message: "Reboot cluster from complete outage failed.",
        status: "failed",
        unit: `${APP}/1`,
      },
    });
    const fake = mysqlFake(recorded("complete-outage"), () => ({ stdout: failedExit0, exitCode: 0 }));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "e2"));
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict.summary).toContain("Reboot cluster from complete outage failed.");
  });

  it("still running at the end of the budget: a failure naming the task; the next run follows it and passes without juju run", async () => {
    const first = withTasks(
      mysqlFake(recorded("complete-outage"), () => TIMED_OUT),
      () => RUNNING_TASK,
    );
    const ctx = windowCtx(first, "slow-2");
    ctx.deadline = ctx.clock.now() + 300_000;
    const r1 = await mysqlReboot(FLAGS, ctx);

    expect(r1).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(r1.verdict.state).toBe("action-running");
    expect(r1.verdict.summary).toMatch(
      /task 14 is running at the end of the step's budget.*never starts the action again/,
    );
    expect(ctx.clock.now()).toBeLessThanOrEqual(ctx.deadline);
    expect(markerOf("slow-2").attempts).toEqual([
      { unit: `${APP}/1`, at: expect.any(String), after: 0, operationId: "13", taskId: "14" },
    ]);

    // the resume: the cluster already shows the action's effect; the task is followed, not re-run
    const second = withTasks(mysqlFake(recorded("converging-after-reboot-action")), () => COMPLETED_TASK);
    const r2 = await mysqlReboot(FLAGS, windowCtx(second, "slow-2"));
    expect(r2).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(actionCalls(second)).toEqual([]);
    expect(second.lines()).toEqual([
      `juju status -m ${MODEL} ${APP} --format=json`,
      `juju show-task -m ${MODEL} 14 --format=json`,
    ]);
    expect(markerOf("slow-2").attempts[0].outcome).toBe("success");
  });

  it("a run killed before juju named the task: the resume finds it in juju operations (above the baseline) and follows it", async () => {
    const before = readFixture("juju/operations.reboot-action.assembled.json");
    const ops = JSON.parse(before) as Record<string, unknown>;
    const mine = {
      ...(ops["13"] as object),
      summary: `${ACTION} run on unit-mysql-innodb-cluster-1`,
      tasks: { "16": { host: `${APP}/1`, status: "running", timing: {} } },
    };
    const after = JSON.stringify({ ...ops, "15": mine });
    const first = mysqlFake(recorded("complete-outage"), () => ({ timedOut: true })).on(OPERATIONS_CALL, (_c, n) =>
      n === 1 ? before : after,
    );
    const done = COMPLETED_TASK.replace('"id":"14"', '"id":"16"');
    first.on(SHOW_TASK_CALL, (call) =>
      call.line.includes(" 16 ") ? done : { exitCode: 1, stderr: "ERROR id not found\n" },
    );
    const result = await mysqlReboot(FLAGS, windowCtx(first, "kill-1"));

    expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(actionCalls(first)).toHaveLength(1);
    // operation 13 (task 14 on /2) and 11 (task 12 on /1) were there before the attempt: not ours
    expect(first.lines(SHOW_TASK_CALL)).toEqual([`juju show-task -m ${MODEL} 16 --format=json`]);
    expect(markerOf("kill-1").attempts).toEqual([
      expect.objectContaining({ after: 13, operationId: "15", taskId: "16", outcome: "success" }),
    ]);
  });

  it("a resume that finds a refusal on the leader and no second attempt runs the second attempt only", async () => {
    fs.writeFileSync(
      path.join(recordDir, "w6.mysql-reboot.json"),
      JSON.stringify({
        window: "w6",
        attempts: [
          { unit: `${APP}/1`, at: "t", after: 0, taskId: "12", outcome: "not-most-updated", address: "10.0.0.218" },
        ],
      }),
    );
    const status = patched("complete-outage", (units) => (units[`${APP}/2`]["public-address"] = "10.0.0.218"));
    const fake = mysqlFake(status);
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "w6"));
    expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/2`]);
    expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
  });

  it("--wait comes from the step's deadline, and a budget too small to wait for the action runs nothing", async () => {
    const fake = mysqlFake(recorded("complete-outage"));
    const ctx = windowCtx(fake, "b1");
    ctx.deadline = ctx.clock.now() + 100_000;
    await mysqlReboot(FLAGS, ctx);
    expect(actionCalls(fake)).toEqual([`juju run -m ${MODEL} ${APP}/1 ${ACTION} --format=json --wait=70s`]);
    expect(fake.callsTo(ACTION_CALL)[0].timeoutMs).toBeLessThanOrEqual(100_000);

    const short = mysqlFake(recorded("complete-outage"));
    const tight = windowCtx(short, "b2");
    tight.deadline = tight.clock.now() + 20_000;
    const result = await mysqlReboot(FLAGS, tight);
    expect(actionCalls(short)).toEqual([]);
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.state).toBe("no-time-left");
    expect(fs.existsSync(path.join(recordDir, "b2.mysql-reboot.json"))).toBe(false);
  });

  it("juju that cannot start runs nothing and leaves the window free", async () => {
    const fake = mysqlFake(recorded("complete-outage"), () => ({ notFound: true }));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "nf"));
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.summary).toContain("NOT run");
    expect(fs.existsSync(path.join(recordDir, "nf.mysql-reboot.json"))).toBe(false);
  });

  it("a stop request while following the task stops at that safe point; the marker keeps the task for the resume", async () => {
    const fake = withTasks(
      mysqlFake(recorded("complete-outage"), () => TIMED_OUT),
      () => RUNNING_TASK,
    );
    const ctx = windowCtx(fake, "stop-1");
    ctx.cancelled = () => (fake.count(SHOW_TASK_CALL) >= 1 ? "stop requested (test)" : undefined);
    const result = await mysqlReboot(FLAGS, ctx);
    expect(result).toMatchObject({ outcome: "cancelled" });
    expect(result.verdict.summary).toMatch(/keeps running on mysql-innodb-cluster\/1 \(task 14\)/);
    expect(fake.count(SHOW_TASK_CALL)).toBe(1);
    expect(markerOf("stop-1").attempts[0]).toEqual(expect.objectContaining({ taskId: "14" }));
    expect(markerOf("stop-1").attempts[0].outcome).toBeUndefined();
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

    // a still verdict: the schedule's polls up to the timeout (runtime/poll-schedule.ts)
    const polls = stillPollTimes(GATE_FLAGS.timeout, GATE_FLAGS.interval).length;
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

/**
 * Issue #22: the guards a mutation review found untested. Each case names the one guard in
 * steps/mysql.ts that, removed or loosened, would let `juju run` reach the cluster here.
 */
describe("mysqlReboot's last guards before a juju run (issue #22)", () => {
  /** Complete outage, with the address the recorded refusal names (10.0.0.218) on /2. */
  const with218On2 = (name: Recorded = "complete-outage") =>
    patched(name, (units) => (units[`${APP}/2`]["public-address"] = "10.0.0.218"));
  const ADDRESS_OF_0 = "192.168.100.54";
  const markerOf = (window: string) =>
    JSON.parse(fs.readFileSync(path.join(recordDir, `${window}.mysql-reboot.json`), "utf8")) as {
      attempts: { unit: string; taskId?: string; outcome?: string; address?: string }[];
    };
  const writeMarker = (window: string, attempts: object[]) =>
    fs.writeFileSync(path.join(recordDir, `${window}.mysql-reboot.json`), JSON.stringify({ window, attempts }));
  /** The leader's recorded refusal (task 12), as the marker keeps it. */
  const LEADER_REFUSED = {
    unit: `${APP}/1`,
    at: "2025-10-14T11:19:31.000Z",
    after: 0,
    taskId: "12",
    outcome: "not-most-updated",
    address: "10.0.0.218",
  };

  it("the attempt limit: a resumed second attempt whose task refuses and names a THIRD unit runs no third juju run", async () => {
    // The recorded refusal, now from /2's own task 14: /2 is not the most up-to-date either, /0 is.
    const refusal = (JSON.parse(NOT_GTID_SUPERSET.stdout as string) as Record<string, { results: { output: string } }>)[
      `${APP}/1`
    ];
    const refusedOn2 = JSON.stringify({
      ...refusal,
      id: "14",
      unit: `${APP}/2`,
      results: {
        ...refusal.results,
        output: refusal.results.output
          .replace("'10.0.0.218:3306'", `'${ADDRESS_OF_0}:3306'`)
          .replace("(10.0.0.208:3306)", "(10.0.0.218:3306)"),
      },
    });
    // the fixture really is a refusal naming a third unit (not /2 itself, which the same-unit check would stop)
    expect(rebootTaskOutcome(`${APP}/2`, mustParse(parseShowTask(refusedOn2)))).toEqual({
      state: "not-most-updated",
      address: ADDRESS_OF_0,
    });

    // Run 1: the leader refuses naming /2; the second attempt on /2 outlives juju's wait and the budget.
    const timedOutOn2: Reply = {
      stdout: "",
      stderr: readFixture("juju/mysql-innodb-cluster.reboot-action.timed-out.assembled.stderr"),
      exitCode: 1,
    };
    const first = mysqlFake(with218On2(), (n) => (n === 1 ? NOT_GTID_SUPERSET : timedOutOn2)).on(
      SHOW_TASK_CALL,
      readFixture("juju/show-task.reboot-action.running.assembled.json"),
    );
    const ctx1 = windowCtx(first, "limit-1");
    ctx1.deadline = ctx1.clock.now() + 600_000;
    const r1 = await mysqlReboot(FLAGS, ctx1);
    expect(actionCalls(first).map(unitOf)).toEqual([`${APP}/1`, `${APP}/2`]);
    expect(r1.verdict.state).toBe("action-running");
    expect(markerOf("limit-1").attempts).toEqual([
      expect.objectContaining({ unit: `${APP}/1`, outcome: "not-most-updated", address: "10.0.0.218" }),
      expect.objectContaining({ unit: `${APP}/2`, taskId: "14" }),
    ]);
    expect(markerOf("limit-1").attempts[1].outcome).toBeUndefined();

    // Run 2, the resume: /2's task ends refusing and naming /0; the cluster still shows the outage.
    const second = mysqlFake(with218On2()).on(SHOW_TASK_CALL, refusedOn2);
    const ctx2 = windowCtx(second, "limit-1");
    const r2 = await mysqlReboot(FLAGS, ctx2);

    expect(actionCalls(second)).toEqual([]);
    expect(second.lines()).toEqual([
      `juju status -m ${MODEL} ${APP} --format=json`,
      `juju show-task -m ${MODEL} 14 --format=json`,
    ]);
    // sent at most twice in the window, whatever the error names
    expect([...actionCalls(first), ...actionCalls(second)]).toHaveLength(2);
    expect(ctx2.out.lines.some((l) => l.startsWith("RAN:"))).toBe(false);
    expect(r2).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(r2.verdict.state).toBe("action-failed");
    expect(r2.verdict.summary).toContain(`still not the most up-to-date member (${ADDRESS_OF_0})`);
    expect(markerOf("limit-1").attempts).toHaveLength(2);
    expect(markerOf("limit-1").attempts[1]).toMatchObject({ outcome: "not-most-updated", address: ADDRESS_OF_0 });
  });

  it.each<[string, Recorded]>([
    ["healthy", "healthy"],
    ["converging after someone else's reboot action", "converging-after-reboot-action"],
  ])(
    "the outage re-check: a resume holding the leader's refusal, the cluster %s since, runs nothing",
    async (_name, now) => {
      writeMarker("reformed", [LEADER_REFUSED]);
      const fake = mysqlFake(with218On2(now));
      const ctx = windowCtx(fake, "reformed");
      const result = await mysqlReboot(FLAGS, ctx);

      expect(actionCalls(fake)).toEqual([]);
      expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
      expect(ctx.out.lines.some((l) => l.startsWith("RAN:"))).toBe(false);
      expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
      expect(result.verdict.summary).toContain(
        `${ACTION} NOT run on ${APP}/2: the status no longer shows a complete outage`,
      );
      expect(result.verdict.route).toBe("mysql-will-not-reform");
      expect(markerOf("reformed").attempts).toEqual([LEADER_REFUSED]);
    },
  );

  it("the cancel check before the first attempt: a stop already requested sends no juju run and leaves the window free", async () => {
    const fake = mysqlFake(recorded("complete-outage"));
    const ctx = windowCtx(fake, "cancel-1");
    ctx.cancelled = () => "stop requested (test)";
    const result = await mysqlReboot(FLAGS, ctx);

    expect(actionCalls(fake)).toEqual([]);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
    expect(result.outcome).toBe("cancelled");
    expect(result.verdict.summary).toContain(`${ACTION} NOT run: stop requested (test)`);
    expect(fs.existsSync(path.join(recordDir, "cancel-1.mysql-reboot.json"))).toBe(false);
  });

  it("the cancel check before the second attempt: a stop requested during the leader's refused attempt sends no second juju run", async () => {
    const fake = mysqlFake(with218On2(), () => NOT_GTID_SUPERSET);
    const ctx = windowCtx(fake, "cancel-2");
    ctx.cancelled = () => (fake.count(ACTION_CALL) >= 1 ? "stop requested (test)" : undefined);
    const result = await mysqlReboot(FLAGS, ctx);

    expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/1`]);
    expect(result.outcome).toBe("cancelled");
    expect(result.verdict.summary).toContain(`${ACTION} NOT run on ${APP}/2: stop requested (test)`);
    expect(markerOf("cancel-2").attempts).toEqual([
      expect.objectContaining({ unit: `${APP}/1`, outcome: "not-most-updated", address: "10.0.0.218" }),
    ]);
  });

  it("the same cancel check on a resume holding the leader's refusal: no juju run", async () => {
    writeMarker("cancel-3", [LEADER_REFUSED]);
    const fake = mysqlFake(with218On2());
    const ctx = windowCtx(fake, "cancel-3");
    ctx.cancelled = () => "stop requested (test)";
    const result = await mysqlReboot(FLAGS, ctx);

    expect(actionCalls(fake)).toEqual([]);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
    expect(result.outcome).toBe("cancelled");
    expect(markerOf("cancel-3").attempts).toEqual([LEADER_REFUSED]);
  });
});

/**
 * Issue #22: what the reboot step says and records on each path (the verdict, the console, the
 * marker), so an operator reading it after a kill, a refusal or a lost task knows what ran.
 */
describe("mysqlReboot: verdicts, console lines and the marker on each path (issue #22)", () => {
  const markerFile = (window: string) => path.join(recordDir, `${window}.mysql-reboot.json`);
  const markerOf = (window: string) =>
    JSON.parse(fs.readFileSync(markerFile(window), "utf8")) as {
      attempts: { unit: string; taskId?: string; outcome?: string; after?: number }[];
    };
  const writeMarker = (window: string, attempts: object[]) =>
    fs.writeFileSync(markerFile(window), JSON.stringify({ window, attempts }));
  const with218On2 = () => patched("complete-outage", (units) => (units[`${APP}/2`]["public-address"] = "10.0.0.218"));
  const RUNNING_ON_1 = { unit: `${APP}/1`, at: "2025-10-14T11:20:41.000Z", after: 0, operationId: "13", taskId: "14" };

  it("the first run says what it ran and what juju answered, task and outcome", async () => {
    const fake = mysqlFake(recorded("complete-outage"));
    const ctx = windowCtx(fake, "say-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines).toEqual([
      `RAN: ${ACTION} on ${APP}/1 (complete outage on all 3 units; window say-1)`,
      `juju run ${APP}/1 ${ACTION} (task 14): completed, outcome Success`,
    ]);
    expect(result.verdict).toMatchObject({
      state: "rebooted",
      summary: `${ACTION} completed on ${APP}/1 (task 14); the cluster-online gate now polls until every unit reassesses`,
      details: [],
    });
  });

  it("a result with no task id in juju's stderr takes the task id from the result itself", async () => {
    const doc = JSON.parse(SUCCESS) as Record<string, { id: string }>;
    const fake = mysqlFake(recorded("complete-outage"), () => ({ stdout: SUCCESS, stderr: "" }));
    await mysqlReboot(FLAGS, windowCtx(fake, "id-1"));
    expect(markerOf("id-1").attempts[0]).toMatchObject({
      taskId: String(Object.values(doc)[0].id),
      outcome: "success",
    });
  });

  it("a refusal naming the leader's own address: a blocker that says so and lists every unit's addresses", async () => {
    const status = patched("complete-outage", (units) => (units[`${APP}/1`]["public-address"] = "10.0.0.218"));
    const fake = mysqlFake(status, () => NOT_GTID_SUPERSET);
    const ctx = windowCtx(fake, "same-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(result.verdict).toMatchObject({ state: "action-failed", route: "mysql-will-not-reform" });
    expect(result.verdict.summary).toBe(
      `${ACTION} on ${APP}/1 refused: not the most up-to-date member; it names 10.0.0.218, which is the same unit`,
    );
    expect(result.verdict.details).toEqual([
      `${APP}/0: 192.168.100.54`,
      `${APP}/1: 10.0.0.218, 192.168.100.46`,
      `${APP}/2: 192.168.100.52`,
    ]);
    expect(ctx.out.lines).toContain(
      `juju run ${APP}/1 ${ACTION} (task 12): refused: not the most up-to-date member; it names 10.0.0.218`,
    );
  });

  it("the second attempt is said as such, and a failure there names the task and the address", async () => {
    const fake = mysqlFake(with218On2(), () => NOT_GTID_SUPERSET);
    const ctx = windowCtx(fake, "second-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines).toContain(
      `${APP}/1 is not the most up-to-date member; running ${ACTION} once on ${APP}/2 (10.0.0.218) as the error directs`,
    );
    expect(ctx.out.lines).toContain(`RAN: ${ACTION} on ${APP}/2 (second and last attempt, as the error directs)`);
    expect(result.verdict.summary).toBe(
      `${ACTION} on ${APP}/2 (task 12) failed: still not the most up-to-date member (10.0.0.218)`,
    );
    expect(markerOf("second-1").attempts.map((a) => [a.unit, a.outcome])).toEqual([
      [`${APP}/1`, "not-most-updated"],
      [`${APP}/2`, "not-most-updated"],
    ]);
  });

  it("a failed task: a blocker with the action's own message, the marker keeps it", async () => {
    const failed = JSON.stringify({
      [`${APP}/1`]: {
        id: "14",
        message: "Reboot cluster from complete outage failed.",
        status: "failed",
        unit: `${APP}/1`,
      },
    });
    const fake = mysqlFake(recorded("complete-outage"), () => ({ stdout: failed, exitCode: 1 }));
    const ctx = windowCtx(fake, "failed-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(result.verdict.summary).toBe(
      `${ACTION} on ${APP}/1 (task 14) failed: ${APP}/1: action failed: Reboot cluster from complete outage failed.`,
    );
    expect(ctx.out.lines).toContain(
      `juju run ${APP}/1 ${ACTION} (task 14): failed: ${APP}/1: action failed: Reboot cluster from complete outage failed.`,
    );
    expect(markerOf("failed-1").attempts[0].outcome).toBe(
      `failed: ${APP}/1: action failed: Reboot cluster from complete outage failed.`,
    );
  });

  it("juju stopping its wait is said with the --wait it had and the task it follows", async () => {
    const fake = mysqlFake(recorded("complete-outage"), () => TIMED_OUT).on(SHOW_TASK_CALL, COMPLETED_TASK);
    const ctx = windowCtx(fake, "wait-1");
    await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines).toContain(
      `juju run ${APP}/1 ${ACTION} --wait=1170s: juju stopped waiting for unit ${APP}/1; the action runs on the unit agent, not in juju: following task 14 to its end, never running it again`,
    );
    expect(ctx.out.lines).toContain(`task 14 of ${ACTION} on ${APP}/1 completed: completed, outcome Success`);
  });

  it("still running at the budget's end: the verdict names the window, the task and the marker", async () => {
    const fake = mysqlFake(recorded("complete-outage"), () => TIMED_OUT).on(SHOW_TASK_CALL, RUNNING_TASK);
    const ctx = windowCtx(fake, "run-1");
    ctx.deadline = ctx.clock.now() + 300_000;
    const result = await mysqlReboot(FLAGS, ctx);
    expect(result.verdict.summary).toBe(
      `${ACTION} on ${APP}/1 (task 14): task 14 is running at the end of the step's budget. It keeps running on the unit; the next run of this step in window run-1 follows task 14 to its end and never starts the action again`,
    );
    expect(result.verdict.details).toEqual([`marker: ${markerFile("run-1")}`]);
  });

  it("a show-task that cannot be read is retried; at the budget's end the verdict says it was unreadable", async () => {
    const fake = mysqlFake(recorded("complete-outage"), () => TIMED_OUT).on(SHOW_TASK_CALL, {
      exitCode: 1,
      stderr: "ERROR connection is shut down\n",
    });
    const ctx = windowCtx(fake, "unread-1");
    ctx.deadline = ctx.clock.now() + 300_000;
    const result = await mysqlReboot(FLAGS, ctx);
    expect(result.verdict.state).toBe("action-running");
    expect(result.verdict.summary).toMatch(/task 14 is unreadable \(.*connection is shut down.*\) at the end/);
    expect(fake.count(SHOW_TASK_CALL)).toBeGreaterThan(1);
  });

  it("follows a task every commandTimeout / 8, but never less often than every 30 s", async () => {
    const fake = mysqlFake(recorded("complete-outage"), () => TIMED_OUT).on(SHOW_TASK_CALL, (_c, n) =>
      n < 3 ? RUNNING_TASK : COMPLETED_TASK,
    );
    const ctx = testContext(fake, {
      env: { HOME: "/home/operator", COLDSTART_WINDOW: "pace-1", COLDSTART_RECORD_DIR: recordDir },
      callTimeoutMs: 400_000,
    });
    const started = ctx.clock.now();
    expect((await mysqlReboot(FLAGS, ctx)).exitCode).toBe(0);
    expect(ctx.clock.now() - started).toBe(2 * 30_000);
  });

  it("a resume follows the earlier attempt's task and says so first, in the console and the verdict", async () => {
    writeMarker("res-1", [RUNNING_ON_1]);
    const fake = mysqlFake(recorded("complete-outage")).on(SHOW_TASK_CALL, COMPLETED_TASK);
    const ctx = windowCtx(fake, "res-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines[0]).toBe(
      `FOLLOWED: ${ACTION} on ${APP}/1: the earlier attempt (task 14), started at ${RUNNING_ON_1.at}, recorded no outcome (${markerFile("res-1")}); following its task, not run again`,
    );
    expect(result.verdict.summary).toBe(
      `followed the earlier attempt, task 14; not run again: ${ACTION} completed on ${APP}/1 (task 14); the cluster-online gate now polls until every unit reassesses`,
    );
    expect(actionCalls(fake)).toEqual([]);
  });

  it("a resume whose earlier task refuses, naming another unit: the second attempt runs, and the verdict says which ran", async () => {
    writeMarker("res-2", [{ ...RUNNING_ON_1, taskId: "12" }]);
    const refusal = (JSON.parse(NOT_GTID_SUPERSET.stdout as string) as Record<string, object>)[`${APP}/1`];
    const fake = mysqlFake(with218On2()).on(SHOW_TASK_CALL, JSON.stringify(refusal));
    const ctx = windowCtx(fake, "res-2");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/2`]);
    expect(result.verdict.summary).toMatch(
      /^followed the earlier attempt, task 12; not run again \(then the second attempt its error directs: the RAN: line\): /,
    );
  });

  it("a resume whose earlier attempt has no task id and no baseline: a blocker saying so; 'its task not found'", async () => {
    writeMarker("res-3", [{ unit: `${APP}/1`, at: "2025-10-14T11:20:41.000Z" }]);
    const fake = mysqlFake(recorded("complete-outage"));
    const ctx = windowCtx(fake, "res-3");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines[0]).toContain(`the earlier attempt, started at 2025-10-14T11:20:41.000Z, recorded no outcome`);
    expect(result.verdict.state).toBe("attempt-not-found");
    expect(result.verdict.summary).toBe(
      `followed the earlier attempt, its task not found; not run again: ${ACTION} was started on ${APP}/1 at 2025-10-14T11:20:41.000Z but the marker records no task id and no operations baseline to find it by; it may never have been enqueued. Check \`juju operations --apps ${APP} --actions ${ACTION}\`; only if it never ran, remove ${markerFile("res-3")} to allow one attempt`,
    );
    expect(result.verdict.details).toEqual([`marker: ${markerFile("res-3")}`]);
    expect(fake.lines()).toEqual([`juju status -m ${MODEL} ${APP} --format=json`]);
  });

  it("finding the task: a listing that fails leaves it running (unknown), two candidates are not one", async () => {
    writeMarker("find-1", [{ unit: `${APP}/1`, at: "t", after: 10 }]);
    const down = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, { exitCode: 1, stderr: "ERROR no API\n" });
    const r1 = await mysqlReboot(FLAGS, windowCtx(down, "find-1"));
    expect(r1.verdict.state).toBe("action-running");
    expect(r1.verdict.summary).toContain("its task could not be looked up: ");
    expect(r1.verdict.summary).toContain("no API");

    const ops = JSON.parse(readFixture("juju/operations.reboot-action.assembled.json")) as Record<string, object>;
    const task = (id: string) => ({
      ...(ops["13"] as object),
      summary: `${ACTION} run on unit-mysql-innodb-cluster-1`,
      tasks: { [id]: { host: `${APP}/1`, status: "running", timing: {} } },
    });
    writeMarker("find-2", [{ unit: `${APP}/1`, at: "t", after: 13 }]);
    const two = mysqlFake(recorded("complete-outage")).on(
      OPERATIONS_CALL,
      JSON.stringify({ ...ops, "15": task("16"), "17": task("18") }),
    );
    const r2 = await mysqlReboot(FLAGS, windowCtx(two, "find-2"));
    expect(r2.verdict.state).toBe("attempt-not-found");
    expect(r2.verdict.summary).toContain(
      `juju operations lists 2 tasks of it on ${APP}/1 after operation 13 (16, 18), not one`,
    );

    writeMarker("find-3", [{ unit: `${APP}/1`, at: "t", after: 13 }]);
    const none = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, JSON.stringify(ops));
    const r3 = await mysqlReboot(FLAGS, windowCtx(none, "find-3"));
    expect(r3.verdict.summary).toContain(`juju operations lists no task of it on ${APP}/1 after operation 13`);
  });

  it("a found task is said with its operation and status, and kept in the marker", async () => {
    const ops = JSON.parse(readFixture("juju/operations.reboot-action.assembled.json")) as Record<string, object>;
    const mine = {
      ...(ops["13"] as object),
      summary: `${ACTION} run on unit-mysql-innodb-cluster-1`,
      tasks: { "16": { host: `${APP}/1`, status: "running", timing: {} } },
    };
    writeMarker("found-1", [{ unit: `${APP}/1`, at: "t", after: 13 }]);
    const fake = mysqlFake(recorded("complete-outage"))
      .on(OPERATIONS_CALL, JSON.stringify({ ...ops, "15": mine }))
      .on(SHOW_TASK_CALL, COMPLETED_TASK.replace('"id":"14"', '"id":"16"'));
    const ctx = windowCtx(fake, "found-1");
    await mysqlReboot(FLAGS, ctx);
    expect(ctx.out.lines).toContain(`found task 16 (operation 15) of ${ACTION} on ${APP}/1: running`);
    expect(markerOf("found-1").attempts[0]).toMatchObject({ taskId: "16", outcome: "success" });
  });

  it("following an attempt another run began a moment ago: a task not listed yet is looked for again, then followed", async () => {
    // the other run took the marker and is still starting `juju run` (two step processes at once)
    const ops = JSON.parse(readFixture("juju/operations.reboot-action.assembled.json")) as Record<string, object>;
    const theirs = {
      ...(ops["13"] as object),
      summary: `${ACTION} run on unit-mysql-innodb-cluster-1`,
      tasks: { "16": { host: `${APP}/1`, status: "running", timing: {} } },
    };
    const start = Date.UTC(2026, 11, 5, 6, 0, 0);
    writeMarker("race-1", [{ unit: `${APP}/1`, at: new Date(start - 1_000).toISOString(), after: 13 }]);
    const fake = mysqlFake(recorded("complete-outage"))
      .on(OPERATIONS_CALL, (_call, n) => JSON.stringify(n < 3 ? ops : { ...ops, "15": theirs }))
      .on(SHOW_TASK_CALL, COMPLETED_TASK.replace('"id":"14"', '"id":"16"'));
    const ctx = windowCtx(fake, "race-1");
    const result = await mysqlReboot(FLAGS, ctx);
    expect(fake.count(OPERATIONS_CALL)).toBe(3);
    expect(actionCalls(fake)).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(result.verdict.summary).toMatch(/^followed the earlier attempt, task 16; not run again: /);
    expect(ctx.out.lines).toContain(`found task 16 (operation 15) of ${ACTION} on ${APP}/1: running`);
  });

  it("an attempt begun more than one call's timeout ago whose task is not listed is lost at once: one look, a blocker", async () => {
    const ops = readFixture("juju/operations.reboot-action.assembled.json");
    const start = Date.UTC(2026, 11, 5, 6, 0, 0);
    writeMarker("race-2", [{ unit: `${APP}/1`, at: new Date(start - 120_001).toISOString(), after: 13 }]);
    const fake = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, ops);
    const ctx = windowCtx(fake, "race-2");
    const before = ctx.clock.now();
    const result = await mysqlReboot(FLAGS, ctx);
    expect(fake.count(OPERATIONS_CALL)).toBe(1);
    expect(ctx.clock.now()).toBe(before);
    expect(result.verdict.state).toBe("attempt-not-found");
    expect(actionCalls(fake)).toEqual([]);
  });

  it("an attempt begun a moment ago whose task never shows is lost once one call's timeout has passed since it began", async () => {
    const ops = readFixture("juju/operations.reboot-action.assembled.json");
    const start = Date.UTC(2026, 11, 5, 6, 0, 0);
    writeMarker("race-3", [{ unit: `${APP}/1`, at: new Date(start).toISOString(), after: 13 }]);
    const fake = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, ops);
    const ctx = windowCtx(fake, "race-3");
    const result = await mysqlReboot(FLAGS, ctx);
    // looked at every commandTimeout / 8 (15 s), the last look at 120 s since it began
    expect(fake.count(OPERATIONS_CALL)).toBe(9);
    expect(ctx.clock.now() - start).toBe(120_000);
    expect(result.verdict.state).toBe("attempt-not-found");
    expect(actionCalls(fake)).toEqual([]);
  });

  it("a stop requested while looking for another run's task: cancelled, the marker kept, nothing run", async () => {
    const ops = readFixture("juju/operations.reboot-action.assembled.json");
    const start = Date.UTC(2026, 11, 5, 6, 0, 0);
    writeMarker("race-4", [{ unit: `${APP}/1`, at: new Date(start).toISOString(), after: 13 }]);
    const fake = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, ops);
    const ctx = windowCtx(fake, "race-4");
    ctx.cancelled = () => (fake.count(OPERATIONS_CALL) >= 2 ? "stop requested by test" : undefined);
    const result = await mysqlReboot(FLAGS, ctx);
    expect(fake.count(OPERATIONS_CALL)).toBe(2);
    expect(result.outcome).toBe("cancelled");
    expect(fs.existsSync(markerFile("race-4"))).toBe(true);
    expect(actionCalls(fake)).toEqual([]);
  });

  it("already attempted: every attempt listed with its task and outcome, or that none was recorded", async () => {
    writeMarker("done-1", [
      { unit: `${APP}/1`, at: "t1", taskId: "12", outcome: "not-most-updated", address: "10.0.0.218" },
      { unit: `${APP}/2`, at: "t2", outcome: "success" },
    ]);
    const result = await mysqlReboot(FLAGS, windowCtx(mysqlFake(recorded("complete-outage")), "done-1"));
    expect(result.verdict.summary).toBe(`${ACTION} already ran in window done-1; a second attempt needs a human`);
    expect(result.verdict.details).toEqual([`t1 on ${APP}/1 (task 12): not-most-updated`, `t2 on ${APP}/2: success`]);
  });

  it.each([
    ["not JSON", '{"window": "bad-1", "attempts": [', "not JSON ("],
    ["JSON without an attempts list", JSON.stringify({ window: "bad-1" }), "no attempts list"],
  ])("a marker that is %s stops the step before anything runs: a blocker naming the file", async (_name, text, why) => {
    fs.writeFileSync(markerFile("bad-1"), text);
    const fake = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "bad-1"));
    expect(result).toMatchObject({ exitCode: 3, outcome: "blocker" });
    expect(result.verdict).toMatchObject({ state: "marker-unreadable", route: "mysql-will-not-reform" });
    expect(result.verdict.summary).toContain(
      `${ACTION} NOT run: the window's attempt marker ${markerFile("bad-1")} cannot be read (${why}`,
    );
    expect(result.verdict.summary).toContain(`check \`juju operations --actions ${ACTION}\` before removing it`);
    expect(actionCalls(fake)).toEqual([]);
  });

  it("a marker that cannot be read at all (a folder in its place) is a blocker too, not a crash", async () => {
    fs.mkdirSync(markerFile("dir-1"));
    const fake = mysqlFake(recorded("complete-outage"));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "dir-1"));
    expect(result.verdict.state).toBe("marker-unreadable");
    expect(result.verdict.summary).toContain("EISDIR");
    expect(actionCalls(fake)).toEqual([]);
  });

  it("the budget check: 31 s left (juju's 30 s and 1 s of wait) still runs it, with --wait=1s; 30.999 s does not", async () => {
    const fits = mysqlFake(recorded("complete-outage"));
    const ctx = windowCtx(fits, "edge-1");
    ctx.deadline = ctx.clock.now() + 31_000;
    await mysqlReboot(FLAGS, ctx);
    expect(actionCalls(fits)).toEqual([`juju run -m ${MODEL} ${APP}/1 ${ACTION} --format=json --wait=1s`]);

    const short = mysqlFake(recorded("complete-outage"));
    const tight = windowCtx(short, "edge-2");
    tight.deadline = tight.clock.now() + 30_999;
    const result = await mysqlReboot(FLAGS, tight);
    expect(actionCalls(short)).toEqual([]);
    expect(result.verdict.summary).toBe(
      `${ACTION} NOT run on ${APP}/1: 31s of the step's budget left, not enough to run it and wait for its result`,
    );
  });

  it("juju operations failing before the attempt runs nothing and takes no marker", async () => {
    const fake = mysqlFake(recorded("complete-outage")).on(OPERATIONS_CALL, { exitCode: 1, stderr: "ERROR no API\n" });
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "ops-1"));
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.summary).toMatch(new RegExp(`^${ACTION} NOT run on ${APP}/1: .*no API`));
    expect(actionCalls(fake)).toEqual([]);
    expect(fs.existsSync(markerFile("ops-1"))).toBe(false);
  });

  it("juju missing at the second attempt: that attempt is dropped from the marker, the first kept", async () => {
    const fake = mysqlFake(with218On2(), (n) => (n === 1 ? NOT_GTID_SUPERSET : { notFound: true }));
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "nf-2"));
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.summary).toMatch(new RegExp(`^${ACTION} NOT run on ${APP}/2: `));
    expect(markerOf("nf-2").attempts).toEqual([
      expect.objectContaining({ unit: `${APP}/1`, outcome: "not-most-updated" }),
    ]);
  });
});

describe("mysqlCheck and the gate when juju fails", () => {
  it("a juju status that fails is a failure (exit 1), not a blocker", async () => {
    const fake = fakeExec().on(STATUS_CALL, { exitCode: 1, stderr: "ERROR connection is shut down\n" });
    const result = await mysqlCheck(FLAGS, testContext(fake));
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.state).toBe("tool-error");
  });

  it("juju not installed is a failure (exit 1) naming it", async () => {
    const fake = fakeExec().on(STATUS_CALL, { notFound: true });
    const result = await mysqlCheck(FLAGS, testContext(fake));
    expect(result).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(result.verdict.state).toBe("tool-missing");
  });

  it("the gate keeps a failure's own route (juju missing: tool-missing's), and sets mysql-will-not-reform only when there is none", async () => {
    const fake = fakeExec().on(STATUS_CALL, { notFound: true });
    const result = await mysqlClusterOnline(GATE_FLAGS, testContext(fake));
    expect(result.outcome).toBe("fail");
    expect(result.verdict.route).not.toBe("mysql-will-not-reform");
    expect(result.verdict.route).toBeDefined();
  });
});

describe("mysqlReboot: the guards' finer points (issue #22)", () => {
  const markerFile = (window: string) => path.join(recordDir, `${window}.mysql-reboot.json`);
  const writeMarker = (window: string, attempts: object[]) =>
    fs.writeFileSync(markerFile(window), JSON.stringify({ window, attempts }));

  it.each([
    ["partial-outage", "mysql-partial-outage"],
    ["agents-lost", "machines-not-started"],
  ] as [Recorded, string][])(
    "not an outage (%s): the blocker keeps the classification's own route",
    async (name, route) => {
      const result = await mysqlReboot(FLAGS, windowCtx(mysqlFake(recorded(name))));
      expect(result.verdict.route).toBe(route);
    },
  );

  it.each([
    [
      "both attempts refused (the second one's refusal recorded)",
      [
        { unit: `${APP}/1`, at: "t1", outcome: "not-most-updated", address: "10.0.0.218" },
        { unit: `${APP}/2`, at: "t2", outcome: "not-most-updated", address: "192.168.100.54" },
      ],
    ],
    ["a refusal recorded without the address it named", [{ unit: `${APP}/1`, at: "t1", outcome: "not-most-updated" }]],
  ])("a resume holding %s runs nothing more: already attempted", async (_name, attempts) => {
    writeMarker("held-1", attempts);
    const status = patched("complete-outage", (units) => (units[`${APP}/2`]["public-address"] = "10.0.0.218"));
    const fake = mysqlFake(status);
    const result = await mysqlReboot(FLAGS, windowCtx(fake, "held-1"));
    expect(actionCalls(fake)).toEqual([]);
    expect(result.verdict.state).toBe("already-attempted");
  });

  it("a marker holding JSON null is unreadable, not a crash", async () => {
    fs.writeFileSync(markerFile("null-1"), "null");
    const result = await mysqlReboot(FLAGS, windowCtx(mysqlFake(recorded("complete-outage")), "null-1"));
    expect(result.verdict.state).toBe("marker-unreadable");
    expect(result.verdict.summary).toContain("(no attempts list)");
  });

  it("no unit marked leader: juju's own <app>/leader names the unit to run on", async () => {
    const status = patched("complete-outage", (units) => Object.values(units).forEach((u) => delete u.leader));
    const fake = mysqlFake(status);
    await mysqlReboot(FLAGS, windowCtx(fake, "noleader-1"));
    expect(actionCalls(fake).map(unitOf)).toEqual([`${APP}/leader`]);
  });

  it("a record dir that does not exist yet is made (0700) for the marker", async () => {
    const nested = path.join(recordDir, "a", "b");
    const fake = mysqlFake(recorded("complete-outage"));
    const ctx = testContext(fake, {
      env: { HOME: "/home/operator", COLDSTART_WINDOW: "mk-1", COLDSTART_RECORD_DIR: nested },
    });
    expect((await mysqlReboot(FLAGS, ctx)).exitCode).toBe(0);
    expect(fs.statSync(nested).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(path.join(nested, "mk-1.mysql-reboot.json"))).toBe(true);
  });

  it("a bug (not a tool error) while starting juju run is not reported as 'juju did not start': it propagates", async () => {
    const fake = mysqlFake(recorded("complete-outage")).on(ACTION_CALL, () => {
      throw new TypeError("a bug in the exec layer");
    });
    await expect(mysqlReboot(FLAGS, windowCtx(fake, "bug-1"))).rejects.toThrow("a bug in the exec layer");
  });

  it("the gate passes with no route; a failure with none gets mysql-will-not-reform", async () => {
    const ok = await mysqlClusterOnline(GATE_FLAGS, testContext(mysqlFake(recorded("healthy"))));
    expect(ok.outcome).toBe("pass");
    expect(ok.verdict.route).toBeUndefined();
  });
});
