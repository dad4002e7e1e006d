/**
 * What a step writes to the window's record (cli/step-command.ts through the real stepCommand):
 * the run fields on every line, and a record that cannot be written failing the step -- before it
 * acts (a read-only record dir: nothing runs) and after (a PASS whose line is lost exits 1).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stepCommand } from "../../cli/step-command";
import { readRecord, recordFile } from "../../runtime/record";
import { fakeClock } from "../../runtime/clock";
import { readFixture } from "../fixtures";
import { captureReporter, fakeExec } from "../support/fake-exec";

const ROOT = path.resolve(__dirname, "../..");
const CONFIG = /^juju config -m c:openstack nova-compute --format=json$/;
const ARGS = ["nova-resume-flag", "--model", "c:openstack", "--app", "nova-compute"];
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

function windowEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: "/home/operator",
    COLDSTART_WINDOW: "w-rec",
    COLDSTART_RECORD_DIR: dir,
    COLDSTART_STACK: "roosevelt",
    COLDSTART_STAGE: "stage-5-guests",
    COLDSTART_STEP: "nova-resume-flag",
    ...extra,
  };
}

function stderrOf(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe("every record line says what it is a record of", () => {
  it("drill or real, mode, version, user@host, run id and kind, start/end and the duration", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-steprec-"));
    const clock = fakeClock(Date.UTC(2026, 11, 5, 6, 0, 0));
    const fake = fakeExec().on(CONFIG, () => {
      clock.advance(1500); // the call takes 1.5 s
      return readFixture("juju/nova-compute.config.resume-enabled.juju3.json");
    });
    const env = windowEnv(dir, {
      COLDSTART_RUN_ID: "run-42",
      COLDSTART_RUN_KIND: "maintenance",
      COLDSTART_MODE: "planned",
    });
    const code = await stepCommand("check", ARGS, { exec: fake.exec, clock, env, out: captureReporter() });
    expect(code).toBe(0);
    const [e] = readRecord(recordFile(dir, "w-rec"));
    expect(e).toMatchObject({
      step: "nova-resume-flag",
      outcome: "pass",
      windowKind: "real",
      mode: "planned",
      version: VERSION,
      by: `${os.userInfo().username}@${os.hostname()}`,
      runId: "run-42",
      runKind: "maintenance",
      start: "2026-12-05T06:00:00.000Z",
      end: "2026-12-05T06:00:01.500Z",
      durationMs: 1500,
    });
  });

  it("a step against the simulated cloud is a drill, and one with no run id was run by hand", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-steprec-"));
    const fake = fakeExec().on(CONFIG, readFixture("juju/nova-compute.config.resume-enabled.juju3.json"));
    const env = windowEnv(dir, { COLDSTART_SIM_DIR: "/tmp/some-sim" });
    await stepCommand("check", ARGS, { exec: fake.exec, clock: fakeClock(0), env, out: captureReporter() });
    const [e] = readRecord(recordFile(dir, "w-rec"));
    expect(e!.windowKind).toBe("drill");
    expect(e!.runId).toBeUndefined();
    expect(e!.runKind).toBeUndefined();
  });
});

describe("a record that cannot be written fails the step", () => {
  it("a PASS whose record line cannot be appended exits 1 with one line naming the file and the OS error", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-steprec-"));
    const file = recordFile(dir, "w-rec");
    // the record becomes unwritable while the step runs (its file replaced by a directory: EISDIR
    // even for root, which ignores permission bits)
    const fake = fakeExec().on(CONFIG, () => {
      fs.rmSync(file, { force: true });
      fs.mkdirSync(file);
      return readFixture("juju/nova-compute.config.resume-enabled.juju3.json");
    });
    const err = stderrOf();
    let code: number;
    try {
      code = await stepCommand("check", ARGS, {
        exec: fake.exec,
        clock: fakeClock(0),
        env: windowEnv(dir),
        out: captureReporter(),
      });
    } finally {
      err.restore();
    }
    expect(code).toBe(1);
    const lost = err.lines.filter((l) => l.startsWith("RECORD NOT WRITTEN"));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(
      new RegExp(
        `^RECORD NOT WRITTEN nova-resume-flag: could not append to the record ${file}: EISDIR: .*; its verdict was pass, but a step whose record line is lost does not count as passed: .*\\n$`,
      ),
    );
    expect(lost[0]!.split("\n")).toHaveLength(2); // one line
  });

  it("a read-only record dir: the step exits 1 before it runs anything, naming the file and EACCES", () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-rodir-"));
    fs.chmodSync(parent, 0o755);
    const records = path.join(parent, "records");
    fs.mkdirSync(records, { mode: 0o555 });
    fs.chmodSync(records, 0o555);
    // a juju that leaves a mark when called: the step must not get that far
    const bin = path.join(parent, "bin");
    const marks = path.join(parent, "marks");
    fs.mkdirSync(bin, { mode: 0o755 });
    fs.mkdirSync(marks, { mode: 0o777 });
    fs.chmodSync(marks, 0o777);
    fs.writeFileSync(path.join(bin, "juju"), `#!/bin/sh\ntouch ${marks}/juju-called\nexit 1\n`, { mode: 0o755 });
    // root ignores the mode bits: run the step as nobody then, as an operator's account would be
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync(path.join(ROOT, "bin", "coldstart"), ["check", ...ARGS], {
      encoding: "utf8",
      env: { ...windowEnv(records), PATH: `${bin}${path.delimiter}${process.env.PATH}`, HOME: parent },
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      timeout: 30_000,
    });
    expect(r.stderr).toBe(
      `RECORD NOT WRITTEN nova-resume-flag: cannot write the record ${path.join(records, "w-rec.jsonl")}: ` +
        `EACCES: permission denied, open '${path.join(records, "w-rec.jsonl")}'; nothing was run, but a step whose record line is lost does not count as passed: ` +
        "make the record dir writable (coldstart:recordDir, free space) and run again\n",
    );
    expect(r.status).toBe(1);
    expect(fs.existsSync(path.join(marks, "juju-called"))).toBe(false);
  });
});
