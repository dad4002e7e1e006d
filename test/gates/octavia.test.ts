import { ROUTES } from "../../gates/routes";
import {
  failoverOutcome,
  lbsInError,
  lbsVerdict,
  parseAmphorae,
  parseAmphoraShow,
  parseLoadBalancers,
  parseLoadBalancerShow,
  type Amphora,
  type LoadBalancer,
} from "../../gates/octavia";
import { mustParse, readFixture } from "../fixtures";

const fixture = readFixture;

const lbs = (): LoadBalancer[] => mustParse(parseLoadBalancers(fixture("octavia/loadbalancer-list.json")));
const amphorae = (): Amphora[] => mustParse(parseAmphorae(fixture("octavia/amphora-list.json")));

const ERROR_LB_ID = "4a13c573-623c-4d23-8a9c-581dc17ceb1f";

function recorded(name: string): [number, string, string] {
  return [
    Number(fixture(`octavia/${name}.rc`).trim()),
    fixture(`octavia/${name}.stdout`),
    fixture(`octavia/${name}.stderr`),
  ];
}

const lb = (over: Partial<LoadBalancer>): LoadBalancer => ({
  id: "11111111-2222-4333-8444-555555555555",
  name: "lb",
  provisioning_status: "ACTIVE",
  operating_status: "ONLINE",
  ...over,
});

describe("parsing the recorded octavia outputs", () => {
  it("reads the load balancer list: one ACTIVE/ONLINE, one ERROR/ERROR", () => {
    expect(lbs().map((l) => [l.name, l.provisioning_status, l.operating_status])).toEqual([
      ["best_load_balancer", "ACTIVE", "ONLINE"],
      ["k8s-api-lb", "ERROR", "ERROR"],
    ]);
  });

  it("reads loadbalancer show of the ERROR LB as the same LB", () => {
    const shown = mustParse(parseLoadBalancerShow(fixture("octavia/loadbalancer-show-error.json")));
    expect(shown).toMatchObject({ id: ERROR_LB_ID, name: "k8s-api-lb", provisioning_status: "ERROR" });
    expect(lbsInError([shown]).map((l) => l.id)).toEqual([ERROR_LB_ID]);
  });

  it("reads the amphora list with loadbalancer_id (not the stale load_balancer_id)", () => {
    expect(amphorae().map((a) => [a.loadbalancer_id, a.role, a.status])).toEqual([
      ["607226db-27ef-4d41-ae89-f2a800e9c2db", "MASTER", "ALLOCATED"],
      ["607226db-27ef-4d41-ae89-f2a800e9c2db", "BACKUP", "ALLOCATED"],
      [ERROR_LB_ID, "STANDALONE", "ERROR"],
    ]);
  });

  it.each([
    ["octavia/amphora-show-master.json", "MASTER", "ALLOCATED"],
    ["octavia/amphora-show-error.json", "STANDALONE", "ERROR"],
  ])("reads amphora show %s with its cert expiry", (rel, role, status) => {
    expect(mustParse(parseAmphoraShow(fixture(rel)))).toMatchObject({
      role,
      status,
      cert_expiration: "2026-09-19T00:34:51",
    });
  });

  it("accepts a spare amphora that has no LB and no role", () => {
    const r = parseAmphorae(JSON.stringify([{ id: "s", loadbalancer_id: null, status: "READY", role: null }]));
    expect(r.ok).toBe(true);
  });

  it.each(["octavia/loadbalancer-list.table.txt", "octavia/amphora-list.table.txt"])(
    "refuses the table output %s with a named error",
    (rel) => {
      const r = rel.includes("amphora") ? parseAmphorae(fixture(rel)) : parseLoadBalancers(fixture(rel));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^openstack loadbalancer (amphora )?list: expected JSON output/);
    },
  );

  it("refuses the raw Octavia API body with a named error", () => {
    const r = parseLoadBalancers(fixture("octavia/api-bodies/loadbalancers.stub-input.json"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^openstack loadbalancer list: expected the document to match/);
  });
});

describe("lbsInError", () => {
  it("picks the ERROR load balancer from the recorded list", () => {
    expect(lbsInError(lbs()).map((l) => l.name)).toEqual(["k8s-api-lb"]);
  });

  it("goes by provisioning_status only: an ACTIVE LB with operating ERROR is not failed over", () => {
    expect(lbsInError([lb({ operating_status: "ERROR" })])).toEqual([]);
  });

  it("does not fail over a PENDING_UPDATE LB (octavia would refuse it)", () => {
    expect(lbsInError([lb({ provisioning_status: "PENDING_UPDATE" })])).toEqual([]);
  });
});

