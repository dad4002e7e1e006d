/**
 * The simulated cloud changes over (sim) time and reacts to what the runbook does: power, agents,
 * MySQL's stale messages and the damage flag, Vault sealing and keys, the chassis sweep, guests,
 * LBs, and the OpenStack API's dependence on MySQL.
 */
import { classifyMysql, mysqlUnits, parseActionResult, rebootOutcome, unitForAddress } from "../../gates/mysql";
import { machinesVerdict, parseMachines } from "../../gates/machines";
import { parseVaultStatus } from "../../gates/vault";
import { parseServerList } from "../../gates/guests";
import { parseLoadBalancers } from "../../gates/octavia";
import { mustParse } from "../fixtures";
import { createSimCloud } from "../../sim/setup";
import { main as juju } from "../../sim/tools/juju";
import { main as virsh } from "../../sim/tools/virsh";
import { readState } from "../../sim/store";
import { bootAll, cleanupAll, exec, harness, MODEL, shutdownAll, tempDir, type Harness } from "./sim-harness";
import { UNSEAL_COMMAND } from "../../steps/vault";
import { parseAppStatus } from "../../gates/juju-status";

afterAll(cleanupAll);

const MYSQL = "mysql-innodb-cluster";
const UNSEAL = ["--", ...UNSEAL_COMMAND];

async function mysql(h: Harness) {
  const text = (await h.call("juju", ["status", "-m", MODEL, MYSQL, "--format=json"])).stdout;
  return mysqlUnits(mustParse(parseAppStatus(text, MYSQL)), MYSQL);
}
const reboot = (h: Harness, unit: string) =>
  h.call("juju", ["run", "-m", MODEL, unit, "reboot-cluster-from-complete-outage", "--format=json"]);
const unseal = (h: Harness, body: object) =>
  h.call("juju", ["ssh", "-m", MODEL, "vault/0", ...UNSEAL], JSON.stringify(body));
async function machinesOk(h: Harness) {
  return machinesVerdict(
    mustParse(parseMachines((await h.call("juju", ["machines", "-m", MODEL, "--format=json"])).stdout)),
  ).ok;
}

describe("time", () => {
  // 1 sim minute = 300 ms: wide enough that the first look (two fake-tool processes) comes before
  // the agents even on a loaded machine; the discrete clock of drills has no such margin to keep.
  it("runs on the real clock, scaled: with 1 sim minute = 300 ms the agents are up ~0.7 s after power-on", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "healthy-unplanned", timeScale: 1 / 200 });
    const env = { ...process.env, ...cloud.env };
    for (const h of cloud.hostsConfig) await virsh(["-c", h.power.uri, "start", h.name], "", { env });
    const down = JSON.parse((await juju(["machines", "-m", MODEL, "--format=json"], "", { env })).stdout);
    expect(down.machines["0"]["juju-status"].current).toBe("down");
    await new Promise((r) => setTimeout(r, 1_500));
    const up = JSON.parse((await juju(["machines", "-m", MODEL, "--format=json"], "", { env })).stdout);
    expect(machinesVerdict(up).ok).toBe(true);
    expect(readState(cloud.dir).timeScale).toBe(1 / 200);
  });

  it("defaults to one sim minute = 100 ms", () => {
    const h = harness("healthy-planned");
    expect(h.cloud.timeScale).toBeCloseTo(1 / 600);
    expect(h.cloud.realMs(60)).toBeCloseTo(100);
  });
});

