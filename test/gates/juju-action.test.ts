/**
 * Reading Juju 3's task outputs (gates/juju-action.ts) on the assembled fixtures of issue #11:
 * `juju run` that timed out / failed / completed, `show-task`, `operations`, `exec --format=json`.
 */
import { readFixture, mustParse } from "../fixtures";
import {
  enqueuedTask,
  highestOperation,
  parseOperations,
  parseShowTask,
  readExecResult,
  readRunAnswer,
  taskFinished,
  tasksSince,
} from "../../gates/juju-action";
import { rebootTaskOutcome } from "../../gates/mysql";

const APP = "mysql-innodb-cluster";
const ACTION = "reboot-cluster-from-complete-outage";
const fixtureRc = (name: string) => Number(readFixture(`juju/${name}.rc`).trim());

describe("juju run … --format=json --wait=<d>", () => {
  it("the timeout message without JSON is 'still running', with the task juju named on stderr", () => {
    const name = `${APP}.reboot-action.timed-out.assembled`;
    const answer = readRunAnswer({
      exitCode: fixtureRc(name),
      stdout: readFixture(`juju/${name}.stdout`),
      stderr: readFixture(`juju/${name}.stderr`),
    });
    expect(answer).toEqual({
      kind: "timed-out",
      detail: `juju stopped waiting for unit ${APP}/2`,
      operationId: "13",
      taskId: "14",
      receiver: "unit-mysql-innodb-cluster-2",
    });
  });

  it("JSON on stdout is the answer whatever the exit code (a failed task exits 1 with its JSON)", () => {
    const failed = readRunAnswer({
      exitCode: 1,
      stdout: readFixture(`juju/${APP}.reboot-action.not-gtid-superset.juju3.json`),
      stderr:
        'Running operation 11 with 1 task\n  - task 12 on unit-mysql-innodb-cluster-1\n\nWaiting for task 12...\nERROR the following task failed:\n - id "12" with return code 1\n',
    });
    expect(failed).toMatchObject({ kind: "result", taskId: "12", operationId: "11" });
    const ok = readRunAnswer({
      exitCode: 0,
      stdout: readFixture(`juju/${APP}.reboot-action.success.juju3.json`),
      stderr: "",
    });
    expect(ok.kind).toBe("result");
  });

  it("killed by us, or any other error without JSON, is no answer (and keeps what juju had printed)", () => {
    expect(
      readRunAnswer({
        exitCode: null,
        stdout: "",
        stderr: "Running operation 7 with 1 task\n  - task 8 on unit-x-0\n",
        timedOut: true,
      }),
    ).toEqual({
      kind: "no-result",
      detail: "juju was killed at the step's deadline before it answered",
      operationId: "7",
      taskId: "8",
      receiver: "unit-x-0",
    });
    // our kill wins over a timeout line printed just before it
    expect(
      readRunAnswer({
        exitCode: null,
        stdout: "",
        stderr: "ERROR timed out waiting for results from: unit x/0\n",
        timedOut: true,
      }).kind,
    ).toBe("no-result");
    expect(
      readRunAnswer({ exitCode: 1, stdout: "", stderr: "ERROR cannot connect to API: connection refused\n" }),
    ).toEqual({
      kind: "no-result",
      detail: "juju exited 1: ERROR cannot connect to API: connection refused",
    });
    expect(readRunAnswer({ exitCode: 0, stdout: "Running operation", stderr: "" }).kind).toBe("no-result");
    expect(enqueuedTask("")).toEqual({});
  });
});

