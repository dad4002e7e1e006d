/**
 * The sim's charm behaviours added for issue #11, through the fake tools in-process: Vault's two
 * listeners, a MySQL member RECOVERING after the reboot action (5 units), units whose status Juju
 * cannot read, and the octavia-ovn-chassis application.
 */
import { parseAppStatus } from "../../gates/juju-status";
import { classifyMysql, mysqlUnits } from "../../gates/mysql";
import { allChassisUnits, chassisApplications } from "../../gates/ovn";
import { parseVaultStatus } from "../../gates/vault";
import { PLAIN_HTTP_TO_TLS_BODY } from "../../sim/format/vault";
import { UNSEAL_COMMAND } from "../../steps/vault";
import { mustParse } from "../fixtures";
import { bootAll, cleanupAll, exec, harness, MODEL } from "./sim-harness";

afterAll(cleanupAll);

const STATUS_8200 = "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json";
const STATUS_8220 = "VAULT_ADDR=http://127.0.0.1:8220 vault status -format=json";
/** The step's own unseal command (steps/vault.ts), aimed at another port or path. */
const curl = (port: number, path: string) => [
  "ssh",
  "-m",
  MODEL,
  "vault/0",
  "--",
  ...UNSEAL_COMMAND.slice(0, -1),
  `http://127.0.0.1:${port}${path}`,
];

describe("Vault's listeners (charm-vault vault.hcl.j2: [::]:8200, TLS when ssl-cert/ssl-key set; 127.0.0.1:8220 always plain)", () => {
  it("vault.tls: plain HTTP on 8200 gets Go's 400 body; the loopback 8220 answers the seal status", async () => {
    const h = harness("vault-tls");
    await bootAll(h);
    expect(h.state().vault.tls).toBe(true);

    expect((await exec(h, "vault/0", STATUS_8200)).code).toBe(1);
    const ok = await exec(h, "vault/0", STATUS_8220);
    expect(ok.code).toBe(2);
    expect(mustParse(parseVaultStatus(ok.stdout))).toMatchObject({ sealed: true, t: 3 });

    const refused = await h.call("juju", curl(8200, "/v1/sys/unseal"), JSON.stringify({ key: h.cloud.unsealKeys[0] }));
    expect(refused).toMatchObject({ exitCode: 0, stdout: PLAIN_HTTP_TO_TLS_BODY });
    expect(PLAIN_HTTP_TO_TLS_BODY).toBe("Client sent an HTTP request to an HTTPS server.\n");
    expect(h.state().vault.units[0].given).toEqual([]);

    const accepted = await h.call("juju", curl(8220, "/v1/sys/unseal"), JSON.stringify({ key: h.cloud.unsealKeys[0] }));
    expect(mustParse(parseVaultStatus(accepted.stdout))).toMatchObject({ sealed: true, progress: 1 });
  });

  it("without TLS both listeners speak plain HTTP", async () => {
    const h = harness("healthy-unplanned");
    await bootAll(h);
    expect((await exec(h, "vault/0", STATUS_8200)).code).toBe(2);
    expect((await exec(h, "vault/0", STATUS_8220)).code).toBe(2);
  });

  it("nothing listens on another port: curl's connection refused", async () => {
    const h = harness("vault-tls");
    await bootAll(h);
    const res = await h.call("juju", curl(8201, "/v1/sys/unseal"), "{}");
    expect(res.exitCode).toBe(7);
    expect(res.stderr).toBe("curl: (7) Failed to connect to 127.0.0.1 port 8201 after 0 ms: Connection refused\n");
  });
});

const MYSQL = "mysql-innodb-cluster";
const status = async (h: ReturnType<typeof harness>, ...apps: string[]) =>
  mustParse(parseAppStatus((await h.call("juju", ["status", "-m", MODEL, ...apps, "--format=json"])).stdout));