describe("hosts and agents (power, Stage 1)", () => {
  it("graceful shutdown takes shutdownSeconds; destroy is immediate; agents start N s after power-on", async () => {
    const h = harness("healthy-planned");
    const uri = h.cloud.hostsConfig[0].power.uri;
    await h.call("virsh", ["-c", uri, "shutdown", "openstack0"]);
    h.wait(29);
    expect((await h.call("virsh", ["-c", uri, "domstate", "openstack0"])).stdout).toBe("running\n\n");
    h.wait(2);
    expect((await h.call("virsh", ["-c", uri, "domstate", "openstack0"])).stdout).toBe("shut off\n\n");
    expect(await h.call("virsh", ["-c", uri, "shutdown", "openstack0"])).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining("domain is not running"),
    });
    await h.call("virsh", ["-c", uri, "start", "openstack0"]);
    h.wait(119);
    expect(await machinesOk(h)).toBe(false);
    h.wait(2);
    const m = JSON.parse((await h.call("juju", ["machines", "-m", MODEL, "--format=json"])).stdout).machines["0"];
    expect(m["juju-status"].current).toBe("started");
    expect(m.containers["0/lxd/3"]["juju-status"].current).toBe("down"); // containers 15 s later
    h.wait(15);
    expect(await machinesOk(h)).toBe(true);
  });

  it("a wrong model is refused like juju does", async () => {
    const h = harness("healthy-planned");
    expect(await h.call("juju", ["machines", "-m", "maas-controller:other", "--format=json"])).toEqual({
      stdout: "",
      stderr: 'ERROR model "maas-controller:other" not found\n',
      exitCode: 1,
    });
    expect((await h.call("juju", ["show-model", MODEL, "--format=json"])).exitCode).toBe(0);
  });
});

describe("MySQL (Stage 2)", () => {
  it("planned: healthy before, complete outage after a full power cycle", async () => {
    const h = harness("mysql-complete-outage", { mode: "planned" });
    expect(classifyMysql(await mysql(h), 3).state).toBe("healthy");
    await shutdownAll(h);
    expect(classifyMysql(await mysql(h), 3).state).toBe("not-ready");
    await bootAll(h);
    expect(classifyMysql(await mysql(h), 3).state).toBe("complete-outage");
  });

  it("wrong leader: the error names the superset's address, which maps to the other unit; stale messages last staleSeconds", async () => {
    const h = harness("mysql-complete-outage-wrong-leader");
    await bootAll(h);
    const units = await mysql(h);
    const first = rebootOutcome(mustParse(parseActionResult((await reboot(h, `${MYSQL}/leader`)).stdout)));
    expect(first).toEqual({ state: "not-most-updated", address: "192.168.100.52" });
    expect(unitForAddress(units, "192.168.100.52")?.unit).toBe(`${MYSQL}/2`);
    expect(classifyMysql(await mysql(h), 3).state).toBe("complete-outage"); // the failed action changed nothing
    expect(rebootOutcome(mustParse(parseActionResult((await reboot(h, `${MYSQL}/2`)).stdout)))).toEqual({
      state: "success",
    });
    const converging = await mysql(h);
    expect(classifyMysql(converging, 3).state).toBe("converging");
    expect(converging.find((u) => u.unit === `${MYSQL}/2`)?.message).toMatch(/^Unit is ready: Mode: R\/W/);
    h.wait(59);
    expect(classifyMysql(await mysql(h), 3).state).toBe("converging");
    h.wait(2);
    expect(classifyMysql(await mysql(h), 3).state).toBe("healthy");
    expect(h.state().damage).toEqual([]);
  });

  it("records damage when the action runs on a cluster that is NOT in complete outage", async () => {
    for (const scenario of ["mysql-partial-outage", "healthy-planned"]) {
      const h = harness(scenario);
      await bootAll(h);
      expect(h.state().damage).toEqual([]);
      await reboot(h, `${MYSQL}/1`);
      expect(h.state().damage).toEqual([
        expect.objectContaining({ what: expect.stringMatching(/NOT in complete outage/) }),
      ]);
    }
  });

  it("an action before every unit is up is damage too (not a confirmed outage)", async () => {
    const h = harness("mysql-complete-outage");
    await h.call("virsh", ["-c", h.cloud.hostsConfig[0].power.uri, "start", "openstack1"]);
    h.wait(200);
    await reboot(h, `${MYSQL}/1`);
    expect(h.state().damage).toHaveLength(1);
  });
});

