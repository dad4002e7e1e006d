/**
 * Issue #23 item 4: what the console says about a cancelled run is what happened. A cancel at
 * power-off-openstack0 kills the power-off steps' shells while the coldstart under each finishes
 * its power-off: the console shows each one's verdict from the record (never FAILED for a step the
 * record shows passed), names the steps in flight, and prints the exact command that resumes the
 * window -- which, run as printed, finishes it.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { drillDir } from "../support/drill-run";
import { readRecord } from "../../runtime/record";

const BIN = path.resolve(__dirname, "../..", "bin", "coldstart");
const HOSTS = ["openstack0", "openstack1", "openstack2", "openstack3"];

describe("drill --cancel-at power-off-openstack0 (no --json: the operator's console), then the printed resume", () => {
  const dir = drillDir("stop-console");
  const cancelled = spawnSync(
    BIN,
    [
      "drill",
      "--stack",
      "prior-build",
      "--scenario",
      "healthy-planned",
      "--dir",
      dir,
      "--cancel-at",
      "power-off-openstack0",
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  const record = [...readRecord(path.join(dir, "records", "drill-healthy-planned.jsonl"))];
  const resumeLine = /^resume this window: (.*)$/m.exec(cancelled.stderr)?.[1];
  const resumed = spawnSync("/bin/sh", ["-c", resumeLine ?? "exit 99"], { encoding: "utf8", timeout: 90_000 });

  it("exit 130; the CANCELLED line names the four power-offs that were in flight", () => {
    expect(cancelled.status).toBe(130);
    expect(cancelled.stderr).toMatch(
      /^drill CANCELLED \(in flight at the cancel: power-off-openstack0, power-off-openstack1, power-off-openstack2, power-off-openstack3\): /m,
    );
  });

  it("no FAILED for a power-off the record shows as passed: each shows the recorded verdict", () => {
    // The cancel lands at power-off-openstack0's first call: that one has sent its soft-off and
    // passes; the other three were in flight too, each passed or stopped at a safe point before
    // its request (which depends on how far it got: the record says, and the console must say the same).
    expect(record.find((e) => e.step === "power-off-openstack0")?.outcome).toBe("pass");
    for (const host of HOSTS) {
      const step = `power-off-${host}`;
      const outcome = record.find((e) => e.step === step)?.outcome;
      expect({ step, outcome: ["pass", "cancelled"].includes(outcome ?? "") }).toEqual({ step, outcome: true });
      expect(cancelled.stderr).not.toMatch(new RegExp(`FAILED +shutdown/${step}\\b`));
      expect(cancelled.stderr).toMatch(
        new RegExp(
          `ended +shutdown/${step} \\(\\S+\\): its shell was killed by the cancel; the coldstart under it finished: ${outcome} \\(in the record\\)`,
        ),
      );
    }
    expect(cancelled.stderr).not.toMatch(/FAILED/);
  });

  it("prints the exact resume command, and that command finishes the window", () => {
    expect(resumeLine).toBe(`${BIN} drill --stack prior-build --scenario healthy-planned --dir ${dir} --resume`);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/^drill PASSED: /m);
    expect(resumed.stderr).not.toMatch(/^resume this window:/m);
  });
});
