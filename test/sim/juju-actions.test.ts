/**
 * The fake juju's tasks behave like Juju 3's (issue #11): `juju run` gives up after 60 s without
 * --wait (and with --wait=0s) while the action keeps running, --wait is honoured, a failed action
 * prints its JSON and exits 1, `show-task` / `show-operation` / `operations` / `exec --format=json`
 * have the shapes of the assembled fixtures (test/recorded/README.md, S-task3 … S-exec3), and a
 * killed juju client does not stop the action.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import execa from "execa";
import { projectRoot } from "../../sim/root";
import { readFixture, mustParse } from "../fixtures";
import {
  parseOperations,
  parseShowTask,
  readExecResult,
  readRunAnswer,
  tasksSince,
  highestOperation,
} from "../../gates/juju-action";
import { parseActionResult, rebootOutcome } from "../../gates/mysql";
import { loadState } from "../../sim/store";
import { bootAll, cleanupAll, harness, MODEL, type Harness } from "./sim-harness";

afterAll(cleanupAll);

const MYSQL = "mysql-innodb-cluster";
const ACTION = "reboot-cluster-from-complete-outage";
const run = (h: Harness, unit: string, ...extra: string[]) =>
  h.call("juju", ["run", "-m", MODEL, unit, ACTION, "--format=json", ...extra]);
const showTask = (h: Harness, id: string) => h.call("juju", ["show-task", "-m", MODEL, id, "--format=json"]);

/** Every key path of a JSON document ("a.b.c"), map keys that are ids or units replaced by "*". */
function keyPaths(doc: unknown, prefix = ""): Set<string> {
  const out = new Set<string>();
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return out;
  for (const [k, v] of Object.entries(doc)) {
    const key = /^\d+$|\//.test(k) ? "*" : k;
    const p = prefix ? `${prefix}.${key}` : key;
    out.add(p);
    for (const q of keyPaths(v, p)) out.add(q);
  }
  return out;
}
const keyOrder = (doc: object): string[] => Object.keys(doc);

async function outage(scenario: string): Promise<Harness> {
  const h = harness(scenario);
  await bootAll(h);
  return h;
}