describe("Vault (Stage 3)", () => {
  async function ready(scenario: string) {
    const h = harness(scenario);
    await bootAll(h);
    await reboot(h, `${MYSQL}/1`);
    return h;
  }

  it("answers 500 while MySQL has no writable primary, sealed status afterwards", async () => {
    const h = harness("mysql-complete-outage");
    await bootAll(h);
    const st = await exec(h, "vault/0", "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json");
    expect(st.code).toBe(1);
    await reboot(h, `${MYSQL}/1`);
    expect((await exec(h, "vault/0", "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json")).code).toBe(2);
  });

  it("a duplicate key adds no progress; a malformed key is a 400; a wrong share fails at the threshold and resets", async () => {
    const h = await ready("mysql-complete-outage");
    const [k1, k2] = h.cloud.unsealKeys;
    expect(mustParse(parseVaultStatus((await unseal(h, { key: k1 })).stdout)).progress).toBe(1);
    expect(mustParse(parseVaultStatus((await unseal(h, { key: k1 })).stdout)).progress).toBe(1);
    expect(JSON.parse((await unseal(h, { key: "not a key!" })).stdout)).toEqual({
      errors: ["'key' must be a valid hex or base64 string"],
    });
    expect(mustParse(parseVaultStatus((await unseal(h, { key: k2 })).stdout)).progress).toBe(2);
    const wrong = JSON.parse((await unseal(h, { key: Buffer.from("x".repeat(33)).toString("base64") })).stdout);
    expect(wrong).toEqual({ errors: ["cipher: message authentication failed"] });
    expect(parseVaultStatus(JSON.stringify(wrong)).ok).toBe(false);
    expect(mustParse(parseVaultStatus((await unseal(h, { reset: true })).stdout))).toMatchObject({
      sealed: true,
      progress: 0,
    });
  });

  it("reseals on every restart of its host", async () => {
    const h = await ready("mysql-complete-outage");
    for (const key of h.cloud.unsealKeys) await unseal(h, { key });
    expect(h.state().vault.units[0].sealed).toBe(false);
    const uri = h.cloud.hostsConfig[3].power.uri;
    await h.call("virsh", ["-c", uri, "destroy", "openstack3"]);
    await h.call("virsh", ["-c", uri, "start", "openstack3"]);
    h.wait(200);
    expect((await exec(h, "vault/0", "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json")).code).toBe(2);
  });
});

describe("OVN (Stage 4)", () => {
  it("a restart reconnects the chassis only after Vault is unsealed, restartSeconds later", async () => {
    const h = harness("chassis-not-connected");
    await bootAll(h);
    await reboot(h, `${MYSQL}/1`);
    const probe = () => exec(h, "ovn-chassis/2", "ovn-appctl -t ovn-controller connection-status");
    await exec(h, "ovn-chassis/2", "systemctl restart ovs-vswitchd ovn-controller");
    h.wait(60);
    expect((await probe()).stdout).toBe("not connected\n"); // vault still sealed: no certificates
    for (const key of h.cloud.unsealKeys) await unseal(h, { key });
    expect(await exec(h, "ovn-chassis/2", "systemctl restart ovs-vswitchd ovn-controller")).toEqual({
      code: 0,
      stdout: "",
    });
    h.wait(9);
    expect((await probe()).stdout).toBe("not connected\n");
    h.wait(2);
    expect((await probe()).stdout).toBe("connected\n");
  });

  it("exec: unknown commands fail clearly; a known command on the wrong unit is 'command not found'", async () => {
    const h = harness("healthy-planned");
    const unknown = await h.call("juju", [
      "exec",
      "-m",
      MODEL,
      "--unit",
      "vault/0",
      "--",
      "rm -rf /; echo coldstart-exit=$?",
    ]);
    expect(unknown).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining("command not simulated on vault/0: rm -rf /"),
    });
    expect(await exec(h, "nova-compute/0", "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json")).toEqual({
      code: 127,
      stdout: "",
    });
    expect((await h.call("juju", ["exec", "-m", MODEL, "--unit", "nova-compute/9", "--", "true"])).stderr).toBe(
      'ERROR unit "nova-compute/9" not found\n',
    );
  });
});

