/**
 * The act/check steps of stages 4-7 and the pre-shutdown: each acts only on what the runbook
 * names (not-connected chassis, SHUTOFF non-held guests, ERROR LBs) and never on the rest.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ovnCheck, ovnTlsSweep } from "../../steps/ovn";
import { holdGuests, novaResumeFlag, startShutoffGuests } from "../../steps/guests";
import { lbFailover } from "../../steps/octavia";
import { cloudAssert } from "../../steps/cloud-assert";
import { baselineCapture } from "../../steps/baseline";
import { describeOutcome } from "../../steps/outcome";
import { readFixture } from "../fixtures";
import { stillPollTimes } from "../support/poll-times";
import {
  fakeExec,
  jujuExecReply,
  OPENRC_CALL,
  OPENRC_VARS,
  openrcReply,
  testContext,
  type FakeExec,
  type Reply,
} from "../support/fake-exec";

const MODEL = "c:openstack";
const OPENRC = "~/admin-openrc";
const HOME = "/home/operator";

// --- Stage 4: OVN chassis ------------------------------------------------------------------

const OVN_FLAGS = { model: MODEL, app: "nova-compute", "chassis-app": "ovn-chassis" };
const SWEEP_FLAGS = { ...OVN_FLAGS, "neutron-app": "neutron-api", parallel: 2 };
/** The whole model: the chassis are found by charm (steps/ovn.ts). */
const MODEL_STATUS = new RegExp(`^juju status -m ${MODEL} --format=json$`);
const NEUTRON_STATUS = new RegExp(`^juju status -m ${MODEL} neutron-api --format=json$`);
const EXEC_ON = (unit: string, command: string): string =>
  `juju exec -m ${MODEL} --unit ${unit} --format=json -- ${command}`;
const PROBE = /^juju exec -m c:openstack --unit (\S+) --format=json -- ovn-appctl -t ovn-controller connection-status$/;
const CHASSIS_RESTART =
  /^juju exec -m c:openstack --unit (\S+) --format=json -- systemctl restart ovs-vswitchd ovn-controller$/;
const NEUTRON_RESTART = /^juju exec -m c:openstack --unit (\S+) --format=json -- systemctl restart neutron-server$/;
const ANY_SYSTEMCTL = / systemctl /;
/** The sweep reads its services' systemd InvocationIDs before a restart (steps/ovn.ts restartOnce). */
const INVOCATION_IDS =
  /^juju exec -m c:openstack --unit (\S+) --format=json -- systemctl show -p InvocationID --value (.+)$/;

/** `juju status neutron-api`: hand-made (no recorded neutron-api status), units only. */
const NEUTRON_APP_STATUS = JSON.stringify({
  applications: {
    "neutron-api": {
      units: Object.fromEntries(
        [0, 1, 2].map((i) => [
          `neutron-api/${i}`,
          {
            "workload-status": { current: "active", message: "Unit is ready" },
            "juju-status": { current: "idle" },
            machine: `${i}/lxd/5`,
          },
        ]),
      ),
    },
  },
});

/**
 * Four chassis (the recorded nova-compute status as the model's status), or seven with octavia's
 * octavia-ovn-chassis (model.octavia-ovn-chassis); `down` ones answer "not connected" until restarted.
 */
function ovnCloud(down: string[], model = "juju/nova-compute.ovn-chassis.healthy.juju3.status.json") {
  const notConnected = new Set(down);
  const starts = new Map<string, number>();
  const fake = fakeExec()
    .on(MODEL_STATUS, readFixture(model))
    .on(NEUTRON_STATUS, NEUTRON_APP_STATUS)
    .on(PROBE, (call) =>
      jujuExecReply(
        readFixture(
          notConnected.has(PROBE.exec(call.line)?.[1] ?? "")
            ? "juju/ovn-appctl.connection-status.not-connected.txt"
            : "juju/ovn-appctl.connection-status.connected.txt",
        ),
      ),
    )
    .on(CHASSIS_RESTART, (call) => {
      const unit = CHASSIS_RESTART.exec(call.line)?.[1] ?? "";
      notConnected.delete(unit);
      starts.set(unit, (starts.get(unit) ?? 0) + 1);
      return jujuExecReply("");
    })
    // systemd gives a unit a new InvocationID at each start (src/core/unit.c unit_acquire_invocation_id)
    .on(INVOCATION_IDS, (call) => {
      const [, unit = "", services = ""] = INVOCATION_IDS.exec(call.line) ?? [];
      const ids = services.split(" ").map((svc) => `${unit}-${svc}-${starts.get(unit) ?? 0}`);
      return jujuExecReply(ids.join("\n") + "\n");
    })
    .on(NEUTRON_RESTART, (call) => {
      const unit = NEUTRON_RESTART.exec(call.line)?.[1] ?? "";
      starts.set(unit, (starts.get(unit) ?? 0) + 1);
      return jujuExecReply("");
    });
  return { fake, notConnected };
}

