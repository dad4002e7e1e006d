/**
 * Every stop hands the window back (issue #24 item 3 and 5), end to end on the simulated cloud: a
 * drill stopped by a BLOCKER, by a failed gate, and by a cancel at the first step of every stage
 * prints `continue by hand from <step>:` followed by EXACTLY the steps it did not finish (the
 * engine's own view in report.json: every step it did not pass), in runbook order; report.json
 * carries the same steps with their procedures, and `coldstart record` says the same.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { drillDir } from "../support/drill-run";
import type { DrillReport } from "../../drill/drill";
import { readRecord } from "../../runtime/record";
import { makePlan } from "../../plan/plan";
import { runbookOrder } from "../../runbook/render-runbook";

const BIN = path.resolve(__dirname, "../../bin/coldstart");
const STACK = "prior-build";

interface Drilled {
  status: number | null;
  /** The console: the drill's progress and its hand-back (stderr, as an operator sees it). */
  stderr: string;
  report: DrillReport;
  dir: string;
}

/** A drill as an operator runs it (no --json: the console is what is checked), and its report.json. */
function drill(args: string[], dir: string): Drilled {
  const r = spawnSync(BIN, ["drill", "--dir", dir, ...args], { encoding: "utf8", timeout: 110_000 });
  const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as DrillReport;
  return { status: r.status, stderr: r.stderr, report, dir };
}

/** The steps the console's hand-back lists, in order: the `[step]` headings after `continue by hand from`. */
function handedBack(console: string): { from?: string; steps: string[] } {
  const at = console.search(/continue by hand from [a-z0-9-]+:/i);
  if (at < 0) return { steps: [] };
  const rest = console.slice(at);
  return {
    from: /continue by hand from ([a-z0-9-]+):/i.exec(rest)?.[1],
    steps: [...rest.matchAll(/^\[([a-z0-9-]+)\] /gm)].map((m) => m[1]),
  };
}

/**
 * What the engine did not finish (report.json's own step statuses), in runbook order. A shell the
 * cancel killed may sit over a coldstart that finished its step: its record line is the truth
 * (README "Ctrl-C"), as the console's "ended ... the coldstart under it finished: pass" says.
 */
async function notFinished(r: Drilled, mode: "planned" | "unplanned"): Promise<string[]> {
  const record = readRecord(r.report.recordFile);
  const finishedUnderCancel = (step: string) =>
    ["pass", "skipped-by-guard"].includes(record.filter((e) => e.step === step).at(-1)?.outcome ?? "");
  const done = new Set(
    r.report.steps
      .filter((s) => s.status === "passed" || (s.killedBy === "cancel" && finishedUnderCancel(s.name)))
      .map((s) => s.name),
  );
  const order = runbookOrder(await makePlan({ stack: STACK, mode })).map((s) => s.name);
  expect(new Set(order)).toEqual(new Set(r.report.steps.map((s) => s.name)));
  return order.filter((s) => !done.has(s));
}

function recordJson(r: Drilled): { handback?: { from: string; steps: { step: string }[] }; resume?: string[] } {
  const rec = spawnSync(
    BIN,
    ["record", "--window", r.report.window, "--record-dir", path.dirname(r.report.recordFile), "--json"],
    { encoding: "utf8" },
  );
  expect(rec.status).toBe(0);
  return JSON.parse(rec.stdout) as ReturnType<typeof recordJson>;
}

function expectHandedBack(r: Drilled, left: string[]): void {
  expect(left.length).toBeGreaterThan(0);
  const shown = handedBack(r.stderr);
  expect(shown.from).toBe(left[0]);
  expect(shown.steps).toEqual(left);
  expect(r.report.handback?.from).toBe(left[0]);
  expect(r.report.handback?.steps.map((s) => s.step)).toEqual(left);
  // each with its procedure, as data
  for (const s of r.report.handback!.steps) expect(s.manual.section).toBeTruthy();
  const rec = recordJson(r);
  expect(rec.handback?.steps.map((s) => s.step)).toEqual(left);
  expect(rec.resume?.[0]).toContain(`coldstart drill --dir ${r.dir} --resume`);
}

describe("a drill that stops hands back exactly the steps it did not finish", () => {
  it("a BLOCKER (MySQL partial outage): the escalation first, then the rest from mysql-check", async () => {
    const dir = drillDir("handback-blocker");
    const r = drill(["--stack", STACK, "--scenario", "mysql-partial-outage"], dir);
    expect(r.status).toBe(3);
    const left = await notFinished(r, "unplanned");
    expect(left[0]).toBe("mysql-check");
    expectHandedBack(r, left);
    const escalate = r.stderr.indexOf("ESCALATE FIRST: BLOCKER at mysql-check:");
    expect(escalate).toBeGreaterThan(-1);
    expect(r.stderr.indexOf("Once the blocker is resolved, continue by hand from mysql-check:")).toBeGreaterThan(
      escalate,
    );
    expect(r.report.handback?.blocker?.step).toBe("mysql-check");
  }, 120_000);

  it("a failed gate (a machine agent that never starts): from machines-started", async () => {
    const dir = drillDir("handback-gate");
    const r = drill(["--stack", STACK, "--scenario", "machine-agent-never-starts"], dir);
    expect(r.status).toBe(1);
    const left = await notFinished(r, "unplanned");
    expect(left[0]).toBe("machines-started");
    expectHandedBack(r, left);
    expect(r.stderr).not.toContain("ESCALATE FIRST");
  }, 120_000);

  it.each([
    "power-on-openstack0",
    "machines-started",
    "mysql-check",
    "vault-unseal",
    "ovn-chassis-check",
    "nova-resume-flag",
    "octavia-grace",
    "cloud-assert",
  ])(
    "a cancel at %s (the first step of its stage)",
    async (step) => {
      const dir = drillDir(`handback-cancel-${step}`);
      const r = drill(["--stack", STACK, "--scenario", "healthy-unplanned", "--cancel-at", step], dir);
      expect(r.status).toBe(130);
      const left = await notFinished(r, "unplanned");
      // the cancelled step itself may have finished under the cancel; what waits for it did not
      const plan = await makePlan({ stack: STACK, mode: "unplanned" });
      const after = plan.steps.filter((s) => s.dependsOn.includes(step)).map((s) => s.name);
      // the last step has nothing after it: the cancel came before it started
      for (const a of after.length ? after : [step]) expect(left).toContain(a);
      expectHandedBack(r, left);
    },
    120_000,
  );

  it("a drill that passes hands nothing back", () => {
    const dir = drillDir("handback-pass");
    const r = drill(["--stack", STACK, "--scenario", "healthy-unplanned"], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/continue by hand/i);
    expect(r.report.handback).toBeUndefined();
    expect(recordJson(r).handback).toBeUndefined();
  }, 120_000);
});