describe("guests and LBs (Stages 5, 6)", () => {
  it("the API is unreachable with the hosts off, 503 without a MySQL primary, up after the action", async () => {
    const h = harness("mysql-complete-outage");
    const list = () => h.call("openstack", ["server", "list", "--all-projects", "-f", "json"]);
    expect((await list()).stderr).toMatch(/^Failed to discover available identity versions/);
    await bootAll(h);
    expect((await list()).stderr).toMatch(/^Service Unavailable \(HTTP 503\) \(Request-ID: req-/);
    await reboot(h, `${MYSQL}/1`);
    const servers = mustParse(parseServerList((await list()).stdout));
    expect(servers.map((s) => s.Status)).toEqual(["ACTIVE", "ACTIVE", "SHUTOFF", "ACTIVE", "ACTIVE"]);
  });

  it("guests are SHUTOFF while their host is off; start/stop take a few sim seconds; a second start is a 409", async () => {
    const h = harness("resume-flag-regressed");
    const status = () => h.state().guests.find((g) => g.name === "capi-mgmt-v2")!.status;
    await shutdownAll(h);
    expect(status()).toBe("SHUTOFF");
    await bootAll(h);
    await reboot(h, `${MYSQL}/1`);
    expect(status()).toBe("SHUTOFF"); // flag regressed: no resume
    expect((await h.call("openstack", ["server", "start", "capi-mgmt-v2"])).exitCode).toBe(0);
    expect((await h.call("openstack", ["server", "start", "capi-mgmt-v2"])).stderr).toMatch(
      /while it is in task_state powering-on \(HTTP 409\)/,
    );
    h.wait(11);
    expect(status()).toBe("ACTIVE");
    expect((await h.call("openstack", ["server", "start", "capi-mgmt-v2"])).stderr).toMatch(
      /vm_state active \(HTTP 409\)/,
    );
    expect((await h.call("openstack", ["server", "stop", "capi-mgmt-v2"])).exitCode).toBe(0);
    h.wait(11);
    expect(status()).toBe("SHUTOFF");
    expect((await h.call("openstack", ["server", "start", "no-such"])).stderr).toBe(
      "No server with a name or ID of 'no-such' exists.\n",
    );
  });

  it("LB failover: PENDING_UPDATE, then ACTIVE (recovers) or back to ERROR (stuck)", async () => {
    for (const [scenario, end] of [
      ["lb-error", "ACTIVE"],
      ["lb-stuck", "ERROR"],
    ] as const) {
      const h = harness(scenario);
      await bootAll(h);
      await reboot(h, `${MYSQL}/1`);
      const lb = async () =>
        mustParse(parseLoadBalancers((await h.call("openstack", ["loadbalancer", "list", "-f", "json"])).stdout))[1];
      expect((await lb()).provisioning_status).toBe("ERROR");
      await h.call("openstack", ["loadbalancer", "failover", "k8s-api-lb"]);
      expect((await lb()).provisioning_status).toBe("PENDING_UPDATE");
      h.wait(61);
      expect((await lb()).provisioning_status).toBe(end);
    }
  });

  it("an LB set to recover by itself goes ACTIVE recoversAfterSeconds after its host's agent started", async () => {
    const h = harness("lb-error");
    await bootAll(h, 200);
    await reboot(h, `${MYSQL}/1`); // the action takes its run time (26 sim s by default)
    h.wait(120 + 119 - h.now());
    const first = async () =>
      mustParse(parseLoadBalancers((await h.call("openstack", ["loadbalancer", "list", "-f", "json"])).stdout))[0];
    expect((await first()).provisioning_status).toBe("PENDING_UPDATE");
    h.wait(2);
    expect(await first()).toMatchObject({ provisioning_status: "ACTIVE", operating_status: "ONLINE" });
  });
});
