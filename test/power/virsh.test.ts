/**
 * The virsh driver against the REAL virsh and libvirt's built-in test driver (`test:///default`,
 * domain `test`, which starts running). The test driver keeps state only inside one virsh
 * process, so each driver call starts from a fresh, running `test`: what is observable is that
 * domstate parses, that shutdown/destroy succeed, that start on a running domain fails with
 * libvirt's reason, and that an unknown domain is one clear line. Plus parseDomstate on every
 * recorded virsh output.
 */
import * as fs from "node:fs";
import { PowerError } from "../../power/driver";
import { parseDomstate, VirshDriver, virshErrors } from "../../power/virsh";
import { realExec } from "../../runtime/exec";
import { fixturePath, readFixture } from "../fixtures";
import { realContext, requirePrograms } from "../support/ipmi-sim";
import { failure } from "../support/failure";

const URI = "test:///default";

beforeAll(() => requirePrograms({ virsh: "libvirt-clients" }));

function driver(domain = "test") {
  const ctx = realContext();
  return { ctx, driver: new VirshDriver({ host: "openstack0", uri: URI, domain }, ctx) };
}

describe("virsh driver against virsh -c test:///default", () => {
  it("domstate of the running test domain parses as on", async () => {
    const { driver: d, ctx } = driver();
    await expect(d.state()).resolves.toBe("on");
    expect(ctx.records.map((r) => [r.file, ...r.args].join(" "))).toEqual([
      "virsh -c test:///default domstate --reason test",
    ]);
    expect(ctx.records[0]?.result?.stdout).toBe(readFixture("virsh/domstate-reason-running.stdout"));
  });

  it("graceful off is `virsh shutdown`, hard off is `virsh destroy`; both succeed on a running domain", async () => {
    const { driver: d, ctx } = driver();
    await d.off(true);
    await d.off(false);
    expect(ctx.records.map((r) => r.args.slice(2).join(" "))).toEqual(["shutdown test", "destroy test"]);
    expect(ctx.records[0]?.result?.stdout).toBe(readFixture("virsh/shutdown-running.stdout"));
    expect(ctx.records[1]?.result?.stdout).toBe(readFixture("virsh/destroy-running.stdout"));
  });

  it("on is `virsh start`; on an already running domain virsh says `Domain is already active`: the wanted state, not a failure", async () => {
    const { driver: d, ctx } = driver();
    await expect(d.on()).resolves.toBeUndefined();
    expect(ctx.records[0]?.result?.exitCode).toBe(1);
    expect(ctx.records[0]?.result?.stderr).toBe(readFixture("virsh/start-already-active.stderr"));
    expect(ctx.out.lines).toEqual([
      "openstack0 via virsh (test:///default, domain test): virsh start: error: Domain is already active -- it is running already (the wanted state)",
    ]);
  });

  it("a URI virsh cannot connect to: both `error:` lines, permanent (a gate stops at once)", async () => {
    const ctx = realContext();
    const err = await failure(
      new VirshDriver({ host: "openstack0", uri: "nosuch:///system", domain: "test" }, ctx).state(),
    );
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toMatch(
      /^openstack0 via virsh \(nosuch:\/\/\/system, domain test\): virsh domstate failed: error: failed to connect to the hypervisor error: \S/,
    );
    expect((err as PowerError).permanent).toBe(true);
  });

  it("an unknown domain: one clear line naming host and driver", async () => {
    const { driver: d } = driver("nosuchdomain");
    const err = await failure(d.state());
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      "openstack0 via virsh (test:///default, domain nosuchdomain): virsh domstate failed: error: failed to get domain 'nosuchdomain'",
    );
    expect(err.message).not.toContain("\n");
  });

  it("within ONE virsh session the state does change (how the fixtures were captured)", async () => {
    const session = await realExec({
      file: "virsh",
      args: ["-c", URI, "destroy test; domstate test; start test; domstate test"],
      timeoutMs: 10_000,
    });
    expect(session.exitCode).toBe(0);
    const blocks = session.stdout.split("\n\n").filter((b) => b.trim() !== "");
    expect(blocks.map((b) => b.trim())).toEqual([
      "Domain 'test' destroyed",
      "shut off",
      "Domain 'test' started",
      "running",
    ]);
    expect(parseDomstate(blocks[1]!)).toBe("off");
    expect(parseDomstate(blocks[3]!)).toBe("on");
  });
});