describe("juju run", () => {
  it("without --wait gives up after 60 sim s with juju's own lines and exit 1, no JSON; the action runs on", async () => {
    const h = await outage("mysql-slow-action");
    const t0 = h.now();
    const res = await run(h, `${MYSQL}/1`);

    expect(res.exitCode).toBe(1);
    expect(res.stdout).toBe("");
    // the assembled fixture's lines (juju/juju#20103), with this sim's ids and unit
    const fixture = readFixture("juju/mysql-innodb-cluster.reboot-action.timed-out.assembled.stderr");
    expect(res.stderr).toBe(
      fixture
        .replace(/operation 13/, "operation 11")
        .replace(/task 14/g, "task 12")
        .replace(/cluster-2/g, "cluster-1")
        .replace(`${MYSQL}/2`, `${MYSQL}/1`),
    );
    expect(h.now() - t0).toBeCloseTo(60, 0);
    expect(readRunAnswer(res)).toMatchObject({ kind: "timed-out", taskId: "12", operationId: "11" });

    const running = mustParse(parseShowTask((await showTask(h, "12")).stdout));
    expect(running).toMatchObject({ id: "12", status: "running", unit: `${MYSQL}/1` });
    expect(running.results).toBeUndefined();
    h.wait(100); // 1 + 150 sim s after it was enqueued
    const done = mustParse(parseShowTask((await showTask(h, "12")).stdout));
    expect(done).toMatchObject({ status: "completed", results: { outcome: "Success" } });
  });

  it("--wait=0s also means 60 s (juju/juju#20103); --wait=200s waits it out and prints the task", async () => {
    const h = await outage("mysql-slow-action");
    const t0 = h.now();
    expect((await run(h, `${MYSQL}/1`, "--wait=0s")).stderr).toMatch(/timed out waiting for results from: unit/);
    expect(h.now() - t0).toBeCloseTo(60, 0);

    const h2 = await outage("mysql-slow-action");
    const t1 = h2.now();
    const res = await run(h2, `${MYSQL}/1`, "--wait=200s");
    expect(res.exitCode).toBe(0);
    expect(rebootOutcome(mustParse(parseActionResult(res.stdout)))).toEqual({ state: "success" });
    expect(h2.now() - t1).toBeCloseTo(151, 0);
    expect(res.stderr).toBe(
      "Running operation 11 with 1 task\n  - task 12 on unit-mysql-innodb-cluster-1\n\nWaiting for task 12...\n",
    );
    expect((await run(h2, `${MYSQL}/1`, "--wait=soon")).exitCode).toBe(2);
  });

  it("a failed action: its JSON on stdout AND exit 1 with 'the following task failed'; the verdict is in status", async () => {
    const h = await outage("mysql-complete-outage-wrong-leader");
    const res = await run(h, `${MYSQL}/1`);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(
      /Waiting for task 12\.\.\.\nERROR the following task failed:\n - id "12" with return code 1\n\nuse 'juju show-task' to inspect the failure\n$/,
    );
    const doc = mustParse(parseActionResult(res.stdout));
    expect(doc[`${MYSQL}/1`]).toMatchObject({
      status: "failed",
      message: "Reboot cluster from complete outage failed.",
    });
    expect(rebootOutcome(doc)).toEqual({ state: "not-most-updated", address: "192.168.100.52" });
    // same keys, in the same order, as the recorded failure
    const fixture = JSON.parse(readFixture(`juju/${MYSQL}.reboot-action.not-gtid-superset.juju3.json`)) as Record<
      string,
      object
    >;
    const raw = JSON.parse(res.stdout) as Record<string, object>;
    expect(keyOrder(raw[`${MYSQL}/1`])).toEqual(keyOrder(Object.values(fixture)[0]));
  });

  it("a killed juju client does not stop the action: it ends on the unit and show-task has its result", async () => {
    const entry = path.join(projectRoot(), "dist", "sim", "tools", "entry.js");
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: npm run build first`);
    const h = harness("mysql-slow-action", { mode: "unplanned" });
    // real processes on the real clock: let the agents start (1 sim min = 100 ms)
    const { updateState } = await import("../../sim/store");
    await bootAll(h);
    const ahead = h.clock.ms - Date.now();
    updateState(h.cloud.dir, (s) => void (s.startedAtMs -= ahead + 50));
    const env = { ...process.env, ...h.cloud.env };
    const client = execa(
      path.join(h.cloud.binDir, "juju"),
      ["run", "-m", MODEL, `${MYSQL}/1`, ACTION, "--format=json", "--wait=10m"],
      { env, reject: false },
    );
    // kill it once it has enqueued the task (not after a fixed real delay: a loaded machine starts node slowly)
    for (const start = Date.now(); (loadState(h.cloud.dir).tasks ?? []).length === 0;) {
      if (Date.now() - start > 20_000) throw new Error("juju run enqueued no task within 20 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    client.kill("SIGKILL");
    const killed = await client;
    expect(killed.signal).toBe("SIGKILL");
    await new Promise((r) => setTimeout(r, 450)); // > 151 sim s
    const ops = await execa(
      path.join(h.cloud.binDir, "juju"),
      ["operations", "-m", MODEL, "--format=json", "--apps", MYSQL, "--actions", ACTION],
      { env, reject: false },
    );
    const found = tasksSince(mustParse(parseOperations(ops.stdout)), { unit: `${MYSQL}/1`, action: ACTION, after: 0 });
    expect(found).toEqual([{ operationId: "11", taskId: "12", unit: `${MYSQL}/1`, status: "completed" }]);
  });
});

describe("show-task, show-operation, operations", () => {
  it("have the fixtures' keys; unknown ids are juju's errors; no match is empty stdout and exit 0", async () => {
    const h = await outage("mysql-slow-action");
    await run(h, `${MYSQL}/1`);

    const running = JSON.parse((await showTask(h, "12")).stdout) as object;
    expect(keyOrder(running)).toEqual(
      keyOrder(JSON.parse(readFixture("juju/show-task.reboot-action.running.assembled.json"))),
    );
    const ops = JSON.parse(
      (await h.call("juju", ["operations", "-m", MODEL, "--format=json", "--apps", MYSQL, "--actions", ACTION])).stdout,
    ) as Record<string, object>;
    const fixtureOps = JSON.parse(readFixture("juju/operations.reboot-action.assembled.json")) as Record<
      string,
      object
    >;
    expect(keyOrder(ops["11"])).toEqual(keyOrder(fixtureOps["13"]));
    expect([...keyPaths(ops)].every((p) => keyPaths(fixtureOps).has(p))).toBe(true);
    expect(highestOperation(mustParse(parseOperations(JSON.stringify(ops))))).toBe(11);

    const op = JSON.parse(
      (await h.call("juju", ["show-operation", "-m", MODEL, "11", "--format=json"])).stdout,
    ) as object;
    expect(op).toEqual(ops["11"]);

    h.wait(100);
    const completed = JSON.parse((await showTask(h, "12")).stdout) as object;
    expect(keyOrder(completed)).toEqual(
      keyOrder(JSON.parse(readFixture("juju/show-task.reboot-action.completed.assembled.json"))),
    );

    expect(await showTask(h, "99")).toMatchObject({ exitCode: 1, stdout: "", stderr: "ERROR id not found\n" });
    expect(await h.call("juju", ["show-operation", "-m", MODEL, "99", "--format=json"])).toMatchObject({
      exitCode: 1,
      stderr: 'ERROR operation "99" not found\n',
    });
    expect(await h.call("juju", ["operations", "-m", MODEL, "--format=json", "--apps", "vault"])).toEqual({
      stdout: "",
      stderr: "no matching operations\n",
      exitCode: 0,
    });
  });

  it("show-task --wait follows the task to its end, or says the wait ran out", async () => {
    const h = await outage("mysql-slow-action");
    await run(h, `${MYSQL}/1`);
    expect(await h.call("juju", ["show-task", "-m", MODEL, "12", "--format=json", "--wait=10s"])).toMatchObject({
      exitCode: 1,
      stderr: "ERROR maximum wait time reached\n",
    });
    const res = await h.call("juju", ["show-task", "-m", MODEL, "12", "--format=json", "--wait=5m"]);
    expect(mustParse(parseShowTask(res.stdout)).status).toBe("completed");
  });
});

describe("juju exec", () => {
  it("--format=json: return-code, stdout, stderr per unit, like the fixtures; a non-zero code exits 1 with the JSON", async () => {
    const h = await outage("mysql-complete-outage");
    const exec = (unit: string, ...command: string[]) =>
      h.call("juju", ["exec", "-m", MODEL, "--unit", unit, "--format=json", "--", ...command]);

    const sealed = await exec("vault/0", "VAULT_ADDR=http://127.0.0.1:8220 vault status -format=json");
    const storageDown = mustParse(readExecResult(sealed.stdout, "vault/0"));
    // no MySQL primary yet: vault status fails (exit 1), the reason on the remote stderr
    expect(storageDown).toMatchObject({
      code: 1,
      stdout: "",
      stderr: expect.stringContaining("Error checking seal status"),
    });
    expect(sealed.exitCode).toBe(1);
    expect(sealed.stderr).toMatch(/^ERROR the following task failed:\n - id "\d+" with return code 1\n/);

    const fixture = JSON.parse(readFixture("juju/exec.systemctl-restart-failed.assembled.json")) as Record<
      string,
      object
    >;
    const doc = JSON.parse(sealed.stdout) as Record<string, object>;
    expect(keyOrder(doc["vault/0"])).toEqual(keyOrder(fixture["ovn-chassis/2"]));

    const wrong = await exec("nova-compute/0", "systemctl restart ovs-vswitchd ovn-controller");
    expect(mustParse(readExecResult(wrong.stdout, "nova-compute/0"))).toEqual({
      code: 5,
      stdout: "",
      stderr: "Failed to restart ovn-controller.service: Unit ovn-controller.service not found.\n",
    });
    const ok = await exec("ovn-chassis/0", "ovn-appctl -t ovn-controller connection-status");
    expect(ok.exitCode).toBe(0);
    expect(mustParse(readExecResult(ok.stdout, "ovn-chassis/0"))).toEqual({
      code: 0,
      stdout: "connected\n",
      stderr: "",
    });
  });

  it("plain output with the old exit-code trailer: the remote stderr comes after the marker, and juju exits 0", async () => {
    const h = await outage("mysql-complete-outage");
    const res = await h.call("juju", [
      "exec",
      "-m",
      MODEL,
      "--unit",
      "nova-compute/0",
      "--",
      "systemctl restart ovs-vswitchd ovn-controller; echo coldstart-exit=$?",
    ]);
    expect(res.exitCode).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("coldstart-exit=5");
    expect(lines[lines.length - 1]).not.toMatch(/^coldstart-exit=/);
    // the same shape as the assembled fixture
    const fixture = readFixture("juju/exec.plain-trailer.systemctl-restart-failed.assembled.stdout")
      .trimEnd()
      .split("\n");
    expect(fixture[0]).toMatch(/^coldstart-exit=\d+$/);
    expect(fixture[fixture.length - 1]).not.toMatch(/^coldstart-exit=/);
  });
});
