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
