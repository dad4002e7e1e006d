import { ROUTES } from "../../gates/routes";
import {
  allChassisUnits,
  charmOf,
  chassisApplications,
  chassisUnits,
  ovnVerdict,
  parseConnectionStatus,
  sweepTargets,
  type ChassisResult,
} from "../../gates/ovn";
import { parseAppStatus } from "../../gates/juju-status";
import { mustParse, readFixture } from "../fixtures";

const novaStatus = () =>
  mustParse(parseAppStatus(readFixture("juju/nova-compute.ovn-chassis.healthy.juju3.status.json"), "nova-compute"));
const CONNECTED = readFixture("juju/ovn-appctl.connection-status.connected.txt");
const NOT_CONNECTED = readFixture("juju/ovn-appctl.connection-status.not-connected.txt");

describe("reading ovn-appctl connection-status", () => {
  it("reads the recorded 'connected' reply", () => {
    expect(parseConnectionStatus(CONNECTED)).toBe("connected");
  });

  it("reads the recorded 'not connected' reply although it contains the word connected", () => {
    expect(NOT_CONNECTED).toContain("connected");
    expect(parseConnectionStatus(NOT_CONNECTED)).toBe("not connected");
  });

  it("tolerates CRLF and surrounding blank lines from juju ssh", () => {
    expect(parseConnectionStatus("\r\nconnected\r\n")).toBe("connected");
    expect(parseConnectionStatus("  not connected  \n\n")).toBe("not connected");
  });

  it("ignores ssh chatter around the reply and reads only whole lines", () => {
    expect(parseConnectionStatus("connected\nConnection to 192.168.100.39 closed.\n")).toBe("connected");
    expect(parseConnectionStatus("Connection to 192.168.100.39 closed.\n")).toBeUndefined();
  });

  it("does not guess from an error or empty output", () => {
    expect(parseConnectionStatus("")).toBeUndefined();
    expect(
      parseConnectionStatus(
        '2025-10-14T11:19:58Z|00001|unixctl|WARN|failed to connect to /var/run/ovn/ovn-controller.1234.ctl\novn-appctl: cannot connect to "/var/run/ovn/ovn-controller.1234.ctl" (Connection refused)\n',
      ),
    ).toBeUndefined();
    expect(parseConnectionStatus("disconnected\n")).toBeUndefined();
  });
});

describe("finding the chassis under nova-compute", () => {
  it("finds one ovn-chassis subordinate inside each of the four nova-compute units", () => {
    expect(chassisUnits(novaStatus(), "nova-compute", "ovn-chassis")).toEqual([
      { chassis: "ovn-chassis/0", principal: "nova-compute/0", machine: "0" },
      { chassis: "ovn-chassis/1", principal: "nova-compute/1", machine: "1" },
      { chassis: "ovn-chassis/2", principal: "nova-compute/2", machine: "2" },
      { chassis: "ovn-chassis/3", principal: "nova-compute/3", machine: "3" },
    ]);
  });

  it("knows the ovn-chassis application itself lists no units", () => {
    expect(novaStatus().applications["ovn-chassis"].units).toBeUndefined();
  });

  it("reads subordinates the way the real Juju 3.6.4 capture nests them", () => {
    const doc = mustParse(parseAppStatus(readFixture("juju/reference.jubilant.juju-3.6.4.subordinates.status.json")));
    expect(chassisUnits(doc, "ubuntu", "nrpe")).toEqual([{ chassis: "nrpe/1", principal: "ubuntu/1", machine: "1" }]);
    expect(chassisUnits(doc, "ubun2", "nrpe")).toEqual([{ chassis: "nrpe/2", principal: "ubun2/0", machine: "2" }]);
  });

  it("skips other subordinates of the same principal", () => {
    const doc = novaStatus();
    const unit = doc.applications["nova-compute"].units?.["nova-compute/0"];
    if (unit?.subordinates === undefined) throw new Error("fixture changed: nova-compute/0 has no subordinates");
    unit.subordinates["nrpe/7"] = { "workload-status": { current: "active" }, "juju-status": { current: "idle" } };
    expect(chassisUnits(doc, "nova-compute", "ovn-chassis").map((c) => c.chassis)).not.toContain("nrpe/7");
  });

  it("finds nothing when the principal application is absent", () => {
    expect(chassisUnits(novaStatus(), "nova-compute-kvm", "ovn-chassis")).toEqual([]);
  });
});

