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
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fakeExec, testContext, type FakeExec, type Reply } from "../support/fake-exec";
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

/**
 * Issue #23/#22: a resume in the same window after a run that sent the soft-off (steps/power.ts
 * followEarlierSoftOff). The note `<window>.power-off-<host>.json` says when it was sent and
 * whether its answer was read; the OS is never asked twice while it may be shutting down.
 */
describe("power-off resumed after this window's earlier run sent the soft-off", () => {
  let recordDir: string;
  beforeEach(() => (recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-power-resume-"))));
  afterEach(() => fs.rmSync(recordDir, { recursive: true, force: true }));
  const noteFile = () => path.join(recordDir, "w.power-off-openstack1.json");
  const windowContext = (fake: FakeExec) => {
    const ctx = testContext(fake, {
      env: { HOME: "/home/operator", COLDSTART_WINDOW: "w", COLDSTART_RECORD_DIR: recordDir },
    });
    ctx.exec = execWithinDeadline(ctx, fake.exec);
    return ctx;
  };
  /** The earlier run's note: sent `ago` ms before the resume starts. */
  const earlier = (ctx: { clock: { now(): number } }, ago: number, delivered: boolean) =>
    fs.writeFileSync(noteFile(), JSON.stringify({ sentAt: ctx.clock.now() - ago, delivered }) + "\n");
  const OFF_AFTER = `${LABEL}: off after the graceful shutdown this window's earlier run sent (not sent again)`;

  it("the first run notes the soft-off before it is sent, then that its answer was read", async () => {
    const fake = fakeExec();
    const ctx = windowContext(fake);
    const t0 = ctx.clock.now();
    let atSend: unknown;
    let on = true;
    fake
      .on(DOMSTATE, () => (on ? running : shutOff))
      .on(SHUTDOWN, () => {
        atSend = JSON.parse(fs.readFileSync(noteFile(), "utf8"));
        on = false;
        return { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" };
      });
    expect((await powerOff(offFlags, ctx)).outcome).toBe("pass");
    expect(atSend).toEqual({ sentAt: t0, delivered: false });
    expect(JSON.parse(fs.readFileSync(noteFile(), "utf8"))).toEqual({ sentAt: t0, delivered: true });
  });

  it("already off at the resume: passes, nothing sent", async () => {
    const fake = fakeExec().on(DOMSTATE, shutOff).on(SHUTDOWN, "").on(DESTROY, "");
    const ctx = windowContext(fake);
    earlier(ctx, 20_000, true);
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass" });
    expect(o.verdict).toEqual({ ok: true, state: "off", summary: OFF_AFTER, details: [] });
    expect(fake.lines()).toEqual([`virsh -c ${URI} domstate --reason openstack1`]);
  });

  it("on at the resume: waits out the rest of the graceful timeout from the earlier send; off within it passes, nothing sent", async () => {
    const fake = fakeExec();
    const ctx = windowContext(fake);
    const t0 = ctx.clock.now();
    earlier(ctx, 20_000, true);
    fake
      .on(DOMSTATE, () => (ctx.clock.now() - t0 >= 30_000 ? shutOff : running))
      .on(SHUTDOWN, "")
      .on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines[0]).toBe(
      `${LABEL}: graceful shutdown already in progress (sent by this window's earlier run 20s ago): not sent again; waiting 40s for the OS`,
    );
    expect(o).toMatchObject({ outcome: "pass", verdict: { summary: OFF_AFTER } });
    expect(o.polls).toBeGreaterThan(1);
    expect(fake.count(SHUTDOWN) + fake.count(DESTROY)).toBe(0);
    expect(ctx.clock.now() - t0).toBeLessThan(40_000);
  });

  it("still on when the earlier soft-off's graceful timeout ends, its answer read: a hard off then, not before, no second soft-off", async () => {
    const fake = fakeExec();
    const ctx = windowContext(fake);
    const t0 = ctx.clock.now();
    earlier(ctx, 20_000, true);
    let destroyedAt: number | undefined;
    fake
      .on(DOMSTATE, running)
      .on(SHUTDOWN, "")
      .on(DESTROY, () => {
        destroyedAt = ctx.clock.now();
        return { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" };
      });
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass" });
    expect(o.verdict).toEqual({
      ok: true,
      state: "hard-off-sent",
      summary: `${LABEL}: hard power off sent after the graceful timeout of the earlier run's soft-off; the power-state gate confirms`,
      details: [],
    });
    expect(ctx.out.lines).toContain(`${LABEL}: still on after 1m; hard power off`);
    expect(destroyedAt! - t0).toBeGreaterThanOrEqual(40_000);
    expect(destroyedAt! - t0).toBeLessThanOrEqual(40_000 + offFlags.interval);
    expect(fake.count(SHUTDOWN)).toBe(0);
    expect(fake.lines().at(-2)).toMatch(DOMSTATE); // the hard off rests on a read made just before it
  });

  it("the graceful timeout long over at the resume (answer read): no wait, one read, then the hard off", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, "")
      .on(DESTROY, { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" });
    const ctx = windowContext(fake);
    const t0 = ctx.clock.now();
    earlier(ctx, 90_000, true);
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines[0]).toBe(
      `${LABEL}: graceful shutdown already in progress (sent by this window's earlier run 90s ago): not sent again; waiting 0ms for the OS`,
    );
    expect(o.verdict.state).toBe("hard-off-sent");
    expect(fake.lines()).toEqual([
      `virsh -c ${URI} domstate --reason openstack1`,
      `virsh -c ${URI} domstate --reason openstack1`,
      `virsh -c ${URI} destroy openstack1`,
    ]);
    expect(ctx.clock.now()).toBe(t0);
  });

  it("on at the first read but off at the read that decides (the timeout long over): no hard off", async () => {
    const fake = fakeExec();
    const ctx = windowContext(fake);
    earlier(ctx, 90_000, true);
    fake.on(DOMSTATE, () => (fake.count(DOMSTATE) === 1 ? running : shutOff)).on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass" });
    expect(o.verdict).toEqual({ ok: true, state: "off", summary: OFF_AFTER, details: [] });
    expect(fake.lines()).toEqual(Array(2).fill(`virsh -c ${URI} domstate --reason openstack1`));
  });

  it("still on after an earlier soft-off whose answer was never read: the graceful shutdown is sent again, no hard off yet", async () => {
    let on = true;
    const fake = fakeExec();
    const ctx = windowContext(fake);
    earlier(ctx, 90_000, false);
    fake
      .on(DOMSTATE, () => (on ? running : shutOff))
      .on(SHUTDOWN, () => {
        on = false;
        return { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" };
      })
      .on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines).toContain(
      `${LABEL}: still on 1m after the earlier run's soft-off, whose answer it never read: graceful shutdown again`,
    );
    expect(o).toMatchObject({ outcome: "pass", verdict: { summary: `${LABEL}: off after a graceful shutdown` } });
    expect(fake.count(SHUTDOWN)).toBe(1);
    expect(fake.count(DESTROY)).toBe(0);
  });

  it("a cancel during that wait does not stop it: the OS is shutting down, the wait is seen through", async () => {
    const fake = fakeExec();
    const ctx = { ...windowContext(fake), cancelled: () => "the run was cancelled" };
    const t0 = ctx.clock.now();
    earlier(ctx, 20_000, true);
    fake.on(DOMSTATE, () => (ctx.clock.now() - t0 >= 30_000 ? shutOff : running)).on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "pass", verdict: { summary: OFF_AFTER } });
  });

  it("virsh gone while waiting: fails with that, no hard off", async () => {
    const fake = fakeExec();
    const ctx = windowContext(fake);
    earlier(ctx, 20_000, true);
    fake
      .on(DOMSTATE, () => (fake.count(DOMSTATE) === 1 ? running : { notFound: true, exitCode: null }))
      .on(DESTROY, "");
    const o = await powerOff(offFlags, ctx);
    expect(o.outcome).toBe("fail");
    expect(o.verdict.state).toBe("tool-missing");
    expect(fake.count(DESTROY)).toBe(0);
  });
});

