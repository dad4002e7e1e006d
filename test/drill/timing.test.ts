/**
 * Timing scenarios (issue #14), at the default settings of the prior-build stack, on the drill's
 * discrete-event clock: a machine agent late by 90 % / 110 % of machinesStarted's timeout, an LB
 * that recovers inside / after the Octavia grace, a MySQL action that outlives `juju run`'s wait,
 * and a juju call that hangs until commandTimeout. Each test first checks its premise from the
 * cloud's own state (when the agent or LB came back vs when the gate or grace began), so a change
 * of the restart's timeline that makes a scenario miss its point fails here by name instead of
 * passing for the wrong reason.
 */
import * as path from "node:path";
import { simState } from "../../sim/setup";
import { agentStartedAt } from "../../sim/state";
import { drillDir, runDrillProcess, type Call, type DrillResult } from "../support/drill-run";

/** What the call log holds beyond drill-run's Call: on the discrete clock `at` is cloud ms. */
interface CallAt {
  at: number;
  exitCode: number | null;
}

/** prior-build (stacks/Pulumi.prior-build.yaml): machinesStarted 10m, octaviaErrorGrace 5m, commandTimeout 2m. */
const MACHINES_STARTED_S = 600;
const GRACE_S = 300;
const COMMAND_TIMEOUT_S = 120;

const drill = (scenario: string) =>
  runDrillProcess(["--stack", "prior-build", "--scenario", scenario], drillDir(scenario));

/** A step's cloud-time span (s since the run began; a fresh run begins at cloud time 0). */
function span(d: DrillResult, step: string): { start: number; end: number } {
  const s = d.report.steps.find((x) => x.name === step);
  if (s?.simStart === undefined || s.simEnd === undefined) {
    throw new Error(`${step}: no simStart/simEnd in the report (status ${s?.status ?? "absent"})`);
  }
  return { start: s.simStart, end: s.simEnd };
}

const cloudOf = (d: DrillResult) => simState(path.join(d.dir, "cloud"));

