/**
 * Ctrl-C at a real terminal (a tmux pane: the terminal driver signals the pane's foreground
 * process group, as at a jumphost), 1, 2 and 3 times, during `coldstart maintenance`:
 * - with the pulumi engine, against a stand-in `pulumi` (test/support/fake-pulumi/pulumi) that logs
 *   every signal it receives and takes them as pulumi does (1st cancel, 2nd terminate). What it
 *   received is what maintenance forwarded on purpose: the CLI runs in a session of its own
 *   (automation/pulumi-cli.ts), so the terminal's SIGINT never reaches it;
 * - with the drill engine (the same ladder: stop request, the drill engine's cancel, stop at once).
 * Each asserts the exit code (130), the report's `interrupts` and result, and the record's note.
 * Needs the built CLI (npm run -s build) and tmux; in CI a missing tmux fails (test/support/pty.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Pty, tmuxAvailable } from "../support/pty";
import { makePlan } from "../../plan/plan";
import { appendRecord, readRecord, recordFile } from "../../runtime/record";
import {
  callLog,
  COLDSTART,
  maintenanceArgs,
  plantedKeys,
  readReport,
  rehearsalEnv,
  ROOT,
  tempDir,
  windowRecord,
  writeScenario,
  type MaintenanceRun,
} from "../support/maintenance-run";

const STACK = "prior-build";
const FAKE_BIN = path.join(ROOT, "test", "support", "fake-pulumi");
const run = tmuxAvailable() ? describe : describe.skip;

interface PulumiLog {
  cmd: string;
  event: "start" | "signal" | "exit";
  pid: number;
  pgid?: number;
  sid?: number;
  signal?: string;
  meaning?: string;
  how?: string;
}

interface Interrupt {
  signal: number;
  what: string;
}

/** The stand-in's log, complete lines only: it is read while the stand-in is still writing it, so
 * the file may exist empty or end in half a line (CI once read it in that instant). */
const readLog = (file: string): PulumiLog[] => {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as PulumiLog);
};

/** /proc/<pid>/stat's process group and session. */
function groupOf(pid: number): { pgid: number; sid: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  return { pgid: f[2], sid: f[3] };
}