describe("a 5-unit MySQL cluster with a member RECOVERING after the reboot action", () => {
  it("shows the complete outage on 5 units, then /4 in Mode n/a while the others tolerate 2 failures, then healthy", async () => {
    const h = harness("mysql-recovering-5-units");
    await bootAll(h, 300);
    const units = async () => mysqlUnits(await status(h, MYSQL), MYSQL);
    expect((await units()).map((u) => u.machine)).toEqual(["0/lxd/3", "1/lxd/2", "2/lxd/2", "3/lxd/1", "0/lxd/5"]);
    expect(classifyMysql(await units(), 5).state).toBe("complete-outage");

    const run = await h.call("juju", [
      "run",
      "-m",
      MODEL,
      `${MYSQL}/1`,
      "reboot-cluster-from-complete-outage",
      "--format=json",
      "--wait=300s",
    ]);
    expect(run.exitCode).toBe(0);
    h.wait(61); // past the others' stale message

    const converging = await units();
    const text = "Cluster is ONLINE and can tolerate up to 2 failures. 1 member is not active.";
    expect(converging.map((u) => u.message)).toEqual([
      `Unit is ready: Mode: R/O, ${text}`,
      `Unit is ready: Mode: R/W, ${text}`,
      `Unit is ready: Mode: R/O, ${text}`,
      `Unit is ready: Mode: R/O, ${text}`,
      `Unit is ready: Mode: n/a, ${text}`,
    ]);
    expect(classifyMysql(converging, 5).state).toBe("converging");

    h.wait(180);
    expect(classifyMysql(await units(), 5)).toMatchObject({ ok: true, state: "healthy" });
    expect(h.state().damage).toEqual([]);
  });
});

describe("units whose status Juju cannot read (status-error)", () => {
  it("prints the unit as {status-error} for its seconds, the subordinate always; the others stay readable", async () => {
    const h = harness("juju-status-error");
    await bootAll(h, 200);
    const raw = JSON.parse((await h.call("juju", ["status", "-m", MODEL, MYSQL, "--format=json"])).stdout) as {
      applications: Record<string, { units: Record<string, unknown> }>;
    };
    expect(raw.applications[MYSQL].units[`${MYSQL}/2`]).toEqual({ "status-error": "status not found" });
    const units = mysqlUnits(await status(h, MYSQL), MYSQL);
    expect(units.map((u) => u.workload)).toEqual(["active", "active", "status-error"]);
    expect(classifyMysql(units, 3).state).toBe("converging");

    const nova = JSON.parse(
      (await h.call("juju", ["status", "-m", MODEL, "nova-compute", "--format=json"])).stdout,
    ) as {
      applications: Record<string, { units: Record<string, { subordinates: Record<string, unknown> }> }>;
    };
    expect(nova.applications["nova-compute"].units["nova-compute/1"].subordinates["ovn-chassis/1"]).toEqual({
      "status-error": "status not found",
    });

    h.wait(610);
    expect(classifyMysql(mysqlUnits(await status(h, MYSQL), MYSQL), 3).state).toBe("healthy");
  });
});

describe("octavia-ovn-chassis: the ovn-chassis charm deployed again under octavia", () => {
  it("is in the whole model's status by charm, with its 3 units inside octavia's, and answers the probe", async () => {
    const h = harness("octavia-chassis-not-connected");
    await bootAll(h, 200);
    const doc = await status(h);
    expect(doc.applications["octavia-ovn-chassis"]).toMatchObject({
      charm: "ovn-chassis",
      "charm-name": "ovn-chassis",
      "subordinate-to": ["octavia"],
    });
    expect(chassisApplications(doc)).toEqual(["octavia-ovn-chassis", "ovn-chassis"]);
    expect(allChassisUnits(doc, chassisApplications(doc)).slice(0, 3)).toEqual([
      { chassis: "octavia-ovn-chassis/0", principal: "octavia/0", machine: "0/lxd/6" },
      { chassis: "octavia-ovn-chassis/1", principal: "octavia/1", machine: "1/lxd/6" },
      { chassis: "octavia-ovn-chassis/2", principal: "octavia/2", machine: "2/lxd/6" },
    ]);
    const probe = (u: string) => exec(h, u, "ovn-appctl -t ovn-controller connection-status");
    expect(await probe("octavia-ovn-chassis/1")).toEqual({ code: 0, stdout: "not connected\n" });
    expect(await probe("octavia-ovn-chassis/0")).toEqual({ code: 0, stdout: "connected\n" });
    expect(await probe("ovn-chassis/1")).toEqual({ code: 0, stdout: "connected\n" });
  });

  it("is not in a model that does not deploy octavia", async () => {
    const h = harness("healthy-unplanned");
    await bootAll(h, 200);
    const doc = await status(h);
    expect(Object.keys(doc.applications)).not.toContain("octavia");
    expect(chassisApplications(doc)).toEqual(["ovn-chassis"]);
  });
});
