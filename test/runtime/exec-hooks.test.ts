/**
 * Issue #22: runtime/exec.ts spawnExec with the hooks a drill's clock gives it (runtime/sim-clock.ts):
 * the call timeout runs on the caller's clock and is cancelled when the call ends, the child's
 * env and its `done` are the hook's, the answer waits for `done`'s acknowledgement, the drain after
 * a kill is held. And what a call hands the child (env, cwd), what it keeps of its output at the
 * cap, and how describeExit names each ending.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  describeCall,
  describeExit,
  MAX_OUTPUT_BYTES,
  realExec,
  spawnExec,
  type ExecHooks,
  type ExecResult,
} from "../../runtime/exec";
import { alive } from "../support/live-process";

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-exec-hooks-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface ManualTimer {
  asked: number[];
  fire: (() => void) | undefined;
  cancelled: number;
  timer: ExecHooks["timer"];
}

/** A timer the test fires by hand, recording what the call asked of it. */
function manualTimer(): ManualTimer {
  const t: ManualTimer = {
    asked: [],
    fire: undefined,
    cancelled: 0,
    timer: (ms, fn) => {
      t.asked.push(ms);
      t.fire = fn;
      return () => t.cancelled++;
    },
  };
  return t;
}

describe("spawnExec with a caller's clock and child hook", () => {
  it("the timeout is the caller's timer, cancelled once the call has ended", async () => {
    const t = manualTimer();
    const r = await spawnExec({ file: "sh", args: ["-c", "echo hi"], timeoutMs: 12_345 }, { timer: t.timer });
    expect(r).toEqual({ exitCode: 0, stdout: "hi\n", stderr: "", timedOut: false, notFound: false });
    expect(t.asked).toEqual([12_345]);
    expect(t.cancelled).toBe(1);
  });

  it("the child gets the hook's env on top of the call's, and the hook hears of it by the call's words", async () => {
    const labels: string[] = [];
    let done = 0;
    const r = await spawnExec(
      {
        file: "sh",
        args: ["-c", 'echo "$COLDSTART_SIM_ID $ASKED"'],
        env: { ASKED: "by-the-call" },
        timeoutMs: 10_000,
      },
      {
        timer: manualTimer().timer,
        child: (label) => {
          labels.push(label);
          return { env: { COLDSTART_SIM_ID: "d.7" }, done: () => void done++ };
        },
      },
    );
    expect(r.stdout).toBe("d.7 by-the-call\n");
    expect(labels).toEqual(['sh -c echo "$COLDSTART_SIM_ID $ASKED"']);
    expect(done).toBe(1);
  });

  it("the answer is given only once the hook has acknowledged the child's end", async () => {
    let ack: (() => void) | undefined;
    let answered = false;
    const call = spawnExec(
      { file: "true", args: [], timeoutMs: 10_000 },
      {
        timer: manualTimer().timer,
        child: () => ({ env: {}, done: () => new Promise<void>((r) => (ack = r)) }),
      },
    ).then((r) => {
      answered = true;
      return r;
    });
    while (!ack) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    ack();
    expect((await call).exitCode).toBe(0);
  });

  it("a program that cannot start ends the call once: `done` once, the timer cancelled", async () => {
    const t = manualTimer();
    let done = 0;
    const r = await spawnExec(
      { file: "coldstart-no-such-program", args: ["x"], timeoutMs: 10_000 },
      { timer: t.timer, child: () => ({ env: {}, done: () => void done++ }) },
    );
    expect(r).toMatchObject({ exitCode: null, notFound: true, timedOut: false });
    expect(r.startError).toMatch(/^ENOENT: spawn coldstart-no-such-program ENOENT$/);
    expect(describeExit(r)).toBe(`could not start (${r.startError})`);
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(1);
    expect(t.cancelled).toBe(1);
  });

  it("at the timeout: the group is killed, the drain is held on the caller's clock, and the call ends once", async () => {
    const t = manualTimer();
    let done = 0;
    const held: Promise<unknown>[] = [];
    const pidFile = path.join(dir, "grandchild.pid");
    // the grandchild keeps stdout open: only the drain's end settles the call
    const call = spawnExec(
      { file: "sh", args: ["-c", `sleep 30 & echo $! > '${pidFile}'; echo started; sleep 30`], timeoutMs: 999 },
      {
        timer: t.timer,
        hold: (p) => {
          held.push(p);
          return p;
        },
        child: () => ({ env: {}, done: () => void done++ }),
      },
    );
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8") === "")
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    t.fire!();
    expect(held).toHaveLength(1);
    let drained = false;
    void held[0].then(() => (drained = true));
    const r = await call;
    expect(r).toMatchObject({ exitCode: null, timedOut: true, stdout: "started\n" });
    expect(r.signal).toBeUndefined();
    expect(drained).toBe(true);
    // the whole group went, the grandchild too
    const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
    const until = Date.now() + 2_000;
    while (alive(grandchild) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive(grandchild)).toBe(false);
    // the pipes' close after the drain does not end the call a second time
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(1);
    expect(t.cancelled).toBe(1);
    // the timer firing again (a late tick) changes nothing
    t.fire!();
    expect(held).toHaveLength(1);
  });
});

