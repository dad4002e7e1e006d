/**
 * Issue #22: how the virsh driver classifies what virsh answered -- permanent (the gate stops at
 * once), cut at the deadline, the wanted state already (success), refused (power-off may cut
 * power) or transient -- for the answers the real virsh and libvirt's test driver
 * (test/power/virsh.test.ts) cannot be made to give, and with libvirt's own wording.
 */
import { PowerError } from "../../power/driver";
import { domstateWord, parseDomstate, VirshDriver, virshErrors } from "../../power/virsh";
import { BUDGET_SPENT } from "../../runtime/deadline";
import type { ExecRequest, ExecResult } from "../../runtime/exec";
import { readFixture } from "../fixtures";
import { fakeExec, testContext } from "../support/fake-exec";
import { failure } from "../support/failure";

const LABEL = "openstack0 via virsh (qemu+ssh://kvm1/system, domain openstack0-vm)";

/** A driver whose every virsh call is answered with `reply` (stdout text, or the exec result's fields). */
function answering(reply: Partial<ExecResult> | string, callTimeoutMs?: number) {
  const calls: ExecRequest[] = [];
  const ctx = testContext(fakeExec(), { callTimeoutMs });
  ctx.exec = async (req) => {
    calls.push(req);
    const r = typeof reply === "string" ? { stdout: reply } : reply;
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false, notFound: false, ...r };
  };
  const driver = new VirshDriver({ host: "openstack0", uri: "qemu+ssh://kvm1/system", domain: "openstack0-vm" }, ctx);
  return { calls, ctx, driver };
}

/** virsh failing the way libvirt says it: `error: Failed to <cmd> domain` and the reason. */
const failed = (stderr: string): Partial<ExecResult> => ({ exitCode: 1, stdout: "\n", stderr });

describe("the commands", () => {
  it("state is `domstate --reason <domain>`; on, soft and hard off name only the domain", async () => {
    const status = answering("running (booted)\n\n");
    await expect(status.driver.state()).resolves.toBe("on");
    expect(status.calls.map((c) => [c.file, ...c.args].join(" "))).toEqual([
      "virsh -c qemu+ssh://kvm1/system domstate --reason openstack0-vm",
    ]);
    const control = answering("Domain 'openstack0-vm' started\n\n");
    await expect(control.driver.on()).resolves.toBeUndefined();
    await expect(control.driver.off(true)).resolves.toBeUndefined();
    await expect(control.driver.off(false)).resolves.toBeUndefined();
    expect(control.calls.map((c) => c.args.join(" "))).toEqual([
      "-c qemu+ssh://kvm1/system start openstack0-vm",
      "-c qemu+ssh://kvm1/system shutdown openstack0-vm",
      "-c qemu+ssh://kvm1/system destroy openstack0-vm",
    ]);
    expect(control.ctx.out.lines).toEqual([]);
    expect(control.calls.every((c) => c.timeoutMs === 120_000)).toBe(true);
  });
});

