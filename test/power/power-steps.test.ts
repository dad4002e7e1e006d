/**
 * steps/power.ts (act power-off: graceful then hard; act power-on; gate power-state) through the
 * real drivers: ipmitool against ipmi_sim, and the maas driver against the local MAAS stand-in.
 * The clock is fake (gates' waits take no time); every power call is real.
 */
import { fakeClock } from "../../runtime/clock";
import type { StepFlags } from "../../stages/step-def";
import type { POWER_OFF } from "../../stages/shutdown";
import type { POWER_STATE } from "../../stages/power-on";
import { describeOutcome } from "../../steps/outcome";
import { powerOff, powerOn, powerState } from "../../steps/power";
import { freeUdpPort, realContext, SIM_PASSWORD, SIM_USER, startIpmiSim, type IpmiSim } from "../support/ipmi-sim";
import { FIXTURE_API_KEY, startMaasServer, type MaasServer } from "../support/maas-server";
import { stillPollTimes } from "../support/poll-times";

let sim: IpmiSim;
let maas: MaasServer;

beforeAll(async () => {
  [sim, maas] = await Promise.all([startIpmiSim(), startMaasServer()]);
});

afterAll(async () => {
  await Promise.all([sim?.stop(), maas?.close()]);
});

const PW_VAR = "COLDSTART_TEST_BMC_PW";
const KEY_VAR = "COLDSTART_TEST_MAAS_KEY";
const env = { [PW_VAR]: SIM_PASSWORD, [KEY_VAR]: FIXTURE_API_KEY };

function context() {
  return realContext({ env, clock: fakeClock(Date.UTC(2026, 11, 5, 6, 0, 0)) });
}

function ipmiFlags(port = sim.port) {
  return {
    host: "openstack1" as const,
    driver: "ipmi" as const,
    bmc: sim.host,
    port,
    user: SIM_USER,
    "cipher-suite": 3,
    "password-env": PW_VAR,
  };
}

function maasFlags(systemId = "e8xa8m") {
  return {
    host: "openstack0" as const,
    driver: "maas" as const,
    "maas-url": maas.url,
    "system-id": systemId,
    "api-key-env": KEY_VAR,
  };
}

const offFlags = (
  base: ReturnType<typeof ipmiFlags> | ReturnType<typeof maasFlags>,
  graceful = 30_000,
): StepFlags<typeof POWER_OFF> => ({ ...base, "graceful-timeout": graceful, interval: 5_000 });

const gateFlags = (
  base: ReturnType<typeof ipmiFlags> | ReturnType<typeof maasFlags>,
  expect: "on" | "off",
  timeout = 30_000,
): StepFlags<typeof POWER_STATE> => ({ ...base, expect, timeout, interval: 10_000 });

const chassis = (ctx: ReturnType<typeof context>) => ctx.records.map((r) => r.args.slice(-3).join(" "));
const maasCalls = () =>
  maas.requests.map(
    (r) => `${r.method} ${new URL(r.url, "http://x").searchParams.get("op")}${r.body ? ` ${r.body}` : ""}`,
  );

