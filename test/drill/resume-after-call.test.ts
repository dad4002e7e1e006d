/**
 * Issue #23 (L) item 1: a kill -9 right AFTER a state-changing call reached the cloud (--at-call
 * lands when the call has returned, before the step reads the answer: drill/sim-clock.ts), then a
 * resume in the same window, ends as a run with no kill: each request reached the cloud once, and
 * the resume waited for the one under way instead of sending it again (nova / Octavia answer 409).
 */
import { drillDir, runDrillProcess, type DrillResult } from "../support/drill-run";

function killThenResume(name: string, scenario: string, step: string, call: string) {
  const args = ["--stack", "prior-build", "--scenario", scenario];
  const dir = drillDir(name);
  const killed = runDrillProcess([...args, "--kill-at", step, "--at-call", call], dir);
  const resumed = runDrillProcess([...args, "--resume"], dir);
  return { killed, resumed };
}

const sent = (d: DrillResult, re: RegExp) => d.callsMatching(re).map((c) => c.argv.join(" "));
const details = (d: DrillResult, step: string) => d.record.find((e) => e.step === step)?.details ?? [];

describe("kill -9 of hold-guests right after its `openstack server stop`, then --resume", () => {
  const { killed, resumed } = killThenResume(
    "after-stop",
    "guests-mixed-states",
    "hold-guests",
    "openstack server stop",
  );
  const STOP = /^openstack server stop /;

  it("the kill lands after the stop reached nova, before any verdict", () => {
    expect(killed.report.failed?.step).toBe("hold-guests");
    expect(killed.record.some((e) => e.step === "hold-guests")).toBe(false);
    expect(sent(killed, STOP)).toEqual(["server stop 3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f"]);
  });

  it("the resume waits for that stop (never a second one, never a 409) and finishes the window", () => {
    expect(resumed.status).toBe(0);
    expect(sent(resumed, STOP)).toEqual(["server stop 3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f"]);
    expect(resumed.record.find((e) => e.step === "hold-guests")).toMatchObject({ outcome: "pass", state: "held" });
    expect(details(resumed, "hold-guests")).toContain(
      "server db-replica (3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f): stop already in progress (task_state powering-off): not sent again; waited",
    );
  });
});

describe("kill -9 of start-shutoff-guests right after its `openstack server start`, then --resume", () => {
  const { killed, resumed } = killThenResume(
    "after-start",
    "guests-mixed-states",
    "start-shutoff-guests",
    "openstack server start",
  );
  const START = /^openstack server start /;

  it("the kill lands after the start reached nova, before any verdict", () => {
    expect(killed.report.failed?.step).toBe("start-shutoff-guests");
    expect(killed.record.some((e) => e.step === "start-shutoff-guests")).toBe(false);
    expect(sent(killed, START)).toEqual(["server start 0a1b2c3d-0001-4000-8000-000000000001"]);
  });

  it("the resume sends no second start; guests-active sees web-1 ACTIVE and the window finishes", () => {
    expect(resumed.status).toBe(0);
    expect(sent(resumed, START)).toEqual(["server start 0a1b2c3d-0001-4000-8000-000000000001"]);
    expect(resumed.record.find((e) => e.step === "start-shutoff-guests")?.outcome).toBe("pass");
    expect(details(resumed, "start-shutoff-guests")).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          "web-1 (0a1b2c3d-0001-4000-8000-000000000001): before ACTIVE, now SHUTOFF, start already in progress (task_state powering-on): not sent again",
        ),
      ]),
    );
    expect(resumed.stepStatus("guests-active")).toBe("passed");
  });
});

describe("kill -9 of lb-failover right after its `openstack loadbalancer failover`, then --resume", () => {
  const { killed, resumed } = killThenResume(
    "after-failover",
    "lb-error",
    "lb-failover",
    "openstack loadbalancer failover",
  );
  const FAILOVER = /^openstack loadbalancer failover /;

  it("the kill lands after Octavia accepted the failover, before any verdict", () => {
    expect(killed.report.failed?.step).toBe("lb-failover");
    expect(sent(killed, FAILOVER)).toEqual(["loadbalancer failover 4a13c573-623c-4d23-8a9c-581dc17ceb1f"]);
  });

  it("the resume fails over nothing again (the LB is PENDING_UPDATE), lbs-active waits and the window finishes", () => {
    expect(resumed.status).toBe(0);
    expect(sent(resumed, FAILOVER)).toEqual(["loadbalancer failover 4a13c573-623c-4d23-8a9c-581dc17ceb1f"]);
    expect(details(resumed, "lb-failover")).toContain(
      "k8s-api-lb (4a13c573-623c-4d23-8a9c-581dc17ceb1f): provisioning PENDING_UPDATE: a failover or update already in progress, not sent again; lbs-active waits for it",
    );
    expect(resumed.stepStatus("lbs-active")).toBe("passed");
  });
});