describe("juju show-task <id> --format=json", () => {
  it("a running task has no outcome yet; the completed one reads as the action's success", () => {
    const running = mustParse(parseShowTask(readFixture("juju/show-task.reboot-action.running.assembled.json")));
    expect(running.status).toBe("running");
    expect(taskFinished(running.status)).toBe(false);
    const done = mustParse(parseShowTask(readFixture("juju/show-task.reboot-action.completed.assembled.json")));
    expect(taskFinished(done.status)).toBe(true);
    expect(rebootTaskOutcome(`${APP}/2`, done)).toEqual({ state: "success" });
  });

  it("only pending and running are unfinished (common.go GetActionResult)", () => {
    expect(["pending", "running"].map(taskFinished)).toEqual([false, false]);
    expect(["completed", "failed", "cancelled", "aborting", "aborted", "error"].map(taskFinished)).toEqual(
      Array(6).fill(true),
    );
  });

  it("an answer that is not a task is a named failure", () => {
    const r = parseShowTask("ERROR id not found\n");
    expect(r.ok).toBe(false);
  });
});

describe("juju operations --format=json", () => {
  const ops = mustParse(parseOperations(readFixture("juju/operations.reboot-action.assembled.json")));

  it("finds the task of an attempt on its unit above the baseline, never an older one", () => {
    expect(highestOperation(ops)).toBe(13);
    expect(tasksSince(ops, { unit: `${APP}/2`, action: ACTION, after: 11 })).toEqual([
      { operationId: "13", taskId: "14", unit: `${APP}/2`, status: "running" },
    ]);
    expect(tasksSince(ops, { unit: `${APP}/1`, action: ACTION, after: 11 })).toEqual([]);
    expect(tasksSince(ops, { unit: `${APP}/1`, action: ACTION, after: 0 })).toEqual([
      { operationId: "11", taskId: "12", unit: `${APP}/1`, status: "failed" },
    ]);
    expect(tasksSince(ops, { unit: `${APP}/2`, action: "other-action", after: 0 })).toEqual([]);
  });

  it("nothing matching is an empty stdout, not a parse failure", () => {
    expect(mustParse(parseOperations(""))).toEqual({});
    expect(highestOperation({})).toBe(0);
  });
});

describe("juju exec --format=json", () => {
  it("vault status sealed: return-code 2 is data, the status JSON is the remote stdout", () => {
    const r = mustParse(readExecResult(readFixture("juju/exec.vault-status-sealed.assembled.json"), "vault/0"));
    expect(r).toEqual({ code: 2, stdout: readFixture("vault/status-sealed.json"), stderr: "" });
  });

  it("a failed restart: the code and the remote stderr, which the plain format would have put after the trailer", () => {
    const r = mustParse(
      readExecResult(readFixture("juju/exec.systemctl-restart-failed.assembled.json"), "ovn-chassis/2"),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Job for ovn-controller\.service failed/);
    const plain = readFixture("juju/exec.plain-trailer.systemctl-restart-failed.assembled.stdout")
      .trimEnd()
      .split("\n");
    expect(plain[plain.length - 1]).not.toMatch(/^coldstart-exit=/);
  });

  it("<app>/leader answers under the resolved unit; base64 output is decoded; an unfinished task is no result", () => {
    const doc = (task: object) =>
      JSON.stringify({ "vault/1": { id: "3", status: "completed", unit: "vault/1", ...task } });
    expect(mustParse(readExecResult(doc({ results: { "return-code": 0, stdout: "ok\n" } }), "vault/leader"))).toEqual({
      code: 0,
      stdout: "ok\n",
      stderr: "",
    });
    const b64 = Buffer.from("é\n").toString("base64");
    expect(
      mustParse(
        readExecResult(doc({ results: { "return-code": 0, stdout: b64, "stdout-encoding": "base64" } }), "vault/1"),
      ).stdout,
    ).toBe("é\n");
    const failed = readExecResult(doc({ status: "failed", message: "exec timed out", results: {} }), "vault/1");
    expect(failed).toEqual({ ok: false, error: "juju exec on vault/1: task 3 failed: exec timed out" });
    expect(readExecResult(doc({ results: {} }), "vault/1")).toEqual({
      ok: false,
      error: "juju exec on vault/1: the task's results have no return-code",
    });
    expect(readExecResult("{}", "vault/0").ok).toBe(false);
  });
});
