/**
 * Issue #23 item 4: --cancel-at / --kill-at / --at-call are checked against the stack's plan
 * before anything runs (exit 2, nothing made or run); one that is never reached is said at the end
 * and the drill does not exit 0; on a MAAS stack (roosevelt) a kill at a power step's power call
 * fires, as on a virsh one (prior-build): the sim's MAAS logs each call with the calling step.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { callsOf, canStartWith, isCallOf, type PlannedStep } from "../../drill/interrupt-plan";
import { drillDir, runDrillProcess } from "../support/drill-run";

const BIN = path.resolve(__dirname, "../..", "bin", "coldstart");
const run = (args: string[]) => spawnSync(BIN, args, { encoding: "utf8", timeout: 90_000 });
const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe("bad interruption flags: one line naming the flag and the fix, exit 2, nothing made or run", () => {
  const base = drillDir("interrupt-usage");
  const cases: [string, string[], RegExp][] = [
    [
      "an unknown step",
      ["--stack", "prior-build", "--scenario", "healthy-planned", "--cancel-at", "nosuch-step"],
      /^coldstart: drill: --cancel-at nosuch-step: no such step in stack prior-build's planned plan; give one of: baseline-capture, .*power-off-openstack0, .*cloud-assert \(or see: coldstart plan --stack prior-build --mode planned\)$/,
    ],
    [
      "a step of the other mode's plan",
      ["--stack", "prior-build", "--scenario", "healthy-unplanned", "--kill-at", "power-off-openstack0"],
      /^coldstart: drill: --kill-at power-off-openstack0: no such step in stack prior-build's unplanned plan; give one of: power-on-openstack0, /,
    ],
    [
      "a call the step never makes",
      [
        "--stack",
        "prior-build",
        "--scenario",
        "healthy-planned",
        "--kill-at",
        "vault-unseal",
        "--at-call",
        "openstack server",
      ],
      /^coldstart: drill: --at-call "openstack server": vault-unseal makes no call that starts with it; give the start of one of its calls: juju status, juju exec, juju ssh$/,
    ],
    [
      "a MAAS power step's call asked as virsh",
      [
        "--stack",
        "roosevelt",
        "--scenario",
        "healthy-planned",
        "--kill-at",
        "power-on-openstack0",
        "--at-call",
        "virsh",
      ],
      /^coldstart: drill: --at-call "virsh": power-on-openstack0 makes no call that starts with it; give the start of one of its calls: maas GET \*, maas POST \* \(\* = any word\)$/,
    ],
    [
      "--at-call alone",
      ["--stack", "prior-build", "--scenario", "healthy-planned", "--at-call", "juju run"],
      /^coldstart: drill: --at-call "juju run" goes with --cancel-at <step> or --kill-at <step> \(which step's call\); add one of them$/,
    ],
  ];
  it.each(cases)("%s", (name, args, message) => {
    const dir = path.join(base, name.replace(/\W+/g, "-")); // not there: must not be made
    const r = run(["drill", ...args, "--dir", dir]);
    expect({ status: r.status, stderr: lines(r.stderr) }).toEqual({
      status: 2,
      stderr: [expect.stringMatching(message)],
    });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("an existing --dir is left as it was (no sim, no drill.json, no record)", () => {
    const dir = fs.mkdtempSync(path.join(base, "kept-"));
    const r = run([
      "drill",
      "--stack",
      "prior-build",
      "--scenario",
      "healthy-planned",
      "--dir",
      dir,
      "--cancel-at",
      "nosuch",
    ]);
    expect(r.status).toBe(2);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("interrupt-plan: the calls a step can make", () => {
  const step = (verb: string, command: string, create = ""): PlannedStep => ({ name: "x", verb, command, create });
  it("matches a prefix word by word, the last word cut short, * any one word", () => {
    expect(canStartWith("juju show-task ...", "juju show")).toBe(true);
    expect(canStartWith("juju show-task ...", "juju show-task -m m 12")).toBe(true);
    expect(canStartWith("juju status ...", "juju show")).toBe(false);
    expect(canStartWith("virsh -c * shutdown ...", "virsh -c test:///x shutdown openstack0")).toBe(true);
    expect(canStartWith("virsh -c * shutdown ...", "virsh -c test:///x start")).toBe(false);
    expect(canStartWith("maas GET * ...", "maas POST")).toBe(false);
  });
  it("a power step's calls follow its driver", () => {
    expect(callsOf(step("act", "power-off", "coldstart act power-off --driver maas --x"))).toEqual([
      "maas GET * ...",
      "maas POST * ...",
    ]);
    expect(callsOf(step("gate", "power-state", "coldstart gate power-state --driver virsh"))).toEqual([
      "virsh -c * domstate ...",
    ]);
    expect(isCallOf(["virsh -c * domstate ..."], "virsh -c test:///s domstate --reason openstack0")).toBe(true);
    expect(isCallOf(["virsh -c * domstate ..."], "virsh -c test:///s start openstack0")).toBe(false);
  });
});

/** The plan's steps (the CLI's own JSON plan). */
function planOf(stack: string, mode = "planned"): PlannedStep[] {
  const r = run(["plan", "--json", "--stack", stack, "--mode", mode]);
  return (JSON.parse(r.stdout) as { steps: PlannedStep[] }).steps;
}