describe("power steps over IPMI (ipmitool -> ipmi_sim)", () => {
  beforeEach(() => {
    sim.setPower("on");
    sim.setSoftMode("off");
    sim.clearCalls();
  });

  it("power-off of a host already off: skipped by the guard, no power command sent", async () => {
    sim.setPower("off");
    const ctx = context();
    const o = await powerOff(offFlags(ipmiFlags()), ctx);
    expect(o.outcome).toBe("skipped-by-guard");
    expect(o.verdict.summary).toBe(`openstack1 via ipmi (BMC 127.0.0.1:${sim.port}): already off, nothing done`);
    expect(chassis(ctx)).toEqual(["chassis power status"]);
    expect(sim.calls()).toEqual(["get power"]);
  });

  it("power-off: graceful (soft) first; the host goes down after a few polls; no hard off", async () => {
    sim.setSoftMode({ afterReads: 2 });
    const ctx = context();
    const o = await powerOff(offFlags(ipmiFlags()), ctx);
    expect(o.outcome).toBe("pass");
    expect(o.verdict.summary).toBe(`openstack1 via ipmi (BMC 127.0.0.1:${sim.port}): off after a graceful shutdown`);
    expect(chassis(ctx)).toEqual([
      "chassis power status",
      "chassis power soft",
      "chassis power status",
      "chassis power status",
      "chassis power status",
    ]);
    expect(sim.power()).toBe("off");
  });

  it("power-off: the OS ignores the soft off -> hard power off after the graceful timeout", async () => {
    sim.setSoftMode("ignore");
    const ctx = context();
    const o = await powerOff(offFlags(ipmiFlags(), 10_000), ctx);
    expect(o.outcome).toBe("pass");
    expect(o.verdict.state).toBe("hard-off-sent");
    // the wait for the OS polls at 0, 1, 2, 3, 4, 5, 6, 8 and 10 s (the graceful timeout): sooner
    // at first, growing to the 5 s interval (runtime/poll-schedule.ts)
    expect(stillPollTimes(10_000, 5_000).map((t) => t / 1000)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 10]);
    expect(chassis(ctx)).toEqual([
      "chassis power status",
      "chassis power soft",
      ...Array<string>(9).fill("chassis power status"),
      // the hard off rests on a read made after the graceful timeout, not on the gate's last poll
      "chassis power status",
      "chassis power off",
    ]);
    expect(ctx.out.lines).toContain(
      `openstack1 via ipmi (BMC 127.0.0.1:${sim.port}): still on after 10s; hard power off`,
    );
    expect(sim.power()).toBe("off");
    const gate = await powerState(gateFlags(ipmiFlags(), "off"), context());
    expect(gate.outcome).toBe("pass");
  });

  it("power-on: skipped when on; sent when off, and the gate confirms", async () => {
    const skipped = context();
    expect((await powerOn(ipmiFlags(), skipped)).outcome).toBe("skipped-by-guard");
    expect(chassis(skipped)).toEqual(["chassis power status"]);

    sim.setPower("off");
    const ctx = context();
    const o = await powerOn(ipmiFlags(), ctx);
    expect(o.outcome).toBe("pass");
    expect(o.verdict.state).toBe("power-on-sent");
    expect(chassis(ctx)).toEqual(["chassis power status", "chassis power on"]);
    expect((await powerState(gateFlags(ipmiFlags(), "on"), context())).outcome).toBe("pass");
  });

  it("power-state gate: a host that stays on times out with a clear per-host failure", async () => {
    const ctx = context();
    const o = await powerState(gateFlags(ipmiFlags(), "off"), ctx);
    expect(o.outcome).toBe("fail");
    expect(o.exitCode).toBe(1);
    // 0, 1, ... 6, 8, 10, 13, 16, 20, 25 and 30 s (runtime/poll-schedule.ts)
    expect(o.polls).toBe(stillPollTimes(30_000, 10_000).length);
    expect(o.polls).toBe(14);
    expect(o.verdict.route).toBe("power-control");
    expect(o.verdict.summary).toBe(
      `still not there after 30s (14 polls): openstack1 via ipmi (BMC 127.0.0.1:${sim.port}): power on`,
    );
    const lines = describeOutcome("gate power-state", o);
    expect(lines[0]).toBe("FAILED gate power-state");
    expect(lines[1]).toBe("  expected: openstack1 reports power off");
  });

  it("power-state gate: an unreachable BMC fails every poll with the honest line", async () => {
    const port = await freeUdpPort();
    const o = await powerState(gateFlags(ipmiFlags(port), "on", 10_000), context());
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toMatch(
      new RegExp(
        `^still not there after 10s \\(${stillPollTimes(10_000, 10_000).length} polls\\): cannot authenticate to or reach the BMC 127\\.0\\.0\\.1:${port} for openstack1 \\(ipmi\\)`,
      ),
    );
  });
});

