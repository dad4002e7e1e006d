/**
 * realExec against real child processes (issue #15): a program that exits without reading its
 * stdin keeps its own exit code and output; a signal or a failed start is named, never "-1".
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeExit, realExec, type ExecRequest } from "../../runtime/exec";
import { checkCall, ToolError } from "../../runtime/tool-error";

let dir: string;
/** A stand-in for `juju status` that cannot reach its controller: prints, exits 3, never reads stdin. */
let failsFast: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-exec-"));
  failsFast = path.join(dir, "fails-fast");
  fs.writeFileSync(failsFast, "#!/bin/sh\nprintf 'status line\\n'\nprintf 'ERROR cannot connect\\n' >&2\nexit 3\n", {
    mode: 0o755,
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const call = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  file: failsFast,
  args: [],
  timeoutMs: 20_000,
  ...over,
});

describe("a child that exits before reading its stdin", () => {
  it("keeps its exit code and output across 60 concurrent calls without input, in 3 rounds", async () => {
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 60 }, () => realExec(call())));
      for (const r of results) {
        expect(r).toEqual({
          exitCode: 3,
          stdout: "status line\n",
          stderr: "ERROR cannot connect\n",
          timedOut: false,
          notFound: false,
        });
      }
    }
  });

  it("keeps its exit code and output when we send input it never reads (EPIPE is not the verdict)", async () => {
    // 1 MiB is more than a pipe buffers, so every write here hits a closed pipe.
    const input = "k".repeat(1 << 20);
    const results = await Promise.all(Array.from({ length: 60 }, () => realExec(call({ input }))));
    for (const r of results) {
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe("status line\n");
      expect(r.stderr).toBe("ERROR cannot connect\n");
      expect(r.signal).toBeUndefined();
    }
  });

  it("a call that sends nothing gets no stdin at all (EOF at once, not a pipe)", async () => {
    const r = await realExec({
      file: "sh",
      args: ["-c", "cat; echo done; readlink /proc/self/fd/0 || true"],
      timeoutMs: 5_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("done");
    expect(r.stdout).toContain("/dev/null");
  });

  it("input that the child does read arrives whole", async () => {
    const input = "line one\nline two\n".repeat(10_000);
    const r = await realExec({ file: "sh", args: ["-c", "wc -c"], input, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(String(Buffer.byteLength(input)));
  });
});

describe("a child without an exit code is named for what happened", () => {
  it("killed by a signal: the signal's name, exit code null", async () => {
    const r = await realExec({ file: "sh", args: ["-c", "echo before; kill -SEGV $$"], timeoutMs: 5_000 });
    expect(r).toMatchObject({ exitCode: null, signal: "SIGSEGV", stdout: "before\n", timedOut: false });
    expect(describeExit(r)).toBe("killed by SIGSEGV");
    const req = { file: "sh", args: ["-c", "kill -TERM $$"], timeoutMs: 5_000 };
    expect(() => checkCall(req, r)).toThrow(/killed by SIGSEGV: before$/);
  });

  it("not executable: could not start, with the errno, and the gate stops at once (permanent)", async () => {
    const plain = path.join(dir, "not-executable");
    fs.writeFileSync(plain, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const req = { file: plain, args: [], timeoutMs: 5_000 };
    const r = await realExec(req);
    expect(r.exitCode).toBeNull();
    expect(r.notFound).toBe(false);
    expect(r.startError).toMatch(/^EACCES: /);
    let err: unknown;
    try {
      checkCall(req, r);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).message).toMatch(/not-executable: could not start \(EACCES: /);
    expect((err as ToolError).permanent).toBe(true);
  });

  it("not on PATH: notFound, with ENOENT", async () => {
    const r = await realExec({ file: "coldstart-no-such-program", args: [], timeoutMs: 5_000 });
    expect(r).toMatchObject({ exitCode: null, notFound: true });
    expect(r.startError).toMatch(/^ENOENT: /);
  });

  it("timed out: killed at the timeout, even when a grandchild holds its output open", async () => {
    const started = Date.now();
    const r = await realExec({ file: "sh", args: ["-c", "echo started; sleep 30 & sleep 30"], timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r).toMatchObject({ exitCode: null, timedOut: true, stdout: "started\n" });
    expect(r.signal).toBeUndefined();
    expect(describeExit(r, 300)).toBe("no answer within 0s (timed out, killed)");
  });
});