const unitsOf = (fake: FakeExec, re: RegExp): string[] => fake.lines(re).map((l) => re.exec(l)?.[1] ?? "?");

describe("the OVN chassis check (read-only)", () => {
  it("passes with every chassis connected and only probes", async () => {
    const { fake } = ovnCloud([]);
    const outcome = await ovnCheck(OVN_FLAGS, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.state).toBe("all-connected");
    expect(unitsOf(fake, PROBE).sort()).toEqual(["ovn-chassis/0", "ovn-chassis/1", "ovn-chassis/2", "ovn-chassis/3"]);
    expect(fake.count(ANY_SYSTEMCTL)).toBe(0);
  });

  it("passes on a not-connected chassis (the sweep acts on it) and names it, without restarting anything", async () => {
    const { fake } = ovnCloud(["ovn-chassis/2"]);
    const outcome = await ovnCheck(OVN_FLAGS, testContext(fake));

    expect(outcome.exitCode).toBe(0);
    expect(outcome.verdict.state).toBe("not-connected");
    expect(outcome.verdict.summary).toContain("ovn-chassis/2");
    expect(fake.count(ANY_SYSTEMCTL)).toBe(0);
  });

  it("fails when a chassis answers something that is not a connection status", async () => {
    const { fake } = ovnCloud([]);
    fake.on((line) => PROBE.exec(line)?.[1] === "ovn-chassis/1", jujuExecReply("ovn-appctl: cannot connect\n", 1));
    const outcome = await ovnCheck(OVN_FLAGS, testContext(fake));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.verdict.summary).toContain("ovn-chassis/1");
  });
});

describe("every chassis, found by charm: octavia-ovn-chassis too", () => {
  const OCTAVIA_MODEL = "juju/model.octavia-ovn-chassis.juju3.status.json";

  it("the check reads the whole model once and probes all 7 chassis, the 3 octavia ones included", async () => {
    const { fake } = ovnCloud(["octavia-ovn-chassis/1"], OCTAVIA_MODEL);
    const outcome = await ovnCheck(OVN_FLAGS, testContext(fake));

    expect(fake.count(MODEL_STATUS)).toBe(1);
    expect(fake.count(/^juju status -m \S+ nova-compute/)).toBe(0);
    expect(unitsOf(fake, PROBE).sort()).toEqual([
      "octavia-ovn-chassis/0",
      "octavia-ovn-chassis/1",
      "octavia-ovn-chassis/2",
      "ovn-chassis/0",
      "ovn-chassis/1",
      "ovn-chassis/2",
      "ovn-chassis/3",
    ]);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.state).toBe("not-connected");
    expect(outcome.verdict.summary).toContain("1 of 7 chassis not connected to the OVN SB DB: octavia-ovn-chassis/1");
    expect(outcome.verdict.details).toContain("octavia-ovn-chassis/1 (on octavia/1): not connected");
  });

  it("the sweep restarts only the octavia chassis that is not connected, then neutron-server", async () => {
    const { fake, notConnected } = ovnCloud(["octavia-ovn-chassis/1"], OCTAVIA_MODEL);
    const outcome = await ovnTlsSweep(SWEEP_FLAGS, testContext(fake));

    expect(unitsOf(fake, CHASSIS_RESTART)).toEqual(["octavia-ovn-chassis/1"]);
    expect(unitsOf(fake, NEUTRON_RESTART)).toEqual(["neutron-api/0", "neutron-api/1", "neutron-api/2"]);
    expect(notConnected.size).toBe(0);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.summary).toContain("swept 1 of 7 chassis (octavia-ovn-chassis/1)");
  });

  it("a model without any chassis application fails the check, naming what it looked for", async () => {
    const fake = fakeExec().on(MODEL_STATUS, JSON.stringify({ applications: {} }));
    const outcome = await ovnCheck(OVN_FLAGS, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.summary).toBe("no units of an ovn-chassis / ovn-dedicated-chassis application to probe");
  });
});

