/**
 * The sim's charm behaviours added for issue #11, through the fake tools in-process: Vault's two
 * listeners, and what the fake juju prints for them.
 */
import { parseVaultStatus } from "../../gates/vault";
import { PLAIN_HTTP_TO_TLS_BODY } from "../../sim/format/vault";
import { mustParse } from "../fixtures";
import { bootAll, cleanupAll, exec, harness, MODEL } from "./sim-harness";

afterAll(cleanupAll);

const STATUS_8200 = "VAULT_ADDR=http://127.0.0.1:8200 vault status -format=json";
const STATUS_8220 = "VAULT_ADDR=http://127.0.0.1:8220 vault status -format=json";
const curl = (port: number, path: string) => [
  "ssh",
  "-m",
  MODEL,
  "vault/0",
  "--",
  "curl",
  "-sS",
  "--max-time",
  "30",
  "-X",
  "PUT",
  "--data-binary",
  "@-",
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
