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
import { parseDomstate, VirshDriver } from "../../power/virsh";
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
    expect(ctx.records.map((r) => [r.file, ...r.args].join(" "))).toEqual(["virsh -c test:///default domstate test"]);
    expect(ctx.records[0]?.result?.stdout).toBe(readFixture("virsh/domstate-running.stdout"));
  });

  it("graceful off is `virsh shutdown`, hard off is `virsh destroy`; both succeed on a running domain", async () => {
    const { driver: d, ctx } = driver();
    await d.off(true);
    await d.off(false);
    expect(ctx.records.map((r) => r.args.slice(2).join(" "))).toEqual(["shutdown test", "destroy test"]);
    expect(ctx.records[0]?.result?.stdout).toBe(readFixture("virsh/shutdown-running.stdout"));
    expect(ctx.records[1]?.result?.stdout).toBe(readFixture("virsh/destroy-running.stdout"));
  });

  it("on is `virsh start`; on an already running domain libvirt refuses, in one line naming host and driver", async () => {
    const { driver: d } = driver();
    const err = await failure(d.on());
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      "openstack0 via virsh (test:///default, domain test): virsh start failed: error: Domain is already active",
    );
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
        "destroy-running",
        "domstate-paused",
        "domstate-running",
        "domstate-shut-off-after-shutdown",
        "domstate-unknown-domain",
        "list-all-running",
        "list-all-shut-off",
        "shutdown-running",
        "start-after-destroy",
      ].sort(),
    );
  });

  it("older libvirt spellings (capitalised)", () => {
    expect(parseDomstate("Running\n")).toBe("on");
    expect(parseDomstate("Shut off\n")).toBe("off");
    expect(parseDomstate("shutoff\n")).toBe("off");
    expect(parseDomstate("in shutdown\n")).toBe("on");
    expect(parseDomstate("crashed\n")).toBe("off");
  });
});
