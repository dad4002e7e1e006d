/**
 * Every GATE honours its timeout on a fake clock (no real sleeping): it polls on its schedule
 * (sooner at first, then at its interval: runtime/poll-schedule.ts), stops exactly at the
 * timeout, and fails with the runbook route. A call that hangs (ExecResult.timedOut) is a named
 * failure the gate keeps polling past.
 */
import { machinesStarted } from "../../steps/foundation";
import { mysqlClusterOnline } from "../../steps/mysql";
import { vaultUnsealed } from "../../steps/vault";
import { ovnChassisConnected } from "../../steps/ovn";
import { guestsActive } from "../../steps/guests";
import { lbsActive, octaviaGrace } from "../../steps/octavia";
import { cloudAssert } from "../../steps/cloud-assert";
import { GATE_HEARTBEAT_MS, runGate, type StepOutcome } from "../../steps/outcome";
import type { Verdict } from "../../gates/verdict";
import type { RouteId } from "../../gates/routes";
import { readFixture } from "../fixtures";
import {
  fakeExec,
  jujuExecReply,
  openrcReply,
  OPENRC_CALL,
  testContext,
  type FakeExec,
  type TestContext,
} from "../support/fake-exec";
import { stillPollTimes } from "../support/poll-times";

const MODEL = "c:openstack";
const TIMING = { timeout: 300_000, interval: 15_000 };
/** A still cloud for 5 min at 15 s: 30 polls (0, 2, 4, ... s, at 15 s from about a minute in), not 21. */
const ATTEMPTS = stillPollTimes(TIMING.timeout, TIMING.interval).length;
const OPENRC = "~/admin-openrc";

const MACHINES = new RegExp(`^juju machines -m ${MODEL} --format=json$`);
/** The chassis gate reads the whole model: the chassis are found by charm (steps/ovn.ts). */
const MODEL_STATUS = new RegExp(`^juju status -m ${MODEL} --format=json$`);
const CHASSIS_PROBE = new RegExp(
  `^juju exec -m ${MODEL} --unit (ovn-chassis/\\d+) --format=json -- ovn-appctl -t ovn-controller connection-status$`,
);
const SERVER_LIST = /^openstack server list --all-projects -f json$/;
const LB_LIST = /^openstack loadbalancer list -f json$/;
const SCRIPT = "/home/operator/ops/scripts/cloud-assert.sh";
const CLOUD_ASSERT = new RegExp(`^bash ${SCRIPT}$`);

const ONE_DOWN = readFixture("juju/juju-machines.one-down.juju3.json");
const ALL_STARTED = readFixture("juju/juju-machines.all-started.juju3.json");
const NOVA = readFixture("juju/nova-compute.ovn-chassis.healthy.juju3.status.json");
const CONNECTED = readFixture("juju/ovn-appctl.connection-status.connected.txt");
const NOT_CONNECTED = readFixture("juju/ovn-appctl.connection-status.not-connected.txt");

/** The chassis probe: ovn-chassis/2 never connects, the others are connected. */
function ovnFake(down = "ovn-chassis/2"): FakeExec {
  return fakeExec()
    .on(MODEL_STATUS, NOVA)
    .on(CHASSIS_PROBE, (call) =>
      jujuExecReply(CHASSIS_PROBE.exec(call.line)?.[1] === down ? NOT_CONNECTED : CONNECTED),
    );
}

function pendingLbs(): string {
  const lbs = JSON.parse(readFixture("octavia/loadbalancer-list.json")) as { provisioning_status: string }[];
  return JSON.stringify(lbs.map((lb) => ({ ...lb, provisioning_status: "PENDING_UPDATE" })));
}

interface GateCase {
  gate: string;
  route: RouteId;
  fake: () => FakeExec;
  run: (ctx: TestContext) => Promise<StepOutcome>;
  probe: RegExp;
}