describe("what a call hands its child", () => {
  it("runs in the asked working directory", async () => {
    const r = await realExec({ file: "pwd", args: [], cwd: dir, timeoutMs: 10_000 });
    expect(r.stdout.trim()).toBe(fs.realpathSync(dir));
  });

  it("runs in a session and process group of its own (a Ctrl-C to the step's group does not reach it)", async () => {
    const r = await realExec({ file: "sh", args: ["-c", "cut -d' ' -f5,6 /proc/$$/stat; echo $$"], timeoutMs: 10_000 });
    const [ids, pid] = r.stdout.trim().split("\n");
    expect(ids).toBe(`${pid} ${pid}`); // pgrp and session are the tool's own pid
  });
});

describe("the output cap", () => {
  it("output of exactly the cap is whole and no overflow", async () => {
    const r = await realExec({ file: "head", args: ["-c", String(MAX_OUTPUT_BYTES), "/dev/zero"], timeoutMs: 20_000 });
    expect(r.overflow).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(Buffer.byteLength(r.stdout)).toBe(MAX_OUTPUT_BYTES);
  });

  it("past the cap on one stream: that stream is cut at the cap, the other keeps what came before, the timer does not call it a timeout", async () => {
    const t = manualTimer();
    const r = await spawnExec(
      { file: "sh", args: ["-c", "echo before >&2; exec yes"], timeoutMs: 10_000 },
      { timer: t.timer },
    );
    expect(r).toMatchObject({ overflow: "stdout", timedOut: false, stderr: "before\n" });
    expect(r.signal).toBeUndefined();
    expect(Buffer.byteLength(r.stdout)).toBe(MAX_OUTPUT_BYTES);
    expect(r.stdout.startsWith("y\ny\n")).toBe(true);
  });

  it("a grandchild that left the group holds the pipes: the drain ends the call, once, and a timeout meanwhile is no timeout", async () => {
    const t = manualTimer();
    let done = 0;
    const pidFile = path.join(dir, "setsid.pid");
    const call = spawnExec(
      { file: "sh", args: ["-c", `setsid sleep 5 & echo $! > '${pidFile}'; exec yes`], timeoutMs: 10_000 },
      {
        timer: t.timer,
        // the drain after the kill for the output begins: the call's timeout comes now
        hold: (p) => {
          t.fire!();
          return p;
        },
        child: () => ({ env: {}, done: () => void done++ }),
      },
    );
    const r = await call;
    expect(r.overflow).toBe("stdout");
    expect(r.timedOut).toBe(false);
    expect(describeExit(r, 10_000)).toBe("printed more than 16 MiB on stdout (cut, killed)");
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(1);
    process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
  });
});

describe("describeExit and describeCall", () => {
  const base: ExecResult = { exitCode: 0, stdout: "", stderr: "", timedOut: false, notFound: false };
  it("names each ending", () => {
    expect(describeExit({ ...base, exitCode: 3 })).toBe("exited 3");
    expect(describeExit({ ...base, exitCode: null })).toBe("ended without an exit status");
    expect(describeExit({ ...base, exitCode: null, signal: "SIGTERM" })).toBe("killed by SIGTERM");
    expect(describeExit({ ...base, exitCode: null, overflow: "stderr" })).toBe(
      "printed more than 16 MiB on stderr (cut, killed)",
    );
    expect(describeExit({ ...base, exitCode: null, startError: "EACCES: permission denied" })).toBe(
      "could not start (EACCES: permission denied)",
    );
  });

  it("a timeout: the seconds that applied, the cut one when the budget cut it, else 'its timeout'", () => {
    const timedOut = { ...base, exitCode: null, timedOut: true };
    expect(describeExit(timedOut, 120_000)).toBe("no answer within 120s (timed out, killed)");
    expect(describeExit(timedOut, 1_600)).toBe("no answer within 2s (timed out, killed)");
    expect(describeExit(timedOut)).toBe("no answer within its timeout (timed out, killed)");
    expect(describeExit({ ...timedOut, cutToMs: 7_000 }, 120_000)).toBe(
      "no answer within 7s (timed out, killed; cut to what was left of the step's budget)",
    );
  });

  it("describeCall is the program and its words, never the input", () => {
    expect(describeCall({ file: "juju", args: ["status", "-m", "c:m"], input: "secret", timeoutMs: 1 })).toBe(
      "juju status -m c:m",
    );
  });
});