describe("lbsVerdict", () => {
  it("is an error routed to lb-error on the recorded list, with the ERROR amphora in the details", () => {
    const v = lbsVerdict(lbs(), amphorae());
    expect(v).toMatchObject({ ok: false, state: "error", route: "lb-error" });
    expect(v.summary).toBe("octavia: 1 of 2 load balancer(s) ACTIVE, 1 ERROR");
    expect(v.details).toEqual([
      `k8s-api-lb (${ERROR_LB_ID}): provisioning ERROR, operating ERROR`,
      "  amphora d2a9e7c1-7b8f-4f7e-9d0b-3c6a1f2e4b5d (STANDALONE): ERROR",
    ]);
  });

  it("keeps polling a PENDING_UPDATE LB; at the timeout it is never told to fail over", () => {
    const v = lbsVerdict([lb({}), lb({ name: "busy", provisioning_status: "PENDING_UPDATE" })]);
    expect(v).toMatchObject({ ok: false, state: "pending", route: "lb-pending" });
    expect(ROUTES["lb-pending"].fix).toMatch(/do NOT fail it over/);
    expect(ROUTES["lb-pending"].fix).not.toMatch(/^openstack loadbalancer failover/);
  });

  it("reports ERROR over PENDING when both are present", () => {
    const v = lbsVerdict([lb({ provisioning_status: "PENDING_UPDATE" }), lb({ provisioning_status: "ERROR" })]);
    expect(v).toMatchObject({ state: "error", route: "lb-error" });
  });

  it("passes when every LB is provisioning ACTIVE", () => {
    const active = lbs().filter((l) => l.provisioning_status === "ACTIVE");
    expect(lbsVerdict(active, amphorae())).toMatchObject({ ok: true, state: "all-active", details: [] });
  });

  it("passes on a cloud without load balancers", () => {
    expect(lbsVerdict([])).toMatchObject({ ok: true, state: "all-active" });
  });
});

describe("failoverOutcome", () => {
  it("reads the recorded accepted failover (rc 0, empty stdout, empty stderr) as accepted", () => {
    expect(failoverOutcome(...recorded("loadbalancer-failover-accepted"))).toEqual({ state: "accepted" });
  });

  it("reads the recorded unknown-LB failover as not-found", () => {
    expect(failoverOutcome(...recorded("loadbalancer-failover-unknown-lb"))).toEqual({ state: "not-found" });
  });

  it("reads HTTP 409 Invalid state PENDING_UPDATE as busy", () => {
    const stderr = `Invalid state PENDING_UPDATE of loadbalancer resource ${ERROR_LB_ID} (HTTP 409) (Request-ID: req-5d3a0c2e-1f5b-4c8e-9a2f-3b4c5d6e7f80)\n`;
    expect(failoverOutcome(1, "", stderr)).toEqual({ state: "busy" });
  });

  it("reads HTTP 409 immutable as busy", () => {
    const stderr = `Load Balancer ${ERROR_LB_ID} is immutable and cannot be updated. (HTTP 409) (Request-ID: req-1)\n`;
    expect(failoverOutcome(1, "", stderr)).toEqual({ state: "busy" });
  });

  it("reads an API 404 as not-found", () => {
    expect(failoverOutcome(1, "", `Load Balancer ${ERROR_LB_ID} not found. (HTTP 404) (Request-ID: req-2)\n`)).toEqual({
      state: "not-found",
    });
  });

  it("does not call rc 0 with printed output a success", () => {
    expect(failoverOutcome(0, "something unexpected\n", "")).toEqual({
      state: "failed",
      message: "exit 0 but printed output (failover prints nothing): something unexpected",
    });
  });

  it("reports any other failure with its first stderr line", () => {
    const stderr = "\n2 loadbalancers found with name or ID of web. Please try again with UUID\n";
    expect(failoverOutcome(1, "", stderr)).toEqual({
      state: "failed",
      message: "exit 1: 2 loadbalancers found with name or ID of web. Please try again with UUID",
    });
  });

  it("reports a killed call without output as failed", () => {
    expect(failoverOutcome(null, "", "")).toEqual({
      state: "failed",
      message: "no exit status (killed or timed out) with no output",
    });
  });
});