describe("the OVN TLS sweep", () => {
  it("restarts only the not-connected chassis, then neutron-server, then re-probes", async () => {
    const { fake, notConnected } = ovnCloud(["ovn-chassis/1", "ovn-chassis/3"]);
    const ctx = testContext(fake);
    const outcome = await ovnTlsSweep(SWEEP_FLAGS, ctx);

    expect(unitsOf(fake, CHASSIS_RESTART).sort()).toEqual(["ovn-chassis/1", "ovn-chassis/3"]);
    expect(fake.lines()).not.toContain(EXEC_ON("ovn-chassis/0", "systemctl restart ovs-vswitchd ovn-controller"));
    expect(fake.lines()).not.toContain(EXEC_ON("ovn-chassis/2", "systemctl restart ovs-vswitchd ovn-controller"));
    expect(unitsOf(fake, NEUTRON_RESTART)).toEqual(["neutron-api/0", "neutron-api/1", "neutron-api/2"]);

    const lines = fake.lines();
    const lastChassisRestart = Math.max(...lines.map((l, i) => (CHASSIS_RESTART.test(l) ? i : -1)));
    const firstNeutronRestart = lines.findIndex((l) => NEUTRON_RESTART.test(l));
    const lastNeutronRestart = Math.max(...lines.map((l, i) => (NEUTRON_RESTART.test(l) ? i : -1)));
    expect(lastChassisRestart).toBeLessThan(firstNeutronRestart);
    expect(lines.slice(lastNeutronRestart).filter((l) => PROBE.test(l))).toHaveLength(4);

    expect(notConnected.size).toBe(0);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.summary).toContain("swept 2 of 4 chassis");
    expect(outcome.verdict.summary).toContain("all 4 chassis connected");
  });

  it("restarts nothing when every chassis is connected (skipped by guard)", async () => {
    const { fake } = ovnCloud([]);
    const outcome = await ovnTlsSweep(SWEEP_FLAGS, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 0, outcome: "skipped-by-guard" });
    expect(fake.count(ANY_SYSTEMCTL)).toBe(0);
    expect(fake.count(NEUTRON_STATUS)).toBe(0);
  });

  it("fails with route chassis-not-connected when a restart fails", async () => {
    const { fake } = ovnCloud(["ovn-chassis/2"]);
    fake.on(CHASSIS_RESTART, jujuExecReply("Job for ovn-controller.service failed.\n", 1));
    const outcome = await ovnTlsSweep(SWEEP_FLAGS, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.route).toBe("chassis-not-connected");
    expect(outcome.verdict.details.join("\n")).toContain("ovn-chassis/2: restart FAILED");
  });

  it("ends with a named failure, not a thrown error, when juju status of neutron-api fails", async () => {
    const { fake } = ovnCloud(["ovn-chassis/2"]);
    fake.on(NEUTRON_STATUS, { exitCode: 1, stderr: 'ERROR application "neutron-api" not found' });
    const outcome = await ovnTlsSweep(SWEEP_FLAGS, testContext(fake));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.verdict.summary).toContain("neutron-api");
  });
});

// --- Stage 5: guests -------------------------------------------------------------------------

// hold-guests and start-shutoff-guests list with --long (Task State); the gate without
const SERVER_LIST = /^openstack server list --all-projects (--long )?-f json$/;
const SERVER_START = /^openstack server start (\S+)$/;
const SERVER_STOP = /^openstack server stop (\S+)$/;

interface ServerJson {
  ID: string;
  Name: string;
  Status: string;
  [key: string]: unknown;
}
const recordedServers = (): ServerJson[] =>
  JSON.parse(readFixture("openstack/server-list-all-projects.json")) as ServerJson[];
const DB_REPLICA = "3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f";
const CAPI = "9e5476bd-a4ec-4653-93d6-72c93aa682ba";
const BROKEN = "0b8d7c6e-5f4a-4321-8765-fedcba987654";

/** The recorded list plus two more SHUTOFF guests (hand-made rows in the same shape). */
function moreShutoff(): string {
  const base = recordedServers();
  const copy = (id: string, name: string): ServerJson => ({ ...base[2], ID: id, Name: name, Status: "SHUTOFF" });
  return JSON.stringify([
    ...base,
    copy("11111111-2222-4333-8444-555555555555", "forensics-vm"),
    copy("66666666-7777-4888-9999-aaaaaaaaaaaa", "web-2"),
  ]);
}