/** Issue #22: the lines and verdicts an operator reads on each path of power-off and power-on. */
describe("power-off and power-on: what the console and the verdict say", () => {
  const SHUTTING: Reply = { exitCode: 0, stdout: "Domain 'openstack1' is being shutdown\n\n" };
  const DESTROYED: Reply = { exitCode: 0, stdout: "Domain 'openstack1' destroyed\n\n" };

  it("a host already off: skipped, 'already off, nothing done', nothing sent", async () => {
    const fake = fakeExec().on(DOMSTATE, shutOff).on(SHUTDOWN, "").on(DESTROY, "");
    const o = await powerOff(offFlags, testContext(fake));
    expect(o).toMatchObject({
      outcome: "skipped-by-guard",
      exitCode: 0,
      verdict: { ok: true, state: "off", summary: `${LABEL}: already off, nothing done` },
    });
    expect(fake.lines()).toEqual([`virsh -c ${URI} domstate --reason openstack1`]);
  });

  it("the soft-off taken at the first try: 'RAN: …: graceful shutdown: accepted'; taken at the third: '(try 3)'", async () => {
    let on = true;
    const fake = fakeExec()
      .on(DOMSTATE, () => (on ? running : shutOff))
      .on(SHUTDOWN, () => ((on = false), SHUTTING));
    const ctx = testContext(fake);
    await powerOff(offFlags, ctx);
    expect(ctx.out.lines[0]).toBe(`RAN: ${LABEL}: graceful shutdown: accepted`);

    let tries = 0;
    let down = false;
    const flaky = fakeExec()
      .on(DOMSTATE, () => (down ? shutOff : running))
      .on(SHUTDOWN, () => (++tries < 3 ? failed("shutdown", LOCK) : ((down = true), SHUTTING)));
    const ctx2 = testContext(flaky);
    await powerOff(offFlags, ctx2);
    expect(ctx2.out.lines).toContain(
      `RAN: ${LABEL}: graceful shutdown (try 2): transient error (${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: ${LOCK}); graceful path retried in 10s`,
    );
    expect(ctx2.out.lines).toContain(`RAN: ${LABEL}: graceful shutdown (try 3): accepted`);
  });

  it("a state read that fails transiently before any soft-off is a WARNING, not a RAN: line", async () => {
    let reads = 0;
    let on = true;
    const fake = fakeExec()
      .on(DOMSTATE, () => (++reads === 1 ? failed("get state of", LOCK) : on ? running : shutOff))
      .on(SHUTDOWN, () => ((on = false), SHUTTING));
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(o.outcome).toBe("pass");
    expect(ctx.out.warnings).toEqual([
      `${LABEL}: power state not read: transient error (${LABEL}: virsh domstate failed: error: Failed to get state of domain 'openstack1' error: ${LOCK}); graceful path retried in 10s`,
    ]);
    expect(ctx.out.lines.filter((l) => l.startsWith("RAN:"))).toEqual([
      `RAN: ${LABEL}: graceful shutdown (try 2): accepted`,
    ]);
  });

  it("a soft-off whose retries run out says so on its last RAN: line, and the verdict counts the tries", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, failed("shutdown", LOCK));
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines.at(-1)).toBe(
      `RAN: ${LABEL}: graceful shutdown (try 7): transient error (${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: ${LOCK}); no try left`,
    );
    expect(o.verdict.summary).toBe(
      `${LABEL}: the graceful shutdown could not be delivered within 1m (7 tries); no hard power off was sent (the OS was never asked to shut down): ${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: ${LOCK}`,
    );
  });

  it("the last pause before the graceful timeout is what is left of it, not a whole interval", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, failed("shutdown", LOCK));
    const ctx = testContext(fake);
    const t0 = ctx.clock.now();
    const times: number[] = [];
    fake.on(SHUTDOWN, () => (times.push(ctx.clock.now() - t0), failed("shutdown", LOCK)));
    await powerOff({ ...offFlags, "graceful-timeout": 25_000 }, ctx);
    // tries at 0, 10, 20 s; then 5 s (what is left), then an interval each (SOFT_OFF_TRIES)
    expect(times.slice(0, 4)).toEqual([0, 10_000, 20_000, 25_000]);
    expect(ctx.out.lines).toContain(
      `RAN: ${LABEL}: graceful shutdown (try 3): transient error (${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: ${LOCK}); graceful path retried in 5s`,
    );
  });

  it("an error waiting cannot fix, in answer to the soft-off: its RAN: line says FAILED, the step fails, no destroy", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, { exitCode: 1, stderr: "error: failed to get domain 'openstack1'\n" })
      .on(DESTROY, "");
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines).toEqual([
      `RAN: ${LABEL}: graceful shutdown: FAILED (${LABEL}: virsh shutdown failed: error: failed to get domain 'openstack1')`,
    ]);
    expect(o).toMatchObject({ outcome: "fail", verdict: { state: "power-error", route: "power-control" } });
    expect(o.verdict.summary).toBe(`${LABEL}: virsh shutdown failed: error: failed to get domain 'openstack1'`);
    expect(fake.count(DESTROY)).toBe(0);
  });

  it("a refused soft-off: the refusal and the hard off are each said on their own line", async () => {
    const fake = fakeExec()
      .on(DOMSTATE, running)
      .on(SHUTDOWN, failed("shutdown", "this function is not supported by the connection driver: virDomainShutdown"))
      .on(DESTROY, DESTROYED);
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines).toEqual([
      `RAN: ${LABEL}: graceful shutdown: refused (${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: this function is not supported by the connection driver: virDomainShutdown); hard power off`,
      `RAN: ${LABEL}: hard power off (soft-off refused): accepted`,
    ]);
    expect(o.verdict.details).toEqual([
      `${LABEL}: virsh shutdown failed: error: Failed to shutdown domain 'openstack1' error: this function is not supported by the connection driver: virDomainShutdown`,
    ]);
  });

  it("the hard off after the graceful timeout is said as sent, with why", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, SHUTTING).on(DESTROY, DESTROYED);
    const ctx = testContext(fake);
    const o = await powerOff(offFlags, ctx);
    expect(ctx.out.lines.at(-1)).toBe(`RAN: ${LABEL}: hard power off (still on after the graceful timeout): accepted`);
    expect(o.verdict.summary).toBe(
      `${LABEL}: hard power off sent after the graceful timeout; the power-state gate confirms`,
    );
  });

  it("the step's budget ends inside the graceful wait: a failure that says how far it got, never a hard off", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, SHUTTING).on(DESTROY, "");
    const ctx = testContext(fake);
    ctx.deadline = ctx.clock.now() + 45_000;
    const o = await powerOff(offFlags, ctx);
    expect(o).toMatchObject({ outcome: "fail", verdict: { state: "budget-spent", route: "power-control" } });
    expect(o.verdict.summary).toBe(
      `${LABEL}: the step's time budget was spent 45s into the graceful wait of 1m; no hard power off was sent`,
    );
    expect(o.verdict.details).toEqual([
      expect.stringMatching(/^still not there after 45s \(\d+ polls\): .*: power on$/),
    ]);
    expect(fake.count(DESTROY)).toBe(0);
  });

  it("a budget exactly as long as the graceful timeout is not 'spent': the hard off goes as usual", async () => {
    const fake = fakeExec().on(DOMSTATE, running).on(SHUTDOWN, SHUTTING).on(DESTROY, DESTROYED);
    const ctx = testContext(fake);
    ctx.deadline = ctx.clock.now() + 60_000;
    const o = await powerOff(offFlags, ctx);
    expect(o.verdict.state).toBe("hard-off-sent");
  });

  it("virsh gone during the graceful wait: fails with that, no hard off", async () => {
    const fake: FakeExec = fakeExec()
      .on(DOMSTATE, () => (fake.count(SHUTDOWN) === 0 ? running : { notFound: true, exitCode: null }))
      .on(SHUTDOWN, SHUTTING)
      .on(DESTROY, "");
    const o = await powerOff(offFlags, testContext(fake));
    expect(o).toMatchObject({ outcome: "fail", verdict: { state: "tool-missing" } });
    expect(fake.count(DESTROY)).toBe(0);
  });

  it("power-on: a host already on is skipped with nothing sent; one that is off gets 'RAN: … power on: accepted'", async () => {
    const on = fakeExec().on(DOMSTATE, running).on(START, "");
    const skipped = await powerOn(base, testContext(on));
    expect(skipped).toMatchObject({
      outcome: "skipped-by-guard",
      verdict: { ok: true, state: "on", summary: `${LABEL}: already on, nothing done` },
    });
    expect(on.count(START)).toBe(0);

    const off = fakeExec().on(DOMSTATE, shutOff).on(START, { exitCode: 0, stdout: "Domain 'openstack1' started\n\n" });
    const ctx = testContext(off);
    const o = await powerOn(base, ctx);
    expect(ctx.out.lines).toEqual([`RAN: ${LABEL}: power on: accepted`]);
    expect(o).toMatchObject({
      outcome: "pass",
      verdict: { ok: true, state: "power-on-sent", summary: `${LABEL}: power on sent; the power-state gate confirms` },
    });
  });

  it("power-on that cannot connect: a failure on route power-control with virsh's line", async () => {
    const fake = fakeExec().on(DOMSTATE, { exitCode: 1, stderr: readFixture("virsh/connect-failed.stderr") });
    const o = await powerOn(base, testContext(fake));
    expect(o).toMatchObject({ outcome: "fail", verdict: { state: "power-error", route: "power-control" } });
  });

  it("the power-state gate: the state it reads is its verdict, with no route when it is the one expected", async () => {
    const fake = fakeExec().on(DOMSTATE, shutOff);
    const o = await powerState({ ...base, expect: "off", timeout: 60_000, interval: 10_000 }, testContext(fake));
    expect(o).toMatchObject({ outcome: "pass", verdict: { ok: true, state: "off", summary: `${LABEL}: power off` } });
    expect(o.verdict.route).toBeUndefined();

    const still = fakeExec().on(DOMSTATE, running);
    const on = await powerState({ ...base, expect: "off", timeout: 60_000, interval: 10_000 }, testContext(still));
    expect(on).toMatchObject({ outcome: "fail", verdict: { ok: false, state: "on", route: "power-control" } });
  });
});