describe("a kill at a power-off step's power call fires on a MAAS stack (roosevelt), then the window resumes", () => {
  const dir = drillDir("kill-maas-power");
  const args = ["--stack", "roosevelt", "--scenario", "healthy-planned"];
  const killed = runDrillProcess([...args, "--kill-at", "power-off-openstack0", "--at-call", "maas POST"], dir);
  const resumed = runDrillProcess([...args, "--resume"], dir);

  it("fires after the power call to openstack0's machine, and says how to resume", () => {
    expect(killed.report.interruptedAt).toEqual({
      step: "power-off-openstack0",
      call: expect.stringMatching(/^maas POST \/MAAS\/api\/2\.0\/machines\/\w+\/\?op=power_off/),
    });
    expect(killed.status).toBe(1);
    expect(killed.report.failed?.step).toBe("power-off-openstack0");
    expect(killed.record.some((e) => e.step === "power-off-openstack0")).toBe(false);
    expect(killed.stderr).toContain(
      `resume this window: ${BIN} drill --stack roosevelt --scenario healthy-planned --dir ${dir} --resume`,
    );
  });

  it("every MAAS call names its step, and every call of both runs is one its step can make", () => {
    const log = fs
      .readFileSync(resumed.report.callLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; argv: string[]; step?: string });
    const maas = log.filter((c) => c.tool === "maas");
    expect(maas.length).toBeGreaterThan(8);
    expect(maas.filter((c) => c.step === undefined)).toEqual([]);
    const plan = new Map(planOf("roosevelt").map((s) => [s.name, s]));
    const strays = log
      .filter((c) => c.step !== undefined)
      .map((c) => ({ step: c.step!, line: `${c.tool} ${c.argv.join(" ")}` }))
      .filter(({ step, line }) => !isCallOf(callsOf(plan.get(step)!) ?? [], line));
    expect(strays).toEqual([]);
  });

  it("the resume finishes the window", () => {
    expect(resumed.status).toBe(0);
    expect(resumed.stepStatus("cloud-assert")).toBe("passed");
  });
});

describe("a kill at a power-off step's power call fires on a virsh stack (prior-build)", () => {
  const dir = drillDir("kill-virsh-power");
  const killed = runDrillProcess(
    [
      ...["--stack", "prior-build", "--scenario", "healthy-planned"],
      ...["--kill-at", "power-off-openstack1", "--at-call", "virsh -c test:///coldstart-sim shutdown"],
    ],
    dir,
  );
  it("fires after the shutdown of openstack1 returned", () => {
    expect(killed.report.interruptedAt).toEqual({
      step: "power-off-openstack1",
      call: "virsh -c test:///coldstart-sim shutdown openstack1",
    });
    expect(killed.status).toBe(1);
    expect(killed.callsMatching(/^virsh -c \S+ shutdown openstack1$/)).toHaveLength(1);
  });
});

describe("an interruption that was never reached is said, and the drill does not pass", () => {
  // healthy-planned: the guard finds a healthy cluster, so mysql-reboot-cluster never follows a task
  const dir = drillDir("not-reached");
  const r = run([
    ...["drill", "--stack", "prior-build", "--scenario", "healthy-planned", "--dir", dir],
    ...["--kill-at", "mysql-reboot-cluster", "--at-call", "juju show-task"],
  ]);
  it("exit 7, the last lines say what was never reached and why", () => {
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/^drill NOT INTERRUPTED: /m);
    expect(r.stderr).toContain(
      '--kill-at mysql-reboot-cluster --at-call "juju show-task" was never reached: mysql-reboot-cluster ran (passed) without a call that starts with "juju show-task"; nothing was interrupted',
    );
    expect(r.stderr).not.toMatch(/drill PASSED/);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as { exitCode: number };
    expect(report.exitCode).toBe(7);
  });
});

describe('README\'s example: --kill-at mysql-reboot-cluster --at-call "juju run" (mysql-complete-outage) fires', () => {
  const dir = drillDir("readme-kill");
  const args = ["--stack", "prior-build", "--scenario", "mysql-complete-outage"];
  const killed = runDrillProcess([...args, "--kill-at", "mysql-reboot-cluster", "--at-call", "juju run"], dir);
  const resumed = runDrillProcess([...args, "--resume"], dir);
  const RUN = /^juju run .*reboot-cluster-from-complete-outage/;
  it("the kill lands right after juju run returned; the resume follows it, never a second run", () => {
    expect(killed.report.interruptedAt?.call).toMatch(RUN);
    expect(killed.status).toBe(1);
    expect(resumed.status).toBe(0);
    expect(resumed.callsMatching(RUN)).toHaveLength(1);
  });
});