function openstackFake(serverList: string | ((n: number) => string)): FakeExec {
  return fakeExec()
    .on(OPENRC_CALL, openrcReply())
    .on(SERVER_LIST, (_call, n) => (typeof serverList === "string" ? serverList : serverList(n)))
    .on(SERVER_START, "")
    .on(SERVER_STOP, "");
}

describe("the nova resume flag check (D-043)", () => {
  const CONFIG = /^juju config -m c:openstack nova-compute --format=json$/;
  const regressed = (): string => {
    const doc = JSON.parse(readFixture("juju/nova-compute.config.resume-enabled.juju3.json")) as {
      settings: Record<string, { source: string; value?: unknown }>;
    };
    doc.settings["resume-guests-state-on-host-boot"] = {
      ...doc.settings["resume-guests-state-on-host-boot"],
      source: "default",
      value: false,
    };
    return JSON.stringify(doc);
  };

  it("passes without a warning on the recorded enabled flag", async () => {
    const fake = fakeExec().on(CONFIG, readFixture("juju/nova-compute.config.resume-enabled.juju3.json"));
    const ctx = testContext(fake);
    const outcome = await novaResumeFlag({ model: MODEL, app: "nova-compute" }, ctx);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(ctx.out.warnings).toEqual([]);
  });

  it("continues (exit 0) with a warning when the flag has regressed", async () => {
    const fake = fakeExec().on(CONFIG, regressed());
    const ctx = testContext(fake);
    const outcome = await novaResumeFlag({ model: MODEL, app: "nova-compute" }, ctx);

    expect(outcome.exitCode).toBe(0);
    expect(outcome.verdict.state).toBe("regressed");
    expect(ctx.out.warnings).toHaveLength(1);
    expect(ctx.out.warnings[0]).toContain("NEXT boot");
  });

  it("fails when juju config cannot be read", async () => {
    const fake = fakeExec().on(CONFIG, { exitCode: 1, stderr: "ERROR connection refused" });
    const outcome = await novaResumeFlag({ model: MODEL, app: "nova-compute" }, testContext(fake));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.verdict.summary).toContain("juju config -m c:openstack nova-compute");
  });
});

describe("starting the SHUTOFF guests", () => {
  it("starts exactly the SHUTOFF guest of the recorded list, by ID, with the openrc's credentials", async () => {
    const fake = openstackFake(readFixture("openstack/server-list-all-projects.json"));
    const outcome = await startShutoffGuests({ openrc: OPENRC, hold: [], parallel: 4 }, testContext(fake));

    expect(fake.lines(SERVER_START)).toEqual([`openstack server start ${DB_REPLICA}`]);
    expect(fake.callsTo(SERVER_START)[0].env).toMatchObject(OPENRC_VARS);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
  });

  it("never starts a held guest (by name or by ID), nor an ACTIVE or ERROR one", async () => {
    const fake = openstackFake(moreShutoff());
    const outcome = await startShutoffGuests(
      { openrc: OPENRC, hold: ["forensics-vm", DB_REPLICA], parallel: 2 },
      testContext(fake),
    );

    expect(fake.lines(SERVER_START)).toEqual(["openstack server start 66666666-7777-4888-9999-aaaaaaaaaaaa"]);
    for (const id of ["11111111-2222-4333-8444-555555555555", DB_REPLICA, CAPI, BROKEN])
      expect(fake.lines(SERVER_START)).not.toContain(`openstack server start ${id}`);
    expect(outcome.exitCode).toBe(0);
  });

  it("starts nothing (skipped by guard) when the only SHUTOFF guest is held", async () => {
    const fake = openstackFake(readFixture("openstack/server-list-all-projects.json"));
    const outcome = await startShutoffGuests({ openrc: OPENRC, hold: ["db-replica"], parallel: 4 }, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "skipped-by-guard" });
    expect(fake.count(SERVER_START)).toBe(0);
  });

  it("still starts the others and fails with route guests-shutoff when one start fails", async () => {
    const fake = openstackFake(moreShutoff()).on((line) => line === `openstack server start ${DB_REPLICA}`, {
      exitCode: 1,
      stderr: "Cannot 'start' instance while it is in vm_state error (HTTP 409)",
    });
    const outcome = await startShutoffGuests({ openrc: OPENRC, hold: [], parallel: 1 }, testContext(fake));

    expect(fake.count(SERVER_START)).toBe(3);
    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.route).toBe("guests-shutoff");
    expect(outcome.verdict.details.join("\n")).toContain("db-replica");
  });
});

