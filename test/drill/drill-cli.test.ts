/**
 * Issue #12: the drill CLI an operator meets. Input errors are one line and exit 2 (never 70 with
 * a stack trace); every run without --dir gets its own private directory (0700), and --resume
 * without --dir takes the newest of that scenario among ours (test/security: never anyone else's); Ctrl-C (real signals) ends with report.json and a record
 * line before exit 130 -- the first signal after the cancel, the second at once.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir } from "../support/drill-run";

const BIN = path.resolve(__dirname, "../..", "bin", "coldstart");
const STACK = ["--stack", "prior-build"];

function drill(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(BIN, ["drill", ...args], { encoding: "utf8", env, timeout: 90_000 });
}
const errLines = (stderr: string) => stderr.split("\n").filter((l) => l.trim() !== "");
const recordLines = (file: string) =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { step: string; outcome: string; exitCode: number; summary: string });

describe("drill input errors: one line, exit 2", () => {
  const tmp = drillDir("cli-errors");
  const file = (name: string, text: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const cases: [string, () => string[], RegExp][] = [
    [
      "an unknown scenario",
      () => ["--scenario", "no-such-scenario"],
      /no-such-scenario.*use one of: .*healthy-planned/,
    ],
    ["a scenario that is not JSON", () => ["--scenario", file("bad.json", "{ not json")], /not valid JSON/],
    [
      "a scenario with an unknown key",
      () => ["--scenario", file("typo.json", JSON.stringify({ mode: "planned", mysqll: {} }))],
      /mysqll/,
    ],
    ["an empty --window", () => ["--scenario", "healthy-planned", "--window", ""], /--window: expected a window id/],
    [
      "--dir that is a file",
      () => ["--scenario", "healthy-planned", "--dir", file("a-file", "x")],
      /--dir .*a-file: is not a directory/,
    ],
    [
      "--dir that cannot be created",
      () => ["--scenario", "healthy-planned", "--dir", path.join(file("b-file", "x"), "sub")],
      /--dir .*b-file\/sub: cannot .*; give a directory you can write/,
    ],
  ];
  it.each(cases)("%s", (_name, args, message) => {
    const r = drill([...STACK, ...args()]);
    expect(r.status).toBe(2);
    const lines = errLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^coldstart: /);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe("a private directory per run; --resume without --dir takes the newest of the scenario", () => {
  const tmp = drillDir("cli-tmpdir");
  const env = { ...process.env, TMPDIR: tmp };
  const NAME = /^drill directory: (.*\/coldstart-drill-healthy-planned-\d{8}T\d{6}Z-[A-Za-z0-9]{6})$/m;

  it("--resume with no earlier run of that scenario: one line, exit 2", () => {
    const r = drill([...STACK, "--scenario", "healthy-planned", "--resume"], env);
    expect(r.status).toBe(2);
    expect(errLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /no earlier run of scenario healthy-planned of yours in .*; give its directory with --dir/,
    );
  });

  it("two runs get two directories (printed first); the resume finds the newest and finishes it", () => {
    const one = drill([...STACK, "--scenario", "healthy-planned", "--cancel-at", "machines-started"], env);
    const two = drill([...STACK, "--scenario", "healthy-planned", "--cancel-at", "machines-started"], env);
    expect([one.status, two.status]).toEqual([130, 130]);
    const dirOne = NAME.exec(one.stderr)?.[1];
    const dirTwo = NAME.exec(two.stderr)?.[1];
    expect(errLines(one.stderr)[0]).toBe(`drill directory: ${dirOne}`);
    expect(dirOne && dirTwo && dirOne !== dirTwo && path.dirname(dirTwo) === tmp).toBe(true);
    for (const d of [dirOne!, dirTwo!]) expect((fs.statSync(d).mode & 0o777).toString(8)).toBe("700");
    // an older run of the same scenario, and another scenario's: neither is the newest of this one
    fs.mkdirSync(path.join(tmp, "coldstart-drill-healthy-planned-20000101T000000Z-1"));
    fs.writeFileSync(path.join(tmp, "coldstart-drill-healthy-planned-20000101T000000Z-1", "drill.json"), "{}");
    const resumed = drill([...STACK, "--scenario", "healthy-planned", "--resume"], env);
    expect(errLines(resumed.stderr)[0]).toBe(`drill directory: ${dirTwo} (resumed)`);
    expect(resumed.status).toBe(0);
    const kept = recordLines(path.join(dirTwo!, "records", "drill-healthy-planned.jsonl"));
    expect(kept.some((e) => e.outcome === "pass" && e.step === "cloud-assert")).toBe(true);
  }, 150_000);
});

/** Start a drill, wait for `when` on its console, send SIGINT `times` times (100 ms apart). */
function interrupted(dir: string, when: RegExp, times: 1 | 2): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(BIN, ["drill", ...STACK, "--scenario", "healthy-planned", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let sent = false;
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (sent || !when.test(stderr)) return;
      sent = true;
      p.kill("SIGINT");
      if (times === 2) setTimeout(() => p.kill("SIGINT"), 100);
    });
    p.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("Ctrl-C during a drill (real signals)", () => {
  const WHEN = /start {2}\S+\/power-off-openstack0/;

  it("the first signal: the run ends cancelled with report.json and its record line, exit 130", async () => {
    const dir = drillDir("sigint-once");
    const r = await interrupted(dir, WHEN, 1);
    expect(r.status).toBe(130);
    expect(r.stderr).toContain("cancel: running steps end at their next safe point");
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as {
      cancelled: boolean;
      exitCode: number;
      recordFile: string;
    };
    expect(report).toMatchObject({ cancelled: true, exitCode: 130 });
    const last = recordLines(report.recordFile).pop();
    expect(last).toMatchObject({ step: "drill", outcome: "cancelled", exitCode: 130 });
    expect(last?.summary).toMatch(/cancelled by the operator/);
    expect(fs.readdirSync(path.join(dir, "records")).filter((n) => n.endsWith(".lock"))).toEqual([]);
  }, 90_000);

  it("the second signal: stopped at once, report.json (what is known) and a record line say so, exit 130", async () => {
    const dir = drillDir("sigint-twice");
    const r = await interrupted(dir, WHEN, 2);
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/stopped at once; report: /);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as {
      stoppedAtOnce?: boolean;
      exitCode: number;
      steps: { name: string; status: string }[];
      recordFile: string;
    };
    expect(report).toMatchObject({ stoppedAtOnce: true, exitCode: 130 });
    expect(report.steps.some((s) => s.status === "not-started")).toBe(true);
    const last = recordLines(report.recordFile).pop();
    expect(last).toMatchObject({ step: "drill", outcome: "cancelled", exitCode: 130 });
    expect(last?.summary).toMatch(/stopped at once by a second signal/);
    expect(fs.readdirSync(path.join(dir, "records")).filter((n) => n.endsWith(".lock"))).toEqual([]);
  }, 90_000);
});
