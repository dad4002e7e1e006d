/**
 * steps/power.ts powerOff: when a hard power-off may be sent. Only after a definitive refusal of
 * the soft-off, or when the graceful timeout passed with the host confirmed on; transient errors
 * retry the graceful path; errors waiting cannot fix stop at once; virsh races are the wanted
 * state. virsh is a fake answering as libvirt 9.0 does (test/recorded/virsh); the clock is fake.
 */
import type { StepFlags } from "../../stages/step-def";
import type { POWER_OFF } from "../../stages/shutdown";
import { powerOff, powerOn, powerState, SOFT_OFF_TRIES } from "../../steps/power";
import { readFixture } from "../fixtures";
import { fakeExec, testContext, type Reply } from "../support/fake-exec";
import { execWithinDeadline } from "../../runtime/deadline";

const URI = "qemu+ssh://kvm1/system";
const base = { host: "openstack1" as const, driver: "virsh" as const, uri: URI, domain: "openstack1" };
const offFlags: StepFlags<typeof POWER_OFF> = { ...base, "graceful-timeout": 60_000, interval: 10_000 };
const LABEL = `openstack1 via virsh (${URI}, domain openstack1)`;

const DOMSTATE = /^virsh -c \S+ domstate --reason openstack1$/;
const SHUTDOWN = /^virsh -c \S+ shutdown openstack1$/;
const DESTROY = /^virsh -c \S+ destroy openstack1$/;
const START = /^virsh -c \S+ start openstack1$/;

const running: Reply = { exitCode: 0, stdout: "running (booted)\n\n" };
const shutOff: Reply = { exitCode: 0, stdout: "shut off (shutdown)\n\n" };
const failed = (verb: string, why: string): Reply => ({
  exitCode: 1,
  stdout: "\n",
  stderr: `error: Failed to ${verb} domain 'openstack1'\nerror: ${why}\n`,
});
const LOCK = "Timed out during operation: cannot acquire state change lock";

describe("power-off: transient errors retry the graceful path, never a hard off", () => {
  it("two lock timeouts on shutdown, then it is taken: off gracefully, no destroy", async () => {
    let shutdowns = 0;
    let on = true;
    const fake = fakeExec()
      .on(DOMSTATE, () => (on ? running : shutOff))
      .on(SHUTDOWN, () => {
        if (++shutdowns <= 2) return failed("shutdown", LOCK);
        on = false;
        return { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" };
      })
      .on(DESTROY, "");
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({
      outcome: "pass",
      verdict: { state: "off", summary: `${LABEL}: off after a graceful shutdown` },
    });
    expect(fake.count(SHUTDOWN)).toBe(3);
    expect(fake.count(DESTROY)).toBe(0);
    expect(ctx.out.lines).toContain(
      `RAN: ${LABEL}: graceful shutdown: transient error (${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: ${LOCK}); graceful path retried in 10s`,
    );
  });

  it("the soft-off never gets through within the graceful timeout: the step fails, power is NOT cut", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, failed("shutdown", LOCK)).on(DESTROY, "");
    const o = await powerOff(offFlags, testContext(fake));
    expect(o.outcome).toBe("fail");
    expect(o.verdict).toMatchObject({ state: "soft-off-not-delivered", route: "power-control" });
    expect(o.verdict.summary).toContain("no hard power off was sent (the OS was never asked to shut down)");
    expect(fake.count(DESTROY)).toBe(0);
    // a try every 10 s for 60 s
    expect(fake.count(SHUTDOWN)).toBe(7);
  });

  it("slow calls do not use the window up alone: at least SOFT_OFF_TRIES tries", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, failed("shutdown", LOCK));
    const o = await powerOff({ ...offFlags, "graceful-timeout": 1_000, interval: 10_000 }, testContext(fake));
    expect(o.outcome).toBe("fail");
    expect(fake.count(SHUTDOWN)).toBe(SOFT_OFF_TRIES);
  });

  it("the step's budget runs out while the soft-off is retried: it stops at the deadline, named, no destroy", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, failed("shutdown", LOCK)).on(DESTROY, "");
    const ctx = testContext(fake);
    ctx.deadline = ctx.clock.now() + 25_000; // less than the 60 s graceful timeout
    ctx.exec = execWithinDeadline(ctx, fake.exec);
    const o = await powerOff(offFlags, ctx);
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toMatch(/could not start \(not started: the step's time budget was spent\)$/);
    expect(ctx.clock.now() - (ctx.deadline - 25_000)).toBe(30_000); // the first try after the deadline, not 60 s
    expect(fake.count(SHUTDOWN)).toBe(3); // at 0, 10 and 20 s
    expect(fake.count(DESTROY)).toBe(0);
  });

  it("a cancel while no soft-off was sent yet stops at that safe point: nothing sent", async () => {
    const fake = fakeExec().on(DOMSTATE, failed("get state of", LOCK)).on(SHUTDOWN, "").on(DESTROY, "");
    const ctx = { ...testContext(fake), cancelled: () => "the run was cancelled" };
    const o = await powerOff(offFlags, ctx);
    expect(o.outcome).toBe("cancelled");
    expect(o.verdict.summary).toContain("no soft-off was sent: the run was cancelled");
    expect(fake.count(SHUTDOWN) + fake.count(DESTROY)).toBe(0);
  });

  it("the state read fails transiently after the graceful timeout: no blind hard off", async () => {
    let polls = 0;
    const fake = fakeExec()
      .on(DOMSTATE, () => (++polls <= 1 ? running : failed("get state of", LOCK)))
      .on(SHUTDOWN, { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" })
      .on(DESTROY, "");
    const o = await powerOff(offFlags, testContext(fake));
    expect(o.outcome).toBe("fail");
    expect(fake.count(DESTROY)).toBe(0);
  });
});

