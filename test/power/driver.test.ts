/**
 * Issue #22: power/driver.ts's PowerError (the one error a power step reports: a ToolError on the
 * route "power-control", transient unless said otherwise) and power/from-flags.ts's driverFor
 * (every field of a host's power settings reaches its driver).
 */
import * as os from "node:os";
import * as path from "node:path";
import { powerSchema } from "../../config/schema";
import { PowerError } from "../../power/driver";
import { driverFor } from "../../power/from-flags";
import { ToolError } from "../../runtime/tool-error";
import { fakeExec, testContext } from "../support/fake-exec";
import { failure } from "../support/failure";

describe("PowerError", () => {
  it("is a ToolError on the route power-control, transient, not cut, not a refusal, by default", () => {
    const err = new PowerError("openstack0 via virsh: virsh domstate failed");
    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({
      name: "PowerError",
      route: "power-control",
      permanent: false,
      cut: false,
      refused: false,
      message: "openstack0 via virsh: virsh domstate failed",
    });
  });

  it("carries what it is told, and its cause", () => {
    const cause = new Error("ECONNREFUSED");
    expect(new PowerError("m", true, true, true, { cause })).toMatchObject({
      permanent: true,
      cut: true,
      refused: true,
      cause,
    });
  });
});

describe("driverFor: every setting reaches the driver", () => {
  const PW = "COLDSTART_TEST_BMC_PW";

  it("virsh: the URI and the domain", async () => {
    const fake = fakeExec().on(/^virsh /, "running\n");
    const d = driverFor(
      "openstack0",
      powerSchema.parse({ driver: "virsh", uri: "qemu:///system", domain: "vm0" }),
      testContext(fake),
    );
    expect(d.label).toBe("openstack0 via virsh (qemu:///system, domain vm0)");
    await expect(d.state()).resolves.toBe("on");
    expect(fake.lines()).toEqual(["virsh -c qemu:///system domstate --reason vm0"]);
  });

  it("ipmi: BMC, port, user, cipher suite and the password's source", async () => {
    const spec = (over: Record<string, unknown>) =>
      powerSchema.parse({ driver: "ipmi", bmc: "10.0.0.9", port: 6230, user: "admin", cipherSuite: 17, ...over });
    const fake = fakeExec().on(/^ipmitool /, "Chassis Power is off\n");
    const d = driverFor("openstack1", spec({ passwordEnv: PW }), testContext(fake, { env: { [PW]: "pw" } }));
    expect(d.label).toBe("openstack1 via ipmi (BMC 10.0.0.9:6230)");
    await expect(d.state()).resolves.toBe("off");
    expect(fake.calls[0]?.args.slice(0, 10)).toEqual([
      "-I",
      "lanplus",
      "-C",
      "17",
      "-H",
      "10.0.0.9",
      "-p",
      "6230",
      "-U",
      "admin",
    ]);
    expect(fake.calls[0]?.env).toMatchObject({ IPMI_PASSWORD: "pw" });

    const fromFile = driverFor(
      "openstack1",
      spec({ passwordFile: "~/no-such-pw" }),
      testContext(fakeExec(), { env: { HOME: "/nonexistent" } }),
    );
    expect((await failure(fromFile.state())).message).toBe(
      "openstack1 (ipmi): the BMC password file ~/no-such-pw (/nonexistent/no-such-pw) does not exist",
    );
  });

  it("maas: URL, system_id, the key's source and the CA file", async () => {
    const spec = (over: Record<string, unknown>) =>
      powerSchema.parse({ driver: "maas", url: "https://maas.example:5443/MAAS", systemId: "e8xa8m", ...over });
    const ctx = testContext(fakeExec(), { env: { HOME: os.tmpdir(), MAAS_KEY: "a:b:c" } });
    const d = driverFor("openstack2", spec({ apiKeyEnv: "MAAS_KEY", caFile: "~/no-such-ca.pem" }), ctx);
    expect(d.label).toBe("openstack2 via maas (https://maas.example:5443/MAAS, system_id e8xa8m)");
    // the key is read from MAAS_KEY (else: not set), then the CA file (else: it would be asked)
    expect((await failure(d.state())).message).toBe(
      `openstack2 (maas): the CA file ~/no-such-ca.pem (${path.join(os.tmpdir(), "no-such-ca.pem")}) does not exist: fix caFile in the stack config`,
    );
    const fromFile = driverFor("openstack2", spec({ apiKeyFile: "/nonexistent/key" }), ctx);
    expect((await failure(fromFile.state())).message).toBe(
      "openstack2 (maas): the MAAS API key file /nonexistent/key does not exist",
    );
  });
});
