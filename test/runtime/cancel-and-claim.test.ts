/**
 * Issue #10 parts 1-2 at the step level: a stop request or a killed shell stops a gate between
 * polls and keeps a step from starting, never an action mid-way; a step that passed in this
 * window is kept; one run of a step at a time; a killed run is named and run again.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { watchCancel, requestStop, stopFile } from "../../runtime/cancel";
import { claimStep } from "../../runtime/step-claim";
import { appendRecord, readRecord, recordFile, type RecordEntry } from "../../runtime/record";
import { runGate } from "../../steps/outcome";
import { powerOff } from "../../steps/power";
import { stepCommand } from "../../cli/step-command";
import { keptCommand } from "../../cli/kept-command";
import { commandLine } from "../../stages/command-line";
import { fakeExec, testContext } from "../support/fake-exec";
import { recordEntry } from "../support/record-entry";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-cancel-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const WINDOW = "w1";
const windowEnv = (over: NodeJS.ProcessEnv = {}) => ({
  HOME: dir,
  COLDSTART_WINDOW: WINDOW,
  COLDSTART_RECORD_DIR: dir,
  COLDSTART_STEP: "machines-started",
  ...over,
});

const entry = (step: string, outcome: RecordEntry["outcome"]) => recordEntry(WINDOW, step, outcome);

describe("watchCancel", () => {
  it("is quiet until the window's stop file appears, then names who asked", () => {
    const check = watchCancel({ env: windowEnv() });
    expect(check()).toBeUndefined();
    requestStop(stopFile(dir, WINDOW), { by: "op@jump", at: "T", why: "Ctrl-C" });
    expect(check()).toBe(`stop requested by op@jump at T (Ctrl-C); to run again, remove ${stopFile(dir, WINDOW)}`);
  });

  it("says the engine stopped waiting when the parent (the step's shell) changes", () => {
    let parent = 4242;
    const check = watchCancel({ env: windowEnv(), parentPid: () => parent });
    expect(check()).toBeUndefined();
    parent = 1;
    expect(check()).toMatch(/^the engine stopped waiting for this step \(its shell was killed/);
  });
});

describe("a gate under a cancel", () => {
  it("stops between polls with outcome cancelled (exit 130), after the poll in flight", async () => {
    const ctx = testContext(fakeExec());
    let polls = 0;
    let stop: string | undefined;
    ctx.cancelled = () => stop;
    const outcome = await runGate(ctx, {
      expected: "x",
      timeoutMs: 600_000,
      intervalMs: 10_000,
      probe: async () => {
        polls++;
        if (polls === 3) stop = "stop requested";
        return { ok: false, state: "waiting", summary: `poll ${polls}`, details: [] };
      },
    });
    expect(polls).toBe(3);
    expect(outcome.exitCode).toBe(130);
    expect(outcome.outcome).toBe("cancelled");
    expect(outcome.verdict.summary).toBe("cancelled at a safe point: stop requested; last poll: poll 3");
  });

  it("a power-off that sent its graceful shutdown is not cancelled: it sees the host go down", async () => {
    const states = ["running", "running", "running", "shut off"];
    const fake = fakeExec()
      .on(/ domstate /, () => `${states.shift() ?? "shut off"}\n`)
      .on(/ shutdown /, "Domain 'openstack0' is being shutdown\n");
    const ctx = testContext(fake);
    ctx.cancelled = () => "stop requested";
    const outcome = await powerOff(
      {
        host: "openstack0",
        driver: "virsh",
        uri: "test:///default",
        domain: "openstack0",
        "graceful-timeout": 60_000,
        interval: 5_000,
      } as never,
      ctx,
    );
    expect(outcome.outcome).toBe("pass");
    expect(fake.count(/ shutdown /)).toBe(1);
    expect(fake.count(/ destroy /)).toBe(0);
  });
});

describe("coldstart <verb> <step> inside a window", () => {
  it("a stop request: the step does not start, exit 130, recorded as cancelled", async () => {
    requestStop(stopFile(dir, WINDOW), { by: "op@jump", at: "T", why: "Ctrl-C" });
    const fake = fakeExec();
    const ctx = testContext(fake, { env: windowEnv() });
    ctx.cancelled = watchCancel({ env: ctx.env });
    const code = await stepCommand(
      "gate",
      ["machines-started", "--model", "c:m", "--timeout", "1m", "--interval", "5s"],
      ctx,
    );
    expect(code).toBe(130);
    expect(fake.calls).toHaveLength(0);
    const [rec] = readRecord(recordFile(dir, WINDOW));
    expect(rec).toMatchObject({ step: "machines-started", outcome: "cancelled", exitCode: 130 });
    expect(rec.summary).toMatch(/not started, nothing was done: stop requested by op@jump/);
  });

  it("a step that passed earlier in this window is kept: nothing runs, exit 0, recorded as kept", async () => {
    appendRecord(recordFile(dir, WINDOW), entry("machines-started", "pass"));
    const fake = fakeExec();
    const ctx = testContext(fake, { env: windowEnv() });
    const code = await stepCommand(
      "gate",
      ["machines-started", "--model", "c:m", "--timeout", "1m", "--interval", "5s"],
      ctx,
    );
    expect(code).toBe(0);
    expect(fake.calls).toHaveLength(0);
    expect(readRecord(recordFile(dir, WINDOW)).map((e) => e.outcome)).toEqual(["pass", "kept"]);
  });

  it("a failed earlier run does not count: the step runs", async () => {
    appendRecord(recordFile(dir, WINDOW), entry("machines-started", "fail"));
    const fake = fakeExec().on(/^juju machines/, '{"machines":{}}');
    const ctx = testContext(fake, { env: windowEnv() });
    await stepCommand("gate", ["machines-started", "--model", "c:m", "--timeout", "1m", "--interval", "5s"], ctx);
    expect(fake.count(/^juju machines/)).toBeGreaterThan(0);
  });

  it("`coldstart kept <step>` (every step's update) runs nothing and records kept", () => {
    appendRecord(recordFile(dir, WINDOW), entry("power-off-openstack0", "pass"));
    const code = keptCommand(["power-off-openstack0"], windowEnv());
    expect(code).toBe(0);
    const rec = readRecord(recordFile(dir, WINDOW));
    expect(rec[1]).toMatchObject({
      step: "power-off-openstack0",
      outcome: "kept",
      command: "kept power-off-openstack0",
    });
  });
});

describe("claimStep: one run of a step at a time", () => {
  const opts = () => ({
    recordDir: dir,
    window: WINDOW,
    step: "s1",
    env: { HOME: dir },
    sleep: () => new Promise<void>((r) => setTimeout(r, 20)),
  });

  it("of two claims made together exactly one gets the step; the other waits and then takes its verdict", async () => {
    const first = await claimStep(opts());
    expect(first.kind).toBe("claimed");
    const said: string[] = [];
    const second = claimStep({ ...opts(), say: (l) => said.push(l) });
    await new Promise((r) => setTimeout(r, 100));
    expect(said[0]).toMatch(/^s1: an earlier run of this step is still running \(pid \d+/);
    appendRecord(recordFile(dir, WINDOW), entry("s1", "pass"));
    if (first.kind === "claimed") first.release();
    expect((await second).kind).toBe("done");
  });

  it("a claim whose process is gone is stale: named, and the step is claimed again", async () => {
    const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
    const deadPid = Number(child.stdout.trim());
    fs.mkdirSync(path.join(dir, `${WINDOW}.running`), { recursive: true });
    fs.writeFileSync(
      path.join(dir, `${WINDOW}.running`, "s1.json"),
      JSON.stringify({ pid: deadPid, host: os.hostname(), start: "T0", step: "s1" }),
    );
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({ kind: "claimed", stale: { pid: deadPid, start: "T0" } });
  });

  it("parallel steps of one window claiming and releasing together never lose a claim to the folder's removal", async () => {
    // The per-host power steps run side by side: one step's release removes the then-empty
    // `<window>.running` folder while another is between its mkdir and its write. That used to
    // fail the second step with ENOENT ("RECORD NOT WRITTEN ... make the record dir writable").
    const mod = path.resolve(__dirname, "../../dist/runtime/step-claim.js");
    expect(fs.existsSync(mod)).toBe(true); // build first: npm run build
    const script = `
      const { claimStep } = require(${JSON.stringify(mod)});
      const [dir, step] = process.argv.slice(1);
      (async () => {
        for (let i = 0; i < 300; i++) {
          const c = await claimStep({ recordDir: dir, window: "w", step, env: { HOME: dir }, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
          if (c.kind !== "claimed") throw new Error("not claimed: " + c.kind);
          c.release();
        }
      })().catch((e) => { process.stderr.write(String(e.code || e.message)); process.exitCode = 1; });`;
    const runs = await Promise.all(
      ["power-on-openstack0", "power-on-openstack1", "power-on-openstack2", "power-on-openstack3"].map(
        (step) =>
          new Promise<{ code: number | null; err: string }>((resolve) => {
            const p = spawn(process.execPath, ["-e", script, dir, step], { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            p.stderr.on("data", (d: Buffer) => (err += d.toString()));
            p.on("close", (code) => resolve({ code, err }));
          }),
      ),
    );
    expect(runs).toEqual(Array.from({ length: 4 }, () => ({ code: 0, err: "" })));
    expect(fs.existsSync(path.join(dir, "w.running"))).toBe(false); // the last release tidies up
  });

  it("a claim held on another host is refused, naming the holder and the file", async () => {
    fs.mkdirSync(path.join(dir, `${WINDOW}.running`), { recursive: true });
    const file = path.join(dir, `${WINDOW}.running`, "s1.json");
    fs.writeFileSync(file, JSON.stringify({ pid: 1, host: "other-jumphost", start: "T0", step: "s1" }));
    expect(await claimStep(opts())).toMatchObject({ kind: "held-elsewhere", holder: { host: "other-jumphost" }, file });
  });
});

describe("the create line keeps coldstart a child of the shell (KEEP_CHILD)", () => {
  it.each(["sh", "bash"])(
    "%s -c <create line>: killing the shell leaves the step running to its end",
    async (shell) => {
      const marker = path.join(dir, `finished-${shell}`);
      const fakeCli = path.join(dir, "fake-coldstart");
      fs.writeFileSync(fakeCli, `#!/bin/sh\nsleep 0.5\necho done > ${marker}\n`, { mode: 0o755 });
      const child = spawn(shell, ["-c", commandLine(fakeCli, "act", "power-off", { host: "openstack0" })], {
        stdio: "ignore",
      });
      await new Promise((r) => setTimeout(r, 150));
      child.kill("SIGKILL"); // what exec.CommandContext does on cancel or timeout
      await new Promise((r) => setTimeout(r, 900));
      expect(fs.existsSync(marker)).toBe(true);
    },
  );
});