run("Ctrl-C at a terminal, pulumi engine (stand-in pulumi that records its signals)", () => {
  let steps: string[];
  beforeAll(async () => {
    steps = (await makePlan({ stack: STACK, window: "w-sig", mode: "planned" })).steps.map((s) => s.name);
  }, 60_000);

  async function window(ctrlCs: 1 | 2 | 3) {
    const home = tempDir(`pty-pulumi-${ctrlCs}`);
    const fake = path.join(home, "fake");
    fs.mkdirSync(fake);
    const win = `w-sig-${ctrlCs}`;
    const recordDir = path.join(home, "coldstart-records", STACK); // the stack's ~/coldstart-records/prior-build
    const env: NodeJS.ProcessEnv = {
      ...rehearsalEnv(),
      HOME: home,
      PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
      FAKE_PULUMI_DIR: fake,
      FAKE_PULUMI_RECORD_DIR: recordDir,
      FAKE_PULUMI_STEPS: JSON.stringify(steps),
      TERM: "xterm",
    };
    // the window already started (a record line): maintenance skips the preflight of the real cloud
    appendRecord(recordFile(recordDir, win, env), {
      window: win,
      stack: STACK,
      stage: "pre-shutdown",
      step: "earlier",
      command: "coldstart check earlier",
      start: "2026-01-01T00:00:00.000Z",
      end: "2026-01-01T00:00:01.000Z",
      exitCode: 0,
      outcome: "pass",
      summary: "an earlier run",
      details: [],
    });
    const reportDir = path.join(home, "reports");
    const pty = Pty.start(
      [COLDSTART, "maintenance", "--stack", STACK, "--window", win, "--yes", "--report-dir", reportDir],
      env,
      ROOT,
    );
    const log = path.join(fake, "pulumi.jsonl");
    try {
      await pty.until("pulumi up to run a step", () => readLog(log).some((l) => l.cmd === "up" && l.event === "start"));
      const maintenance = groupOf(pty.pid()); // the pane's shell and maintenance (bin/coldstart execs node) share the terminal's foreground group;
      pty.ctrlC();
      await pty.until("the stop request", () => pty.screen().includes("cancel requested"));
      if (ctrlCs >= 2) {
        pty.ctrlC();
        await pty.until("pulumi's cancel", () => readLog(log).some((l) => l.event === "signal"));
      }
      if (ctrlCs >= 3) {
        await pty.until("maintenance's line", () => pty.screen().includes("engine cancel sent"));
        pty.ctrlC();
      }
      const status = await pty.exited();
      const screen = pty.screen();
      return {
        status,
        screen,
        log: readLog(log),
        maintenance,
        reportDir,
        win,
        record: readRecord(recordFile(recordDir, win, env)),
      };
    } finally {
      pty.close();
    }
  }

  const interruptsOf = (reportDir: string, win: string) => {
    const json = JSON.parse(fs.readFileSync(path.join(reportDir, `maintenance-${win}.json`), "utf8")) as {
      summary: { result: string; exitCode: number; interrupts: Interrupt[] };
    };
    return json.summary;
  };

  it("one Ctrl-C: pulumi receives nothing (it runs in a session of its own); the stop request ends the run cancelled, exit 130", async () => {
    const r = await window(1);
    const up = r.log.find((l) => l.cmd === "up" && l.event === "start")!;
    expect(up.sid).toBe(up.pid); // pulumi leads its own session (setsid) ...
    expect(up.pgid).not.toBe(r.maintenance.pgid); // ... so not the terminal's foreground group
    expect(r.log.filter((l) => l.event === "signal")).toEqual([]);
    expect(r.log.find((l) => l.event === "exit")?.how).toBe("stop request");
    expect(r.status).toBe(130);
    expect(r.screen).toContain("maintenance CANCELLED by the operator (exit 130)");
    const summary = interruptsOf(r.reportDir, r.win);
    expect(summary).toMatchObject({ result: "cancelled", exitCode: 130 });
    expect(summary.interrupts.map((i) => i.what)).toEqual(["stop-request"]);
    expect(r.record.pop()?.summary).toMatch(/^cancelled by the operator \(graceful\)/);
  }, 90_000);

  it("two Ctrl-Cs: pulumi receives exactly one SIGINT (its cancel) and ends the update; exit 130", async () => {
    const r = await window(2);
    const signals = r.log.filter((l) => l.event === "signal");
    expect(signals.map((s) => `${s.signal} ${s.meaning}`)).toEqual(["SIGINT cancel"]);
    expect(r.log.find((l) => l.event === "exit")?.how).toBe("cancel");
    expect(r.status).toBe(130);
    const summary = interruptsOf(r.reportDir, r.win);
    expect(summary).toMatchObject({ result: "cancelled", exitCode: 130 });
    expect(summary.interrupts.map((i) => i.what)).toEqual(["stop-request", "engine-cancel"]);
    expect(r.record.pop()?.summary).toMatch(/^cancelled by the operator \(engine cancel at /);
  }, 90_000);

  it("three Ctrl-Cs: pulumi receives two SIGINTs (cancel, then terminate) and exits at once; exit 130, the report written", async () => {
    const r = await window(3);
    const signals = r.log.filter((l) => l.event === "signal");
    expect(signals.map((s) => `${s.signal} ${s.meaning}`)).toEqual(["SIGINT cancel", "SIGINT terminate"]);
    expect(r.log.find((l) => l.event === "exit")?.how).toBe("terminate");
    expect(r.status).toBe(130);
    expect(r.screen).toContain("terminate sent to pulumi (Automation API)");
    const summary = interruptsOf(r.reportDir, r.win);
    expect(summary).toMatchObject({ result: "cancelled", exitCode: 130 });
    expect(summary.interrupts.map((i) => i.what)).toEqual(["stop-request", "engine-cancel", "terminate"]);
    const notes = r.record.filter((e) => e.step === "maintenance");
    expect(notes).toHaveLength(1);
    expect(notes[0].summary).toContain("terminated by a third signal");
  }, 90_000);
});

run("Ctrl-C at a terminal, drill engine", () => {
  const keys = plantedKeys();
  /** mysql-check's juju status answers after 100 s of cloud time: paced, a Ctrl-C lands mid-step. */
  const slow = { hangs: [{ tool: "juju" as const, args: ["status", "mysql-innodb-cluster"], seconds: 100, times: 1 }] };

  async function window(ctrlCs: 1 | 2 | 3) {
    const root = tempDir(`pty-drill-${ctrlCs}`);
    const r: MaintenanceRun = {
      window: `w-drill-${ctrlCs}`,
      scenario: writeScenario("healthy-planned", keys, root, slow),
      dir: path.join(root, "drill"),
      reportDir: path.join(root, "reports"),
    };
    const pty = Pty.start(
      [COLDSTART, ...maintenanceArgs(r), "--time-scale", "0.02"],
      { ...rehearsalEnv(), TERM: "xterm" },
      ROOT,
    );
    try {
      await pty.until("mysql-check's call", () => callLog(r.dir).some((c) => c.step === "mysql-check"));
      pty.ctrlC();
      await pty.until("the stop request", () => pty.screen().includes("cancel requested"));
      if (ctrlCs >= 2) {
        pty.ctrlC();
        await pty.until("the engine's cancel", () => pty.screen().includes("engine cancel sent"));
      }
      if (ctrlCs >= 3) pty.ctrlC();
      const status = await pty.exited();
      return { status, screen: pty.screen(), run: r };
    } finally {
      pty.close();
    }
  }

  it("one Ctrl-C: mysql-check finishes and passes, nothing new starts, exit 130", async () => {
    const { status, screen, run: r } = await window(1);
    expect(status).toBe(130);
    expect(screen).toMatch(/done {3}mysql-check/);
    expect(screen).not.toMatch(/FAILED mysql-check/);
    const report = readReport(r.reportDir, r.window).json.summary as unknown as {
      result: string;
      interrupts: Interrupt[];
    };
    expect(report.result).toBe("cancelled");
    expect(report.interrupts.map((i) => i.what)).toEqual(["stop-request"]);
    expect(windowRecord(r.dir, r.window).find((e) => e.step === "mysql-check")?.outcome).toBe("pass");
  }, 90_000);

  it("two Ctrl-Cs: the drill engine's cancel; the run ends cancelled by itself, exit 130", async () => {
    const { status, screen, run: r } = await window(2);
    expect(status).toBe(130);
    expect(screen).not.toContain("stopped at once");
    const report = readReport(r.reportDir, r.window).json.summary as unknown as {
      result: string;
      interrupts: Interrupt[];
    };
    expect(report.result).toBe("cancelled");
    expect(report.interrupts.map((i) => i.what)).toEqual(["stop-request", "engine-cancel"]);
  }, 90_000);

  it("three Ctrl-Cs: stops at once (the drill runs in this process), with the report and a record line; exit 130", async () => {
    const { status, screen, run: r } = await window(3);
    expect(status).toBe(130);
    expect(screen).toContain("stopped at once");
    const report = readReport(r.reportDir, r.window).json.summary as unknown as {
      result: string;
      interrupts: Interrupt[];
    };
    expect(report.interrupts.map((i) => i.what)).toEqual(["stop-request", "engine-cancel", "terminate"]);
    const last = windowRecord(r.dir, r.window).pop();
    expect(last).toMatchObject({ step: "maintenance", outcome: "cancelled" });
    expect(last?.summary).toContain("terminated by a third signal");
  }, 90_000);
});
