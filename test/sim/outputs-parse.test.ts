/**
 * The fake tools' outputs parse with coldstart's OWN parsers (gates/*.ts) and match the recorded
 * fixtures' shapes, stage by stage.
 */
import { machinesVerdict, parseMachines } from "../../gates/machines";
import { classifyMysql, mysqlUnits, parseActionResult, rebootOutcome } from "../../gates/mysql";
import { parseAppStatus } from "../../gates/juju-status";
import { chassisUnits, parseConnectionStatus } from "../../gates/ovn";
import { parseJujuConfig, resumeFlag } from "../../gates/nova-config";
import { parseVaultStatus, readVaultStatus } from "../../gates/vault";
import { guestsVerdict, parseServerList } from "../../gates/guests";
import { failoverOutcome, lbsVerdict, parseAmphorae, parseLoadBalancers } from "../../gates/octavia";
import { cloudAssertVerdict } from "../../gates/cloud-assert";
import { mustParse, readFixture } from "../fixtures";
import { bootAll, cleanupAll, exec, harness, MODEL } from "./sim-harness";
import { UNSEAL_COMMAND } from "../../steps/vault";

afterAll(cleanupAll);

const MYSQL = "mysql-innodb-cluster";
const VAULT_STATUS = "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json";
const UNSEAL = UNSEAL_COMMAND;

/** Every key path of a JSON value ("a.b[].c"), to compare shapes with a fixture. */
function keyPaths(v: unknown, prefix = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keyPaths(x, `${prefix}[]`, out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      const p = `${prefix}.${/^\d|\//.test(k) ? "*" : k}`;
      out.add(p);
      keyPaths(x, p, out);
    }
  }
  return out;
}

