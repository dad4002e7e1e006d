/**
 * Every scenario file loads, and each one -- driven through coldstart's OWN step handlers
 * (steps/*.ts) with the fake tools answering in-process and one shared fake clock -- ends the way
 * its description says: where the run stops, with which state and route, what was (never) called.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { findStep } from "../../stages/step-table";
import type { StepOutcome } from "../../steps/outcome";
import { realExec, type Exec, type ExecResult } from "../../runtime/exec";
import type { StepContext } from "../../runtime/step-context";
import { readCallLog, type CallRecord } from "../../sim/call-log";
import { listScenarios, loadScenario, parseScenario, ScenarioError } from "../../sim/scenario";
import { UsageError } from "../../config/errors";
import { main as cloudAssertMain } from "../../sim/tools/cloud-assert";
import { main as jujuMain } from "../../sim/tools/juju";
import { main as openstackMain } from "../../sim/tools/openstack";
import { main as virshMain } from "../../sim/tools/virsh";
import type { ToolContext, ToolResult } from "../../sim/tools/common";
import { cleanupAll, harness, MODEL, tempDir, type Harness } from "./sim-harness";

afterAll(cleanupAll);

const TOOLS: Record<string, (argv: string[], stdin: string, ctx: ToolContext) => Promise<ToolResult>> = {
  juju: jujuMain,
  openstack: openstackMain,
  virsh: virshMain,
};

describe("scenario files", () => {
  it("all 17 named scenarios exist, load, and describe themselves", () => {
    const names = listScenarios();
    for (const n of [
      "healthy-planned",
      "healthy-unplanned",
      "mysql-complete-outage",
      "mysql-complete-outage-wrong-leader",
      "mysql-partial-outage",
      "mysql-unknown-message",
      "vault-sealed-no-keys",
      "vault-threshold-2-of-3",
      "chassis-not-connected",
      "chassis-stays-disconnected",
      "guests-shutoff",
      "resume-flag-regressed",
      "lb-error",
      "lb-stuck",
      "cloud-assert-fail",
      "machine-agent-never-starts",
      "juju-hangs",
    ]) {
      expect(names).toContain(n);
    }
    for (const n of names) expect(loadScenario(n).scenario.description.length).toBeGreaterThan(20);
  });

  it("rejects an unknown key by name, with its path", () => {
    expect(() =>
      parseScenario({ description: "x", mode: "planned", mysql: { afterBot: "healthy" } }, "t.json"),
    ).toThrow(
      new ScenarioError(
        'scenario t.json: mysql: unknown key "afterBot"; fix the file (its keys: sim/scenario.ts, sim/README.md)',
      ),
    );
    expect(() => parseScenario({ description: "x", mode: "planned", colour: 1 }, "t.json")).toThrow(
      /\(top level\): unknown key "colour"/,
    );
    expect(() => parseScenario({ description: "x", mode: "sometimes" }, "t.json")).toThrow(/t\.json: mode: /);
  });

  it("every loader error is a one-line UsageError naming the scenario and the fix (the CLIs exit 2 on it)", () => {
    const dir = tempDir();
    const badJson = path.join(dir, "broken.json");
    fs.writeFileSync(badJson, '{"description": "x",');
    const unknownKey = path.join(dir, "typo.json");
    fs.writeFileSync(unknownKey, JSON.stringify({ description: "x", mode: "planned", vault: { treshold: 4 } }));
    const cases: [string, RegExp][] = [
      ["no-such-scenario", /^scenario no-such-scenario: no file .*; use one of: .*healthy-planned/],
      [badJson, /^scenario .*broken\.json: not valid JSON \(.+\); fix the JSON in that file$/],
      [unknownKey, /^scenario .*typo\.json: vault: unknown key "treshold"; fix the file/],
    ];
    for (const [ref, want] of cases) {
      let caught: unknown;
      try {
        loadScenario(ref);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as Error).message).toMatch(want);
      expect((caught as Error).message).not.toContain("\n");
    }
  });

  it("loads a new scenario from a path (one file is all a scenario takes)", () => {
    const file = path.join(tempDir(), "my-case.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        description: "a one-off case",
        mode: "unplanned",
        ovn: { notConnectedAfterBoot: ["ovn-chassis/3"] },
      }),
    );
    const loaded = loadScenario(file);
    expect(loaded.name).toBe("my-case");
    expect(loaded.scenario.ovn.notConnectedAfterBoot).toEqual(["ovn-chassis/3"]);
    expect(loaded.scenario.mysql.afterBoot).toBe("complete-outage");
  });
});

// --- the runbook, through coldstart's step handlers ------------------------------------------------

/** coldstart's Exec, answered by the sim in-process; a hang longer than the call timeout is a timeout. */
function simExec(h: Harness): Exec {
  const base = { ...process.env, ...h.cloud.env };
  return async (req): Promise<ExecResult> => {
    const env: NodeJS.ProcessEnv = { ...base };
    for (const [k, v] of Object.entries(req.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    for (const k of Object.keys(env)) if (k.startsWith("COLDSTART_UNSEAL_")) delete env[k];
    const isScript = req.file === "bash" && req.args[0] === h.cloud.cloudAssertScript;
    if (req.file === "bash" && !isScript) return realExec(req); // sourcing the openrc
    const tool = isScript ? cloudAssertMain : TOOLS[req.file];
    if (!tool)
      return {
        exitCode: null,
        stdout: "",
        stderr: "",
        timedOut: false,
        notFound: true,
        startError: `ENOENT: spawn ${req.file} ENOENT`,
      };
    let timedOut = false;
    const res = await tool(isScript ? req.args.slice(1) : req.args, req.input ?? "", {
      env,
      cwd: req.cwd,
      now: () => h.clock.ms,
      sleep: async (ms) => {
        timedOut = ms > req.timeoutMs;
        h.clock.ms += Math.min(ms, req.timeoutMs);
      },
    });
    if (timedOut) return { exitCode: null, stdout: "", stderr: "", timedOut: true, notFound: false };
    return { ...res, timedOut: false, notFound: false };
  };
}

interface Run {
  h: Harness;
  /** step -> outcome, in order, up to the first step that did not pass. */
  steps: [string, StepOutcome][];
  stoppedAt?: string;
  calls: CallRecord[];
}

async function runbook(scenario: string): Promise<Run> {
  const h = harness(scenario);
  const recordDir = tempDir("coldstart-records-");
  const ctx: StepContext = {
    exec: simExec(h),
    clock: { now: () => h.clock.ms, sleep: async (ms) => void (h.clock.ms += ms) },
    env: {
      ...process.env,
      ...h.cloud.env,
      COLDSTART_WINDOW: "drill-1",
      COLDSTART_RECORD_DIR: recordDir,
      HOME: recordDir,
    },
    out: { line: () => undefined, warn: () => undefined },
    callTimeoutMs: h.cloud.realMs(120),
  };
  const d = (simSeconds: number) => `${Math.max(1, Math.round(h.cloud.realMs(simSeconds)))}ms`;
  const timing = (timeout: number, interval: number) => ({ timeout: d(timeout), interval: d(interval) });
  const target = { model: MODEL };
  const mysql = { ...target, app: "mysql-innodb-cluster", units: "3" };
  const ovn = { ...target, app: "nova-compute", "chassis-app": "ovn-chassis" };
  const openrc = h.cloud.openrcPath;
  const hold = h.cloud.holdGuests;
  const run: Run = { h, steps: [], calls: [] };

  async function step(key: string, raw: Record<string, unknown>): Promise<boolean> {
    const [verb, command] = key.split(" ");
    const def = findStep(verb, command)!;
    const outcome = await (await def.handler())(def.flags.parse(raw), ctx);
    run.steps.push([key, outcome]);
    if (outcome.outcome === "pass" || outcome.outcome === "skipped-by-guard") return true;
    run.stoppedAt = key;
    return false;
  }
  async function virshAll(command: string): Promise<void> {
    for (const host of h.cloud.hostsConfig) await h.call("virsh", ["-c", host.power.uri, command, host.power.domain]);
  }

  const steps = async () => {
    if (h.cloud.mode === "planned") {
      if (!(await step("act baseline-capture", { ...target, openrc, dir: path.join(recordDir, "baseline") }))) return;
      if (!(await step("act hold-guests", { openrc, guest: hold, ...timing(1200, 20) }))) return;
      await virshAll("shutdown");
      h.wait(60);
    }
    await virshAll("start");
    if (!(await step("gate machines-started", { ...target, ...timing(900, 15) }))) return;
    if (!(await step("check mysql-cluster", mysql))) return;
    if (!(await step("act mysql-reboot-cluster-from-complete-outage", mysql))) return;
    if (!(await step("gate mysql-cluster-online", { ...mysql, ...timing(1800, 20) }))) return;
    if (!(await step("act vault-unseal", { ...target, app: "vault" }))) return;
    if (!(await step("gate vault-unsealed", { ...target, app: "vault", ...timing(300, 5) }))) return;
    if (!(await step("check ovn-chassis", ovn))) return;
    if (!(await step("act ovn-tls-sweep", { ...ovn, "neutron-app": "neutron-api", parallel: "4" }))) return;
    if (!(await step("gate ovn-chassis-connected", { ...ovn, ...timing(600, 15) }))) return;
    if (!(await step("check nova-resume-flag", { ...target, app: "nova-compute" }))) return;
    if (!(await step("act start-shutoff-guests", { openrc, hold, parallel: "4" }))) return;
    if (!(await step("gate guests-active", { openrc, hold, ...timing(1200, 20) }))) return;
    if (!(await step("act octavia-grace", { openrc, grace: d(300), interval: d(30) }))) return;
    if (!(await step("act lb-failover", { openrc, parallel: "4" }))) return;
    if (!(await step("gate lbs-active", { openrc, ...timing(1800, 30) }))) return;
    await step("gate cloud-assert", { openrc, script: h.cloud.cloudAssertScript, ...timing(1200, 60) });
  };
  await steps();
  run.calls = readCallLog(h.cloud.dir);
  return run;
}

const line = (c: CallRecord) => [c.tool, ...c.argv].join(" ");
const callsMatching = (run: Run, re: RegExp) => run.calls.map(line).filter((l) => re.test(l));
const ACTION = /reboot-cluster-from-complete-outage/;
/** The action itself (not the `juju operations --actions …` listing the step reads before it). */
const RUN_ACTION = /^juju run .*reboot-cluster-from-complete-outage/;
const outcomeOf = (run: Run, key: string) => run.steps.find(([k]) => k === key)?.[1];

function expectCompleted(run: Run): void {
  if (run.stoppedAt) console.log(JSON.stringify(outcomeOf(run, run.stoppedAt), null, 1));
  expect(run.stoppedAt).toBeUndefined();
  expect(outcomeOf(run, "gate cloud-assert")?.verdict.state).toBe("pass");
  expect(run.h.state().damage).toEqual([]);
}

function expectStop(
  run: Run,
  key: string,
  outcome: StepOutcome["outcome"],
  match: Partial<StepOutcome["verdict"]>,
): void {
  expect(run.stoppedAt).toBe(key);
  const o = outcomeOf(run, key)!;
  expect(o.outcome).toBe(outcome);
  expect(o.verdict).toMatchObject(match);
  expect(run.h.state().damage).toEqual([]);
}

describe("each scenario, driven through coldstart's steps", () => {
  it("healthy-planned: baseline, hold-down, shutdown, recovery; no reboot action; held guest stays down", async () => {
    const run = await runbook("healthy-planned");
    expectCompleted(run);
    expect(callsMatching(run, ACTION)).toEqual([]);
    expect(outcomeOf(run, "act mysql-reboot-cluster-from-complete-outage")?.outcome).toBe("skipped-by-guard");
    expect(fs.readdirSync(path.dirname(run.h.cloud.openrcPath))).toContain("calls.jsonl");
    expect(callsMatching(run, /^openstack server stop/)).toEqual([
      "openstack server stop 3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f",
    ]);
    expect(run.h.state().guests.find((g) => g.name === "db-replica")?.status).toBe("SHUTOFF");
    expect(callsMatching(run, /^openstack server start/)).toEqual([]);
  });

  it("healthy-unplanned: recovery from power-on passes every gate", async () => {
    expectCompleted(await runbook("healthy-unplanned"));
  });

  it("mysql-complete-outage: the action runs once, on the leader", async () => {
    const run = await runbook("mysql-complete-outage");
    expectCompleted(run);
    expect(callsMatching(run, RUN_ACTION)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^juju run -m ${MODEL} mysql-innodb-cluster/1 reboot-cluster-from-complete-outage --format=json --wait=\\d+s$`,
        ),
      ),
    ]);
  });

  it("mysql-complete-outage-wrong-leader: refused on the leader, then run on the unit the error names", async () => {
    const run = await runbook("mysql-complete-outage-wrong-leader");
    expectCompleted(run);
    expect(callsMatching(run, RUN_ACTION).map((l) => l.split(" ")[4])).toEqual([
      "mysql-innodb-cluster/1",
      "mysql-innodb-cluster/2",
    ]);
  });

  it("mysql-partial-outage: stops at the check, never runs the action", async () => {
    const run = await runbook("mysql-partial-outage");
    expectStop(run, "check mysql-cluster", "blocker", { state: "partial-outage", route: "mysql-partial-outage" });
    expect(callsMatching(run, ACTION)).toEqual([]);
  });

  it("mysql-unknown-message: stops at the check as unknown", async () => {
    const run = await runbook("mysql-unknown-message");
    expectStop(run, "check mysql-cluster", "blocker", { state: "unknown", route: "mysql-will-not-reform" });
    expect(callsMatching(run, ACTION)).toEqual([]);
  });

  it("vault-sealed-no-keys: blocker before any key is sent", async () => {
    const run = await runbook("vault-sealed-no-keys");
    expectStop(run, "act vault-unseal", "blocker", { route: "vault-keys-missing" });
    expect(callsMatching(run, /^juju ssh/)).toEqual([]);
    expect(run.h.state().vault.units[0].sealed).toBe(true);
  });

  it("vault-threshold-2-of-3: exactly two keys sent", async () => {
    const run = await runbook("vault-threshold-2-of-3");
    expectCompleted(run);
    expect(callsMatching(run, /^juju ssh .*sys\/unseal/)).toHaveLength(2);
  });

  it("chassis-not-connected: the sweep restarts only ovn-chassis/2, then neutron-server; it reconnects", async () => {
    const run = await runbook("chassis-not-connected");
    expectCompleted(run);
    expect(callsMatching(run, /systemctl restart/).map((l) => l.split(" ")[5])).toEqual([
      "ovn-chassis/2",
      "neutron-api/0",
    ]);
  });

  it("chassis-stays-disconnected: the chassis gate fails after the sweep, never sent back to the sweep", async () => {
    const run = await runbook("chassis-stays-disconnected");
    expectStop(run, "gate ovn-chassis-connected", "fail", { state: "not-connected", route: "chassis-still-down" });
    expect(run.h.state().ovn.chassis[1].restarts).toBe(1);
  });

  it("guests-shutoff: exactly the non-resuming guests are started; the held one is not", async () => {
    const run = await runbook("guests-shutoff");
    expectCompleted(run);
    expect(callsMatching(run, /^openstack server start/).sort()).toEqual([
      "openstack server start b7e2c1d4-3f5a-4e6b-8c9d-0a1b2c3d4e5f",
      "openstack server start f5dc173b-6804-445a-a6d8-c705dad5b5eb",
    ]);
    expect(run.h.state().guests.find((g) => g.name === "db-replica")?.status).toBe("SHUTOFF");
  });

  it("resume-flag-regressed: the flag check warns, every non-held guest is started by hand", async () => {
    const run = await runbook("resume-flag-regressed");
    expectCompleted(run);
    expect(outcomeOf(run, "check nova-resume-flag")?.verdict.state).toBe("regressed");
    expect(callsMatching(run, /^openstack server start/)).toHaveLength(4);
  });

  it("lb-error: only the ERROR LB is failed over; the pending one recovers by itself", async () => {
    const run = await runbook("lb-error");
    expectCompleted(run);
    expect(callsMatching(run, /^openstack loadbalancer failover/)).toEqual([
      "openstack loadbalancer failover 4a13c573-623c-4d23-8a9c-581dc17ceb1f",
    ]);
  });

  it("lb-stuck: the LB gate fails routed to lb-error", async () => {
    const run = await runbook("lb-stuck");
    expectStop(run, "gate lbs-active", "fail", { state: "error", route: "lb-error" });
  });

  it("cloud-assert-fail: Stage 7 fails on the scenario's FAIL line", async () => {
    const run = await runbook("cloud-assert-fail");
    expectStop(run, "gate cloud-assert", "fail", { state: "fail", route: "cloud-assert-fail" });
    expect(outcomeOf(run, "gate cloud-assert")?.verdict.details).toEqual([
      expect.stringMatching(/^A7 FAIL horizon/),
      "CLOUD-ASSERT: FAIL",
    ]);
  });

  it("machine-agent-never-starts: Stage 1 gate times out naming machine 2", async () => {
    const run = await runbook("machine-agent-never-starts");
    expectStop(run, "gate machines-started", "fail", { state: "not-started", route: "machines-not-started" });
    expect(outcomeOf(run, "gate machines-started")?.verdict.summary).toMatch(/not started: 2\b/);
  });

  it("juju-hangs: the mysql check fails by the call timeout, as a named failure", async () => {
    const run = await runbook("juju-hangs");
    expectStop(run, "check mysql-cluster", "fail", { state: "tool-error" });
    expect(outcomeOf(run, "check mysql-cluster")?.verdict.summary).toMatch(/no answer within/);
    expect(run.calls.filter((c) => c.exitCode === null).map(line)).toEqual([
      `juju status -m ${MODEL} mysql-innodb-cluster --format=json`,
    ]);
  });
});