const GATES: GateCase[] = [
  {
    gate: "machines-started (one host and its container down)",
    route: "machines-not-started",
    fake: () => fakeExec().on(MACHINES, ONE_DOWN),
    run: (ctx) => machinesStarted({ model: MODEL, ...TIMING }, ctx),
    probe: MACHINES,
  },
  {
    gate: "mysql-cluster-online (converging forever)",
    route: "mysql-will-not-reform",
    fake: () =>
      fakeExec().on(
        /^juju status -m c:openstack mysql-innodb-cluster --format=json$/,
        readFixture("juju/mysql-innodb-cluster.converging-after-reboot-action.juju3.status.json"),
      ),
    run: (ctx) => mysqlClusterOnline({ model: MODEL, app: "mysql-innodb-cluster", units: 3, ...TIMING }, ctx),
    probe: /^juju status /,
  },
  {
    gate: "vault-unsealed (sealed forever)",
    route: "vault-sealed",
    fake: () =>
      fakeExec()
        .on(
          /^juju status -m c:openstack vault --format=json$/,
          JSON.stringify({
            applications: {
              vault: {
                units: { "vault/0": { "workload-status": { current: "blocked" }, "juju-status": { current: "idle" } } },
              },
            },
          }),
        )
        .on(/^juju exec .* vault status -format=json$/, jujuExecReply(readFixture("vault/status-sealed.json"), 2)),
    run: (ctx) => vaultUnsealed({ model: MODEL, app: "vault", ...TIMING }, ctx),
    probe: /^juju exec /,
  },
  {
    gate: "ovn-chassis-connected (ovn-chassis/2 never connects)",
    route: "chassis-still-down", // the gate runs after the sweep: not sent back to it
    fake: () => ovnFake(),
    run: (ctx) =>
      ovnChassisConnected({ model: MODEL, app: "nova-compute", "chassis-app": "ovn-chassis", ...TIMING }, ctx),
    probe: MODEL_STATUS,
  },
  {
    gate: "guests-active (an ERROR and a SHUTOFF guest forever)",
    route: "hypervisor-down",
    fake: () =>
      fakeExec().on(OPENRC_CALL, openrcReply()).on(SERVER_LIST, readFixture("openstack/server-list-all-projects.json")),
    run: (ctx) => guestsActive({ openrc: OPENRC, hold: [], ...TIMING }, ctx),
    probe: SERVER_LIST,
  },
  {
    gate: "lbs-active (an LB in ERROR forever)",
    route: "lb-error",
    fake: () => fakeExec().on(OPENRC_CALL, openrcReply()).on(LB_LIST, readFixture("octavia/loadbalancer-list.json")),
    run: (ctx) => lbsActive({ openrc: OPENRC, ...TIMING }, ctx),
    probe: LB_LIST,
  },
  {
    gate: "lbs-active (LBs PENDING_UPDATE forever)",
    route: "lb-pending", // never told to fail over: Octavia refuses it while PENDING_*
    fake: () => fakeExec().on(OPENRC_CALL, openrcReply()).on(LB_LIST, pendingLbs()),
    run: (ctx) => lbsActive({ openrc: OPENRC, ...TIMING }, ctx),
    probe: LB_LIST,
  },
  {
    gate: "cloud-assert (FAIL lines forever)",
    route: "cloud-assert-fail",
    fake: () =>
      fakeExec().on(OPENRC_CALL, openrcReply()).on(CLOUD_ASSERT, {
        stdout: "A1 ok\nA4 FAIL: chassis ovn-chassis/2 not connected\nCLOUD-ASSERT: FAIL\n",
        exitCode: 1,
      }),
    run: (ctx) => cloudAssert({ openrc: OPENRC, script: SCRIPT, ...TIMING }, ctx),
    probe: CLOUD_ASSERT,
  },
  {
    gate: "cloud-assert (no verdict line forever)",
    route: "tool-unavailable",
    fake: () => fakeExec().on(OPENRC_CALL, openrcReply()).on(CLOUD_ASSERT, { stdout: "A1 ok\n", exitCode: 0 }),
    run: (ctx) => cloudAssert({ openrc: OPENRC, script: SCRIPT, ...TIMING }, ctx),
    probe: CLOUD_ASSERT,
  },
];