describe("power steps over MAAS (the API stand-in)", () => {
  beforeEach(() => {
    maas.machines.clear();
    maas.requests.length = 0;
    maas.addMachine({ systemId: "e8xa8m", hostname: "openstack0" });
  });

  it("power-off of a machine already off: skipped, no power_off sent", async () => {
    maas.machines.get("e8xa8m")!.power = "off";
    const o = await powerOff(offFlags(maasFlags()), context());
    expect(o.outcome).toBe("skipped-by-guard");
    expect(maasCalls()).toEqual(["GET query_power_state"]);
  });

  it("power-off: soft, then polls query_power_state (never the power_off answer) until off", async () => {
    maas.machines.get("e8xa8m")!.offAfterPolls = 2;
    const o = await powerOff(offFlags(maasFlags()), context());
    expect(o.outcome).toBe("pass");
    expect(o.polls).toBe(3);
    expect(maasCalls()).toEqual([
      "GET query_power_state",
      "POST power_off stop_mode=soft",
      "GET query_power_state",
      "GET query_power_state",
      "GET query_power_state",
    ]);
  });

  it("power-off: graceful timeout -> stop_mode=hard; the gate then sees off", async () => {
    maas.machines.get("e8xa8m")!.ignoresSoftOff = true;
    const o = await powerOff(offFlags(maasFlags(), 10_000), context());
    expect(o.verdict.state).toBe("hard-off-sent");
    expect(maasCalls().slice(-2)).toEqual(["GET query_power_state", "POST power_off stop_mode=hard"]);
    expect((await powerState(gateFlags(maasFlags(), "off"), context())).outcome).toBe("pass");
  });

  it("power-state gate: a machine that stays on times out with a clear per-host failure", async () => {
    const o = await powerState(gateFlags(maasFlags(), "off", 20_000), context());
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toBe(
      `still not there after 20s (${stillPollTimes(20_000, 10_000).length} polls): openstack0 via maas (${maas.url}, system_id e8xa8m): power on`,
    );
    expect(o.verdict.route).toBe("power-control");
  });

  it("a machine MAAS cannot reach: power-on fails with MAAS's 503 line; power-off retries the graceful path and never cuts power", async () => {
    const m = maas.machines.get("e8xa8m")!;
    m.power = "off";
    const ctx = context();
    expect((await powerOn(maasFlags(), ctx)).outcome).toBe("pass");
    m.bmcReachable = false;
    maas.requests.length = 0;
    const o = await powerOff(offFlags(maasFlags()), context());
    expect(o.outcome).toBe("fail");
    expect(o.verdict).toMatchObject({ state: "soft-off-not-delivered", route: "power-control" });
    expect(o.verdict.summary).toContain(
      `no hard power off was sent (the OS was never asked to shut down): MAAS cannot power-control openstack0 (maas, ${maas.url}, system_id e8xa8m): No rack controllers can access the BMC of node openstack0`,
    );
    // 30 s graceful timeout, 5 s interval: a try every 5 s, never a stop_mode=hard
    expect(maasCalls().length).toBeGreaterThanOrEqual(6);
    expect(maasCalls().every((c) => c === "GET query_power_state")).toBe(true);
  });

  it("power-off: MAAS answers 503 to the first soft-offs, then takes one: graceful, no hard off", async () => {
    const m = maas.machines.get("e8xa8m")!;
    m.bmcReachable = false;
    // the BMC becomes reachable from the third request on (the server records a request before it answers)
    const push = maas.requests.push.bind(maas.requests);
    maas.requests.push = (...items) => {
      const n = push(...items);
      if (n >= 3) m.bmcReachable = true;
      return n;
    };
    try {
      const ctx = context();
      const o = await powerOff(offFlags(maasFlags()), ctx);
      expect(o.outcome).toBe("pass");
      expect(o.verdict.summary).toBe(
        `openstack0 via maas (${maas.url}, system_id e8xa8m): off after a graceful shutdown`,
      );
      expect(maasCalls()).toEqual([
        "GET query_power_state", // 503
        "GET query_power_state", // 503
        "GET query_power_state",
        "POST power_off stop_mode=soft",
        "GET query_power_state",
      ]);
      expect(
        // the 503s answered the power-state reads (no soft-off was out yet): warnings, not RAN: lines
        ctx.out.warnings.filter((l) =>
          /: power state not read: transient error \(.*MAAS cannot power-control.*\); graceful path retried in 5s$/.test(
            l,
          ),
        ),
      ).toHaveLength(2);
      expect(ctx.out.lines.filter((l) => l.startsWith("RAN: "))).toEqual([
        `RAN: openstack0 via maas (${maas.url}, system_id e8xa8m): graceful shutdown (try 3): MAAS power type virsh has no soft power-off: MAAS powers it off hard whatever stop_mode says (only ipmi gets a soft off)`,
      ]);
    } finally {
      maas.requests.push = push;
    }
  });
});