describe("holding guests down before the window", () => {
  it("fails before any server stop when a name matches no server", async () => {
    const fake = openstackFake(readFixture("openstack/server-list-all-projects.json"));
    const outcome = await holdGuests(
      { openrc: OPENRC, guest: ["capi-mgmt-v2", "capi-mgmt-v3"], timeout: 120_000, interval: 5_000 },
      testContext(fake),
    );

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.summary).toContain("capi-mgmt-v3");
    expect(outcome.verdict.summary).toContain("nothing was stopped");
    expect(fake.count(SERVER_STOP)).toBe(0);
  });

  it("stops the named ACTIVE guest by ID and waits until it is SHUTOFF", async () => {
    const stopped = (): string =>
      JSON.stringify(recordedServers().map((s) => (s.ID === CAPI ? { ...s, Status: "SHUTOFF" } : s)));
    const fake = openstackFake((n) => (n <= 2 ? readFixture("openstack/server-list-all-projects.json") : stopped()));
    const outcome = await holdGuests(
      { openrc: OPENRC, guest: ["capi-mgmt-v2"], timeout: 120_000, interval: 5_000 },
      testContext(fake),
    );

    expect(fake.lines(SERVER_STOP)).toEqual([`openstack server stop ${CAPI}`]);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(fake.count(SERVER_START)).toBe(0);
  });

  it("calls nothing at all when no guest is to be held", async () => {
    const fake = fakeExec();
    const outcome = await holdGuests(
      { openrc: OPENRC, guest: [], timeout: 120_000, interval: 5_000 },
      testContext(fake),
    );
    expect(outcome.outcome).toBe("skipped-by-guard");
    expect(fake.calls).toEqual([]);
  });
});

// --- Stage 6: Octavia ------------------------------------------------------------------------

const LB_LIST = /^openstack loadbalancer list -f json$/;
const FAILOVER = /^openstack loadbalancer failover (\S+)$/;
const ERROR_LB = "4a13c573-623c-4d23-8a9c-581dc17ceb1f";
const ACTIVE_LB = "607226db-27ef-4d41-ae89-f2a800e9c2db";

const recordedReply = (name: string): Reply => ({
  stdout: readFixture(`octavia/${name}.stdout`),
  stderr: readFixture(`octavia/${name}.stderr`),
  exitCode: Number(readFixture(`octavia/${name}.rc`).trim()),
});

describe("the LB failover", () => {
  it("fails over only the LB in ERROR of the recorded list", async () => {
    const fake = fakeExec()
      .on(OPENRC_CALL, openrcReply())
      .on(LB_LIST, readFixture("octavia/loadbalancer-list.json"))
      .on(FAILOVER, recordedReply("loadbalancer-failover-accepted"));
    const outcome = await lbFailover({ openrc: OPENRC, parallel: 4 }, testContext(fake));

    expect(fake.lines(FAILOVER)).toEqual([`openstack loadbalancer failover ${ERROR_LB}`]);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.state).toBe("failover-accepted");
  });

  it("never fails over a PENDING_UPDATE or ACTIVE LB", async () => {
    const lbs = JSON.parse(readFixture("octavia/loadbalancer-list.json")) as Record<string, unknown>[];
    const pending = {
      ...lbs[0],
      id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
      name: "busy",
      provisioning_status: "PENDING_UPDATE",
    };
    const fake = fakeExec()
      .on(OPENRC_CALL, openrcReply())
      .on(LB_LIST, JSON.stringify([...lbs, pending]))
      .on(FAILOVER, recordedReply("loadbalancer-failover-accepted"));
    await lbFailover({ openrc: OPENRC, parallel: 4 }, testContext(fake));

    expect(fake.lines(FAILOVER)).toEqual([`openstack loadbalancer failover ${ERROR_LB}`]);
    expect(fake.lines(FAILOVER)).not.toContain(`openstack loadbalancer failover ${ACTIVE_LB}`);
  });

  it("calls no failover when no LB is in ERROR", async () => {
    const lbs = JSON.parse(readFixture("octavia/loadbalancer-list.json")) as Record<string, unknown>[];
    const fake = fakeExec()
      .on(OPENRC_CALL, openrcReply())
      .on(LB_LIST, JSON.stringify(lbs.map((lb) => ({ ...lb, provisioning_status: "ACTIVE" }))));
    const outcome = await lbFailover({ openrc: OPENRC, parallel: 4 }, testContext(fake));
    expect(outcome.exitCode).toBe(0);
    expect(fake.count(FAILOVER)).toBe(0);
  });

  it("fails with route lb-error when octavia cannot find the LB", async () => {
    const fake = fakeExec()
      .on(OPENRC_CALL, openrcReply())
      .on(LB_LIST, readFixture("octavia/loadbalancer-list.json"))
      .on(FAILOVER, recordedReply("loadbalancer-failover-unknown-lb"));
    const outcome = await lbFailover({ openrc: OPENRC, parallel: 4 }, testContext(fake));
    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.route).toBe("lb-error");
  });
});