describe("juju (Stages 1, 2, 4, 5)", () => {
  it("juju machines: all hosts and nested containers, down until their agents start", async () => {
    const h = harness("healthy-unplanned");
    const before = mustParse(parseMachines((await h.call("juju", ["machines", "-m", MODEL, "--format=json"])).stdout));
    expect(machinesVerdict(before)).toMatchObject({ ok: false, state: "not-started" });
    expect(before.machines["0"].containers?.["0/lxd/3"]["juju-status"]).toEqual(
      expect.objectContaining({ current: "down", message: "agent is not communicating with the server" }),
    );
    await bootAll(h);
    const text = (await h.call("juju", ["machines", "-m", MODEL, "--format=json"])).stdout;
    const after = mustParse(parseMachines(text));
    expect(machinesVerdict(after)).toMatchObject({ ok: true, state: "all-started" });
    // same key paths as the recorded capture
    const fixture = keyPaths(JSON.parse(readFixture("juju/juju-machines.all-started.juju3.json")));
    expect([...fixture].filter((p) => !keyPaths(JSON.parse(text)).has(p))).toEqual([]);
  });

  it("juju status mysql-innodb-cluster: lost, then the complete-outage signature, then converging and healthy", async () => {
    const h = harness("mysql-complete-outage");
    const units = async () =>
      mysqlUnits(
        mustParse(
          parseAppStatus((await h.call("juju", ["status", "-m", MODEL, MYSQL, "--format=json"])).stdout, MYSQL),
        ),
        MYSQL,
      );
    expect(classifyMysql(await units(), 3).state).toBe("not-ready");
    await bootAll(h);
    const outage = await units();
    expect(classifyMysql(outage, 3).state).toBe("complete-outage");
    expect(outage.map((u) => [u.unit, u.machine, u.address, u.leader])).toEqual([
      [`${MYSQL}/0`, "0/lxd/3", "192.168.100.54", false],
      [`${MYSQL}/1`, "1/lxd/2", "192.168.100.46", true],
      [`${MYSQL}/2`, "2/lxd/2", "192.168.100.52", false],
    ]);
    const res = await h.call("juju", [
      "run",
      "-m",
      MODEL,
      `${MYSQL}/1`,
      "reboot-cluster-from-complete-outage",
      "--format=json",
    ]);
    expect(rebootOutcome(mustParse(parseActionResult(res.stdout)))).toEqual({ state: "success" });
    expect(classifyMysql(await units(), 3).state).toBe("converging");
    h.wait(61);
    expect(classifyMysql(await units(), 3)).toMatchObject({ ok: true, state: "healthy" });
    expect(h.state().damage).toEqual([]);
    const status = JSON.parse((await h.call("juju", ["status", "-m", MODEL, MYSQL, "--format=json"])).stdout);
    const fixture = keyPaths(JSON.parse(readFixture(`juju/${MYSQL}.healthy.juju3.status.json`)));
    expect([...fixture].filter((p) => !keyPaths(status).has(p))).toEqual([]);
  });

  it("juju status nova-compute: one ovn-chassis subordinate per compute unit; connection-status parses", async () => {
    const h = harness("chassis-not-connected");
    await bootAll(h);
    const doc = mustParse(
      parseAppStatus(
        (await h.call("juju", ["status", "-m", MODEL, "nova-compute", "--format=json"])).stdout,
        "nova-compute",
      ),
    );
    const chassis = chassisUnits(doc, "nova-compute", "ovn-chassis");
    expect(chassis.map((c) => `${c.chassis}@${c.principal}:${c.machine}`)).toEqual([
      "ovn-chassis/0@nova-compute/0:0",
      "ovn-chassis/1@nova-compute/1:1",
      "ovn-chassis/2@nova-compute/2:2",
      "ovn-chassis/3@nova-compute/3:3",
    ]);
    expect(doc.applications["ovn-chassis"]?.["subordinate-to"]).toEqual(["nova-compute"]);
    const statuses = [];
    for (const c of chassis) {
      const r = await exec(h, c.chassis, "ovn-appctl -t ovn-controller connection-status");
      expect(r.code).toBe(0);
      statuses.push(parseConnectionStatus(r.stdout));
    }
    expect(statuses).toEqual(["connected", "connected", "not connected", "connected"]);
    expect((await exec(h, "ovn-chassis/0", "ovn-appctl -t ovn-controller connection-status")).stdout).toBe(
      readFixture("juju/ovn-appctl.connection-status.connected.txt"),
    );
  });

  it("juju config nova-compute: the resume flag, enabled or regressed", async () => {
    for (const [scenario, enabled] of [
      ["healthy-planned", true],
      ["resume-flag-regressed", false],
    ] as const) {
      const h = harness(scenario);
      const doc = mustParse(
        parseJujuConfig((await h.call("juju", ["config", "-m", MODEL, "nova-compute", "--format=json"])).stdout),
      );
      expect(resumeFlag(doc)).toMatchObject({ enabled, explicit: enabled });
    }
  });

  it("vault status through juju exec: exit 2 sealed (trailer), JSON like the fixture; unseal answers parse", async () => {
    const h = harness("vault-threshold-2-of-3");
    await bootAll(h);
    await h.call("juju", ["run", "-m", MODEL, `${MYSQL}/1`, "reboot-cluster-from-complete-outage", "--format=json"]);
    const sealed = await exec(h, "vault/0", VAULT_STATUS);
    expect(sealed.code).toBe(2);
    expect(mustParse(readVaultStatus(sealed.code, sealed.stdout))).toMatchObject({
      sealed: true,
      t: 2,
      n: 3,
      progress: 0,
    });
    expect(Object.keys(JSON.parse(sealed.stdout))).toEqual(
      Object.keys(JSON.parse(readFixture("vault/status-sealed.json"))),
    );
    let answer = mustParse(
      parseVaultStatus(
        (
          await h.call(
            "juju",
            ["ssh", "-m", MODEL, "vault/0", "--", ...UNSEAL],
            JSON.stringify({ key: h.cloud.unsealKeys[0] }),
          )
        ).stdout,
      ),
    );
    expect(answer).toMatchObject({ sealed: true, progress: 1 });
    answer = mustParse(
      parseVaultStatus(
        (
          await h.call(
            "juju",
            ["ssh", "-m", MODEL, "vault/0", "--", ...UNSEAL],
            JSON.stringify({ key: h.cloud.unsealKeys[1] }),
          )
        ).stdout,
      ),
    );
    expect(answer).toMatchObject({ sealed: false, progress: 0 });
    const unsealed = await exec(h, "vault/0", VAULT_STATUS);
    expect(unsealed.code).toBe(0);
    expect(mustParse(readVaultStatus(unsealed.code, unsealed.stdout)).sealed).toBe(false);
    expect(Object.keys(JSON.parse(unsealed.stdout))).toEqual(
      Object.keys(JSON.parse(readFixture("vault/status-unsealed.json"))),
    );
  });
});