describe("every gate honours its timeout on a fake clock", () => {
  it.each(GATES)(
    "$gate fails at the timeout after its scheduled polls, routed to $route",
    async ({ fake: makeFake, run, route, probe }) => {
      const fake = makeFake();
      const ctx = testContext(fake);
      const started = ctx.clock.now();
      const wall = Date.now();
      const outcome = await run(ctx);

      expect(ATTEMPTS).toBe(30);
      expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: ATTEMPTS });
      expect(outcome.verdict.route).toBe(route);
      expect(outcome.verdict.summary).toContain(`still not there after 5m (${ATTEMPTS} polls)`);
      expect(ctx.clock.now() - started).toBe(TIMING.timeout);
      expect(fake.count(probe)).toBe(ATTEMPTS);
      // a line when what the gate sees changes, plus a heartbeat every 5 min (GATE_HEARTBEAT_MS):
      // never one per poll for a verdict that does not change
      const polls = ctx.out.lines.filter((l) => / poll \d+: waiting -- /.test(l));
      expect(polls[0]).toMatch(/^\[00:00\] poll 1: waiting -- /);
      expect(polls.length).toBeLessThan(ATTEMPTS);
      expect(polls.at(-1)).toMatch(/^\[05:00\] poll 30: waiting -- .*\(unchanged since poll \d+\)$/);
      expect(Date.now() - wall).toBeLessThan(5_000);
    },
  );
});

describe("the machines-started gate", () => {
  it("lists machine 2 and container 2/lxd/2 when the one-down fixture never changes", async () => {
    const fake = fakeExec().on(MACHINES, ONE_DOWN);
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, testContext(fake));

    expect(outcome.verdict.route).toBe("machines-not-started");
    expect(outcome.verdict.summary).toContain("2, 2/lxd/2");
    expect(outcome.verdict.details).toEqual([
      expect.stringMatching(/^2 \(openstack2\): down/),
      expect.stringMatching(/^2\/lxd\/2 .*: down/),
    ]);
  });

  it("passes once every machine reported started for 3 polls in a row", async () => {
    const fake = fakeExec().on(MACHINES, (_call, n) => (n < 3 ? ONE_DOWN : ALL_STARTED));
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, testContext(fake));
    // two polls with a machine down, then 3 in a row all started (GATE_SUCCESSES)
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 5 });
  });

  it("does not overshoot a timeout that is not a multiple of the interval", async () => {
    const fake = fakeExec().on(MACHINES, ONE_DOWN);
    const ctx = testContext(fake);
    const started = ctx.clock.now();
    const outcome = await machinesStarted({ model: MODEL, timeout: 100_000, interval: 30_000 }, ctx);

    // polls at 0, 3, 6, 9, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94 and 100 s (the waits grow by a
    // quarter of the still time from a tenth of the interval; the last one is cut at the timeout)
    expect(outcome.polls).toBe(15);
    expect(stillPollTimes(100_000, 30_000).map((t) => t / 1000)).toEqual([
      0, 3, 6, 9, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94, 100,
    ]);
    expect(ctx.clock.now() - started).toBe(100_000);
  });

  it("keeps polling past a juju call that timed out, then fails naming that call", async () => {
    const fake = fakeExec().on(MACHINES, { timedOut: true });
    const ctx = testContext(fake, { callTimeoutMs: 60_000 });
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, ctx);

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: ATTEMPTS });
    expect(fake.count(MACHINES)).toBe(ATTEMPTS);
    expect(outcome.verdict.summary).toContain(`juju machines -m ${MODEL} --format=json`);
    expect(outcome.verdict.summary).toContain("timed out");
    expect(outcome.verdict.route).toBe("tool-unavailable");
    expect(fake.calls.every((c) => c.timeoutMs === 60_000)).toBe(true);
  });

  it("recovers when a timed-out juju call is followed by an answer", async () => {
    const fake = fakeExec().on(MACHINES, (_call, n) => (n === 1 ? { timedOut: true } : ALL_STARTED));
    const ctx = testContext(fake);
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, ctx);

    // the timed-out poll, then 3 in a row all started (GATE_SUCCESSES)
    expect(outcome).toMatchObject({ exitCode: 0, polls: 4 });
    expect(ctx.out.lines[0]).toContain("timed out");
  });
});

