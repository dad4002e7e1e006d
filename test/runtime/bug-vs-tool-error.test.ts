/**
 * A bug is not a tool failure (issue #13 "Layers you can see", errors). A TypeError thrown while a
 * step parses what juju said reaches the CLI's top level, which exits 70 "internal error (a bug)"
 * as README promises; a ToolError (juju not installed, an answer of the wrong shape) is still a
 * verdict: exit 1 with its route. Both through the built CLI as the engine runs it, plus the step
 * in process to show which error class each path carries.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as machines from "../../gates/machines";
import { machinesStarted } from "../../steps/foundation";
import { ToolError, toolErrorOf, onlyToolErrors } from "../../runtime/tool-error";
import { PowerError } from "../../power/driver";
import { EXIT } from "../../runtime/exit-codes";
import { readFixture } from "../fixtures";
import { fakeExec, testContext } from "../support/fake-exec";

const ROOT = path.resolve(__dirname, "../..");
const MODEL = "c:openstack";
const MACHINES = new RegExp(`^juju machines -m ${MODEL} --format=json$`);
const ALL_STARTED = readFixture("juju/juju-machines.all-started.juju3.json");
// a short gate: the ToolError case polls until its timeout (a wrong shape may be transient)
const GATE = ["gate", "machines-started", "--model", MODEL, "--timeout", "2s", "--interval", "1s"];

/** The built CLI with a fake `juju` on PATH answering `juju machines` with `answer`; `preload` runs first (node -r). */
function builtCli(answer: string, preload?: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-bug-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "answer.json"), answer);
  fs.writeFileSync(path.join(dir, "bin", "juju"), `#!/bin/sh\ncat '${path.join(dir, "answer.json")}'\n`, {
    mode: 0o755,
  });
  const args = [path.join(ROOT, "dist/cli/main.js"), ...GATE];
  if (preload) {
    fs.writeFileSync(path.join(dir, "preload.js"), preload);
    args.unshift("-r", path.join(dir, "preload.js"));
  }
  const r = spawnSync(process.execPath, args, {
    encoding: "utf8",
    env: { HOME: dir, PATH: `${path.join(dir, "bin")}:/usr/bin:/bin` },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("a TypeError in a step is a bug (exit 70), a ToolError is a verdict (exit 1)", () => {
  afterEach(() => jest.restoreAllMocks());

  it("built CLI: a parser that throws a TypeError exits 70 'internal error (a bug)', never 'tool unavailable'", () => {
    // the step reads `machines_1.parseMachines` at call time, so replacing the export reaches it
    const preload = `const m = require(${JSON.stringify(path.join(ROOT, "dist/gates/machines.js"))});
m.parseMachines = () => { throw new TypeError("Cannot read properties of undefined (reading 'machines')"); };\n`;
    const r = builtCli(ALL_STARTED, preload);
    expect(r.stderr).toMatch(/coldstart: internal error \(a bug, please report\): TypeError: Cannot read properties/);
    expect(r.status).toBe(EXIT.internal);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/tool-unavailable|controller \/ API reachability|FAILED gate/);
  });

  it("a step from the minified step bundle (bin/coldstart): the bug's stack still names the functions it passed through", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-bug-bundle-"));
    fs.mkdirSync(path.join(dir, "bin"));
    const answer = '{"machines":{"PLANTED":{"juju-status":{"current":"started"}}}}';
    fs.writeFileSync(path.join(dir, "bin", "juju"), `#!/bin/sh\necho '${answer}'\n`, { mode: 0o755 });
    // a TypeError from inside our own code: Object.entries throws on the planted machine
    fs.writeFileSync(
      path.join(dir, "preload.js"),
      `const entries = Object.entries;
Object.entries = (o) => {
  if (o && typeof o === "object" && Object.prototype.hasOwnProperty.call(o, "PLANTED")) throw new TypeError("planted bug");
  return entries(o);
};\n`,
    );
    const r = spawnSync(path.join(ROOT, "bin", "coldstart"), GATE, {
      encoding: "utf8",
      env: {
        HOME: dir,
        PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`,
        NODE_OPTIONS: `-r ${path.join(dir, "preload.js")}`,
      },
      timeout: 60_000,
    });
    expect(r.status).toBe(EXIT.internal);
    expect(r.stderr).toMatch(/internal error \(a bug, please report\): TypeError: planted bug/);
    expect(r.stderr).toContain(path.join(ROOT, "dist", "cli", "step-bundle.js")); // the bundle ran
    // esbuild --keep-names (package.json build:step-bundle): the names, not the minifier's
    expect(r.stderr).toMatch(/\n\s+at machinesVerdict \(/);
    expect(r.stderr).toMatch(/\n\s+at async runGate \(/);
  });

  it("built CLI: juju's answer of the wrong shape (a ToolError) still fails the gate with exit 1 and the tool route", () => {
    const r = builtCli("this is not json", undefined);
    expect(r.status).toBe(EXIT.gateFailed);
    expect(r.stderr).toMatch(/FAILED gate machines-started/);
    expect(r.stderr).toMatch(/expected JSON output/);
    expect(r.stderr).toMatch(/fix: /);
    expect(r.stderr).not.toMatch(/internal error/);
  }, 30_000);

  it("in process: the TypeError propagates out of the gate on its first poll, unchanged", async () => {
    const bug = new TypeError("x is undefined");
    jest.spyOn(machines, "parseMachines").mockImplementation(() => {
      throw bug;
    });
    const exec = fakeExec().on(MACHINES, ALL_STARTED);
    const ctx = testContext(exec);
    await expect(machinesStarted({ model: MODEL, timeout: 60_000, interval: 5_000 }, ctx)).rejects.toBe(bug);
    expect(exec.calls).toHaveLength(1);
  });

  it("in process: a ToolError thrown by the parse is one poll's verdict with its route", async () => {
    jest.spyOn(machines, "parseMachines").mockImplementation(() => {
      throw new ToolError("juju machines: expected machines", "machines-not-started");
    });
    const exec = fakeExec().on(MACHINES, ALL_STARTED);
    const o = await machinesStarted({ model: MODEL, timeout: 10_000, interval: 5_000 }, testContext(exec));
    expect(o.exitCode).toBe(EXIT.gateFailed);
    expect(o.verdict.route).toBe("machines-not-started");
    expect(o.verdict.summary).toMatch(/expected machines/);
  });
});

describe("ToolError carries its cause; PowerError is a ToolError", () => {
  it("toolErrorOf: an OS error becomes a ToolError whose cause is that error; a TypeError is rethrown", () => {
    let osError: unknown;
    try {
      fs.readFileSync(path.join(os.tmpdir(), "coldstart-no-such-file", "x"));
    } catch (err) {
      osError = err;
    }
    const t = toolErrorOf(osError);
    expect(t).toBeInstanceOf(ToolError);
    expect(t.cause).toBe(osError);
    expect(t.message).toMatch(/ENOENT/);
    const bug = new TypeError("bug");
    expect(() => toolErrorOf(bug)).toThrow(bug);
    expect(() => onlyToolErrors(bug)).toThrow(bug);
  });

  it("PowerError: a ToolError on route power-control, keeping permanent / cut / refused and the cause", () => {
    const cause = new Error("ECONNREFUSED");
    const e = new PowerError("openstack1 via maas: unreachable", true, false, true, { cause });
    expect(e).toBeInstanceOf(ToolError);
    expect(e.name).toBe("PowerError");
    expect(e.route).toBe("power-control");
    expect([e.permanent, e.cut, e.refused]).toEqual([true, false, true]);
    expect(e.cause).toBe(cause);
    expect(() => onlyToolErrors(e)).not.toThrow();
  });
});