describe("openstack (baseline, Stages 5 and 6)", () => {
  it("server list -f json parses with the fixture's keys; table and -c columns like the recorded ones", async () => {
    const h = harness("healthy-planned");
    const json = (await h.call("openstack", ["server", "list", "--all-projects", "-f", "json"])).stdout;
    const servers = mustParse(parseServerList(json));
    expect(servers).toHaveLength(5);
    expect(Object.keys(JSON.parse(json)[0])).toEqual(
      Object.keys(JSON.parse(readFixture("openstack/server-list-all-projects.json"))[0]),
    );
    expect(guestsVerdict(servers, h.cloud.holdGuests)).toMatchObject({ ok: true, state: "all-active" });
    const table = (await h.call("openstack", ["server", "list", "--all-projects"])).stdout;
    expect(table.split("\n")[1]).toMatch(/^\| ID +\| Name +\| Status +\| Networks +\| Image \| Flavor +\|$/);
    expect(table).toContain("| private=192.168.0.3  |");
    const nameStatus = JSON.parse(
      (await h.call("openstack", ["server", "list", "--all-projects", "-c", "Status", "-c", "Name", "-f", "json"]))
        .stdout,
    );
    expect(Object.keys(nameStatus[0])).toEqual(["Name", "Status"]);
    // without --all-projects: the admin project only
    expect(JSON.parse((await h.call("openstack", ["server", "list", "-f", "json"])).stdout)).toHaveLength(3);
  });

  it("loadbalancer list / amphora list parse; failover answers classify", async () => {
    const h = harness("lb-error");
    await bootAll(h);
    await h.call("juju", ["run", "-m", MODEL, `${MYSQL}/1`, "reboot-cluster-from-complete-outage", "--format=json"]);
    const lbs = mustParse(
      parseLoadBalancers((await h.call("openstack", ["loadbalancer", "list", "-f", "json"])).stdout),
    );
    expect(lbs.map((l) => [l.name, l.provisioning_status])).toEqual([
      ["best_load_balancer", "PENDING_UPDATE"],
      ["k8s-api-lb", "ERROR"],
    ]);
    expect(lbsVerdict(lbs).state).toBe("error");
    const amphorae = mustParse(
      parseAmphorae((await h.call("openstack", ["loadbalancer", "amphora", "list", "-f", "json"])).stdout),
    );
    expect(amphorae.map((a) => a.role)).toEqual(["MASTER", "BACKUP", "STANDALONE"]);
    const busy = await h.call("openstack", ["loadbalancer", "failover", lbs[0].id]);
    expect(busy.stderr).toMatch(
      /^Invalid state PENDING_UPDATE of loadbalancer resource 607226db-27ef-4d41-ae89-f2a800e9c2db \(HTTP 409\) \(Request-ID: req-[0-9a-f-]+\)\n$/,
    );
    expect(failoverOutcome(busy.exitCode, busy.stdout, busy.stderr)).toEqual({ state: "busy" });
    const accepted = await h.call("openstack", ["loadbalancer", "failover", lbs[1].id]);
    expect(accepted).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(failoverOutcome(accepted.exitCode, accepted.stdout, accepted.stderr)).toEqual({ state: "accepted" });
    const unknown = await h.call("openstack", ["loadbalancer", "failover", "00000000-0000-4000-8000-00000000dead"]);
    expect(unknown.stderr).toBe(readFixture("octavia/loadbalancer-failover-unknown-lb.stderr"));
    expect(failoverOutcome(unknown.exitCode, unknown.stdout, unknown.stderr)).toEqual({ state: "not-found" });
    const table = (await h.call("openstack", ["loadbalancer", "list"])).stdout;
    expect(table.split("\n")[1]).toBe(readFixture("octavia/loadbalancer-list.table.txt").split("\n")[1]);
  });

  it("refuses without credentials, like the real client", async () => {
    const h = harness("healthy-planned");
    const res = await h.call("openstack", ["server", "list", "--all-projects", "-f", "json"], "", { OS_AUTH_URL: "" });
    expect(res).toMatchObject({ exitCode: 1, stderr: "Missing value auth-url required for auth plugin password\n" });
  });
});

describe("virsh and cloud-assert (power, Stage 7)", () => {
  it("virsh answers byte-for-byte like the recorded captures", async () => {
    const h = harness("healthy-planned");
    const uri = h.cloud.hostsConfig[0].power.uri;
    const norm = (text: string) => text.replace(/'openstack\d+'/g, "'test'");
    expect(await h.call("virsh", ["-c", uri, "domstate", "openstack0"])).toEqual({
      stdout: readFixture("virsh/domstate-running.stdout"),
      stderr: "",
      exitCode: 0,
    });
    expect(norm((await h.call("virsh", ["-c", uri, "shutdown", "openstack0"])).stdout)).toBe(
      readFixture("virsh/shutdown-running.stdout"),
    );
    expect((await h.call("virsh", ["-c", uri, "domstate", "openstack0"])).stdout).toBe("running\n\n");
    h.wait(31);
    expect((await h.call("virsh", ["-c", uri, "domstate", "openstack0"])).stdout).toBe("shut off\n\n");
    expect(norm((await h.call("virsh", ["-c", uri, "destroy", "openstack1"])).stdout)).toBe(
      readFixture("virsh/destroy-running.stdout"),
    );
    const started = (await h.call("virsh", ["-c", uri, "start", "openstack1"])).stdout;
    expect(norm(started)).toBe(readFixture("virsh/start-after-destroy.stdout").split("\n\n")[1] + "\n\n");
    const unknown = await h.call("virsh", ["-c", uri, "domstate", "nosuchdomain"]);
    expect(unknown).toEqual({
      stdout: readFixture("virsh/domstate-unknown-domain.stdout"),
      stderr: readFixture("virsh/domstate-unknown-domain.stderr"),
      exitCode: 1,
    });
  });

  it("cloud-assert: PASS on a recovered cloud, FAIL lines on a sealed one and by scenario", async () => {
    const h = harness("cloud-assert-fail");
    const sealed = await h.call("cloud-assert", []);
    expect(cloudAssertVerdict(sealed.exitCode, sealed.stdout)).toMatchObject({ ok: false, state: "fail" });
    expect(sealed.stdout).toMatch(/^A3 FAIL vault: sealed or unreachable: vault\/0$/m);
    expect(sealed.stdout).toMatch(/^A7 FAIL horizon/m);
  });
});
