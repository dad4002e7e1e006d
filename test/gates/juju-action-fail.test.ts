/**
 * `juju run` exits 0 for an action that failed through `action-fail` with its script exiting 0:
 * juju's exit is 1 only for a task whose results carry a return-code of 1 or more (juju
 * cmd/juju/action/common.go `waitForTasks`: `if resultExitCode < 1 { continue }`). So the
 * verdict of the MySQL reboot action is read from the task's JSON `status`, never juju's exit.
 */
import { readRunAnswer } from "../../gates/juju-action";
import { rebootOutcome } from "../../gates/mysql";

const UNIT = "mysql-innodb-cluster/1";
const PROGRESS =
  "Running operation 11 with 1 task\n  - task 12 on unit-mysql-innodb-cluster-1\n\nWaiting for task 12...\n";

function answer(status: string, results: Record<string, unknown>, exitCode: number) {
  const doc = { [UNIT]: { id: "12", status, unit: UNIT, message: "Failed to reboot cluster", results } };
  return readRunAnswer({ exitCode, stdout: JSON.stringify(doc), stderr: PROGRESS });
}

describe("a failed action whatever juju's exit code", () => {
  it("action-fail with return-code 0: juju exits 0, the step still reads FAILED from the task's status", () => {
    const a = answer("failed", { "return-code": 0, outcome: "Failure" }, 0);
    expect(a).toMatchObject({ kind: "result", taskId: "12" });
    if (a.kind !== "result") throw new Error("not a result");
    expect(rebootOutcome(a.doc)).toEqual({
      state: "failed",
      message: `${UNIT}: action failed: Failed to reboot cluster`,
    });
  });

  it("the same task with return-code 1 (juju exits 1) reads the same", () => {
    const a = answer("failed", { "return-code": 1, outcome: "Failure" }, 1);
    if (a.kind !== "result") throw new Error("not a result");
    expect(rebootOutcome(a.doc).state).toBe("failed");
  });

  it("exit 0 with a completed task but no outcome Success is not a pass either", () => {
    const a = answer("completed", { "return-code": 0 }, 0);
    if (a.kind !== "result") throw new Error("not a result");
    expect(rebootOutcome(a.doc).state).toBe("failed");
  });
});