describe("Stage 4 check: every chassis connected", () => {
  const probe = (statuses: Array<string>): ChassisResult[] =>
    chassisUnits(novaStatus(), "nova-compute", "ovn-chassis").map((c, i) => ({
      chassis: c.chassis,
      principal: c.principal,
      status: parseConnectionStatus(statuses[i] ?? CONNECTED),
    }));

  it("passes when every chassis answers connected", () => {
    const v = ovnVerdict(probe([]));
    expect(v).toMatchObject({ ok: true, state: "all-connected" });
    expect(v.route).toBeUndefined();
  });

  it("after the sweep ran, a chassis still down is not told to sweep again (it names what comes next)", () => {
    const v = ovnVerdict(probe([CONNECTED, NOT_CONNECTED]), true);
    expect(v).toMatchObject({ ok: false, state: "not-connected", route: "chassis-still-down" });
    expect(ROUTES["chassis-still-down"].fix).toMatch(/do NOT sweep again/);
    expect(ROUTES["chassis-still-down"].fix).toMatch(/appendix-A/);
  });

  it("routes to the TLS sweep and targets only the chassis that are not connected", () => {
    const results = probe([CONNECTED, NOT_CONNECTED, CONNECTED, NOT_CONNECTED]);
    const v = ovnVerdict(results);
    expect(v).toMatchObject({ ok: false, state: "not-connected", route: "chassis-not-connected" });
    expect(v.summary).toContain("ovn-chassis/1, ovn-chassis/3");
    expect(sweepTargets(results).map((r) => r.principal)).toEqual(["nova-compute/1", "nova-compute/3"]);
  });

  it("does not pass a chassis whose reply could not be read", () => {
    const results = probe([CONNECTED, "", CONNECTED, CONNECTED]);
    const v = ovnVerdict(results);
    expect(v).toMatchObject({ ok: false, state: "unknown", route: "chassis-not-connected" });
    expect(v.details[1]).toBe("ovn-chassis/1 (on nova-compute/1): probe output not recognised");
    expect(sweepTargets(results)).toEqual([]);
  });

  it("does not pass when there was no chassis to probe", () => {
    expect(ovnVerdict([])).toMatchObject({ ok: false, state: "unknown" });
  });
});

describe("finding every chassis by charm, whatever the application is called", () => {
  const model = () => mustParse(parseAppStatus(readFixture("juju/model.octavia-ovn-chassis.juju3.status.json")));

  it("reads the charm from charm-name, else from charm (charmhub name, local or cs URL)", () => {
    const doc = model();
    expect(charmOf(doc.applications["octavia-ovn-chassis"])).toBe("ovn-chassis");
    expect(charmOf({ charm: "local:ovn-chassis-3" } as never)).toBe("ovn-chassis");
    expect(charmOf({ charm: "cs:ovn-chassis-27" } as never)).toBe("ovn-chassis");
    expect(charmOf({ charm: "ch:amd64/focal/ovn-dedicated-chassis-12" } as never)).toBe("ovn-dedicated-chassis");
    expect(charmOf({ charm: "local:ovn-chassis-3", "charm-name": "ovn-chassis" } as never)).toBe("ovn-chassis");
    expect(charmOf({} as never)).toBeUndefined();
  });

  it("finds ovn-chassis AND octavia-ovn-chassis (the charm deployed again under octavia) in the whole model", () => {
    const doc = model();
    expect(chassisApplications(doc)).toEqual(["octavia-ovn-chassis", "ovn-chassis"]);
    expect(allChassisUnits(doc, chassisApplications(doc))).toEqual([
      { chassis: "octavia-ovn-chassis/0", principal: "octavia/0", machine: "0/lxd/6" },
      { chassis: "octavia-ovn-chassis/1", principal: "octavia/1", machine: "1/lxd/6" },
      { chassis: "octavia-ovn-chassis/2", principal: "octavia/2", machine: "2/lxd/6" },
      { chassis: "ovn-chassis/0", principal: "nova-compute/0", machine: "0" },
      { chassis: "ovn-chassis/1", principal: "nova-compute/1", machine: "1" },
      { chassis: "ovn-chassis/2", principal: "nova-compute/2", machine: "2" },
      { chassis: "ovn-chassis/3", principal: "nova-compute/3", machine: "3" },
    ]);
  });

  it("finds the units of a principal chassis application (ovn-dedicated-chassis) in its own units", () => {
    const doc = model();
    const raw = JSON.parse(readFixture("juju/model.octavia-ovn-chassis.juju3.status.json")) as {
      applications: Record<string, Record<string, unknown>>;
    };
    raw.applications["gateway"] = {
      ...raw.applications["nova-compute"],
      charm: "ovn-dedicated-chassis",
      "charm-name": "ovn-dedicated-chassis",
      units: {
        "gateway/0": { ...(doc.applications["nova-compute"].units?.["nova-compute/0"] ?? {}), subordinates: {} },
      },
    };
    const withGateway = mustParse(parseAppStatus(JSON.stringify(raw)));
    expect(chassisApplications(withGateway)).toEqual(["gateway", "octavia-ovn-chassis", "ovn-chassis"]);
    expect(allChassisUnits(withGateway, ["gateway"])).toEqual([
      { chassis: "gateway/0", principal: "gateway/0", machine: "0" },
    ]);
  });

  it("also probes a configured application whatever its charm, and only when the model has it", () => {
    const doc = model();
    expect(chassisApplications(doc, "nova-compute")).toEqual(["nova-compute", "octavia-ovn-chassis", "ovn-chassis"]);
    expect(chassisApplications(doc, "no-such-app")).toEqual(["octavia-ovn-chassis", "ovn-chassis"]);
  });
});