// --- Stage 7: cloud-assert -------------------------------------------------------------------

describe("the cloud-assert gate", () => {
  const SCRIPT = "~/ops/scripts/cloud-assert.sh";
  const SCRIPT_PATH = `${HOME}/ops/scripts/cloud-assert.sh`;
  const RUN = new RegExp(`^bash ${SCRIPT_PATH}$`);
  const FLAGS = { openrc: OPENRC, script: SCRIPT, timeout: 60_000, interval: 30_000 };

  const assertFake = (stdout: string, exitCode = 0): FakeExec =>
    fakeExec().on(OPENRC_CALL, openrcReply()).on(RUN, { stdout, exitCode });

  it("passes on the exact line CLOUD-ASSERT: PASS, seen 3 polls in a row", async () => {
    const fake = assertFake("A1 keystone token ok\nA4 chassis connected\nCLOUD-ASSERT: PASS\n");
    const outcome = await cloudAssert(FLAGS, testContext(fake));
    // GATE_SUCCESSES: polls at 0, 30 and 60 s (the timeout)
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass", polls: 3 });
  });

  it.each([
    ["a longer line", "CLOUD-ASSERT: PASSED\n", 0],
    ["a suffix", "CLOUD-ASSERT: PASS (2 warnings)\n", 0],
    ["the wrong case", "cloud-assert: pass\n", 0],
    ["a prefix", "echo CLOUD-ASSERT: PASS\n", 0],
    ["a non-zero exit", "CLOUD-ASSERT: PASS\n", 1],
  ])("never passes on %s", async (_name, stdout, exitCode) => {
    const fake = assertFake(stdout, exitCode);
    const outcome = await cloudAssert(FLAGS, testContext(fake));
    // polls at 0, 3, 6, ... 48 and 60 s (the timeout): runtime/poll-schedule.ts
    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail", polls: stillPollTimes(60_000, 30_000).length });
  });

  it("shows the FAIL lines, routed to appendix-A", async () => {
    const fake = assertFake(
      "A1 ok\nA4 FAIL: ovn-chassis/2 not connected\nA6 FAIL: LB k8s-api-lb in ERROR\nCLOUD-ASSERT: FAIL\n",
      1,
    );
    const outcome = await cloudAssert(FLAGS, testContext(fake));

    expect(outcome.verdict.details).toEqual([
      "A4 FAIL: ovn-chassis/2 not connected",
      "A6 FAIL: LB k8s-api-lb in ERROR",
      "CLOUD-ASSERT: FAIL",
    ]);
    expect(outcome.verdict.route).toBe("cloud-assert-fail");
    const shown = describeOutcome("cloud-assert", outcome).join("\n");
    expect(shown).toContain("A4 FAIL: ovn-chassis/2 not connected");
    expect(shown).toContain("A6 FAIL: LB k8s-api-lb in ERROR");
  });

  it("gives the script the openrc's OS_* and scrubs every inherited OS_* variable", async () => {
    const fake = assertFake("CLOUD-ASSERT: PASS\n");
    const ctx = testContext(fake, {
      env: { HOME, PATH: "/usr/bin", OS_PASSWORD: "stale-inherited", OS_CLOUD: "old-cloud", OS_PROJECT_NAME: "demo" },
    });
    await cloudAssert(FLAGS, ctx);

    const [source] = fake.callsTo(OPENRC_CALL);
    expect(source.args[source.args.length - 1]).toBe(`${HOME}/admin-openrc`);
    expect(source.env).toEqual({ OS_PASSWORD: undefined, OS_CLOUD: undefined, OS_PROJECT_NAME: undefined });

    const [run] = fake.callsTo(RUN);
    expect(run.env).toEqual({ ...OPENRC_VARS, OS_CLOUD: undefined, OS_PROJECT_NAME: undefined });
    expect(Object.keys(run.env ?? {})).toEqual(expect.arrayContaining(["OS_CLOUD", "OS_PROJECT_NAME"]));
    expect(JSON.stringify(fake.calls)).not.toContain("stale-inherited");
    expect(run.cwd).toBe(`${HOME}/ops`);
    expect(run.args.join(" ")).not.toContain("pw");
  });
});

