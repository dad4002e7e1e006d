/**
 * Issue #21 part 4: a tool's output is bounded (MAX_OUTPUT_BYTES on each stream: past it the
 * tool's process group is killed and the call is a named failure), a message quotes at most a few
 * KB of it, and a timeout kills what the tool started too. At the step level (the built CLI: npm
 * run -s build first) an endless tool ends in a tool failure with a small record line and the
 * step's claim released.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeExit, MAX_OUTPUT_BYTES, realExec, type ExecRequest } from "../../runtime/exec";
import { EXCERPT_BYTES } from "../../runtime/excerpt";
import { checkCall, ToolError } from "../../runtime/tool-error";
import { claimDir } from "../../runtime/step-claim";
import { readRecord, recordFile } from "../../runtime/record";
import { alive } from "../support/live-process";

const ROOT = path.resolve(__dirname, "../..");
const COLDSTART = path.join(ROOT, "bin", "coldstart");

let dir: string;
let bin: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-tool-output-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(bin, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const call = (file: string, over: Partial<ExecRequest> = {}): ExecRequest => ({
  file,
  args: [],
  timeoutMs: 20_000,
  ...over,
});

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe("a tool that prints without end", () => {
  it("`yes` is cut at the cap on stdout, killed, and named (whatever its exit code)", async () => {
    const res = await realExec(call("yes"));
    expect(res.overflow).toBe("stdout");
    expect(res.timedOut).toBe(false); // killed at the cap, not left to run to its timeout
    expect(Buffer.byteLength(res.stdout)).toBe(MAX_OUTPUT_BYTES);
    expect(res.signal).toBeUndefined(); // our kill, not news about the tool
    expect(describeExit(res)).toBe("printed more than 16 MiB on stdout (cut, killed)");
    expect(() => checkCall(call("yes"), res)).toThrow("yes: printed more than 16 MiB on stdout (cut, killed)");
  });

  it("a 20 MB stderr line is cut at the cap on stderr; what the tool started dies with it", async () => {
    const pidFile = path.join(dir, "child.pid");
    // a child of the tool's that would print on after the tool itself is killed
    const tool = script(
      "flood",
      `sleep 1000 >/dev/null 2>&1 & echo $! > '${pidFile}'\nhead -c 20000000 /dev/zero | tr '\\0' x >&2\nsleep 1000`,
    );
    const res = await realExec(call(tool));
    expect(res.overflow).toBe("stderr");
    expect(Buffer.byteLength(res.stderr)).toBe(MAX_OUTPUT_BYTES);
    expect(await gone(Number(fs.readFileSync(pidFile, "utf8")), 2_000)).toBe(true);
  });

  it("a call cut at the cap is a failure even when its exit code is a good one (its answer is cut)", () => {
    const res = {
      exitCode: 0,
      stdout: '{"cut',
      stderr: "",
      timedOut: false,
      notFound: false,
      overflow: "stdout" as const,
    };
    expect(() => checkCall(call("juju"), res)).toThrow("juju: printed more than 16 MiB on stdout (cut, killed)");
  });

  it("a message quotes at most a few KB of a long stderr line, with a visible marker", async () => {
    const tool = script("long-line", "head -c 5000000 /dev/zero | tr '\\0' x >&2\nexit 1");
    const res = await realExec(call(tool));
    expect(res.overflow).toBeUndefined();
    let message = "";
    try {
      checkCall(call(tool), res);
    } catch (err) {
      expect(err).toBeInstanceOf(ToolError);
      message = (err as ToolError).message;
    }
    expect(message).toMatch(/^\S+long-line: exited 1: x+… \[cut: 4\.8 MiB more\]$/);
    expect(Buffer.byteLength(message)).toBeLessThan(EXCERPT_BYTES + 200);
  });
});

describe("a call timeout", () => {
  it("kills the tool's whole process group: a grandchild holding no pipe is gone too", async () => {
    const pidFile = path.join(dir, "grandchild.pid");
    // the grandchild lets go of the pipes, so only a kill of the group can reach it (not the drain)
    const tool = script("hangs", `sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > '${pidFile}'\nsleep 1000`);
    const res = await realExec(call(tool, { timeoutMs: 500 }));
    expect(res.timedOut).toBe(true);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(await gone(pid, 2_000)).toBe(true);
  });
});

describe("a step whose tool prints without end (the built CLI, in a window)", () => {
  const WINDOW = "w-overflow";

  function runStep(juju: string) {
    script("juju", juju);
    const recordDir = path.join(dir, "records");
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
    const r = spawnSync(COLDSTART, ["check", "nova-resume-flag", "--model", "c:m", "--app", "nova-compute"], {
      env: {
        ...env,
        HOME: dir,
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        COLDSTART_WINDOW: WINDOW,
        COLDSTART_RECORD_DIR: recordDir,
      },
      encoding: "utf8",
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const file = recordFile(recordDir, WINDOW, {});
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const claims = fs.existsSync(claimDir(recordDir, WINDOW, {}))
      ? fs.readdirSync(claimDir(recordDir, WINDOW, {}))
      : [];
    return { r, file, lines, claims };
  }

  it("`yes` as juju: exit 1 (a check that failed), the overflow named, a small record line, the claim released", () => {
    const { r, file, lines, claims } = runStep("exec yes");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "juju config -m c:m nova-compute --format=json: printed more than 16 MiB on stdout (cut, killed)",
    );
    expect(r.stdout.length + r.stderr.length).toBeLessThan(16_000);
    const entries = readRecord(file);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: "fail", exitCode: 1 });
    expect(entries[0].summary).toContain("printed more than 16 MiB on stdout");
    expect(lines.length).toBeLessThan(8_000);
    expect(claims).toEqual([]);
  });

  it("a 5 MB stderr line and exit 1 (under the cap): quoted cut to a few KB on the console and in the record line", () => {
    const { r, file, lines, claims } = runStep("head -c 5000000 /dev/zero | tr '\\0' x >&2\nexit 1");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--format=json: exited 1: x+… \[cut: 4\.8 MiB more\]/);
    expect(r.stdout.length + r.stderr.length).toBeLessThan(16_000);
    expect(readRecord(file)).toHaveLength(1);
    expect(lines.length).toBeLessThan(8_000);
    expect(claims).toEqual([]);
  });
});

describe("Ctrl-C on a step run by hand while its tool runs", () => {
  it("the first reaches the step only (its tool runs on), the second ends the step and its tool with it", async () => {
    const pidFile = path.join(dir, "juju.pid");
    script("juju", `echo $$ > '${pidFile}'\nexec sleep 1000`);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
    const step = spawn(COLDSTART, ["check", "nova-resume-flag", "--model", "c:m", "--app", "nova-compute"], {
      env: { ...env, HOME: dir, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` },
      stdio: "ignore",
      detached: true, // its own group, as a terminal's foreground job: Ctrl-C signals the whole group
    });
    const ended = new Promise<number | null>((resolve) => step.on("exit", (code) => resolve(code)));
    const until = Date.now() + 20_000;
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") {
      if (Date.now() > until) throw new Error("the fake juju never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    const juju = Number(fs.readFileSync(pidFile, "utf8"));
    const ctrlC = () => process.kill(-step.pid!, "SIGINT");
    ctrlC();
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(juju)).toBe(true); // the terminal's Ctrl-C signals the step's group; the tool leads its own
    ctrlC();
    expect(await ended).toBe(130);
    expect(await gone(juju, 2_000)).toBe(true);
  });
});