describe("power-off: when a hard off is right", () => {
  it("the hypervisor cannot do a soft shutdown at all (a definitive refusal): destroy at once", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, failed("shutdown", "this function is not supported by the connection driver: virDomainShutdown"))
      .on(DESTROY, { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" });
    const o = await powerOff(offFlags, testContext(fake));
    expect(o).toMatchObject({ outcome: "pass", verdict: { state: "hard-off-sent" } });
    expect(o.verdict.summary).toBe(`${LABEL}: soft-off refused, hard power off sent; the power-state gate confirms`);
    expect(fake.lines()).toEqual([
      `virsh -c ${URI} domstate --reason openstack1`,
      `virsh -c ${URI} shutdown openstack1`,
      `virsh -c ${URI} destroy openstack1`,
    ]);
  });

  it("an OS errno `Operation not supported` inside another error is not libvirt refusing the shutdown: retried, no destroy", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, failed("shutdown", "Unable to read from monitor: Operation not supported"))
      .on(DESTROY, "");
    const o = await powerOff(offFlags, testContext(fake));
    expect(o.verdict.state).toBe("soft-off-not-delivered");
    expect(fake.count(DESTROY)).toBe(0);
    // libvirt's own VIR_ERR_OPERATION_UNSUPPORTED still is a refusal
    const refused = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, failed("shutdown", "Operation not supported: ACPI shutdown is not supported"))
      .on(DESTROY, { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" });
    expect((await powerOff(offFlags, testContext(refused))).verdict.state).toBe("hard-off-sent");
  });

  it("the OS ignores the soft-off: destroy only once the whole graceful timeout has passed since the soft-off, the host confirmed on", async () => {
    const fake = fakeExec();
    // as the step runs in the CLI: every call cut at the current deadline (cli/step-command.ts)
    const ctx = testContext(fake);
    ctx.exec = execWithinDeadline(ctx, fake.exec);
    const t0 = ctx.clock.now();
    const log: string[] = [];
    const at = (what: string, reply: Reply) => () => (log.push(`${ctx.clock.now() - t0} ${what}`), reply);
    fake
      .on(DOMSTATE, at("domstate", running))
      .on(SHUTDOWN, at("shutdown", { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" }))
      .on(DESTROY, at("destroy", { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" }));
    const o = await powerOff(offFlags, ctx);
    expect(o.verdict.state).toBe("hard-off-sent");
    expect(fake.count(DESTROY)).toBe(1);
    expect(ctx.out.lines).toContain(`${LABEL}: still on after 1m; hard power off`);
    const time = (what: string) => log.filter((l) => l.endsWith(` ${what}`)).map((l) => Number(l.split(" ")[0]));
    const [soft] = time("shutdown");
    const [hard] = time("destroy");
    // not before the graceful timeout since the soft-off, and not an interval later either
    expect(hard! - soft!).toBeGreaterThanOrEqual(offFlags["graceful-timeout"]);
    expect(hard! - soft!).toBeLessThanOrEqual(offFlags["graceful-timeout"] + offFlags.interval);
    // the decision rests on a read at (or after) the graceful timeout, made just before the destroy
    expect(log.at(-2)).toBe(`${hard} domstate`);
    expect(log.at(-1)).toBe(`${hard} destroy`);
  });

  it("a fresh read at the graceful timeout says off (it went down at the last moment): NO hard off", async () => {
    const fake = fakeExec();
    const ctx = testContext(fake);
    ctx.exec = execWithinDeadline(ctx, fake.exec);
    let softAt: number | undefined;
    fake
      .on(DOMSTATE, () =>
        softAt !== undefined && ctx.clock.now() >= softAt + offFlags["graceful-timeout"] ? shutOff : running,
      )
      .on(SHUTDOWN, () => {
        softAt = ctx.clock.now();
        return { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" };
      })
      .on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass", verdict: { state: "off" } });
    expect(o.verdict.summary).toBe(`${LABEL}: off after a graceful shutdown`);
    expect(fake.count(DESTROY)).toBe(0);
    // the gate's polls all saw it running; the read that decided came after the graceful timeout
    expect(fake.lines().at(-1)).toMatch(DOMSTATE);
    expect(ctx.clock.now() - softAt!).toBeGreaterThanOrEqual(offFlags["graceful-timeout"]);
  });
});

describe("errors waiting cannot fix stop the step at once with the decisive line", () => {
  it("virsh cannot connect to the hypervisor: one call, failed, no shutdown, no destroy", async () => {
    const fake = fakeExec().on(DOMSTATE, {
      exitCode: 1,
      stderr:
        "Warning: Permanently added 'kvm1' (ED25519) to the list of known hosts.\n" +
        readFixture("virsh/connect-failed.stderr"),
    });
    const o = await powerOff(offFlags, testContext(fake));
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toMatch(
      new RegExp(
        `^${LABEL.replace(/[()+/.]/g, "\\$&")}: virsh domstate failed: error: failed to connect to the hypervisor error: Failed to connect socket`,
      ),
    );
    expect(fake.lines()).toHaveLength(1);
  });

  it("the power-state gate stops at its first poll on it, instead of polling to its timeout", async () => {
    const fake = fakeExec().on(DOMSTATE, { exitCode: 1, stderr: readFixture("virsh/connect-failed.stderr") });
    const o = await powerState({ ...base, expect: "off", timeout: 600_000, interval: 10_000 }, testContext(fake));
    expect(o.outcome).toBe("fail");
    expect(o.polls).toBe(1);
    expect(o.verdict.summary).toContain("error: failed to connect to the hypervisor");
  });
});

describe("virsh races with a stale domstate are the wanted state", () => {
  it("shutdown of a domain that just went off (`domain is not running`): passes, no destroy", async () => {
    let on = true;
    const fake = fakeExec()
      .on(DOMSTATE, () => (on ? running : shutOff))
      .on(SHUTDOWN, () => {
        on = false;
        return failed("shutdown", "Requested operation is not valid: domain is not running");
      })
      .on(DESTROY, "");
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass", verdict: { summary: `${LABEL}: off after a graceful shutdown` } });
    expect(fake.count(DESTROY)).toBe(0);
    expect(ctx.out.lines).toContain(
      `RAN: ${LABEL}: graceful shutdown: virsh shutdown: error: Failed to shutdown domain 'openstack1' error: Requested operation is not valid: domain is not running -- it is off already (the wanted state)`,
    );
  });

  it("start of a domain that just came on (`Domain is already active`): power-on passes", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, shutOff)
      .on(START, { exitCode: 1, stdout: "\n", stderr: readFixture("virsh/start-already-active.stderr") });
    const ctx = testContext(fake);
    const o = await powerOn(base, ctx);
    expect(o).toMatchObject({ outcome: "pass", verdict: { state: "power-on-sent" } });
    expect(ctx.out.lines[0]).toMatch(/virsh start: error: Domain is already active -- it is running already/);
  });
});