// --- Pre-shutdown: baseline capture ------------------------------------------------------------

describe("the baseline capture", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-baseline-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const SHOW_MODEL = new RegExp(`^juju show-model ${MODEL} --format=json$`);
  const EXPORT = new RegExp(`^juju export-bundle -m ${MODEL} --filename (\\S+)$`);
  const STATUS_YAML = new RegExp(`^juju status -m ${MODEL} --format=yaml$`);
  const captures: [RegExp, string][] = [
    [/^openstack server list --all-projects$/, "openstack/server-list-all-projects.table.txt"],
    [/^openstack server list --all-projects -f json$/, "openstack/server-list-all-projects.json"],
    [/^openstack loadbalancer list$/, "octavia/loadbalancer-list.table.txt"],
    [/^openstack loadbalancer amphora list$/, "octavia/amphora-list.table.txt"],
  ];

  function baselineFake(): FakeExec {
    const fake = fakeExec()
      .on(SHOW_MODEL, JSON.stringify({ openstack: { name: "admin/openstack", type: "iaas" } }))
      .on(EXPORT, (call) => {
        fs.writeFileSync(EXPORT.exec(call.line)?.[1] ?? "", "applications: {}\n");
        return "";
      })
      .on(STATUS_YAML, "model:\n  name: openstack\n")
      .on(OPENRC_CALL, openrcReply());
    for (const [re, fixture] of captures) fake.on(re, readFixture(fixture));
    return fake;
  }

  it("writes the bundle, juju status, servers, LBs and amphorae into <dir>/<UTC time>-pre-maintenance", async () => {
    const fake = baselineFake();
    const ctx = testContext(fake, { start: Date.UTC(2026, 11, 5, 6, 7, 8) });
    const outcome = await baselineCapture({ model: MODEL, openrc: OPENRC, dir }, ctx);

    const snapshot = path.join(dir, "20261205-060708-pre-maintenance");
    const files = [
      "amphorae.txt",
      "bundle.yaml",
      "juju-status.yaml",
      "loadbalancers.txt",
      "servers.json",
      "servers.txt",
    ];
    expect(fs.readdirSync(dir)).toEqual(["20261205-060708-pre-maintenance"]);
    expect(fs.readdirSync(snapshot).sort()).toEqual(files);
    expect(fs.readFileSync(path.join(snapshot, "servers.txt"), "utf8")).toBe(
      readFixture("openstack/server-list-all-projects.table.txt"),
    );
    expect(fs.readFileSync(path.join(snapshot, "amphorae.txt"), "utf8")).toBe(
      readFixture("octavia/amphora-list.table.txt"),
    );
    expect(fs.readFileSync(path.join(snapshot, "juju-status.yaml"), "utf8")).toBe("model:\n  name: openstack\n");
    expect(fake.lines(EXPORT)).toEqual([
      `juju export-bundle -m ${MODEL} --filename ${path.join(snapshot, "bundle.yaml")}`,
    ]);
    expect(fake.lines()[0]).toMatch(SHOW_MODEL);
    expect(outcome).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(outcome.verdict.summary).toContain(snapshot);
    expect(outcome.verdict.details).toEqual(files);
  });

  it("refuses when juju show-model fails: no file written, no openstack call", async () => {
    const fake = baselineFake().on(SHOW_MODEL, { exitCode: 1, stderr: 'ERROR model "c:openstack" not found' });
    const outcome = await baselineCapture({ model: MODEL, openrc: OPENRC, dir }, testContext(fake));

    expect(outcome).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(outcome.verdict.summary).toContain(`juju show-model ${MODEL}`);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fake.lines()).toEqual([`juju show-model ${MODEL} --format=json`]);
    expect(fake.count(/^openstack /)).toBe(0);
    expect(fake.count(OPENRC_CALL)).toBe(0);
  });
});
