/**
 * The whole planned restart against the simulated cloud; secrets planted in the run never leave
 * stdin; a re-run of the same window resumes after the last successful step, as `pulumi up` does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir, everythingWritten, runDrillProcess } from "../support/drill-run";
import { keyLeaks } from "../support/secret-leaks";
import { simState } from "../../sim/setup";
import { updateState } from "../../sim/store";

describe("a healthy planned window", () => {
  const dir = drillDir("healthy-planned");
  const d = runDrillProcess(["--stack", "prior-build", "--scenario", "healthy-planned"], dir);
  const keys: string[] = (() => {
    const state = simState(path.join(dir, "cloud"));
    return state.vault.keys.slice(0, state.vault.threshold);
  })();

  it("runs every one of the 34 steps and passes", () => {
    expect(d.status).toBe(0);
    expect(d.report.steps).toHaveLength(34);
    expect(d.report.steps.every((s) => s.status === "passed")).toBe(true);
  });

  it("captures the baseline and powers every host off and on again, in that order", () => {
    const baseline = fs.readdirSync(path.join(dir, "baseline"));
    expect(baseline).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, "baseline", baseline[0]))).toEqual(
      expect.arrayContaining(["bundle.yaml", "juju-status.yaml", "servers.txt", "loadbalancers.txt", "amphorae.txt"]),
    );
    const order = d.calls
      .filter((c) => c.tool === "virsh" && /shutdown|start|destroy/.test(c.argv[2]))
      .map((c) => c.argv[2]);
    expect(order.lastIndexOf("shutdown")).toBeLessThan(order.indexOf("start"));
    expect(order.filter((c) => c === "start")).toHaveLength(4);
  });

  it("passes -m with every juju call", () => {
    for (const c of d.calls.filter((x) => x.tool === "juju"))
      expect(c.argv.includes("-m") || c.argv[0] === "show-model").toBe(true);
  });

  it("writes an as-executed record line for every step", () => {
    expect(new Set(d.record.map((e) => e.step))).toEqual(new Set(d.report.steps.map((s) => s.name)));
    expect(d.record.every((e) => e.window === d.report.window)).toBe(true);
  });

  it("keeps the unseal keys out of every argv, every step output, the record and every file it wrote", () => {
    expect(keys.length).toBe(3);
    const unseals = d.callsMatching(/^juju ssh .*\/v1\/sys\/unseal/);
    expect(unseals).toHaveLength(3);
    const argv = JSON.stringify(d.calls.map((c) => c.argv));
    const written = everythingWritten(dir).replace(fs.readFileSync(path.join(dir, "cloud", "state.json"), "utf8"), "");
    // no 8-character piece of a key, nor its length (test/support/secret-leaks.ts)
    expect(keys.every((k) => k.length >= 40)).toBe(true);
    expect(keyLeaks(argv, keys)).toEqual([]);
    expect(keyLeaks(d.stdout + d.stderr, keys)).toEqual([]);
    expect(keyLeaks(written, keys)).toEqual([]);
  });
});

describe("resume after a failure in the same window", () => {
  it("re-runs only the failed step and what follows; the steps that succeeded are not run again", () => {
    const dir = drillDir("resume");
    const first = runDrillProcess(["--stack", "prior-build", "--scenario", "chassis-stays-disconnected"], dir);
    expect(first.status).toBe(1);
    expect(first.report.failed?.step).toBe("ovn-chassis-connected");
    const callsBefore = first.calls.length;

    // The operator fixes the chassis by hand (appendix-A), then re-runs `pulumi up` in the same window.
    updateState(path.join(dir, "cloud"), (s) => s.ovn.chassis.forEach((c) => (c.connected = true)));
    const second = runDrillProcess(
      ["--stack", "prior-build", "--scenario", "chassis-stays-disconnected", "--resume"],
      dir,
    );
    expect(second.status).toBe(0);
    expect(second.report.window).toBe(first.report.window);
    const before = first.report.steps.filter((s) => s.status === "passed").map((s) => s.name);
    for (const name of before) expect({ name, status: second.stepStatus(name) }).toEqual({ name, status: "unchanged" });
    expect(second.stepStatus("ovn-chassis-connected")).toBe("passed");
    expect(second.stepStatus("cloud-assert")).toBe("passed");
    const newCalls = second.calls.slice(callsBefore);
    expect(newCalls.filter((c) => c.tool === "virsh")).toEqual([]);
    expect(newCalls.some((c) => /unseal|reboot-cluster/.test(c.argv.join(" ")))).toBe(false);
  });

  it("a new window id runs every step again", () => {
    const dir = drillDir("new-window");
    runDrillProcess(["--stack", "prior-build", "--scenario", "healthy-unplanned", "--window", "w-1"], dir);
    const again = runDrillProcess(
      ["--stack", "prior-build", "--scenario", "healthy-unplanned", "--window", "w-2", "--resume"],
      dir,
    );
    expect(again.report.steps.every((s) => s.status === "passed")).toBe(true);
  });
});
