/**
 * Stage 5 drills with guests in every status before the window (sim/scenarios/guests-mixed-states.json):
 * only guests that were running before are started and waited for -- from this window's baseline
 * (planned), from the newest baseline (unplanned), or, with none, from the operator's startGuests
 * after a BLOCKER. Load balancers are never touched.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir, ranAfter, runDrillProcess, type DrillResult } from "../support/drill-run";

const ID = (n: number) => `0a1b2c3d-000${n}-4000-8000-00000000000${n}`;
const WEB_1 = ID(1);
const NOT_RUNNING = ["tenant-stopped", "shelved-1", "offloaded-1", "paused-1", "suspended-1", "broken-1"];
const ARGS = ["--stack", "prior-build", "--scenario", "guests-mixed-states"];

const starts = (d: DrillResult) => d.callsMatching(/^openstack server start /).map((c) => c.argv[2]);
const entry = (d: DrillResult, step: string) => d.record.filter((e) => e.step === step).at(-1);

describe("planned window: this window's baseline decides", () => {
  const d = runDrillProcess(ARGS, drillDir("guests-mixed-planned"));

  it("starts only web-1 (ACTIVE in the baseline, not resumed); never a guest that was not running", () => {
    expect(d.stepStatus("start-shutoff-guests")).toBe("passed");
    expect(starts(d)).toEqual([WEB_1]);
  });

  it("the guests gate passes: SHELVED, SHELVED_OFFLOADED, PAUSED, SUSPENDED, ERROR and tenant-stopped guests do not hold it", () => {
    expect(d.stepStatus("guests-active")).toBe("passed");
    const gate = entry(d, "guests-active")!;
    expect(gate.summary).toMatch(/^guests: 2 of 2 expected guest\(s\) ACTIVE, 7 not counted; baseline .*this window's/);
  });

  it("the record lists every guest with its status before and now", () => {
    const details = entry(d, "start-shutoff-guests")!.details;
    expect(details).toContain(`web-1 (${WEB_1}): before ACTIVE, now SHUTOFF -> start sent: counted`);
    expect(details).toContain(
      `paused-1 (${ID(6)}): before PAUSED, now SHUTOFF: not ACTIVE before the window: left as it was, not counted`,
    );
    for (const name of NOT_RUNNING)
      expect(details.some((l) => l.startsWith(`${name} (`) && l.endsWith("left as it was, not counted"))).toBe(true);
    expect(details.some((l) => l.startsWith("db-replica (") && l.includes("held"))).toBe(true);
    const gateDetails = entry(d, "guests-active")!.details;
    expect(gateDetails).toContain(`web-1 (${WEB_1}): before ACTIVE, now ACTIVE: counted`);
  });

  it("the baseline is this window's capture, named by its coldstart-baseline.json", () => {
    const folders = fs.readdirSync(path.join(d.dir, "baseline"));
    expect(folders).toHaveLength(1);
    const meta = JSON.parse(
      fs.readFileSync(path.join(d.dir, "baseline", folders[0]!, "coldstart-baseline.json"), "utf8"),
    );
    expect(meta.window).toBe(d.report.window);
    expect(entry(d, "start-shutoff-guests")!.summary).toContain(folders[0]);
  });

  it("leaves the load balancers alone: no failover, the LB gate passes", () => {
    expect(d.callsMatching(/^openstack loadbalancer failover/)).toEqual([]);
    expect(d.stepStatus("lbs-active")).toBe("passed");
  });

  it("the whole window passes: the sim's cloud-assert, like Stage 5, expects only the guests that ran before", () => {
    expect(d.status).toBe(0);
    expect(d.stepStatus("cloud-assert")).toBe("passed");
  });
});

describe("unplanned recovery with no baseline: the operator names the guests", () => {
  const dir = drillDir("guests-mixed-unplanned");
  const first = runDrillProcess([...ARGS, "--mode", "unplanned"], dir);

  it("stops as a BLOCKER at start-shutoff-guests, lists the SHUTOFF guests, starts nothing and runs nothing after", () => {
    expect(first.status).toBe(3);
    expect(first.report.failed?.step).toBe("start-shutoff-guests");
    const msg = first.report.failed!.message;
    expect(msg).toMatch(/^BLOCKER start-shutoff-guests/);
    for (const name of ["web-1", "tenant-stopped", "paused-1"]) expect(msg).toContain(`SHUTOFF: ${name} (`);
    expect(msg).toContain("pulumi config set --path 'coldstart:startGuests[0]'");
    expect(starts(first)).toEqual([]);
    expect(ranAfter(first.report, "start-shutoff-guests")).toEqual([]);
  });

  it("resumed with startGuests=[web-1]: starts exactly web-1, and the gate waits only for it", () => {
    const second = runDrillProcess([...ARGS, "--resume", "--set", 'startGuests=["web-1"]'], dir);
    expect(second.stepStatus("start-shutoff-guests")).toBe("passed");
    expect(starts(second)).toEqual([WEB_1]);
    expect(second.stepStatus("guests-active")).toBe("passed");
    expect(entry(second, "guests-active")!.summary).toMatch(/^guests: 1 of 1 expected guest\(s\) ACTIVE/);
  });
});

describe("unplanned recovery with an older baseline", () => {
  it("uses the newest capture, shows its age, and starts only what ran in it", () => {
    const dir = drillDir("guests-mixed-old-baseline");
    const folder = path.join(dir, "baseline", "20261101-060000-pre-maintenance");
    fs.mkdirSync(folder, { recursive: true });
    const before = [
      { ID: ID(1), Name: "web-1", Status: "ACTIVE" },
      { ID: ID(2), Name: "app-2", Status: "ACTIVE" },
      { ID: ID(3), Name: "tenant-stopped", Status: "SHUTOFF" },
      { ID: ID(6), Name: "paused-1", Status: "PAUSED" },
    ];
    fs.writeFileSync(path.join(folder, "servers.json"), JSON.stringify(before));
    const d = runDrillProcess([...ARGS, "--mode", "unplanned"], dir);
    expect(d.stepStatus("start-shutoff-guests")).toBe("passed");
    expect(starts(d)).toEqual([WEB_1]);
    const summary = entry(d, "start-shutoff-guests")!.summary;
    expect(summary).toContain(
      `baseline ${folder} (the newest, made outside a window, captured 2026-11-01T06:00:00.000Z, `,
    );
    expect(summary).toMatch(/\d+d \d+h ago\)$/);
    expect(d.stepStatus("guests-active")).toBe("passed");
  });
});
