/**
 * Drills of the power stages when the BMC, MAAS or libvirt misbehave the way they do in real life:
 * transient 503s from MAAS during the soft-off (sim/scenarios/power-transient-bmc.json, MAAS-powered:
 * --stack roosevelt) and virsh races and lock timeouts (sim/scenarios/virsh-race.json, prior build).
 * Neither may lead to a hard power-off. The graceful timeout is cloud time (issue #14): the fake
 * tools' real latency cannot eat into it.
 */
import { simSystemIds } from "../../sim/maas-api";
import { drillDir, runDrillProcess, type Call, type DrillResult } from "../support/drill-run";

const IDS = simSystemIds(["openstack0", "openstack1", "openstack2", "openstack3"]);
const maas = (d: DrillResult) => d.calls.filter((c) => c.tool === "maas");
const on = (c: Call, host: string, op: string) => c.argv[1] === `/MAAS/api/2.0/machines/${IDS[host]}/?op=${op}`;
const summary = (d: DrillResult, step: string) => d.record.filter((e) => e.step === step).at(-1)?.summary;

describe("MAAS answers 503 'No rack controllers can access the BMC' during the shutdown (roosevelt)", () => {
  const d = runDrillProcess(
    ["--stack", "roosevelt", "--scenario", "power-transient-bmc"],
    drillDir("power-transient-bmc"),
  );

  it("passes", () => {
    expect({ status: d.status, failed: d.report.failed }).toEqual({ status: 0, failed: undefined });
  });

  it("retries openstack1's soft power_off through three 503s, then MAAS takes it; never a stop_mode=hard", () => {
    const offs = maas(d).filter((c) => on(c, "openstack1", "power_off"));
    expect(offs.map((c) => c.argv[2])).toEqual(Array(4).fill("stop_mode=soft"));
    expect(maas(d).filter((c) => c.argv[2] === "stop_mode=hard")).toEqual([]);
    expect(summary(d, "power-off-openstack1")).toMatch(/: off after a graceful shutdown$/);
  });

  it("MAAS answered 503 exactly where the scenario says (3 soft-offs of openstack1, 2 state queries of openstack2)", () => {
    // the drill's report holds the call log lines with their exit codes (HTTP status for MAAS)
    const log = d.calls as (Call & { exitCode?: number })[];
    const failed = log.filter((c) => c.tool === "maas" && c.exitCode === 503);
    expect(failed.filter((c) => on(c, "openstack1", "power_off"))).toHaveLength(3);
    expect(failed.filter((c) => on(c, "openstack2", "query_power_state"))).toHaveLength(2);
    expect(failed).toHaveLength(5);
  });

  it("openstack2's state queries are retried too: its power-off is graceful", () => {
    expect(summary(d, "power-off-openstack2")).toMatch(/: off after a graceful shutdown$/);
  });
});

describe("virsh: a domain already off when shutdown is sent, one already on when start is sent, a busy libvirt", () => {
  const d = runDrillProcess(["--stack", "prior-build", "--scenario", "virsh-race"], drillDir("virsh-race"));
  const virsh = (re: RegExp) =>
    (d.calls as (Call & { exitCode?: number })[]).filter((c) => c.tool === "virsh" && re.test(c.argv.join(" ")));

  it("passes, and never sends virsh destroy", () => {
    expect({ status: d.status, failed: d.report.failed }).toEqual({ status: 0, failed: undefined });
    expect(virsh(/ destroy /)).toEqual([]);
  });

  it("openstack2: virsh shutdown answers `domain is not running` (exit 1) and the step passes", () => {
    expect(virsh(/ shutdown openstack2$/).map((c) => c.exitCode)).toEqual([1]);
    expect(d.stepStatus("power-off-openstack2")).toBe("passed");
    expect(d.stepStatus("powered-off-openstack2")).toBe("passed");
  });

  it("openstack3: virsh start answers `Domain is already active` (exit 1) and the step passes", () => {
    expect(virsh(/ start openstack3$/).map((c) => c.exitCode)).toEqual([1]);
    expect(d.stepStatus("power-on-openstack3")).toBe("passed");
  });

  it("openstack1: the lock timeout is retried; the second shutdown is taken", () => {
    expect(virsh(/ shutdown openstack1$/).map((c) => c.exitCode)).toEqual([1, 0]);
    expect(summary(d, "power-off-openstack1")).toMatch(/: off after a graceful shutdown$/);
  });

  it("reads domstate with --reason", () => {
    expect(virsh(/ domstate /).every((c) => c.argv.includes("--reason"))).toBe(true);
  });
});