describe("the other gates with a call that times out", () => {
  it("ovn-chassis-connected names the juju status call that timed out", async () => {
    const fake = fakeExec().on(MODEL_STATUS, { timedOut: true });
    const outcome = await ovnChassisConnected(
      { model: MODEL, app: "nova-compute", "chassis-app": "ovn-chassis", ...TIMING },
      testContext(fake),
    );
    expect(outcome).toMatchObject({ exitCode: 1, polls: ATTEMPTS });
    expect(outcome.verdict.summary).toContain(`juju status -m ${MODEL} --format=json`);
    expect(outcome.verdict.summary).toContain("timed out");
  });

  // Weakness (steps/ovn.ts probeAll: `.catch(() => undefined)`): a chassis probe that hangs is
  // reported as "probe output not recognised", without naming the call or the timeout.
  it("ovn-chassis-connected names a chassis probe (juju exec) that timed out", async () => {
    const fake = ovnFake("none").on((line) => CHASSIS_PROBE.exec(line)?.[1] === "ovn-chassis/1", { timedOut: true });
    const outcome = await ovnChassisConnected(
      { model: MODEL, app: "nova-compute", "chassis-app": "ovn-chassis", ...TIMING },
      testContext(fake),
    );
    expect(outcome.exitCode).toBe(1);
    expect([outcome.verdict.summary, ...outcome.verdict.details].join("\n")).toMatch(/timed out/);
  });

  it("guests-active names the openstack call that timed out, and sources the openrc only once", async () => {
    const fake = fakeExec().on(OPENRC_CALL, openrcReply()).on(SERVER_LIST, { timedOut: true });
    const outcome = await guestsActive({ openrc: OPENRC, hold: [], ...TIMING }, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 1, polls: ATTEMPTS });
    expect(outcome.verdict.summary).toContain("openstack server list --all-projects -f json");
    expect(outcome.verdict.summary).toContain("timed out");
    expect(fake.count(OPENRC_CALL)).toBe(1);
  });

  it("lbs-active names the openstack call that timed out", async () => {
    const fake = fakeExec().on(OPENRC_CALL, openrcReply()).on(LB_LIST, { timedOut: true });
    const outcome = await lbsActive({ openrc: OPENRC, ...TIMING }, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 1, polls: ATTEMPTS });
    expect(outcome.verdict.summary).toContain("openstack loadbalancer list -f json");
  });

  it("cloud-assert keeps polling past a script run that was killed, then fails", async () => {
    const fake = fakeExec().on(OPENRC_CALL, openrcReply()).on(CLOUD_ASSERT, { timedOut: true, stdout: "A1 ok\n" });
    const outcome = await cloudAssert({ openrc: OPENRC, script: SCRIPT, ...TIMING }, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 1, polls: ATTEMPTS });
    expect(outcome.verdict.summary).toContain("killed or timed out");
  });
});

describe("a gate whose program is not installed", () => {
  it("stops machines-started at the first poll (exit 1) when juju is not on PATH", async () => {
    const fake = fakeExec().on(MACHINES, { notFound: true, exitCode: null, startError: "ENOENT: spawn ENOENT" });
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: 1 });
    expect(outcome.verdict.summary).toContain("juju: not found on PATH");
    expect(fake.count(MACHINES)).toBe(1);
  });

  // Same, plus steps/cloud-assert.ts throws its own ToolError("bash: not found on PATH") without
  // the permanent flag.
  it("stops cloud-assert at the first poll (exit 1) when bash is not on PATH", async () => {
    const fake = fakeExec()
      .on(OPENRC_CALL, openrcReply())
      .on(CLOUD_ASSERT, { notFound: true, exitCode: null, startError: "ENOENT: spawn ENOENT" });
    const outcome = await cloudAssert({ openrc: OPENRC, script: SCRIPT, ...TIMING }, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: 1 });
    expect(fake.count(CLOUD_ASSERT)).toBe(1);
  });

  it("names the missing program either way", async () => {
    const fake = fakeExec().on(MACHINES, { notFound: true, exitCode: null, startError: "ENOENT: spawn ENOENT" });
    const outcome = await machinesStarted({ model: MODEL, ...TIMING }, testContext(fake));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.verdict.summary).toContain("juju: not found on PATH");
    expect(outcome.verdict.route).toBe("tool-missing");
  });
});