describe("virsh that did not run to an answer", () => {
  it("cut at the step's deadline: a cut error, neither permanent nor refused", async () => {
    const err = await failure(answering({ exitCode: null, timedOut: true, cutToMs: 3_000 }).driver.off(true));
    expect(err).toBeInstanceOf(PowerError);
    expect(err).toMatchObject({ cut: true, permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: virsh shutdown no answer within 3s (timed out, killed; cut to what was left of the step's budget)`,
    );
  });

  it("not started because the step's budget was spent: cut", async () => {
    const err = await failure(answering({ exitCode: null, startError: BUDGET_SPENT }).driver.state());
    expect(err).toMatchObject({ cut: true, permanent: false });
    expect(err.message).toBe(`${LABEL}: virsh domstate could not start (${BUDGET_SPENT})`);
  });

  it("could not start: permanent", async () => {
    const err = await failure(answering({ exitCode: null, startError: "EACCES" }).driver.on());
    expect(err).toMatchObject({ cut: false, permanent: true });
    expect(err.message).toBe(`${LABEL}: virsh could not start (EACCES)`);
  });

  it("not installed: permanent, naming the package", async () => {
    const err = await failure(answering({ exitCode: null, notFound: true }).driver.state());
    expect(err).toMatchObject({ cut: false, permanent: true });
    expect(err.message).toBe(`${LABEL}: virsh is not installed on this machine (package libvirt-clients)`);
  });

  it("killed at the call timeout: transient, the timeout in seconds", async () => {
    const err = await failure(answering({ exitCode: null, timedOut: true }, 45_400).driver.state());
    expect(err).toMatchObject({ cut: false, permanent: false, refused: false });
    expect(err.message).toBe(`${LABEL}: virsh domstate gave no answer within 45s`);
  });
});

describe("virsh's errors: permanent, the wanted state, refused or transient", () => {
  it("no hypervisor connection, no such domain: permanent", async () => {
    const connect = await failure(answering(failed(readFixture("virsh/connect-failed.stderr"))).driver.off(true));
    expect(connect).toMatchObject({ permanent: true, refused: false });
    const domain = await failure(answering(failed("error: failed to get domain 'openstack0-vm'\n")).driver.on());
    expect(domain).toMatchObject({ permanent: true, refused: false });
    expect(domain.message).toBe(`${LABEL}: virsh start failed: error: failed to get domain 'openstack0-vm'`);
  });

  it("`Domain is already active` is the wanted state only for start", async () => {
    const active = failed(readFixture("virsh/start-already-active.stderr"));
    const { driver, ctx } = answering(active);
    await expect(driver.on()).resolves.toBeUndefined();
    expect(ctx.out.lines).toEqual([
      `${LABEL}: virsh start: error: Domain is already active -- it is running already (the wanted state)`,
    ]);
    const off = await failure(answering(active).driver.off(true));
    expect(off).toMatchObject({ permanent: false, refused: false });
    expect(off.message).toBe(`${LABEL}: virsh shutdown failed: error: Domain is already active`);
  });

  it("`domain is not running` is the wanted state for shutdown and destroy, a failure for start and domstate", async () => {
    const stopped = failed(readFixture("virsh/destroy-not-running.stderr"));
    await expect(answering(stopped).driver.off(true)).resolves.toBe(
      "virsh shutdown: error: Failed to destroy domain 'test' error: Requested operation is not valid: domain is not running" +
        " -- it is off already (the wanted state)",
    );
    await expect(answering(stopped).driver.off(false)).resolves.toMatch(/^virsh destroy: .* -- it is off already/);
    const start = await failure(answering(stopped).driver.on());
    expect(start).toMatchObject({ permanent: false, refused: false });
    expect(start.message).toMatch(/^openstack0 via virsh .*: virsh start failed: error: Failed to destroy domain/);
    const state = await failure(answering(stopped).driver.state());
    expect(state.message).toMatch(/: virsh domstate failed: error: Failed to destroy domain/);
  });

  it("a shutdown the driver does not support is a refusal; the same on destroy, or an OS errno, is not", async () => {
    const unsupported =
      "error: Failed to shutdown domain 'openstack0-vm'\nerror: Operation not supported: ACPI shutdown is not supported\n";
    const soft = await failure(answering(failed(unsupported)).driver.off(true));
    expect(soft).toMatchObject({ permanent: false, cut: false, refused: true });
    expect(soft.message).toBe(
      `${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack0-vm' ` +
        "error: Operation not supported: ACPI shutdown is not supported",
    );
    // the error's own text at the start of virsh's output (no `error:` lines: the whole stderr)
    const bare = await failure(
      answering(failed("this function is not supported by the connection driver: virDomainShutdown\n")).driver.off(
        true,
      ),
    );
    expect(bare).toMatchObject({ refused: true });
    const hard = await failure(answering(failed(unsupported)).driver.off(false));
    expect(hard).toMatchObject({ permanent: false, refused: false });
    // EOPNOTSUPP's strerror at the end of another error says nothing about the shutdown itself
    const errno = await failure(
      answering(
        failed(
          "error: Failed to shutdown domain 'openstack0-vm'\nerror: cannot send monitor command: Operation not supported\n",
        ),
      ).driver.off(true),
    );
    expect(errno).toMatchObject({ permanent: false, refused: false });
  });

  it("a failure that printed nothing says how virsh ended", async () => {
    const err = await failure(answering({ exitCode: 1, stdout: "", stderr: "" }).driver.off(false));
    expect(err.message).toBe(`${LABEL}: virsh destroy failed: exited 1`);
  });

  it("a domstate that names no known state: transient, quoted", async () => {
    const err = await failure(answering("no state\n").driver.state());
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(`${LABEL}: virsh domstate printed "no state", expected running or shut off`);
    await expect(answering("shut off (shutdown)\n").driver.state()).resolves.toBe("off");
  });
});

describe("the parsers", () => {
  it("domstateWord: the first non-blank line, its ` (reason)` dropped, in lower case", () => {
    expect(domstateWord("\n  \n  Shut off (destroyed)  \nrunning\n")).toBe("shut off");
    expect(domstateWord("paused (user)")).toBe("paused");
    // loosely: any blanks before the reason
    expect(domstateWord("shut off \t (shutdown)")).toBe("shut off");
    // only a reason at the END is dropped
    expect(domstateWord("running (booted) x\n")).toBe("running (booted) x");
    expect(domstateWord("")).toBeUndefined();
    expect(domstateWord("\n \n")).toBeUndefined();
    expect(parseDomstate("\n")).toBeUndefined();
    expect(parseDomstate("pmsuspended (unknown)\n")).toBe("off");
    expect(parseDomstate("blocked\n")).toBe("on");
  });

  it("virshErrors: the `error:` lines; else every stderr line; else stdout", () => {
    expect(virshErrors("  error: one  \nnoise\n\nerror: two\n")).toBe("error: one error: two");
    expect(virshErrors("ssh: connect to host kvm1 port 22: Connection refused\n\nsecond\n", "out")).toBe(
      "ssh: connect to host kvm1 port 22: Connection refused second",
    );
    expect(virshErrors("\n \n", "  printed on stdout \n")).toBe("printed on stdout");
    expect(virshErrors("")).toBe("");
  });
});