describe("a late machine agent (machine 2), against machinesStarted's 10m", () => {
  it("at 90 % (540 s after its host's power-on) the Stage 1 gate waits for it and passes; the restart finishes", () => {
    const d = drill("machine-agent-late-90pct");
    const gate = span(d, "machines-started");
    const agent = agentStartedAt(cloudOf(d), "2")!;
    const poweredOn = cloudOf(d).hosts[2]!.onSince!;
    // premise: late (90 % of the timeout after power-on), yet inside the gate's own timeout
    expect(agent - poweredOn).toBe(0.9 * MACHINES_STARTED_S);
    expect(agent).toBeLessThan(gate.start + MACHINES_STARTED_S);
    expect(d.status).toBe(0);
    expect(d.stepStatus("machines-started")).toBe("passed");
    // the gate really waited for it (it passes only after the agent started), and not to its timeout
    expect(gate.end).toBeGreaterThanOrEqual(agent);
    expect(gate.end - gate.start).toBeLessThan(MACHINES_STARTED_S);
    expect(d.stepStatus("cloud-assert")).toBe("passed");
  });

  it("at 110 % (660 s) the gate times out at exactly its 10m with the machines-not-started route; Stage 2 never runs", () => {
    const d = drill("machine-agent-late-110pct");
    const gate = span(d, "machines-started");
    const agent = agentStartedAt(cloudOf(d), "2")!;
    expect(agent - cloudOf(d).hosts[2]!.onSince!).toBeCloseTo(1.1 * MACHINES_STARTED_S);
    expect(agent).toBeGreaterThan(gate.start + MACHINES_STARTED_S); // premise: it starts after the gate gives up
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("machines-started");
    expect(gate.end - gate.start).toBe(MACHINES_STARTED_S);
    expect(d.report.failed?.message).toMatch(/still not there after 10m/);
    expect(d.report.failed?.message).toMatch(/\b2 \(openstack2\): down/);
    expect(d.report.failed?.message).toMatch(/fix: Stage 1 gate: check the listed machines' power and console/);
    expect(d.callsMatching(/juju status .*mysql-innodb-cluster/)).toHaveLength(0);
  });
});

describe("an LB in ERROR after boot, against the Octavia grace (5m)", () => {
  const K8S_LB = "4a13c573-623c-4d23-8a9c-581dc17ceb1f";
  /** When k8s-api-lb recovers by itself (cloud s): its host's agent start + recoversAfterSeconds. */
  const recoversAt = (d: DrillResult) => {
    const s = cloudOf(d);
    const lb = s.lbs.find((l) => l.id === K8S_LB)!;
    return agentStartedAt(s, String(lb.host))! + lb.recoversAfter!;
  };

  it("recovering 200 s into the grace: the grace ends early, nothing is failed over", () => {
    const d = drill("lb-recovers-within-grace");
    const grace = span(d, "octavia-grace");
    expect(recoversAt(d) - grace.start).toBeGreaterThan(0); // premise: in ERROR when the grace begins ...
    expect(recoversAt(d) - grace.start).toBeLessThan(GRACE_S - 60); // ... and back in time for 3 probes
    expect(d.status).toBe(0);
    expect(grace.end - grace.start).toBeLessThan(GRACE_S);
    expect(d.callsMatching(/^openstack loadbalancer failover/)).toHaveLength(0);
    const entry = d.record.find((e) => e.step === "octavia-grace");
    expect(entry?.details).toEqual([expect.stringMatching(/^k8s-api-lb: ERROR, ACTIVE again 3m 28s into the grace/)]);
    expect(d.stepStatus("lbs-active")).toBe("passed");
  });

  it("recovering 360 s into the grace: the grace runs out, the LB is failed over once and polled to ACTIVE", () => {
    const d = drill("lb-recovers-after-grace");
    const grace = span(d, "octavia-grace");
    expect(recoversAt(d) - grace.start).toBeGreaterThan(GRACE_S); // premise
    expect(d.status).toBe(0);
    expect(grace.end - grace.start).toBe(GRACE_S);
    const failovers = d.callsMatching(/^openstack loadbalancer failover/);
    expect(failovers.map((c) => c.argv[2])).toEqual([K8S_LB]);
    expect(span(d, "lb-failover").start).toBeLessThan(recoversAt(d)); // failed over while still in ERROR
    expect(d.stepStatus("lbs-active")).toBe("passed");
    expect(cloudOf(d).lbs.find((l) => l.id === K8S_LB)?.failovers).toBe(1);
  });
});

describe("a slow MySQL action (150 s) and a hung juju call (commandTimeout 2m)", () => {
  it("the action outlives juju run's default wait (60 s): one run with the step's --wait answers when the task completes, 151 s later", () => {
    const d = drill("mysql-slow-action");
    expect(d.status).toBe(0);
    const runs = d.callsMatching(/^juju run .*reboot-cluster-from-complete-outage/) as (Call & CallAt)[];
    expect(runs).toHaveLength(1);
    const task = (cloudOf(d).tasks ?? []).find((t) => t.action === "reboot-cluster-from-complete-outage")!;
    expect(task.completed! - task.enqueued).toBe(151); // 1 s to start + actionSeconds
    // the call waited on cloud time for the whole action (longer than commandTimeout: the step gives
    // this call its budget) and answered with the result: no give-up, no show-task needed
    const wait = Number(/^--wait=(\d+)s$/.exec(runs[0].argv.find((a) => a.startsWith("--wait=")) ?? "")?.[1]);
    expect(wait).toBeGreaterThan(151);
    expect(runs[0]).toMatchObject({ exitCode: 0, at: task.completed! * 1000 });
    expect(task.completed! - task.enqueued).toBeGreaterThan(COMMAND_TIMEOUT_S);
    expect(d.callsMatching(/^juju show-task /)).toHaveLength(0);
    const step = span(d, "mysql-reboot-cluster");
    expect(step.start).toBeLessThanOrEqual(task.enqueued);
    expect(step.end).toBe(task.completed);
    expect(d.record.find((e) => e.step === "mysql-reboot-cluster")).toMatchObject({
      outcome: "pass",
      state: "rebooted",
    });
  });

  it("a juju status that never answers is killed at exactly commandTimeout (2m) of cloud time: a named failure", () => {
    const d = drill("juju-hangs");
    expect(d.status).toBe(1);
    expect(d.report.failed?.step).toBe("mysql-check");
    expect(d.report.failed?.message).toMatch(
      /juju status -m maas-controller:openstack mysql-innodb-cluster --format=json: no answer within 120s \(timed out, killed\)/,
    );
    const hung = (d.calls as (Call & CallAt)[]).filter((c) => c.exitCode === null);
    expect(hung).toHaveLength(1);
    const step = span(d, "mysql-check");
    const hungAtS = hung[0].at / 1000;
    expect(hungAtS).toBeGreaterThanOrEqual(step.start);
    expect(step.end - hungAtS).toBe(COMMAND_TIMEOUT_S);
  });
});