describe("the octavia grace (a wait, not a gate that fails)", () => {
  it("waits the whole grace while an LB stays in ERROR, then lets the failover step handle it", async () => {
    const fake = fakeExec().on(OPENRC_CALL, openrcReply()).on(LB_LIST, readFixture("octavia/loadbalancer-list.json"));
    const ctx = testContext(fake);
    const started = ctx.clock.now();
    const outcome = await octaviaGrace({ openrc: OPENRC, grace: 300_000, interval: 30_000 }, ctx);

    // 0, 3, 6, ... 94 s, then every 30 s to 298 s, and the last at the end of the grace
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: stillPollTimes(300_000, 30_000).length });
    expect(outcome.polls).toBe(22);
    expect(ctx.clock.now() - started).toBe(300_000);
    expect(fake.count(/^openstack loadbalancer failover /)).toBe(0);
  });
});

describe("a long gate logs changes and a heartbeat, not every poll", () => {
  const WAIT = (summary: string): Verdict => ({ ok: false, state: "converging", summary, details: [] });
  const OK: Verdict = { ok: true, state: "healthy", summary: "cluster ONLINE, 3 members", details: [] };

  it("a 30-minute gate at 20 s that never changes prints its first poll and a heartbeat every 5 min (6 lines, not 102)", async () => {
    const ctx = testContext(fakeExec());
    let polls = 0;
    const outcome = await runGate(ctx, {
      expected: "cluster ONLINE",
      timeoutMs: 30 * 60_000,
      intervalMs: 20_000,
      probe: async () => {
        polls++;
        return WAIT("2 of 3 members ONLINE, 1 RECOVERING");
      },
    });
    const lines = ctx.out.lines.filter((l) => / poll \d+: /.test(l));
    expect(GATE_HEARTBEAT_MS).toBe(5 * 60_000);
    // polls at 0, 2, 4, ... s, then every 20 s from 95 s (runtime/poll-schedule.ts), and at 30 m
    expect(polls).toBe(stillPollTimes(30 * 60_000, 20_000).length);
    expect(polls).toBe(102);
    expect(outcome).toMatchObject({ outcome: "fail", polls: 102 }); // the record still counts every poll
    expect(outcome.verdict.summary).toBe("still not there after 30m (102 polls): 2 of 3 members ONLINE, 1 RECOVERING");
    // the first poll at least 5 min after the last printed line (the one at 30:00 is only 4:45 after 25:15)
    expect(lines.map((l) => l.slice(0, 7))).toEqual(["[00:00]", "[05:15]", "[10:15]", "[15:15]", "[20:15]", "[25:15]"]);
    expect(lines[0]).toBe("[00:00] poll 1: waiting -- 2 of 3 members ONLINE, 1 RECOVERING");
    expect(lines[1]).toBe("[05:15] poll 27: waiting -- 2 of 3 members ONLINE, 1 RECOVERING (unchanged since poll 1)");
    expect(ctx.out.data[1]).toMatchObject({ poll: 27, unchangedSincePoll: 1, state: "converging" });
  });

  it("a change prints at once, and the heartbeat counts from the last printed line", async () => {
    const ctx = testContext(fakeExec());
    let n = 0;
    const outcome = await runGate(ctx, {
      expected: "cluster ONLINE",
      timeoutMs: 30 * 60_000,
      intervalMs: 20_000,
      probe: async () => {
        n++;
        if (n < 10) return WAIT("1 of 3 members ONLINE");
        if (n < 40) return WAIT("2 of 3 members ONLINE");
        return OK;
      },
    });
    expect(outcome).toMatchObject({ outcome: "pass", polls: 42 });
    expect(ctx.out.lines.filter((l) => / poll \d+: /.test(l))).toEqual([
      "[00:00] poll 1: waiting -- 1 of 3 members ONLINE",
      "[00:25] poll 10: waiting -- 2 of 3 members ONLINE", // changed: printed at once
      "[05:40] poll 36: waiting -- 2 of 3 members ONLINE (unchanged since poll 10)", // 5 min after the last line
      "[07:00] poll 40: OK, 1 of 3 in a row -- cluster ONLINE, 3 members",
      "[07:01] poll 41: OK, 2 of 3 in a row -- cluster ONLINE, 3 members", // confirming polls 1 s apart
      "[07:02] poll 42: OK -- cluster ONLINE, 3 members",
    ]);
  });
});