describe("parseDomstate on every recorded virsh output", () => {
  const stdout = (name: string) => readFixture(`virsh/${name}.stdout`);
  /** The last output block of a recorded session: what `domstate` printed when it came last. */
  const lastBlock = (text: string) =>
    text
      .split("\n\n")
      .filter((b) => b.trim() !== "")
      .at(-1) ?? "";

  it("domstate outputs", () => {
    expect(parseDomstate(stdout("domstate-running"))).toBe("on");
    expect(parseDomstate(lastBlock(stdout("domstate-shut-off-after-shutdown")))).toBe("off");
    expect(parseDomstate(lastBlock(stdout("domstate-paused")))).toBe("on");
    expect(parseDomstate(stdout("domstate-unknown-domain"))).toBeUndefined();
  });

  it("a whole session's output is not a domstate answer: parseDomstate reads the first line only", () => {
    expect(parseDomstate(stdout("domstate-shut-off-after-shutdown"))).toBeUndefined();
    expect(parseDomstate(stdout("domstate-paused"))).toBeUndefined();
  });

  it("outputs of other commands never parse as a state", () => {
    for (const name of [
      "shutdown-running",
      "destroy-running",
      "start-after-destroy",
      "list-all-running",
      "list-all-shut-off",
    ])
      expect(parseDomstate(stdout(name))).toBeUndefined();
  });

  it("covers every virsh fixture", () => {
    const names = fs
      .readdirSync(fixturePath("virsh"))
      .filter((f) => f.endsWith(".stdout"))
      .map((f) => f.replace(/\.stdout$/, ""))
      .sort();
    expect(names).toEqual(
      [
        "connect-failed",
        "connect-failed-qemu-ssh",
        "destroy-not-running",
        "destroy-running",
        "domstate-paused",
        "domstate-reason-running",
        "domstate-reason-session",
        "domstate-running",
        "domstate-shut-off-after-shutdown",
        "domstate-unknown-domain",
        "list-all-running",
        "list-all-shut-off",
        "shutdown-not-running-test-driver",
        "shutdown-running",
        "start-after-destroy",
        "start-already-active",
      ].sort(),
    );
  });

  it("domstate --reason: the ` (reason)` suffix is not part of the state", () => {
    expect(parseDomstate(stdout("domstate-reason-running"))).toBe("on");
    const blocks = stdout("domstate-reason-session")
      .split("\n\n")
      .filter((b) => b.trim() !== "");
    expect(blocks.map((b) => b.trim())).toEqual([
      "Domain 'test' destroyed",
      "shut off (destroyed)",
      "Domain 'test' started",
      "running (booted)",
      "Domain 'test' suspended",
      "paused (user)",
    ]);
    expect([blocks[1], blocks[3], blocks[5]].map((b) => parseDomstate(b!))).toEqual(["off", "on", "on"]);
    expect(parseDomstate("in shutdown (user)\n")).toBe("on");
    expect(parseDomstate("idle (unknown)\n")).toBe("on");
    expect(parseDomstate("no state\n")).toBeUndefined();
  });

  it("virshErrors shows the `error:` lines, not the first stderr line (ssh may speak first)", () => {
    expect(virshErrors(readFixture("virsh/destroy-not-running.stderr"))).toBe(
      "error: Failed to destroy domain 'test' error: Requested operation is not valid: domain is not running",
    );
    expect(
      virshErrors(
        "Warning: Permanently added 'kvm1' (ED25519) to the list of known hosts.\n" +
          readFixture("virsh/connect-failed.stderr"),
      ),
    ).toMatch(/^error: failed to connect to the hypervisor error: /);
    expect(virshErrors(readFixture("virsh/connect-failed-qemu-ssh.stderr"))).toContain("Could not resolve hostname");
  });

  it("replays the captures: stopped-domain shutdown/destroy and an active start are the wanted state", async () => {
    const replay = (name: string): ReturnType<typeof realContext> => {
      const ctx = realContext();
      ctx.exec = async () => ({
        exitCode: Number(readFixture(`virsh/${name}.rc`)),
        stdout: readFixture(`virsh/${name}.stdout`).split("\n\n").at(-1) ?? "",
        stderr: readFixture(`virsh/${name}.stderr`),
        timedOut: false,
        notFound: false,
      });
      return ctx;
    };
    const d = (name: string) => new VirshDriver({ host: "openstack0", uri: URI, domain: "test" }, replay(name));
    await expect(d("destroy-not-running").off(false)).resolves.toMatch(
      /^virsh destroy: .*domain is not running -- it is off already/,
    );
    // the test driver's wording for the same race
    await expect(d("shutdown-not-running-test-driver").off(true)).resolves.toMatch(
      /^virsh shutdown: .*domain 'test' not running/,
    );
    await expect(d("start-already-active").on()).resolves.toBeUndefined();
    await expect(d("connect-failed").state()).rejects.toMatchObject({ permanent: true });
    await expect(d("domstate-unknown-domain").state()).rejects.toMatchObject({ permanent: true });
  });

  it("a shutdown the hypervisor cannot do at all is a refusal; a busy libvirt is transient", async () => {
    const answering = (stderr: string) => {
      const ctx = realContext();
      ctx.exec = async () => ({ exitCode: 1, stdout: "\n", stderr, timedOut: false, notFound: false });
      return new VirshDriver({ host: "openstack0", uri: URI, domain: "test" }, ctx);
    };
    await expect(
      answering(
        "error: Failed to shutdown domain 'test'\nerror: this function is not supported by the connection driver: virDomainShutdown\n",
      ).off(true),
    ).rejects.toMatchObject({ refused: true, permanent: false });
    await expect(
      answering(
        "error: Failed to shutdown domain 'test'\nerror: Timed out during operation: cannot acquire state change lock\n",
      ).off(true),
    ).rejects.toMatchObject({ refused: false, permanent: false });
  });

  it("older libvirt spellings (capitalised)", () => {
    expect(parseDomstate("Running\n")).toBe("on");
    expect(parseDomstate("Shut off\n")).toBe("off");
    expect(parseDomstate("shutoff\n")).toBe("off");
    expect(parseDomstate("in shutdown\n")).toBe("on");
    expect(parseDomstate("crashed\n")).toBe("off");
  });
});
