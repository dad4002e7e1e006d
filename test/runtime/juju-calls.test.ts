/**
 * runtime/juju.ts at the edge (issue #11): `juju exec` is asked for JSON and its per-unit
 * return-code / stdout / stderr come back apart; `juju run` always gets an explicit --wait and
 * never throws for what juju answers.
 */
import { Juju, jujuWait } from "../../runtime/juju";
import { ToolError } from "../../runtime/tool-error";
import { readFixture } from "../fixtures";
import { fakeExec, jujuExecReply, testContext } from "../support/fake-exec";

const MODEL = "c:openstack";

describe("Juju.execOnUnit", () => {
  it("runs `juju exec -m M --unit U --format=json -- <command>` (no trailer) and returns code, stdout, stderr", async () => {
    const fake = fakeExec().on(/^juju exec /, {
      stdout: readFixture("juju/exec.systemctl-restart-failed.assembled.json"),
      stderr: readFixture("juju/exec.systemctl-restart-failed.assembled.stderr"),
      exitCode: 1,
    });
    const res = await new Juju(testContext(fake), MODEL).execOnUnit(
      "ovn-chassis/2",
      "systemctl restart ovs-vswitchd ovn-controller",
    );
    expect(fake.calls[0].args).toEqual([
      "exec",
      "-m",
      MODEL,
      "--unit",
      "ovn-chassis/2",
      "--format=json",
      "--",
      "systemctl restart ovs-vswitchd ovn-controller",
    ]);
    // a failed restart is never exit 0, and its reason is there
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/^Job for ovn-controller\.service failed/);
  });

  it("a sealed Vault's exit 2 is data (juju itself exits 1 with the JSON)", async () => {
    const fake = fakeExec().on(/^juju exec /, {
      stdout: readFixture("juju/exec.vault-status-sealed.assembled.json"),
      exitCode: 1,
    });
    const res = await new Juju(testContext(fake), MODEL).execOnUnit("vault/0", "vault status -format=json");
    expect(res).toEqual({ code: 2, stdout: readFixture("vault/status-sealed.json"), stderr: "" });
  });

  it("the test helper's reply reads back the same", async () => {
    const fake = fakeExec().on(/^juju exec /, jujuExecReply("out\n", 3, "err\n"));
    expect(await new Juju(testContext(fake), MODEL).execOnUnit("x/0", "true")).toEqual({
      code: 3,
      stdout: "out\n",
      stderr: "err\n",
    });
  });

  it("juju without a result (its own timeout, an unknown unit) is a named failure with juju's message", async () => {
    const fake = fakeExec().on(/^juju exec /, {
      exitCode: 1,
      stderr: "ERROR timed out waiting for results from: unit vault/0\n",
    });
    const call = new Juju(testContext(fake), MODEL).execOnUnit("vault/0", "vault status");
    await expect(call).rejects.toThrow(ToolError);
    await expect(call).rejects.toThrow(
      /exited 1 without a result: ERROR timed out waiting for results from: unit vault\/0/,
    );
  });
});

describe("Juju.runAction", () => {
  it("always passes --wait (whole seconds, at least 1 s: juju reads 0 as 60 s) and returns juju's answer as it is", async () => {
    const stderr = readFixture("juju/mysql-innodb-cluster.reboot-action.timed-out.assembled.stderr");
    const fake = fakeExec().on(/^juju run /, { exitCode: 1, stderr });
    const res = await new Juju(testContext(fake), MODEL).runAction("m/2", "act", 754_900, 800_000);
    expect(fake.calls[0].args).toEqual(["run", "-m", MODEL, "m/2", "act", "--format=json", "--wait=754s"]);
    expect(fake.calls[0].timeoutMs).toBe(800_000);
    expect(res).toMatchObject({ exitCode: 1, stdout: "", stderr, timedOut: false });
    expect([jujuWait(0), jujuWait(999), jujuWait(60_000)]).toEqual(["1s", "1s", "60s"]);
  });

  it("our own kill is reported, not thrown; a juju that cannot start throws", async () => {
    const killed = fakeExec().on(/^juju run /, { timedOut: true, stderr: "Running operation 3 with 1 task\n" });
    expect(await new Juju(testContext(killed), MODEL).runAction("m/2", "act", 5_000, 6_000)).toMatchObject({
      timedOut: true,
      exitCode: null,
      stderr: "Running operation 3 with 1 task\n",
    });
    const missing = fakeExec().on(/^juju run /, { notFound: true });
    await expect(new Juju(testContext(missing), MODEL).runAction("m/2", "act", 5_000, 6_000)).rejects.toThrow(
      /juju: not found on PATH/,
    );
  });
});
